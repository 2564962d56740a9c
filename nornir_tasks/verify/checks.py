"""Checks a, b, c and e: VRF separation, layer 2, wireless, RADIUS — on config TEXT.

The intent is read only as the specification of what must be true: which zones a site
has (its committed prefixes), the zones' VLANs and VRFs, the numbering of per-site WAN
VLANs and tunnels (``wan_vlan_base`` + zone id) and transit blocks, port maps and port
profiles, SSIDs, and the authorisation groups. What the devices do is read from their
texts (:mod:`nornir_tasks.verify.model`).
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Overlay, PortMode, SiteKind
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.platforms import facts
from nornir_tasks.policy import firewall_zones
from nornir_tasks.verify.model import DeviceText, Interface, Net, vlan_list_to_set
from nornir_tasks.verify.parse import Line
from nornir_tasks.verify.report import NOTE, VIOLATION, WARNING, CheckResult, Finding
from nornir_tasks.verify.routing import GLOBAL, Network

UNUSED_PROFILE = "unused"
PHYSICAL = re.compile(r"^(?:[A-Za-z]+Ethernet|[A-Za-z]+GigE|Port-channel)")


def _compact(vlans: set[int] | frozenset[int]) -> str:
    """``{100, 110, 111, 112}`` -> ``100,110-112``.

    >>> _compact({100, 110, 111, 112})
    '100,110-112'
    """
    out: list[str] = []
    for v in sorted(vlans):
        if out and "-" not in out[-1] and int(out[-1]) == v - 1:
            out[-1] = f"{out[-1]}-{v}"
        elif out and "-" in out[-1] and int(out[-1].split("-")[1]) == v - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{v}"
        else:
            out.append(str(v))
    return ",".join(out)


@dataclass(frozen=True, slots=True)
class Numbered:
    """What a VLAN or tunnel number means in the intent."""

    zone: str
    kind: str  # zone | transit | edge
    site: str | None = None  # owner of a transit number


class Spec:
    """The intent's numbering and addressing, as lookups."""

    def __init__(self, intent: Intent) -> None:
        self.intent = intent
        self.zone_vlan = {z.vlan: name for name, z in intent.zones.items()}
        self.vrf_zone = {z.vrf: name for name, z in intent.zones.items()}
        self.transit: dict[int, Numbered] = {}
        for slug, site in intent.sites.items():
            if site.wan_vlan_base is None:
                continue
            zones = list(intent.zones) if site.kind == SiteKind.core else list(site.prefixes)
            for z in zones:
                self.transit[site.wan_vlan_base + intent.zones[z].id] = Numbered(
                    z, "transit", slug)
        #: zones with a leg (an edge VLAN) on the firewall: internet and stateful pairs
        self.firewall_zones = firewall_zones(intent)
        self.edge: dict[int, Numbered] = {}
        edge = getattr(intent.policy, "internet_edge", None)
        self.edge_interface: str | None = None
        if edge is not None:
            self.edge_interface = edge.core_interface
            for z in intent.zones:
                self.edge[edge.vlan_base + intent.zones[z].id] = Numbered(z, "edge")
        self.pools = [(Net.of(p.pool), z) for z, p in intent.pools.zones.items()]
        self.blocks = [(Net.of(s.transit), slug) for slug, s in intent.sites.items()
                       if s.transit is not None]
        # the blocks by prefix length and address (the first block in the list wins, as
        # in a scan of ``blocks``): one dict lookup per length, not a scan of every site
        by_len: dict[int, dict[int, tuple[int, Net, str]]] = {}
        for i, (net, slug) in enumerate(self.blocks):
            by_len.setdefault(net.plen, {}).setdefault(net.addr, (i, net, slug))
        self._blocks_by_len = [(Net(0, plen).mask, by_addr) for plen, by_addr in
                               sorted(by_len.items())]
        self.zone_by_id = {z.id: name for name, z in intent.zones.items()}
        self.judged = frozenset(self.zone_vlan) | frozenset(self.transit) | frozenset(
            self.edge)

    def vlan_meaning(self, vlan: int) -> Numbered | None:
        if vlan in self.zone_vlan:
            return Numbered(self.zone_vlan[vlan], "zone")
        return self.edge.get(vlan) or self.transit.get(vlan)

    def describe(self, vlan: int) -> str:
        n = self.vlan_meaning(vlan)
        if n is None:
            return str(vlan)
        if n.kind == "zone":
            return f"{vlan} ({n.zone})"
        if n.kind == "edge":
            return f"{vlan} (internet edge of {n.zone})"
        return f"{vlan} (WAN {n.zone} of {n.site})"

    def interface_meaning(self, intf: Interface) -> Numbered | None:
        if intf.svi_vlan is not None:
            return self.vlan_meaning(intf.svi_vlan)
        if intf.tunnel_number is not None:
            return self.transit.get(intf.tunnel_number)
        return None

    def address_zone(self, ip: int) -> tuple[str, str | None] | None:
        """(zone, transit block owner or None) of an address, by pools and blocks."""
        hits = [by_addr[ip & mask] for mask, by_addr in self._blocks_by_len
                if ip & mask in by_addr]
        if hits:
            _, net, slug = min(hits)
            zid = (ip - net.addr) // 2
            zone = self.zone_by_id.get(zid)
            return (zone, slug) if zone is not None else None
        for net, zone in self.pools:
            if ip in net:
                return zone, None
        return None


def _finding(check: str, severity: str, dev: str, line: Line | None, message: str,
             pair: str | None = None, site: str | None = None) -> Finding:
    return Finding(check, severity, message, dev, line.lineno if line else None,
                   line.text if line else None, pair, site)


# --------------------------------------------------------------------------- a. VRFs


def check_vrfs(intent: Intent, spec: Spec, devices: dict[str, DeviceText],
               net: Network) -> tuple[list[Finding], list[CheckResult]]:
    findings: list[Finding] = []
    results: list[CheckResult] = []
    for host, dev in sorted(devices.items()):
        before = len(findings)
        role = intent.devices[host].role.value
        site = intent.device_site[host]
        model = intent.device_models.get(intent.devices[host].model)
        global_ok = model is not None and not facts(model.platform).management_in_vrf
        count = 0
        for intf in dev.interfaces.values():
            if not intf.routed:
                continue
            by_number = spec.interface_meaning(intf)
            addrs = [a.ip for a in intf.addresses] + [h.vip for h in intf.hsrp.values()
                                                      if h.vip is not None]
            by_address = next((z for z in (spec.address_zone(a) for a in addrs) if z), None)
            if by_number is None and by_address is None:
                continue
            count += 1
            zone = by_number.zone if by_number is not None else None
            if by_address is not None:
                if zone is not None and by_address[0] != zone:
                    line = intf.addresses[0].line if intf.addresses else intf.line
                    findings.append(_finding(
                        "vrf", VIOLATION, host, line,
                        f"{intf.name} is numbered for zone {zone} but addressed in zone "
                        f"{by_address[0]}'s range", f"{zone} / {by_address[0]}", site))
                zone = zone or by_address[0]
            assert zone is not None
            want: str | None = intent.zones[zone].vrf
            if zone == intent.policy.management_zone and global_ok:
                # a platform whose management interface cannot be in a VRF: its global
                # table is the management zone (the device routes no other zone)
                want = None
            if intf.vrf != want:
                findings.append(_finding(
                    "vrf", VIOLATION, host, intf.vrf_line or intf.line,
                    f"{intf.name} belongs to zone {zone} ("
                    f"{'VRF ' + want if want else 'the global table on this platform'}) but is in "
                    f"{'VRF ' + intf.vrf if intf.vrf else 'the global table'}"
                    + (f", the VRF of zone {spec.vrf_zone[intf.vrf]}"
                       if intf.vrf in spec.vrf_zone else ""),
                    f"{zone} / {spec.vrf_zone.get(intf.vrf or '', intf.vrf or 'global')}",
                    site))
            elif want is not None and want not in dev.vrfs:
                findings.append(_finding("vrf", VIOLATION, host, intf.vrf_line,
                                         f"VRF {want} is used but not defined", zone,
                                         site))
            owner = by_number.site if by_number is not None else None
            if owner is not None and role != "core" and owner != site:
                findings.append(_finding(
                    "vrf", VIOLATION, host, intf.line,
                    f"{intf.name} is the WAN link of {owner} ({zone}), not of {site}",
                    f"{zone}@{owner}", site))
        if role != "core":
            if dev.bgp is not None:
                findings.append(_finding(
                    "vrf", VIOLATION, host, dev.bgp.line,
                    "BGP at a site: sites never route between VRFs", None, site))
            for vrf in dev.vrfs.values():
                for line in vrf.rt_lines:
                    findings.append(_finding(
                        "vrf", VIOLATION, host, line,
                        f"route target in VRF {vrf.name} at a site: sites never leak "
                        "between VRFs", spec.vrf_zone.get(vrf.name), site))
        findings += _route_leaks(host, dev, spec, site, net)
        results.append(CheckResult("vrf", host, "fail" if len(findings) > before else "pass",
                                   count))
    for r in net.inactive:
        findings.append(_finding("vrf", WARNING, r.host, r.line,
                                 f"static route not installed: {r.reason}"))
    for host, line, why in net.unmodelled:
        findings.append(_finding("vrf", NOTE, host, line, why))
    findings += _gateway_defaults(intent, spec, devices, net)
    return findings, results


def _route_leaks(host: str, dev: DeviceText, spec: Spec, site: str, net: Network
                 ) -> list[Finding]:
    """Static routes whose next hop sits in another VRF than the route's own."""
    out: list[Finding] = []
    vrfs = [GLOBAL, *dev.vrfs]
    for r in dev.routes:
        vrf = r.vrf or GLOBAL
        if r.global_nh:
            out.append(_finding("vrf", VIOLATION, host, r.line,
                                f"route in VRF {vrf} with a next hop in the global table",
                                spec.vrf_zone.get(vrf), site))
            continue
        if r.interface is not None and r.interface in dev.interfaces:
            other = dev.interfaces[r.interface].vrf or GLOBAL
            if other != vrf:
                out.append(_finding(
                    "vrf", VIOLATION, host, r.line,
                    f"route in VRF {vrf or 'global'} out of {r.interface} in VRF "
                    f"{other or 'global'}", _pair(spec, vrf, other), site))
                continue
        if r.next_hop is None:
            continue
        if _connected(net, host, vrf, r.next_hop):
            continue
        theirs = [v for v in vrfs if v != vrf and _connected(net, host, v, r.next_hop)]
        if theirs:
            out.append(_finding(
                "vrf", VIOLATION, host, r.line,
                f"route in VRF {vrf or 'global'} via a next hop on a subnet of VRF "
                f"{theirs[0] or 'global'}: a leak between zones", _pair(spec, vrf, theirs[0]),
                site))
    return out


def _connected(net: Network, host: str, vrf: str, ip: int) -> bool:
    """Is ``ip`` on a subnet of one of the VRF's own interfaces (not a leaked route)?"""
    t = net.own_connected.get((host, vrf))
    return t is not None and t.lookup(ip) is not None


def _pair(spec: Spec, a: str, b: str) -> str:
    return f"{spec.vrf_zone.get(a, a or 'global')} -> {spec.vrf_zone.get(b, b or 'global')}"


def _gateway_defaults(intent: Intent, spec: Spec, devices: dict[str, DeviceText],
                      net: Network) -> list[Finding]:
    """Each zone's default route at a site gateway goes to the core transit of that zone."""
    out: list[Finding] = []
    for slug, site in sorted(intent.sites.items()):
        if site.kind == SiteKind.core:
            continue
        gw = intent.gateway_of(slug)
        if gw not in devices:
            continue
        for zone in site.prefixes:
            vrf = intent.zones[zone].vrf
            route = net.table(gw, vrf).by_len.get(0, {}).get(0)
            if route is None:
                out.append(Finding("vrf", VIOLATION, f"zone {zone} has no default route to "
                                   f"the core in VRF {vrf}", gw, pair=f"{zone} -> core",
                                   site=slug))
                continue
            nh = route.next_hop
            owner = net.owners.get(nh) if nh is not None else None
            if owner is None or intent.devices[owner[0]].role.value != "core":
                out.append(_finding(
                    "vrf", VIOLATION, gw, route.line,
                    f"the default route of VRF {vrf} does not point at a core", zone, slug))
            elif owner[1].vrf != vrf:
                out.append(_finding(
                    "vrf", VIOLATION, gw, route.line,
                    f"the default route of VRF {vrf} points at {owner[0]} {owner[1].name} in "
                    f"VRF {owner[1].vrf or 'global'}: zone {zone} would enter the core as "
                    f"zone {spec.vrf_zone.get(owner[1].vrf or '', '?')}",
                    f"{zone} -> {spec.vrf_zone.get(owner[1].vrf or '', 'global')}", slug))
    return out


# --------------------------------------------------------------------------- b. layer 2


def _site_vlans(intent: Intent, slug: str) -> frozenset[int]:
    return frozenset(intent.zones[z].vlan for z in intent.sites[slug].prefixes)


def _transit_of(intent: Intent, slug: str) -> frozenset[int]:
    site = intent.sites[slug]
    if site.wan_vlan_base is None:
        return frozenset()
    zones = intent.zones if site.kind == SiteKind.core else site.prefixes
    return frozenset(site.wan_vlan_base + intent.zones[z].id for z in zones)


def port_spec(intent: Intent, spec: Spec, host: str) -> tuple[
        dict[str, tuple[str, frozenset[int], int | None]], frozenset[int], set[str]]:
    """Per port: (what it is, VLANs it may carry, native VLAN); the device's VLANs; ports
    that must be routed."""
    dev = intent.devices[host]
    slug = intent.device_site[host]
    site = intent.sites[slug]
    site_vlans = _site_vlans(intent, slug)
    device_vlans: set[int] = set(site_vlans)
    ports: dict[str, tuple[str, frozenset[int], int | None]] = {}
    routed: set[str] = set()

    def profile_vlans(name: str) -> tuple[frozenset[int], int | None]:
        prof = intent.port_profiles[name]
        native = intent.zones[prof.native_zone].vlan if prof.native_zone else None
        if prof.mode is PortMode.trunk:
            zones = prof.trunk_zones if prof.trunk_zones is not None else list(intent.zones)
            vlans = {intent.zones[z].vlan for z in zones} & site_vlans
            if prof.transit:
                # the core pair's link: its own transit and the internet edge (HSRP on both)
                vlans |= _transit_of(intent, slug)
                vlans |= {v for v, n in spec.edge.items() if n.zone in spec.firewall_zones}
            return frozenset(vlans), native
        vlans = {intent.zones[z].vlan for z in (prof.zone, prof.voice_zone) if z}
        return frozenset(vlans & site_vlans), None

    for pa in dev.ports:
        vlans, native = profile_vlans(pa.profile)
        names = expand_interface_range(pa.range)
        if pa.channel_group is not None:
            # the bundle carries what its members' profile allows
            names.append(f"Port-channel{pa.channel_group}")
        for name in names:
            ports[name] = (f"profile {pa.profile}", vlans, native)
        if intent.port_profiles[pa.profile].transit:
            device_vlans |= vlans
    role = dev.role.value
    if role != "core" and site.circuit is not None and intent.gateway_of(slug) == host:
        if site.circuit.overlay is Overlay.gre:
            routed.add(site.circuit.site_interface)
        else:
            own = _transit_of(intent, slug)
            ports[site.circuit.site_interface] = ("WAN trunk", own, None)
            device_vlans |= own
    if role == "core":
        nni: dict[str, set[int]] = {}
        for other, s in intent.sites.items():
            c = s.circuit
            if c is None or c.core != host:
                continue
            if c.overlay is Overlay.gre:
                routed.add(c.core_interface)
            else:
                nni.setdefault(c.core_interface, set()).update(_transit_of(intent, other))
        for port, numbers in nni.items():
            ports[port] = ("NNI trunk", frozenset(numbers), None)
            device_vlans |= numbers
        if spec.edge_interface is not None:
            edge = frozenset(v for v, n in spec.edge.items() if n.zone in spec.firewall_zones)
            ports[spec.edge_interface] = ("internet edge trunk", edge, None)
            device_vlans |= edge
    return ports, frozenset(device_vlans), routed


def check_l2(intent: Intent, spec: Spec, devices: dict[str, DeviceText]
             ) -> tuple[list[Finding], list[CheckResult]]:
    findings: list[Finding] = []
    results: list[CheckResult] = []
    unused = intent.port_profiles.get(UNUSED_PROFILE)
    for host, dev in sorted(devices.items()):
        before = len(findings)
        slug = intent.device_site[host]
        ports, device_vlans, routed = port_spec(intent, spec, host)
        default_vlans: frozenset[int] = frozenset()
        if unused is not None and unused.zone and unused.zone in intent.sites[slug].prefixes:
            default_vlans = frozenset({intent.zones[unused.zone].vlan})
        kind = intent.sites[slug].kind.value
        for number, line in sorted(dev.vlans.items()):
            vlan = number
            if vlan in spec.judged and vlan not in device_vlans:
                findings.append(_finding(
                    "l2", VIOLATION, host, line,
                    f"VLAN {spec.describe(vlan)} does not belong on {host} ({slug}, a {kind} "
                    "site)", _vlan_pair(spec, vlan, slug), slug))
        for intf in dev.interfaces.values():
            svi = intf.svi_vlan
            if svi is not None and svi in spec.judged and svi not in device_vlans:
                findings.append(_finding(
                    "l2", VIOLATION, host, intf.line,
                    f"SVI for VLAN {spec.describe(svi)}, which does not belong on {host} "
                    f"({slug})", _vlan_pair(spec, svi, slug), slug))
        checked = 0
        for intf in dev.interfaces.values():
            if not PHYSICAL.match(intf.name):
                continue
            if intf.routed:
                continue
            checked += 1
            what, allowed, native = ports.get(intf.name, ("unused port", default_vlans, None))
            if intf.name in routed:
                what, allowed = "routed port (GRE underlay)", frozenset()
            carried = intf.carried_vlans()
            if carried is None:
                findings.append(_finding(
                    "l2", VIOLATION, host, intf.mode_line or intf.line,
                    f"{intf.name} ({what}) is a trunk without an allowed VLAN list: it "
                    f"carries every zone VLAN; allowed here: {_compact(allowed) or 'none'}",
                    None, slug))
                continue
            extra = (carried & spec.judged) - allowed
            if extra:
                line = _line_for(intf, extra)
                names = ", ".join(spec.describe(v) for v in sorted(extra))
                findings.append(_finding(
                    "l2", VIOLATION, host, line,
                    f"{intf.name} ({what}) carries VLAN {names}; allowed on this port at "
                    f"{slug}: {_compact(allowed) or 'none'}",
                    ", ".join(_vlan_pair(spec, v, slug) for v in sorted(extra)), slug))
            if intf.mode == "trunk" and native is not None and intf.native_vlan is not None \
                    and intf.native_vlan != native and intf.native_vlan in spec.judged:
                findings.append(_finding(
                    "l2", VIOLATION, host, intf.native_line,
                    f"{intf.name} ({what}) has native VLAN {spec.describe(intf.native_vlan)}; "
                    f"the profile's native VLAN is {spec.describe(native)}",
                    _vlan_pair(spec, intf.native_vlan, slug), slug))
        results.append(CheckResult("l2", host, "fail" if len(findings) > before else "pass",
                                   checked))
    return findings, results


def _vlan_pair(spec: Spec, vlan: int, slug: str) -> str:
    n = spec.vlan_meaning(vlan)
    if n is None:
        return f"VLAN {vlan}@{slug}"
    if n.kind == "transit":
        return f"{n.zone}@{n.site} on {slug}"
    return f"{n.zone}@{slug}"


def _line_for(intf: Interface, extra: frozenset[int]) -> Line:
    if intf.mode != "trunk":
        if intf.access_vlan in extra and intf.access_line is not None:
            return intf.access_line
        if intf.voice_vlan in extra and intf.voice_line is not None:
            return intf.voice_line
        return intf.line
    for line in intf.allowed_lines:
        arg = line.words[-1]
        if arg in ("all",) or line.words[4] == "except":
            return line
        try:
            if vlan_list_to_set(arg) & extra:
                return line
        except ValueError:
            continue
    return intf.allowed_lines[0] if intf.allowed_lines else intf.line


# --------------------------------------------------------------------------- c. wireless


@dataclass
class _Policy:
    line: Line
    vlan: str | None = None
    vlan_line: Line | None = None
    aaa_override: bool = False


def check_wireless(intent: Intent, devices: dict[str, DeviceText]
                   ) -> tuple[list[Finding], list[CheckResult]]:
    findings: list[Finding] = []
    results: list[CheckResult] = []
    restricted = intent.policy.restricted_zone
    rvlan = intent.zones[restricted].vlan
    ssids = {s.name: s for s in intent.wireless.ssids}
    ap_site = {str(d.mac).lower(): intent.device_site[h] for h, d in intent.devices.items()
               if d.mac is not None}
    ap_vlan = intent.zones[intent.wireless.ap_zone].vlan
    for host, dev in sorted(devices.items()):
        if intent.devices[host].role.value != "wlc":
            continue
        before = len(findings)
        wlans: dict[str, Line] = {}
        policies: dict[str, _Policy] = {}
        tags: dict[str, list[tuple[str, str, Line]]] = {}
        site_tags: dict[str, tuple[str | None, Line]] = {}
        flex: dict[str, tuple[int | None, dict[str, int], Line]] = {}
        aps: list[tuple[str, str | None, str | None, Line]] = []
        for line in dev.tree.top:
            w = line.words
            if w[0] == "wlan" and len(w) >= 3:
                wlans[w[1]] = line
            elif w[:3] == ["wireless", "profile", "policy"] and len(w) >= 4:
                p = _Policy(line)
                for c in line.children:
                    if c.text == "aaa-override":
                        p.aaa_override = True
                    elif c.words[0] == "vlan" and len(c.words) >= 2:
                        p.vlan, p.vlan_line = c.words[1], c
                policies[w[3]] = p
            elif w[:3] == ["wireless", "tag", "policy"] and len(w) >= 4:
                tags[w[3]] = [(c.words[1], c.words[3], c) for c in line.children
                              if c.words[0] == "wlan" and len(c.words) >= 4]
            elif w[:3] == ["wireless", "tag", "site"] and len(w) >= 4:
                fp = line.child("flex-profile")
                site_tags[w[3]] = (fp.words[1] if fp else None, line)
            elif w[:3] == ["wireless", "profile", "flex"] and len(w) >= 4:
                native = None
                names: dict[str, int] = {}
                for c in line.children:
                    if c.words[0] == "native-vlan-id":
                        native = int(c.words[1])
                    elif c.words[0] == "vlan-name" and len(c.words) >= 2:
                        vid = c.child("vlan-id")
                        if vid is not None:
                            names[c.words[1]] = int(vid.words[1])
                flex[w[3]] = (native, names, line)
            elif w[0] == "ap" and len(w) == 2 and re.match(r"^[0-9a-f.]+$", w[1]):
                pt = line.child("policy-tag")
                st = line.child("site-tag")
                aps.append((w[1], pt.words[1] if pt else None, st.words[1] if st else None,
                            line))
        for name, line in wlans.items():
            if name not in ssids:
                findings.append(_finding("wireless", VIOLATION, host, line,
                                         f"WLAN {name} is not an SSID of the intent"))
        for name in ssids:
            if name not in wlans:
                findings.append(Finding("wireless", WARNING, f"SSID {name} of the intent has "
                                        "no WLAN on the controller", host))
        checked = 0
        for tag, entries in sorted(tags.items()):
            for wlan, pname, line in entries:
                checked += 1
                pp = policies.get(pname)
                if pp is None:
                    findings.append(_finding("wireless", VIOLATION, host, line,
                                             f"policy profile {pname} is not defined"))
                    continue
                ssid = ssids.get(wlan)
                zone = ssid.zone if ssid is not None else restricted
                want = intent.zones[zone].vlan
                if pp.aaa_override and want != rvlan:
                    zone, want = restricted, rvlan
                got = _resolve_vlan(pp.vlan, flex)
                pair = f"SSID {ssid.ssid if ssid else wlan} -> default VLAN"
                if got is None or got != {want}:
                    findings.append(_finding(
                        "wireless", VIOLATION, host, pp.vlan_line or pp.line,
                        f"WLAN {wlan} (tag {tag}) uses policy profile {pname} whose default "
                        f"VLAN is {pp.vlan or 'not set'}; it must be {want} (zone "
                        f"{zone}"
                        + (", the restricted zone: the profile has aaa-override"
                           if pp.aaa_override else "") + ")", pair))
                if ssid is not None and ssid.aaa_override and not pp.aaa_override:
                    findings.append(_finding(
                        "wireless", VIOLATION, host, pp.line,
                        f"SSID {wlan} assigns zones by RADIUS (aaa_override) but policy "
                        f"profile {pname} has no aaa-override", pair))
        seen: set[tuple[str, str | None, str | None]] = set()
        for mac, ptag, stag, apline in aps:
            slug = ap_site.get(mac.lower())
            if slug is None:
                findings.append(_finding("wireless", WARNING, host, apline,
                                         f"AP {mac} is not in the inventory"))
                continue
            if (slug, ptag, stag) in seen:
                continue  # another AP of the same site with the same tags
            seen.add((slug, ptag, stag))
            site = intent.sites[slug]
            vlans = _site_vlans(intent, slug)
            tag_of_site = site_tags.get(stag or "")
            if tag_of_site is None:
                findings.append(_finding("wireless", VIOLATION, host, apline,
                                         f"AP {mac} ({slug}) has no valid site tag"))
            elif tag_of_site[0] is None or tag_of_site[0] not in flex:
                findings.append(_finding("wireless", VIOLATION, host, tag_of_site[1],
                                         f"site tag {stag} has no valid flex profile"))
            else:
                fp_name = tag_of_site[0]
                native, names, fline = flex[fp_name]
                extra = {v for v in names.values() if v not in vlans}
                if extra:
                    findings.append(_finding(
                        "wireless", VIOLATION, host, fline,
                        f"flex profile {fp_name} (site tag {stag}) switches APs of {slug} "
                        f"onto VLAN {_compact(extra)}, zones the site does not have",
                        ", ".join(f"{z}@{slug}" for z in sorted(
                            z for z, zz in intent.zones.items() if zz.vlan in extra)), slug))
                if native is not None and native != ap_vlan:
                    findings.append(_finding(
                        "wireless", VIOLATION, host, fline,
                        f"flex profile {fp_name} has native VLAN {native}; APs are managed "
                        f"in VLAN {ap_vlan}", None, slug))
            for wlan, _, tline in tags.get(ptag or "", []):
                ssid = ssids.get(wlan)
                if ssid is not None and site.kind not in ssid.site_kinds:
                    findings.append(_finding(
                        "wireless", VIOLATION, host, tline,
                        f"AP {mac} at {slug} ({site.kind.value}) broadcasts {wlan}, which the "
                        "intent limits to " + ", ".join(k.value for k in ssid.site_kinds),
                        None, slug))
        results.append(CheckResult("wireless", host,
                                   "fail" if len(findings) > before else "pass",
                                   checked + len(aps)))
    return findings, results


def _resolve_vlan(value: str | None, flex: dict[str, tuple[int | None, dict[str, int], Line]]
                  ) -> set[int] | None:
    """A policy profile's ``vlan`` (number or name) -> the VLAN IDs it stands for."""
    if value is None:
        return None
    if value.isdigit():
        return {int(value)}
    ids = {names[value] for _, names, _ in flex.values() if value in names}
    return ids or None


# --------------------------------------------------------------------------- e. RADIUS


RADIUS_POLICY = "radius/freeradius/policy.d/fellesnett"
RADIUS_CSV = "radius/authorization.csv"


def radius_files(intent: Intent, given: dict[str, str] | None) -> tuple[
        dict[str, str] | None, str]:
    """The RADIUS policy texts to check, and where they came from."""
    if given:
        return given, "the build output"
    if importlib.util.find_spec("nornir_tasks.radius") is None:
        return None, "nornir_tasks.radius does not exist yet"
    mod = importlib.import_module("nornir_tasks.radius")
    build: Callable[[Intent], dict[str, str]] | None = getattr(mod, "build_radius", None)
    if build is None:
        return None, "nornir_tasks.radius has no build_radius()"
    try:
        return build(intent), "nornir_tasks.radius.build_radius()"
    except Exception as exc:  # noqa: BLE001 - a module under construction must not stop verify
        return None, f"nornir_tasks.radius.build_radius() failed: {exc}"


def _tpgi_lines(text: str) -> Iterator[tuple[int, str | None, str]]:
    """(line number, group or None for the catch-all, VLAN) of every TPGI assignment."""
    group: str | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        m = re.search(r'== "([^"]+)"', raw)
        if m and "Group" in raw:
            group = m.group(1)
        m = re.search(r'Tunnel-Private-Group-I[dD]\s*:?=\s*"?([^"\s]+)', raw)
        if m:
            yield n, group, m.group(1)


def check_radius(intent: Intent, files: dict[str, str] | None, origin: str
                 ) -> tuple[list[Finding], list[CheckResult]]:
    findings: list[Finding] = []
    results: list[CheckResult] = []
    if files is None:
        findings.append(Finding("radius", NOTE, f"RADIUS policy not checked: {origin}"))
        results.append(CheckResult("radius", "policy", "skipped"))
        return findings, results
    restricted = intent.zones[intent.policy.restricted_zone].vlan
    policy = files.get(RADIUS_POLICY)
    if policy is not None:
        before = len(findings)
        try:
            mod = importlib.import_module("nornir_tasks.radius")
            read = mod.freeradius_policy_to_replies
            replies: dict[tuple[str, str], dict[str, list[str]]] = read(policy)
        except (ImportError, AttributeError, ValueError) as exc:
            findings.append(Finding("radius", VIOLATION, f"cannot read the FreeRADIUS policy: "
                                    f"{exc}", RADIUS_POLICY))
            replies = {}
        lines = list(_tpgi_lines(policy))

        def where(group: str | None) -> tuple[int | None, str | None]:
            for n, g, _ in lines:
                if g == group:
                    return n, policy.splitlines()[n - 1].strip()
            return None, None

        catch_all = replies.get(("any", "*"), {}).get("Tunnel-Private-Group-Id", [])
        if catch_all != [str(restricted)]:
            n, text = where(None)
            findings.append(Finding(
                "radius", VIOLATION, f"users in no group and unknown MACs get VLAN "
                f"{','.join(catch_all) or 'none'}; must be {restricted} (the restricted zone)",
                RADIUS_POLICY, n, text, "unknown -> restricted zone"))
        for g in intent.authorization.groups:
            reply = replies.get((g.method.value, g.group), {})
            got = reply.get("Tunnel-Private-Group-Id", catch_all)
            want = [str(intent.zones[g.zone].vlan)] if g.assign_vlan else []
            if got != want:
                n, text = where(g.group)
                findings.append(Finding(
                    "radius", VIOLATION, f"group {g.group} ({g.method.value}) gets VLAN "
                    f"{','.join(got) or 'none'}; " + (
                        f"its zone {g.zone} has VLAN {want[0]}" if want else
                        "it must get none (its devices sit on trunk ports)"),
                    RADIUS_POLICY, n, text, f"{g.group} -> {g.zone}"))
        results.append(CheckResult("radius", RADIUS_POLICY,
                                   "fail" if len(findings) > before else "pass",
                                   len(intent.authorization.groups) + 1))
    table = files.get(RADIUS_CSV)
    if table is not None:
        before = len(findings)
        groups = {(g.group, g.method.value): g for g in intent.authorization.groups}
        for n, row in enumerate(csv.DictReader(io.StringIO(table)), 2):
            vlan: int | None
            if row.get("group") == "*":
                vlan = restricted
            else:
                grp = groups.get((row.get("group", ""), row.get("method", "")))
                vlan = intent.zones[grp.zone].vlan if grp is not None else None
                if grp is not None and not grp.assign_vlan:
                    vlan = 0  # the group gets no VLAN
            if vlan is None:
                findings.append(Finding("radius", WARNING, "group not in the intent",
                                        RADIUS_CSV, n, ",".join(row.values())))
            elif row.get("vlan") != (str(vlan) if vlan else ""):
                findings.append(Finding("radius", VIOLATION,
                                        f"VLAN {row.get('vlan')}; must be {vlan}",
                                        RADIUS_CSV, n, ",".join(row.values()),
                                        f"{row.get('group')} -> {row.get('zone')}"))
        results.append(CheckResult("radius", RADIUS_CSV,
                                   "fail" if len(findings) > before else "pass"))
    if policy is None and table is None:
        findings.append(Finding("radius", NOTE, f"RADIUS policy not checked: {origin} has "
                                f"neither {RADIUS_POLICY} nor {RADIUS_CSV}"))
        results.append(CheckResult("radius", "policy", "skipped"))
    return findings, results


# --------------------------------------------------------------------------- text problems


def check_input(devices: dict[str, DeviceText]) -> tuple[list[Finding], list[CheckResult]]:
    """Lines verify could not read: each one is a hole in the proof."""
    findings: list[Finding] = []
    for host, dev in sorted(devices.items()):
        for line, why in dev.problems:
            findings.append(_finding("input", VIOLATION, host, line, why))
        for acl in dev.acls.values():
            for line, why in acl.problems:
                findings.append(_finding("input", VIOLATION, host, line,
                                         f"ACL {acl.name}: {why}"))
    return findings, []


__all__ = ["Spec", "check_input", "check_l2", "check_radius", "check_vrfs",
           "check_wireless", "port_spec", "radius_files"]
