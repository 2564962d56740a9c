"""From legacy devices and a mapping file to the sites, switches, port maps and access
points of a proposed intent (pure: nothing is written here, see :mod:`.proposal`).

Each legacy switch port becomes a port-map entry by what its users were and what hangs
on it:

* shut down, or in no user VLAN: left out, so it gets the ``unused`` profile;
* an LLDP/CDP neighbour that is an access point: the ``ap`` profile, and the AP becomes
  an AP host with its switch and (new) port;
* a voice VLAN on an access port: the ``phone`` profile;
* an access VLAN: the profile the mapping gives that VLAN (``client`` by default);
* the trunk towards the rest of the legacy network (a switch neighbour, or the only
  trunk left): the site's circuit lands on it (``circuit.site_interface``).

Legacy ports are renamed into the new model's ports: the same name where the model has
it, else the next free port of the same speed class in the model's order (FastEthernet
and ArubaOS-Switch's numbered ports count as Gigabit); the mapping's ``ports`` overrides.
A port's users must land in the zone the mapping gives their VLAN: for a port that
authenticates, the authorisation policy must have a group in that zone for the port's
method; a static port's profile must be in that zone. Anything else is an error naming
the mapping key, never a silent guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from nornir_tasks.errors import UsageError, key_path
from nornir_tasks.intent.loader import Intent
from nornir_tasks.interfaces import expand_interface_range, interface_sort_key
from nornir_tasks.legacy import read_config
from nornir_tasks.legacy.mapping import DeviceMap, Mapping, SiteMap, VlanMap
from nornir_tasks.legacy.model import LegacyDevice, LegacyPort
from nornir_tasks.legacy.surveyed import Neighbour, Surveyed
from nornir_tasks.site_layout import host_prefix, slugify

_MAC = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")
_CLASSES = (("TwentyFiveGig", "TwentyFiveGig"), ("FortyGigabit", "FortyGigabit"),
            ("TenGigabit", "TenGigabit"), ("Gigabit", "Gigabit"), ("Fast", "Gigabit"))


@dataclass(frozen=True)
class PortPlan:
    """What one legacy port becomes."""

    legacy: str
    new: str | None  # None: the new model has no port for it (only for an unused port)
    profile: str | None  # None: left out of the port map (the `unused` profile)
    zone: str | None = None  # the zone its users land in after the move
    vlan: int | None = None  # the legacy VLAN its users were in
    why: str = ""
    description: str = ""


@dataclass(frozen=True)
class ApPlan:
    name: str
    model: str
    mac: str
    switch: str
    port: str
    legacy_name: str


@dataclass
class DevicePlan:
    legacy: LegacyDevice
    surveyed: Surveyed
    site: str
    host: str
    model: str
    ports: list[PortPlan] = field(default_factory=list)
    aps: list[ApPlan] = field(default_factory=list)
    uplink: str | None = None  # the new port the circuit lands on
    notes: list[str] = field(default_factory=list)

    def port_map(self) -> list[dict[str, str]]:
        """The host_vars ``ports`` list: consecutive ports of one profile and description
        as one range."""
        rows = sorted((p for p in self.ports if p.profile and p.new),
                      key=lambda p: interface_sort_key(p.new or ""))
        out: list[dict[str, str]] = []
        for p in rows:
            assert p.new is not None and p.profile is not None
            last = out[-1] if out else None
            if (last is not None and last["profile"] == p.profile
                    and last.get("description", "") == p.description
                    and _next_port(last["range"]) == p.new):
                last["range"] = _extend(last["range"], p.new)
                continue
            entry = {"range": p.new, "profile": p.profile}
            if p.description:
                entry["description"] = p.description
            out.append(entry)
        return out


@dataclass
class SitePlan:
    name: str
    slug: str
    kind: str
    circuit: dict[str, object]
    zones: list[str] | None
    devices: list[DevicePlan] = field(default_factory=list)


_TAIL = re.compile(r"^(.*?)(\d+)$")


def _next_port(spec: str) -> str:
    m = _TAIL.match(expand_interface_range(spec)[-1])
    assert m is not None
    return f"{m[1]}{int(m[2]) + 1}"


def _extend(spec: str, new: str) -> str:
    m = _TAIL.match(new)
    assert m is not None
    return f"{expand_interface_range(spec)[0]}-{m[2]}"


def speed_class(name: str) -> str:
    """The new model's port family a legacy port moves to.

    >>> speed_class("FastEthernet0/3"), speed_class("17"), speed_class("TenGigabitEthernet1/1/1")
    ('Gigabit', 'Gigabit', 'TenGigabit')
    """
    for legacy, new in _CLASSES:
        if name.startswith(legacy):
            return new
    return "Gigabit"  # ArubaOS-Switch numbers its ports; the families sold here are Gigabit


def translate(legacy: Iterable[str], target: list[str], overrides: dict[str, str]
              ) -> dict[str, str | None]:
    """Legacy port -> new port: overrides, then the same name, then the next free port of
    the same class, in the model's order.

    >>> translate(["FastEthernet0/1", "GigabitEthernet0/1"],
    ...           ["GigabitEthernet1/0/1", "GigabitEthernet1/0/2"], {})
    {'FastEthernet0/1': 'GigabitEthernet1/0/1', 'GigabitEthernet0/1': 'GigabitEthernet1/0/2'}
    """
    names = sorted(legacy, key=interface_sort_key)
    taken = {v for v in overrides.values()}
    out: dict[str, str | None] = {}
    for name in names:
        if name in overrides:
            out[name] = overrides[name]
        elif name in target and name not in taken:
            out[name] = name
            taken.add(name)
    for name in names:
        if name in out:
            continue
        cls = speed_class(name)
        free = next((t for t in target if t not in taken and speed_class(t) == cls), None)
        out[name] = free
        if free:
            taken.add(free)
    return out


def _physical(dev: LegacyDevice) -> list[LegacyPort]:
    return [p for p in dev.ports.values()
            if not re.match(r"^(Port-channel|Trk)\d+$", p.name, re.IGNORECASE)]


def _neighbours(s: Surveyed) -> dict[str, Neighbour]:
    """Neighbours by the config's own port name (CDP prints ``Gig 1/0/41``, LLDP ``Gi1/0/41``)."""
    out: dict[str, Neighbour] = {}
    for n in s.neighbours:
        out.setdefault(canon_port(n.port), n)
    return out


def canon_port(name: str) -> str:
    """A port name reduced to its type's first letters and its numbers.

    >>> canon_port("Gig 1/0/41") == canon_port("GigabitEthernet1/0/41") == canon_port("Gi1/0/41")
    True
    """
    m = re.match(r"^\s*([A-Za-z]*)[\s-]*([\d/]+)\s*$", name)
    if not m:
        return name.lower()
    return f"{m[1][:2].lower()}{m[2]}"


class Importer:
    """Plans the import of ``devices`` into ``intent`` as ``mapping`` says."""

    def __init__(self, intent: Intent, mapping: Mapping, mapping_file: str) -> None:
        self.intent, self.mapping, self.file = intent, mapping, mapping_file
        self.names: set[str] = set(intent.devices)

    def error(self, where: str, what: str) -> UsageError:
        return UsageError(f"{self.file}: {where}: {what}")

    def plan(self, devices: list[Surveyed]) -> tuple[list[SitePlan], list[tuple[str, str]]]:
        """The sites to add (in mapping order) and the devices skipped (host, why)."""
        placed: dict[str, list[tuple[Surveyed, DeviceMap]]] = {}
        skipped: list[tuple[str, str]] = []
        for s in devices:
            where = self.mapping.site_of(s.host)
            if where is None:
                why = self.mapping.skipped(s.host)
                if why is None:
                    raise self.error("sites", f"the surveyed device {s.host!r} is placed at "
                                     "no site: add it under a site's `devices`, or under "
                                     "`skip` with the reason")
                skipped.append((s.host, why))
                continue
            placed.setdefault(where[0], []).append((s, where[1]))
        missing = [h for site in self.mapping.sites.values() for h in site.devices
                   if not any(s.host.lower() == h.lower() for s in devices)]
        if missing:
            raise self.error("sites", f"mapped device(s) not in the survey: "
                             f"{', '.join(missing)}")
        sites = []
        for name, site in self.mapping.sites.items():
            sites.append(self._site(name, site, placed.get(name, [])))
        return sites, skipped

    # -- a site ------------------------------------------------------------------------
    def _site(self, name: str, site: SiteMap, members: list[tuple[Surveyed, DeviceMap]]
              ) -> SitePlan:
        where = key_path("sites", name)
        if len(members) != 1:
            raise self.error(where + ".devices", f"{len(members)} switches: the importer "
                             "takes one switch per site today (docs/legacy.md, 'Limits')")
        plan = SitePlan(name, slugify(name), site.kind, dict(site.circuit), site.zones)
        surveyed, dmap = members[0]
        legacy = read_config(surveyed.config, surveyed.source, surveyed.platform or None)
        legacy.declare_used_vlans()
        host = dmap.name or f"{host_prefix(plan.slug)}-sw01"
        if host in self.names:
            raise self.error(key_path(where, "devices", surveyed.host, "name"),
                             f"host {host!r} exists already")
        self.names.add(host)
        model = self._model(surveyed, dmap, key_path(where, "devices", surveyed.host))
        dev = DevicePlan(legacy, surveyed, name, host, model)
        self._ports(dev, site, dmap, key_path(where, "devices", surveyed.host))
        if "site_interface" not in plan.circuit and dev.uplink:
            plan.circuit["site_interface"] = dev.uplink
        plan.devices.append(dev)
        return plan

    def _model(self, s: Surveyed, dmap: DeviceMap, where: str) -> str:
        legacy_model = s.model or ""
        model = dmap.model or self.mapping.models.get(legacy_model)
        if model is None:
            raise self.error(where, f"no model for legacy model {legacy_model or '(unknown)'!r}:"
                             f" give `model:` here or `models: {{{legacy_model}: ...}}`")
        if model not in self.intent.device_models:
            raise self.error(where, f"model {model!r} is not in device_models "
                             f"({', '.join(sorted(self.intent.device_models))})")
        return model

    # -- its ports ---------------------------------------------------------------------
    def _ports(self, dev: DevicePlan, site: SiteMap, dmap: DeviceMap, where: str) -> None:
        target = [i for spec in self.intent.device_models[dev.model].interfaces
                  for i in expand_interface_range(spec)]
        bad = sorted(set(dmap.ports.values()) - set(target))
        if bad:
            raise self.error(key_path(where, "ports"), f"{', '.join(bad)}: not a port of "
                             f"a {dev.model}")
        physical = _physical(dev.legacy)
        names = translate([p.name for p in physical], target, dmap.ports)
        neighbours = _neighbours(dev.surveyed)
        vlans = self.mapping.networks[site.network].vlans
        trunks = [p for p in physical if p.mode == "trunk" and not p.shutdown]
        uplinks = self._uplinks(trunks, neighbours)
        for port in sorted(physical, key=lambda p: interface_sort_key(p.name)):
            new = names.get(port.name)
            plan = self._port(dev, port, new, neighbours.get(canon_port(port.name)), vlans,
                              uplinks, site.network)
            if plan.profile and new is None:
                raise self.error(key_path(where, "ports"), f"legacy port {port.name} "
                                 f"({plan.profile}) has no free port on a {dev.model}: "
                                 "map it by hand")
            dev.ports.append(plan)
        if not dev.surveyed.neighbours:
            dev.notes.append("no LLDP/CDP neighbours (no survey): access points are found "
                             "only by the mapping of their VLAN")

    def _uplinks(self, trunks: list[LegacyPort], neighbours: dict[str, Neighbour]
                 ) -> list[LegacyPort]:
        switchy = [p for p in trunks
                   if (n := neighbours.get(canon_port(p.name))) is not None and n.kind == "switch"]
        if switchy:
            return switchy
        return [p for p in trunks if (n := neighbours.get(canon_port(p.name))) is None
                or n.kind not in ("ap", "phone")]

    def _port(self, dev: DevicePlan, port: LegacyPort, new: str | None,
              neighbour: Neighbour | None, vlans: dict[int, VlanMap], uplinks: list[LegacyPort],
              network: str) -> PortPlan:
        mapkey = key_path("networks", network, "vlans")
        if port.shutdown:
            return PortPlan(port.name, new, None, why="shut down: unused")
        if neighbour is not None and neighbour.kind == "ap":
            zone = self._ap(dev, port, new, neighbour)
            return PortPlan(port.name, new, "ap", zone, port.access_vlan or port.native_vlan,
                            f"access point {neighbour.name} (LLDP/CDP)")
        if port in uplinks:
            if dev.uplink is None:
                dev.uplink = new
                return PortPlan(port.name, new, None, why="uplink: the site's circuit lands "
                                "here (circuit.site_interface)")
            if port.channel_group is not None:
                return PortPlan(port.name, new, None, why=f"uplink bundle member (channel-"
                                f"group {port.channel_group}): the circuit takes one port")
            return PortPlan(port.name, new, None, why="a second trunk towards the legacy "
                            "network: not carried (one circuit per site)")
        if port.mode == "trunk":
            return PortPlan(port.name, new, None, why="trunk with no known neighbour: not "
                            "carried, map it by hand")
        if port.access_vlan is None or port.access_vlan == 1:
            return PortPlan(port.name, new, None, why="in VLAN 1 (no user VLAN): unused")
        vmap = vlans.get(port.access_vlan)
        if vmap is None:
            raise self.error(mapkey, f"no entry for VLAN {port.access_vlan}, used on "
                             f"{dev.surveyed.host} {port.name}")
        zone = vmap.zone
        self._zone(zone, key_path(mapkey, port.access_vlan, "zone"))
        if port.voice_vlan is not None:
            vv = vlans.get(port.voice_vlan)
            if vv is None:
                raise self.error(mapkey, f"no entry for voice VLAN {port.voice_vlan}, used "
                                 f"on {dev.surveyed.host} {port.name}")
            profile = "phone"
            self._check_profile(profile, zone, key_path(mapkey, port.access_vlan))
            voice = self.intent.port_profiles[profile].voice_zone
            if vv.zone != voice:
                raise self.error(key_path(mapkey, port.voice_vlan, "zone"),
                                 f"VLAN {port.voice_vlan} is a voice VLAN (on "
                                 f"{dev.surveyed.host} {port.name}); the phone profile puts "
                                 f"phones in zone {voice!r}")
            return PortPlan(port.name, new, profile, zone, port.access_vlan,
                            f"VLAN {port.access_vlan} with voice VLAN {port.voice_vlan}",
                            port.description)
        profile = vmap.profile or self._default_profile(zone, mapkey,
                                                                     port.access_vlan)
        if profile == "ap":
            return PortPlan(port.name, new, "ap", zone, port.access_vlan,
                            f"VLAN {port.access_vlan} (access points, by the mapping)",
                            port.description)
        self._check_profile(profile, zone, key_path(mapkey, port.access_vlan))
        return PortPlan(port.name, new, profile, zone, port.access_vlan,
                        f"VLAN {port.access_vlan}", port.description)

    def _ap(self, dev: DevicePlan, port: LegacyPort, new: str | None, n: Neighbour) -> str:
        """Record the AP hanging on ``port``; returns the zone of the AP's own address."""
        platform = n.platform.split()[-1] if n.platform else ""
        model = self.mapping.ap_models.get(platform) or self.mapping.default_ap_model
        if model is None:
            raise self.error("ap_models", f"no model for the access point {n.name} "
                             f"({platform or 'platform unknown'}) on {dev.surveyed.host} "
                             f"{port.name}: add `ap_models: {{{platform}: ...}}` or "
                             "`default_ap_model`")
        if model not in self.intent.device_models:
            raise self.error("ap_models", f"model {model!r} is not in device_models")
        mac = n.chassis_id.lower() if _MAC.match(n.chassis_id.lower()) else ""
        seen = dev.surveyed.macs.get(port.name, ())
        if not mac and len(seen) == 1:
            mac = seen[0]  # CDP gives no MAC; the AP's own is the one address on its port
        if not mac or new is None:
            dev.notes.append(f"access point {n.name} on {port.name}: no MAC address (no "
                             "LLDP chassis ID, and not one address alone on its port); add "
                             "it to hosts.yml by hand")
        else:
            index = len(dev.aps) + 1
            name = f"{host_prefix(slugify(dev.site))}-ap{index:02d}"
            while name in self.names:
                index += 1
                name = f"{host_prefix(slugify(dev.site))}-ap{index:02d}"
            self.names.add(name)
            dev.aps.append(ApPlan(name, model, mac, dev.host, new, n.name))
        return self.intent.wireless.ap_zone

    def _zone(self, zone: str, where: str) -> None:
        if zone not in self.intent.zones:
            raise self.error(where, f"zone {zone!r} is not in zones.yml "
                             f"({', '.join(self.intent.zones)})")

    def _default_profile(self, zone: str, mapkey: str, vlan: int) -> str:
        if zone == self.intent.policy.management_zone:
            raise self.error(key_path(mapkey, vlan), f"VLAN {vlan} maps to the management "
                             "zone but has user ports: give it a `profile`")
        return "client"

    def _check_profile(self, profile: str, zone: str, where: str) -> None:
        prof = self.intent.port_profiles.get(profile)
        if prof is None:
            raise self.error(where + ".profile", f"no port profile {profile!r} "
                             f"({', '.join(sorted(self.intent.port_profiles))})")
        if not (prof.dot1x or prof.mab):
            if prof.zone != zone:
                raise self.error(where, f"profile {profile!r} puts every device in zone "
                                 f"{prof.zone!r}, not {zone!r}")
            return
        if zone == self.intent.policy.restricted_zone:
            return  # anyone in no group lands there
        methods = {m for m, on in (("dot1x", prof.dot1x), ("mab", prof.mab)) if on}
        groups = [g for g in self.intent.authorization.groups
                  if g.zone == zone and g.method.value in methods]
        if not groups:
            raise self.error(where, f"no authorisation group puts {'/'.join(sorted(methods))}"
                             f" users of profile {profile!r} in zone {zone!r}: "
                             "authorization.yml decides the zone of an authenticating port")


def landing_groups(intent: Intent, profile: str, zone: str) -> list[str]:
    """The authorisation groups that put the users of a ``profile`` port in ``zone``."""
    prof = intent.port_profiles[profile]
    methods = {m for m, on in (("dot1x", prof.dot1x), ("mab", prof.mab)) if on}
    return [g.group for g in intent.authorization.groups
            if g.zone == zone and g.method.value in methods]
