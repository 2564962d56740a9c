"""Semantic checks over the whole intent: rules no single model can see.

Each check returns located :class:`Problem` s; :func:`check_intent` runs them all so an
engineer sees every mistake at once, not one per run.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from nornir_tasks.errors import Problem, key_path
from nornir_tasks.intent.flows import NOC, zone_holding
from nornir_tasks.intent.loader import (
    CORE_KIND_MISSING,
    HOSTS_FILE,
    SITE_GROUP_PREFIX,
    Intent,
    kind_group,
)
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.intent.model import (
    Circuit,
    CircuitType,
    FlowEnd,
    Overlay,
    Platform,
    PortMode,
    Role,
    SiteKind,
    WlanSecurity,
)
from nornir_tasks.interfaces import expand_interface_range

INTERNET = "internet"
MAX_SLUG = 31
ROLE_PLATFORM = {
    Role.core: Platform.ios_xe,
    Role.distribution: Platform.ios_xe,
    Role.access: Platform.ios_xe,
    Role.wlc: Platform.c9800,
    Role.ap: Platform.ap,
}


SWITCH_ROLES = (Role.access, Role.distribution, Role.core)


def check_intent(intent: Intent, section_file: dict[str, str],
                 unallocated: frozenset[str] = frozenset()) -> list[Problem]:
    problems: list[Problem] = []
    for check in (_site_kinds, _zones, _pools, _policy, _wireless, _port_profiles, _management,
                  _ap_trunks, _authorization, _services_and_edge, _aaa_servers):
        problems.extend(check(intent, section_file))
    problems.extend(_sites(intent, unallocated))
    problems.extend(_prefix_overlaps(intent))
    problems.extend(_devices(intent))
    problems.extend(_links(intent))
    problems.extend(_dead_zones(intent))
    problems.extend(_capacity(intent))
    return problems


def _within(net: ipaddress.IPv4Network, pool: ipaddress.IPv4Network) -> bool:
    """``net.subnet_of(pool)``, in integers: ipaddress compares address objects, and every
    site prefix is checked against its pool.

    >>> N = ipaddress.IPv4Network
    >>> _within(N("10.1.2.0/24"), N("10.0.0.0/8")), _within(N("10.0.0.0/8"), N("10.1.0.0/16"))
    (True, False)
    """
    return net.prefixlen >= pool.prefixlen and (
        int(net.network_address) ^ int(pool.network_address)) >> (32 - pool.prefixlen) == 0


@per_intent
def _model_interfaces(intent: Intent) -> dict[str, frozenset[str]]:
    """Every interface of each device model (asked for every switch and circuit)."""
    return {name: frozenset(i for spec in model.interfaces for i in expand_interface_range(spec))
            for name, model in intent.device_models.items()}


def _site_file(slug: str) -> str:
    return f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml"


def _where(intent: Intent, host: str, key: str, *rest: object) -> tuple[str, str]:
    """File and key path of a host fact: ``host.key`` in hosts.yml, ``key`` in host_vars."""
    f = intent.host_files[host].get(key, HOSTS_FILE)
    return f, (key_path(host, key, *rest) if f == HOSTS_FILE else key_path(key, *rest))


def _management(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    mz = intent.policy.management_zone
    pool = intent.pools.zones.get(mz)
    n = intent.management.mgmt_gateway_host
    for kind, length in sorted((pool.prefix_length if pool else {}).items()):
        if n > 2 ** (32 - length) - 2:
            yield Problem(sf["management"], "management.mgmt_gateway_host",
                          f"{n} is not a host number of a /{length} ({mz} at {kind.value} sites)")


def _aaa_servers(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    """A protocol the configs use needs servers: an empty server group renders, and
    fails every login or every port only on the device."""
    f = sf["aaa"]
    if not intent.aaa.tacacs.servers:
        yield Problem(f, "aaa.tacacs.servers", "no server: device logins are authenticated, "
                      "authorised and accounted by TACACS+; give at least one")
    users = [f"port profile {name!r}" for name, p in sorted(intent.port_profiles.items())
             if p.dot1x or p.mab]
    users += [f"SSID {s.name!r}" for s in intent.wireless.ssids
              if s.security is WlanSecurity.dot1x]
    if users and not intent.aaa.radius.servers:
        shown = ", ".join(users[:4]) + (f" and {len(users) - 4} more" if len(users) > 4 else "")
        yield Problem(f, "aaa.radius.servers", f"no server, yet {shown} authenticate by "
                      "802.1X or MAB: give at least one RADIUS server")


def _dupes(values: dict[str, object]) -> Iterator[tuple[str, str, object]]:
    """Yield (first, second, value) for every value used twice, in key order."""
    seen: dict[object, str] = {}
    for key in sorted(values):
        v = values[key]
        if v in seen:
            yield seen[v], key, v
        else:
            seen[v] = key


#: group names of hosts.yml a site kind's group must not take
_RESERVED_GROUPS = frozenset({"all", "ungrouped"})


def _site_kinds(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    """Kinds are the inventory's to define, but the core site is the code's: one kind is
    ``core``, and every other name of a kind must work as an Ansible group."""
    f = sf["site_kinds"]
    if SiteKind.core not in intent.site_kinds:
        yield Problem(f, "site_kinds", CORE_KIND_MISSING)
    for kind in intent.site_kinds:
        group = kind_group(kind)
        if group in _RESERVED_GROUPS or f"{group}_".startswith(SITE_GROUP_PREFIX) \
                or (group != kind and group in intent.site_kinds):
            yield Problem(f, key_path("site_kinds", kind),
                          f"a kind cannot be called {kind.value!r}: its hosts.yml group "
                          f"{group!r} is taken")
    for name, pool in sorted(intent.pools.zones.items()):
        for kind in pool.prefix_length:
            if kind not in intent.site_kinds:
                yield Problem(sf["address_pools"],
                              key_path("address_pools", "zones", name, "prefix_length", kind),
                              f"{kind.value!r} is not a site kind of {f}")
    for i, ssid in enumerate(intent.wireless.ssids):
        for kind in ssid.site_kinds:
            if kind not in intent.site_kinds:
                yield Problem(sf["wireless"], key_path("wireless", "ssids", i, "site_kinds"),
                              f"{kind.value!r} is not a site kind of {f}")


def _zones(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    f = sf["zones"]
    for attr in ("id", "vlan", "vrf"):
        for first, second, v in _dupes({n: getattr(z, attr) for n, z in intent.zones.items()}):
            yield Problem(f, key_path("zones", second, attr), f"{v} is already used by {first}")
    capacity = 2 ** (31 - intent.pools.transit.block_length)
    for name, zone in intent.zones.items():
        if zone.id >= capacity:
            yield Problem(f, key_path("zones", name, "id"),
                          f"{zone.id} does not fit a transit block of "
                          f"/{intent.pools.transit.block_length} ({capacity} links)")
        if zone.id >= intent.pools.wan_vlans.block_size:
            yield Problem(f, key_path("zones", name, "id"),
                          f"{zone.id} does not fit a WAN VLAN block of "
                          f"{intent.pools.wan_vlans.block_size}")
        if zone.vlan >= intent.pools.wan_vlans.first and zone.vlan <= intent.pools.wan_vlans.last:
            yield Problem(f, key_path("zones", name, "vlan"),
                          f"{zone.vlan} lies in the WAN VLAN range "
                          f"{intent.pools.wan_vlans.first}-{intent.pools.wan_vlans.last}")


def _pools(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    f = sf["address_pools"]
    for name in sorted(intent.pools.zones):
        if name not in intent.zones:
            yield Problem(f, key_path("address_pools", "zones", name), "no such zone")
    for name in sorted(intent.zones):
        if name not in intent.pools.zones:
            yield Problem(f, key_path("address_pools", "zones"), f"zone {name!r} has no pool")
    nets = [(str(n), p.pool) for n, p in intent.pools.zones.items()]
    nets.append(("transit", intent.pools.transit.pool))
    for i, (a, na) in enumerate(nets):
        for b, nb in nets[i + 1:]:
            if na.overlaps(nb):
                where = ("address_pools.transit.pool" if b == "transit"
                         else key_path("address_pools", "zones", b))
                yield Problem(f, where, f"pool {nb} overlaps the {a} pool {na}")
    wv = intent.pools.wan_vlans
    if wv.first + wv.block_size - 1 > wv.last:
        yield Problem(f, "address_pools.wan_vlans.last",
                      f"{wv.last} leaves no room for a block of {wv.block_size} from {wv.first}")
    for name, pool in intent.pools.zones.items():
        for kind, length in pool.prefix_length.items():
            if length < pool.pool.prefixlen:
                yield Problem(f, key_path("address_pools", "zones", name, "prefix_length", kind),
                              f"/{length} is larger than the pool {pool.pool}")
    if intent.pools.transit.block_length < intent.pools.transit.pool.prefixlen:
        yield Problem(f, "address_pools.transit.block_length", "larger than the transit pool")


def _policy(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    f = sf["zone_policy"]
    pol = intent.policy
    for attr in ("restricted_zone", "management_zone"):
        if getattr(pol, attr) not in intent.zones:
            yield Problem(f, key_path("zone_policy", attr), f"no such zone {getattr(pol, attr)!r}")
    for name in intent.services:
        if name in intent.zones or name == INTERNET:
            yield Problem(sf["services"], key_path("services", name),
                          "service name clashes with a zone or `internet`")
    for i, rule in enumerate(pol.rules):
        if rule.from_ not in intent.zones:
            yield Problem(f, key_path("zone_policy", "rules", i, "from"),
                          f"no such zone {rule.from_!r}")
        if rule.to in intent.zones:
            if rule.ports is None:
                yield Problem(f, key_path("zone_policy", "rules", i, "ports"),
                              "required for a rule towards a zone")
        elif rule.to not in intent.services and rule.to != INTERNET:
            yield Problem(f, key_path("zone_policy", "rules", i, "to"),
                          f"{rule.to!r} is neither a zone, a service nor `internet`")
        if rule.stateful and rule.to == INTERNET:
            yield Problem(f, key_path("zone_policy", "rules", i, "stateful"),
                          "the internet is always behind the firewall: `stateful` is for a "
                          "pair of zones")
    pair_of: dict[int, tuple[str, str]] = {}
    kinds: dict[tuple[str, str], set[bool]] = {}
    for i, rule in enumerate(pol.rules):
        if rule.to == INTERNET or rule.from_ not in intent.zones:
            continue
        to = rule.to if rule.to in intent.zones else (
            zone_holding(intent, list(intent.services[rule.to].prefixes))
            if rule.to in intent.services else None)
        if to is not None:
            a, b = sorted((rule.from_, to))
            pair_of[i] = (a, b)
            kinds.setdefault((a, b), set()).add(rule.stateful)
    for i, pair in pair_of.items():
        if pol.rules[i].stateful and len(kinds[pair]) > 1:
            yield Problem(f, key_path("zone_policy", "rules", i, "stateful"),
                          f"zones {pair[0]} and {pair[1]} have stateful and stateless "
                          "rules: a pair is routed through the firewall or not, all its "
                          "rules alike")
    for i, flow in enumerate(pol.infrastructure):
        for end in ("from", "to"):
            yield from _flow_end(intent, f, key_path("zone_policy", "infrastructure", i, end),
                                 flow.from_ if end == "from" else flow.to)
        protos = {p.partition("/")[0] for p in flow.ports}
        for j, sp in enumerate(flow.source_ports or []):
            proto = sp.partition("/")[0]
            if proto not in ("tcp", "udp") or proto not in protos:
                yield Problem(f, key_path("zone_policy", "infrastructure", i, "source_ports", j),
                              f"{sp!r}: source ports need a tcp/N or udp/N of a protocol the "
                              "flow's ports use")
    for first, second, v in _dupes({str(i): fl.name for i, fl in enumerate(pol.infrastructure)}):
        yield Problem(f, key_path("zone_policy", "infrastructure", int(second), "name"),
                      f"{v!r} is already used by infrastructure[{first}]")
    for i, acc in enumerate(pol.accepted_exposures):
        for end, names in (("from", acc.from_), ("to", acc.to)):
            for j, name in enumerate(names):
                ok = name in intent.zones or name in intent.services or (
                    end == "to" and name == INTERNET)
                if not ok:
                    yield Problem(f, key_path("zone_policy", "accepted_exposures", i, end, j),
                                  f"{name!r} is neither a zone nor a service"
                                  + (" nor `internet`" if end == "to" else ""))
        protos = {p.partition("/")[0] for p in acc.ports or []}
        for j, sp in enumerate(acc.source_ports or []):
            proto = sp.partition("/")[0]
            if proto not in ("tcp", "udp") or (acc.ports is not None and proto not in protos):
                yield Problem(f, key_path("zone_policy", "accepted_exposures", i,
                                          "source_ports", j),
                              f"{sp!r}: source ports need a tcp/N or udp/N of a protocol in "
                              "`ports`")


def _flow_end(intent: Intent, f: str, path: str, end: FlowEnd) -> Iterator[Problem]:
    for j, z in enumerate(end.zones):
        if z not in intent.zones:
            yield Problem(f, f"{path}[{j}]" if not (end.relay or end.devices or end.service)
                          else key_path(path, "zones", j), f"no such zone {z!r}")
    for j, z in enumerate(end.relay):
        if z not in intent.zones:
            yield Problem(f, key_path(path, "relay", j), f"no such zone {z!r}")
        elif not intent.zones[z].dhcp:
            yield Problem(f, key_path(path, "relay", j),
                          f"zone {z!r} has `dhcp: false`: its gateways relay nothing")
    if end.service is not None and end.service not in intent.services and end.service != NOC:
        hint = (f" (a zone: write `[{end.service}]`)" if end.service in intent.zones else "")
        yield Problem(f, path, f"{end.service!r} is not a service{hint}")


def _services_and_edge(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    """Every service must sit inside a zone's committed prefix (that is its VRF), and the
    internet edge must not collide with the pools or VLANs."""
    for name, svc in sorted(intent.services.items()):
        for i, net in enumerate(svc.prefixes):
            if zone_holding(intent, [net]) is None:  # no site prefix holds it
                yield Problem(sf["services"], key_path("services", name, "prefixes", i),
                              f"{net} lies in no zone prefix of any site, so no VRF holds it")
    edge = intent.policy.internet_edge
    f = sf["zone_policy"]
    nets = [*(p.pool for p in intent.pools.zones.values()), intent.pools.transit.pool]
    for other in nets:
        if edge.transit.overlaps(other):
            yield Problem(f, "zone_policy.internet_edge.transit",
                          f"{edge.transit} overlaps the pool {other}")
    top = max((z.id for z in intent.zones.values()), default=0)
    if (top + 1) * 8 > edge.transit.num_addresses:
        yield Problem(f, "zone_policy.internet_edge.transit",
                      f"{edge.transit} has no /29 for zone id {top}")
    vlans = {z.vlan for z in intent.zones.values()}
    wv = intent.pools.wan_vlans
    for zid in range(top + 1):
        v = edge.vlan_base + zid
        if v > 4094 or v in vlans or wv.first <= v <= wv.last:
            yield Problem(f, "zone_policy.internet_edge.vlan_base",
                          f"VLAN {v} (zone id {zid}) is out of range or already in use")
            break


def _wireless(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    f = sf["wireless"]
    w = intent.wireless
    if w.ap_zone not in intent.zones:
        yield Problem(f, "wireless.ap_zone", f"no such zone {w.ap_zone!r}")
    for attr in ("name", "ssid", "wlan_id"):
        for first, second, v in _dupes({str(i): getattr(s, attr) for i, s in enumerate(w.ssids)}):
            yield Problem(f, key_path("wireless", "ssids", int(second), attr),
                          f"{v!r} is already used by ssids[{first}]")
    for i, s in enumerate(w.ssids):
        if any(c.isspace() for c in s.ssid):
            # how a 9800 quotes a blank inside `wlan <profile> <id> <ssid>` is unverified
            yield Problem(f, key_path("wireless", "ssids", i, "ssid"),
                          f"{s.ssid!r} contains a blank, which this project does not render yet")
        if s.aaa_override and s.zone != intent.policy.restricted_zone:
            yield Problem(f, key_path("wireless", "ssids", i, "zone"),
                          f"with aaa_override the default zone must be the restricted zone "
                          f"{intent.policy.restricted_zone!r}: a user RADIUS says nothing "
                          f"about must not land in {s.zone!r}")
        if s.zone not in intent.zones:
            yield Problem(f, key_path("wireless", "ssids", i, "zone"), f"no such zone {s.zone!r}")
        if (s.security.value == "psk") != (s.psk_secret is not None):
            yield Problem(f, key_path("wireless", "ssids", i, "psk_secret"),
                          "required with security psk, and only then")
        if s.aaa_override and s.security.value != "dot1x":
            yield Problem(f, key_path("wireless", "ssids", i, "aaa_override"),
                          "AAA override needs 802.1X security")
        for kind in s.site_kinds:
            pool = intent.pools.zones.get(s.zone)
            if pool is not None and kind not in pool.prefix_length:
                yield Problem(f, key_path("wireless", "ssids", i, "site_kinds"),
                              f"zone {s.zone!r} does not exist at {kind.value} sites")


def _ap_trunks(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    """A FlexConnect AP switches locally: a VLAN its port does not carry black-holes every
    client put there, so an AP port's trunk carries the default zone of every SSID."""
    used: set[tuple[str, SiteKind]] = set()
    for host, dev in intent.devices.items():
        sw = intent.devices.get(dev.connected_to.switch) if dev.connected_to else None
        if dev.role is Role.ap and dev.connected_to is not None and sw is not None:
            for pa in sw.ports:
                if dev.connected_to.port in expand_interface_range(pa.range):
                    used.add((pa.profile, intent.site_of(host).kind))
    for name, kind in sorted(used):
        prof = intent.port_profiles.get(name)
        if prof is None or prof.trunk_zones is None:
            continue
        for s in intent.wireless.ssids:
            if kind in s.site_kinds and s.zone not in prof.trunk_zones:
                yield Problem(sf["port_profiles"], f"port_profiles.{name}.trunk_zones",
                              f"does not carry zone {s.zone!r}, the default of SSID "
                              f"{s.name!r}, yet APs are connected to {name!r} ports")


def _authorization(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    f = sf["authorization"]
    groups = intent.authorization.groups
    for first, second, v in _dupes({str(i): g.group for i, g in enumerate(groups)}):
        yield Problem(f, key_path("authorization", "groups", int(second), "group"),
                      f"{v!r} is already used by groups[{first}]")
    for i, g in enumerate(groups):
        if g.zone not in intent.zones:
            yield Problem(f, key_path("authorization", "groups", i, "zone"),
                          f"no such zone {g.zone!r}")
        elif g.assign_vlan and not intent.zones[g.zone].client_zone:
            yield Problem(f, key_path("authorization", "groups", i, "zone"),
                          f"{g.zone!r} is not a client zone: RADIUS never puts users there "
                          "(a device group on trunk ports sets `assign_vlan: false`)")
        if g.voice and g.method.value != "mab":
            yield Problem(f, key_path("authorization", "groups", i, "voice"),
                          "the voice domain is granted to devices (MAB) only")


UNUSED_PROFILE = "unused"


def _port_profiles(intent: Intent, sf: dict[str, str]) -> Iterator[Problem]:
    f = sf["port_profiles"]
    if UNUSED_PROFILE not in intent.port_profiles:
        yield Problem(f, "port_profiles", f"profile {UNUSED_PROFILE!r} is required: it "
                      "configures every port that the port map does not list")
    for name, p in sorted(intent.port_profiles.items()):
        refs = [("zone", p.zone), ("voice_zone", p.voice_zone), ("native_zone", p.native_zone)]
        refs += [(f"trunk_zones[{i}]", z) for i, z in enumerate(p.trunk_zones or [])]
        for attr, z in refs:
            if z is not None and z not in intent.zones:
                yield Problem(f, f"port_profiles.{name}.{attr}", f"no such zone {z!r}")
        if p.mode is PortMode.access and p.zone is None and not p.shutdown:
            yield Problem(f, f"port_profiles.{name}.zone", "an access port needs a zone")
        if p.mode is PortMode.trunk and p.voice_zone:
            yield Problem(f, f"port_profiles.{name}.mode", "a voice VLAN needs an access port")
        if p.mode is PortMode.trunk and (p.dot1x or p.mab) and not p.edge:
            yield Problem(f, f"port_profiles.{name}.mode",
                          "802.1X or MAB on a trunk is for an end device (an access point): "
                          "set `edge: true`")
        if p.ip_source_guard and (p.mode is PortMode.trunk or not (p.dot1x or p.mab)):
            yield Problem(f, f"port_profiles.{name}.ip_source_guard",
                          "IP Source Guard needs an authenticated access port whose clients "
                          "take addresses by DHCP (snooping learns the bindings)")


def _sites(intent: Intent, unallocated: frozenset[str] = frozenset()) -> Iterator[Problem]:
    for first, second, v in _dupes({s: site.index for s, site in intent.sites.items()}):
        yield Problem(_site_file(second), "site.index", f"{v} is already used by site {first}")
    bases: dict[str, object] = {**{s: site.wan_vlan_base for s, site in intent.sites.items()
                if site.wan_vlan_base is not None},
             **{f"{s} (backup)": site.backup_wan_vlan_base for s, site in intent.sites.items()
                if site.backup_wan_vlan_base is not None}}
    for first, second, v in _dupes(bases):
        slug, backup = second.removesuffix(" (backup)"), second.endswith(" (backup)")
        yield Problem(_site_file(slug), "site.backup_wan_vlan_base" if backup
                      else "site.wan_vlan_base", f"{v} already used by {first}")
    cores = [s for s, site in intent.sites.items() if site.kind == SiteKind.core]
    if len(cores) != 1:
        yield Problem(HOSTS_FILE, "all.children.core_site",
                      f"exactly one core site is needed, found {len(cores)}")
    wv = intent.pools.wan_vlans
    for slug, site in sorted(intent.sites.items()):
        f = _site_file(slug)
        if len(slug) > MAX_SLUG:
            # the slug names static routes, VLANs and site tags on the devices
            yield Problem(HOSTS_FILE, SITE_GROUP_PREFIX + slug,
                          f"site slug {slug!r} is longer than {MAX_SLUG} characters")
        yield from _site_zones(intent, slug, f)
        expected = intent.zones_due(site)
        for z in sorted(set(expected) - set(site.prefixes) - unallocated):
            if z in intent.zones and z in intent.pools.zones:
                yield Problem(f, "site.prefixes", f"zone {z!r} has no prefix (run `fellesnett "
                              f"zone add {z}` to allocate it at every site that lacks it)")
        for z, net in sorted(site.prefixes.items()):
            pool = intent.pools.zones.get(z)
            if pool is None or site.kind not in pool.prefix_length:
                yield Problem(f, f"site.prefixes.{z}", f"zone {z!r} does not exist at "
                              f"{site.kind.value} sites")
                continue
            if z not in expected:
                yield Problem(f, f"site.prefixes.{z}", f"zone {z!r} is not in site.zones: "
                              "add it there, or remove this prefix")
                continue
            if not _within(net, pool.pool):
                yield Problem(f, f"site.prefixes.{z}", f"{net} is outside the {z} pool {pool.pool}")
            if net.prefixlen != pool.prefix_length[site.kind]:
                yield Problem(f, f"site.prefixes.{z}", f"{net} should be "
                              f"/{pool.prefix_length[site.kind]} at a {site.kind.value} site")
        if site.kind == SiteKind.core:
            if site.circuit is not None:
                yield Problem(f, "site.circuit", "the core site has no WAN circuit")
        elif site.circuit is None:
            yield Problem(f, "site.circuit", "required: every site but the core needs a circuit")
        else:
            yield from _circuit(intent, slug, f)
        yield from _backup_circuit(intent, slug, f)
        if site.transit is None:
            yield Problem(f, "site.transit", "required (allocate with `fellesnett site add`)")
        else:
            tp = intent.pools.transit
            if not _within(site.transit, tp.pool) or site.transit.prefixlen != tp.block_length:
                yield Problem(f, "site.transit",
                              f"{site.transit} must be a /{tp.block_length} inside {tp.pool}")
        if site.wan_vlan_base is None:
            yield Problem(f, "site.wan_vlan_base", "required (allocate with `fellesnett site add`)")
        elif (site.wan_vlan_base < wv.first or site.wan_vlan_base + wv.block_size - 1 > wv.last
              or (site.wan_vlan_base - wv.first) % wv.block_size):
            yield Problem(f, "site.wan_vlan_base",
                          f"{site.wan_vlan_base} must start a block of {wv.block_size} "
                          f"inside {wv.first}-{wv.last}")
        elif (site.wan_vlan_base + wv.block_size - 1 > 4094 and (
                site.kind == SiteKind.core or site.circuit is None
                or site.circuit.overlay is Overlay.vrf_lite)):
            yield Problem(f, "site.wan_vlan_base",
                          f"block {site.wan_vlan_base}+{wv.block_size} passes VLAN 4094; only "
                          "GRE overlay sites can use tunnel numbers above the VLAN range")


def _site_zones(intent: Intent, slug: str, f: str) -> Iterator[Problem]:
    """A site's own ``zones`` list: zones its kind can have, the management zone, and the
    default zone of every SSID its APs broadcast."""
    site = intent.sites[slug]
    if site.zones is None:
        return
    if site.kind == SiteKind.core:
        yield Problem(f, "site.zones", "the core site carries every zone; leave zones out")
        return
    for i, z in enumerate(site.zones):
        pool = intent.pools.zones.get(z)
        if z not in intent.zones:
            yield Problem(f, key_path("site", "zones", i), f"no such zone {z!r}")
        elif pool is None or site.kind not in pool.prefix_length:
            yield Problem(f, key_path("site", "zones", i),
                          f"zone {z!r} has no prefix length for {site.kind.value} sites "
                          f"(address_pools.zones.{z}.prefix_length)")
    for first, second, v in _dupes({str(i): z for i, z in enumerate(site.zones)}):
        yield Problem(f, key_path("site", "zones", int(second)),
                      f"{v!r} is already listed at zones[{first}]")
    mz = intent.policy.management_zone
    if mz not in site.zones:
        yield Problem(f, "site.zones", f"the management zone {mz!r} is needed: the site's "
                      "switches have their addresses in it")
    aps = intent.wireless.ap_zone
    if aps not in site.zones and any(intent.devices[h].role is Role.ap
                                     for h in intent.site_devices(slug)):
        yield Problem(f, "site.zones", f"the site has access points: they need the AP "
                      f"management zone {aps!r}")
    for ssid in intent.wireless.ssids:
        if site.kind in ssid.site_kinds and ssid.zone not in site.zones:
            yield Problem(f, "site.zones", f"SSID {ssid.name!r} is broadcast at "
                          f"{site.kind.value} sites and lands clients in zone {ssid.zone!r}: "
                          "the site needs that zone")


#: IOS-XE numbers track objects 1-1000 (docs/reference/ios-xe-syntax.md, "Tracked static
#: routes"); a core tracks each dual-homed site's circuit by the site's index
MAX_TRACK = 1000


def _backup_circuit(intent: Intent, slug: str, f: str) -> Iterator[Problem]:
    """A dual-homed site's second circuit: allocated, different from the first, and
    trackable; the first circuit's own checks apply to it too."""
    site = intent.sites[slug]
    c2 = site.backup_circuit
    extras = {"site.backup_transit": site.backup_transit,
              "site.backup_wan_vlan_base": site.backup_wan_vlan_base}
    if c2 is None:
        for key, value in extras.items():
            if value is not None:
                yield Problem(f, key, "only with a backup_circuit")
        return
    if site.kind == SiteKind.core or site.circuit is None:
        yield Problem(f, "site.backup_circuit", "a second circuit needs a first one "
                      "(site.circuit); the core site has none")
        return
    for key, value in extras.items():
        if value is None:
            yield Problem(f, key, "required with a backup_circuit (allocate with "
                          "`fellesnett site add-circuit`)")
    tp, wv = intent.pools.transit, intent.pools.wan_vlans
    bt = site.backup_transit
    if bt is not None and (not _within(bt, tp.pool) or bt.prefixlen != tp.block_length):
        yield Problem(f, "site.backup_transit",
                      f"{bt} must be a /{tp.block_length} inside {tp.pool}")
    base = site.backup_wan_vlan_base
    if base is not None and (base < wv.first or base + wv.block_size - 1 > wv.last
                             or (base - wv.first) % wv.block_size):
        yield Problem(f, "site.backup_wan_vlan_base", f"{base} must start a block of "
                      f"{wv.block_size} inside {wv.first}-{wv.last}")
    c1 = site.circuit
    if c2.circuit_id == c1.circuit_id:
        yield Problem(f, "site.backup_circuit.circuit_id",
                      f"{c2.circuit_id!r} is the first circuit's id too")
    if c2.site_interface == c1.site_interface:
        yield Problem(f, "site.backup_circuit.site_interface", f"{c2.site_interface} is the "
                      "first circuit's port: each circuit needs its own")
    if c2.core == c1.core and c2.core_interface == c1.core_interface and \
            Overlay.gre in (c1.overlay, c2.overlay):
        yield Problem(f, "site.backup_circuit.core_interface", f"{c2.core} "
                      f"{c2.core_interface} already carries the first circuit")
    if c1.overlay is Overlay.gre and c2.overlay is Overlay.gre and c1.core == c2.core:
        # both tunnels would leave the site for the same core underlay address
        yield Problem(f, "site.backup_circuit.core", "two GRE circuits of one site must "
                      "land on different cores (one underlay route per core address)")
    if site.index > MAX_TRACK:
        yield Problem(f, "site.index", f"a dual-homed site's index names its track object "
                      f"on the cores, which IOS-XE numbers 1-{MAX_TRACK}; this site's index "
                      f"is {site.index}")
    yield from _circuit(intent, slug, f, c2, "site.backup_circuit")


def _circuit(intent: Intent, slug: str, f: str, c: Circuit | None = None,
             key: str = "site.circuit") -> Iterator[Problem]:
    site = intent.sites[slug]
    c = c if c is not None else site.circuit
    assert c is not None
    if c.type is CircuitType.internet:
        yield Problem(f, f"{key}.type",
                      "zone traffic over an internet circuit needs encryption (IPsec), which "
                      "the IOS-XE switches this design uses cannot terminate; order an l2 or "
                      "l3vpn circuit, or put an IPsec router in front and describe it as l3vpn")
    elif c.type is CircuitType.l3vpn and c.overlay is Overlay.vrf_lite:
        yield Problem(f, f"{key}.overlay",
                      "VRF-lite needs an L2 hand-off with 802.1Q; an l3vpn circuit carries "
                      "one routing table, so set `overlay: gre` (one GRE tunnel per zone)")
    if c.overlay is Overlay.gre and (c.underlay_address is None or c.underlay_gateway is None):
        yield Problem(f, f"{key}.underlay_address",
                      "a GRE overlay needs underlay_address and underlay_gateway")
    if c.overlay is Overlay.gre and c.underlay_address is not None and \
            c.underlay_gateway is not None and c.underlay_gateway not in c.underlay_address.network:
        yield Problem(f, f"{key}.underlay_gateway",
                      f"{c.underlay_gateway} is not in {c.underlay_address.network}")
    core = intent.devices.get(c.core)
    if core is None or core.role is not Role.core:
        yield Problem(f, f"{key}.core", f"{c.core!r} is not a core switch in the inventory")
    else:
        yield from _port_exists(intent, c.core, c.core_interface, f, f"{key}.core_interface")
    hosts = intent.site_devices(slug) if SITE_GROUP_PREFIX + slug in intent.groups else []
    switches = [h for h in hosts if intent.devices[h].role in (Role.access, Role.distribution)]
    if switches:
        gw = intent.gateway_of(slug)
        yield from _port_exists(intent, gw, c.site_interface, f, f"{key}.site_interface")
        for i, pa in enumerate(intent.devices[gw].ports):
            if c.site_interface in expand_interface_range(pa.range):
                yield Problem(*_where(intent, gw, "ports", i, "range"),
                              f"{c.site_interface} is the WAN port of site {slug}; "
                              "remove it from the port map")


def _port_exists(intent: Intent, host: str, port: str, f: str, path: str) -> Iterator[Problem]:
    have = _model_interfaces(intent).get(intent.devices[host].model)
    if have is None:
        return
    if port not in have:
        yield Problem(f, path, f"{port} does not exist on {host} ({intent.devices[host].model})")


def _prefix_overlaps(intent: Intent) -> Iterator[Problem]:
    # (first address, -length, slug, key path, last address, prefix)
    nets: list[tuple[int, int, str, str, int, ipaddress.IPv4Network]] = []
    for slug, site in intent.sites.items():
        for z, net in site.prefixes.items():
            nets.append(_span(net, slug, f"site.prefixes.{z}"))
        if site.transit is not None:
            nets.append(_span(site.transit, slug, "site.transit"))
        if site.backup_transit is not None:
            nets.append(_span(site.backup_transit, slug, "site.backup_transit"))
    nets.sort(key=lambda t: t[:4])
    # sorted by start address, a prefix can only overlap the widest one still open before
    # it, and does so when it starts before that one ends
    widest: tuple[int, int, str, str, int, ipaddress.IPv4Network] | None = None
    for item in nets:
        start, _, slug, path, end, net = item
        if widest is not None and start <= widest[4]:
            yield Problem(_site_file(slug), path,
                          f"{net} overlaps {widest[5]} ({_site_file(widest[2])}: {widest[3]})")
        if widest is None or end > widest[4]:
            widest = item


def _span(net: ipaddress.IPv4Network, slug: str,
          path: str) -> tuple[int, int, str, str, int, ipaddress.IPv4Network]:
    start = int(net.network_address)
    return start, -net.prefixlen, slug, path, start | (0xFFFFFFFF >> net.prefixlen), net


def _devices(intent: Intent) -> Iterator[Problem]:
    mz = intent.policy.management_zone
    addrs: dict[str, object] = {h: d.ansible_host for h, d in intent.devices.items()
                                if d.ansible_host is not None}
    for first, second, v in _dupes(addrs):
        yield Problem(*_where(intent, second, "ansible_host"), f"{v} is already used by {first}")
    macs: dict[str, object] = {h: d.mac for h, d in intent.devices.items() if d.mac}
    for first, second, v in _dupes(macs):
        yield Problem(*_where(intent, second, "mac"), f"{v} is already used by {first}")
    cabled: dict[str, object] = {h: (d.connected_to.switch, d.connected_to.port)
                                 for h, d in intent.devices.items() if d.connected_to}
    for first, second, v in _dupes(cabled):
        yield Problem(*_where(intent, second, "connected_to", "port"),
                      f"{v[1]} of {v[0]} is already taken by {first}")  # type: ignore[index]
    per_site: dict[str, list[str]] = defaultdict(list)
    mgmt_gateway: dict[str, ipaddress.IPv4Address] = {}  # by site
    for host in sorted(intent.devices):
        dev = intent.devices[host]
        slug = intent.device_site[host]
        site = intent.sites.get(slug)
        per_site[slug].append(host)
        model = intent.device_models.get(dev.model)
        if model is None:
            yield Problem(*_where(intent, host, "model"),
                          f"unknown model {dev.model!r}; add it to device_models")
            continue
        if model.platform is not ROLE_PLATFORM[dev.role]:
            yield Problem(*_where(intent, host, "model"),
                          f"{dev.model} is a model of platform {model.platform.value}, "
                          f"not fit for role {dev.role.value}")
        if dev.role is Role.ap:
            yield from _ap(intent, host)
            continue
        if dev.ansible_host is None:
            yield Problem(*_where(intent, host, "ansible_host"), "required (management address)")
        elif site is not None and mz in site.prefixes:
            net = site.prefixes[mz]
            if slug not in mgmt_gateway:
                mgmt_gateway[slug] = net.network_address + intent.management.mgmt_gateway_host
            gw = mgmt_gateway[slug]
            is_gw = (site.kind != SiteKind.core and dev.role in SWITCH_ROLES
                     and intent.gateway_of(slug) == host)
            lo, hi = int(net.network_address), int(net.broadcast_address)
            if not lo < int(dev.ansible_host) < hi:  # not a host address of the prefix
                yield Problem(*_where(intent, host, "ansible_host"),
                              f"{dev.ansible_host} is not a host address of the site's "
                              f"{mz} prefix {net}")
            elif is_gw and dev.ansible_host != gw:
                yield Problem(*_where(intent, host, "ansible_host"),
                              f"{host} is the site gateway: its management address is the "
                              f"{mz} gateway {gw}")
            elif not is_gw and dev.ansible_host == gw:
                yield Problem(*_where(intent, host, "ansible_host"),
                              f"{gw} is the {mz} gateway address of the site")
        yield from _ports(intent, host)
    for slug, site in sorted(intent.sites.items()):
        hosts = per_site.get(slug, [])
        roles = [intent.devices[h].role for h in hosts]
        switches = [r for r in roles if r in (Role.access, Role.distribution, Role.core)]
        f = _site_file(slug)
        if not switches:
            yield Problem(HOSTS_FILE, SITE_GROUP_PREFIX + slug, "a site needs at least one switch")
        if site.kind == SiteKind.core:
            if roles.count(Role.core) != 2:
                yield Problem(f, "site.kind", "the core site needs exactly 2 core switches")
            if roles.count(Role.wlc) != 1:
                yield Problem(f, "site.kind", "the core site needs one controller (HA pair)")
        else:
            for bad in (Role.core, Role.wlc):
                if bad in roles:
                    yield Problem(HOSTS_FILE, SITE_GROUP_PREFIX + slug,
                                  f"role {bad.value} belongs at the core site only")
            yield from _site_gateway(intent, slug, hosts, len(switches))
    for host, dev in sorted(intent.devices.items()):
        if dev.redundancy_peer == host:
            yield Problem(*_where(intent, host, "redundancy_peer"),
                          f"{host} cannot be its own peer")
        elif dev.redundancy_peer is not None:
            peer = intent.devices.get(dev.redundancy_peer)
            if peer is not None and peer.redundancy_peer != host:
                yield Problem(*_where(intent, host, "redundancy_peer"),
                              f"{dev.redundancy_peer} names {peer.redundancy_peer!r} as its "
                              f"peer, not {host}")
            if peer is None or peer.role is not dev.role or intent.device_site[
                    dev.redundancy_peer] != intent.device_site[host]:
                yield Problem(*_where(intent, host, "redundancy_peer"),
                              f"{dev.redundancy_peer!r} is not a {dev.role.value} at the same site")
        elif dev.role is Role.core:
            yield Problem(*_where(intent, host, "redundancy_peer"), "core switches come in pairs")
        if dev.role is not Role.core:
            gre = []  # scanning every site for every host was quadratic at county scale
        else:
            gre = sorted(s for s, site in intent.sites.items() if site.circuit is not None
                         and site.circuit.core == host and site.circuit.overlay is Overlay.gre)
        if gre and (dev.underlay_address is None or dev.underlay_gateway is None):
            yield Problem(*_where(intent, host, "underlay_address"),
                          "required with underlay_gateway: the GRE circuits of "
                          f"{', '.join(gre)} land on this core switch")
        if dev.role is Role.wlc:
            yield from _wlc_addresses(intent, host)


def _wlc_addresses(intent: Intent, host: str) -> Iterator[Problem]:
    dev = intent.devices[host]
    site = intent.site_of(host)
    net = site.prefixes.get(intent.policy.management_zone)
    taken = {d.ansible_host for h, d in intent.devices.items()} | {
        d.standby_address for h, d in intent.devices.items() if h != host} | {
        d.rmi_address for h, d in intent.devices.items() if h != host}
    if net is not None:
        taken.add(net.network_address + intent.management.mgmt_gateway_host)
    for attr in ("standby_address", "rmi_address"):
        addr = getattr(dev, attr)
        if addr is None:
            yield Problem(*_where(intent, host, attr), "required: the controller is an "
                          "HA/SSO pair with a redundancy management address per chassis")
        elif net is not None and (addr not in net or addr in (
                net.network_address, net.broadcast_address)):
            yield Problem(*_where(intent, host, attr),
                          f"{addr} is not a host address of the site's management prefix {net}")
        elif addr in taken:
            yield Problem(*_where(intent, host, attr), f"{addr} is already used")
    if dev.rmi_address is not None and dev.rmi_address == dev.standby_address:
        yield Problem(*_where(intent, host, "rmi_address"), "must differ from standby_address")


def _ports(intent: Intent, host: str) -> Iterator[Problem]:
    dev = intent.devices[host]
    f = intent.host_files[host].get("ports", HOSTS_FILE)
    have = _model_interfaces(intent)[dev.model]
    site = intent.site_of(host)
    taken: dict[str, int] = {}

    def path(i: int, key: str) -> str:  # only built for a problem: most ports have none
        return (key_path(host, "ports", i, key) if f == HOSTS_FILE
                else key_path("ports", i, key))

    for i, pa in enumerate(dev.ports):
        prof = intent.port_profiles.get(pa.profile)
        if prof is None:
            yield Problem(f, path(i, "profile"), f"no such port profile {pa.profile!r}")
        else:
            # a trunk carries the listed zones where the site has them; access and native
            # VLANs must exist at the site
            for z in (prof.zone, prof.voice_zone, prof.native_zone):
                if z and z not in site.prefixes and z in intent.zones:
                    yield Problem(f, path(i, "profile"), f"profile {pa.profile!r} uses zone "
                                  f"{z!r}, which site {intent.device_site[host]} has no prefix for")
        for name in expand_interface_range(pa.range):
            if name not in have:
                yield Problem(f, path(i, "range"), f"{name} does not exist on {dev.model}")
            elif name in taken:
                yield Problem(f, path(i, "range"), f"{name} is already in ports[{taken[name]}]")
            else:
                taken[name] = i


def _ap(intent: Intent, host: str) -> Iterator[Problem]:
    dev = intent.devices[host]
    if dev.mac is None:
        yield Problem(*_where(intent, host, "mac"), "required: the controller tags APs by MAC")
    if dev.connected_to is None:
        yield Problem(*_where(intent, host, "connected_to"), "required (switch and port)")
        return
    sw = dev.connected_to.switch
    if sw not in intent.devices or intent.device_site.get(sw) != intent.device_site[host] \
            or intent.devices[sw].role not in SWITCH_ROLES:
        yield Problem(*_where(intent, host, "connected_to", "switch"),
                      f"{sw!r} is not a switch at the AP's site")
        return
    for pa in intent.devices[sw].ports:
        if dev.connected_to.port in expand_interface_range(pa.range):
            prof = intent.port_profiles.get(pa.profile)
            if prof is not None and prof.native_zone != intent.wireless.ap_zone:
                yield Problem(*_where(intent, host, "connected_to", "port"),
                              f"{sw} {dev.connected_to.port} has profile {pa.profile!r}, "
                              "not an AP port (native VLAN must be the AP zone)")
            return
    yield Problem(*_where(intent, host, "connected_to", "port"),
                  f"{dev.connected_to.port} is not in {sw}'s port map")


def _port_path(intent: Intent, host: str, i: int, *rest: object) -> tuple[str, str]:
    f = intent.host_files[host].get("ports", HOSTS_FILE)
    return f, (key_path(host, "ports", i, *rest) if f == HOSTS_FILE
               else key_path("ports", i, *rest))


def _carried(intent: Intent, profile: str, site_zones: set[str]) -> set[str]:
    """Zones a port of ``profile`` carries at a site (the design drops the others)."""
    prof = intent.port_profiles.get(profile)
    if prof is None or prof.shutdown:
        return set()
    if prof.mode is PortMode.access:
        out = {prof.zone, prof.voice_zone}
    else:
        out = {prof.native_zone, *(site_zones if prof.trunk_zones is None
                                   else prof.trunk_zones)}
    return {z for z in out if z is not None} & site_zones


def _assignable(intent: Intent, profile: str, site_zones: set[str]) -> set[str]:
    """Zones RADIUS may put a client of an 802.1X/MAB port of ``profile`` in."""
    prof = intent.port_profiles.get(profile)
    if prof is None or prof.shutdown or not (prof.dot1x or prof.mab):
        return set()
    methods = {m for m, on in (("dot1x", prof.dot1x), ("mab", prof.mab)) if on}
    out = {g.zone for g in intent.authorization.groups
           if g.assign_vlan and g.method.value in methods}
    out.add(intent.policy.restricted_zone)
    return out & site_zones


def _site_gateway(intent: Intent, slug: str, hosts: list[str], switches: int
                  ) -> Iterator[Problem]:
    """One routed gateway per site: its distribution switch, or with several buildings
    the distribution switch ``site.gateway`` names; the others reach it over LACP."""
    site = intent.sites[slug]
    f = _site_file(slug)
    dists = [h for h in hosts if intent.devices[h].role is Role.distribution]
    if site.gateway is not None:
        if site.gateway not in hosts:
            yield Problem(f, "site.gateway", f"{site.gateway!r} is no device of the site")
        elif intent.devices[site.gateway].role is not Role.distribution:
            yield Problem(f, "site.gateway", f"{site.gateway} is not a distribution switch: "
                          "the gateway routes the site's zones")
    elif len(dists) > 1:
        yield Problem(f, "site.gateway", f"required: the site has {len(dists)} distribution "
                      f"switches ({', '.join(dists)}, one per building); name the one that "
                      "routes the site's zones")
    if switches > 1 and not dists:
        yield Problem(HOSTS_FILE, SITE_GROUP_PREFIX + slug,
                      "a site with several switches needs a distribution switch (the site "
                      "gateway)")
    for host in dists:
        dev = intent.devices[host]
        members: dict[int, int] = defaultdict(int)
        for pa in dev.ports:
            if pa.channel_group is not None:
                members[pa.channel_group] += len(expand_interface_range(pa.range))
        for i, pa in enumerate(dev.ports):
            peer = intent.devices.get(pa.peer) if pa.peer else None
            if peer is None or peer.role is not Role.distribution:
                continue
            if pa.channel_group is None or members[pa.channel_group] < 2:
                # one port between buildings: one fibre or optic fault cuts a building off
                yield Problem(*_port_path(intent, host, i, "channel_group"),
                              f"the building link to {pa.peer} must be an LACP port-channel "
                              "of two or more ports (channel_group)")


def _dead_zones(intent: Intent) -> Iterator[Problem]:
    """Every zone a switch uses (its ports' VLANs, what RADIUS may assign on its 802.1X
    and MAB ports, its own management) reaches the site gateway over the trunks between:
    a VLAN that stops at a switch is a dead zone, whose users get no address and no route.
    """
    mz = intent.policy.management_zone
    for slug, site in sorted(intent.sites.items()):
        if site.kind == SiteKind.core:
            continue
        site_zones = set(site.prefixes)
        switches = [h for h in intent.site_devices(slug)
                    if intent.devices[h].role in SWITCH_ROLES]
        if len(switches) < 2:
            continue
        gw = intent.gateway_of(slug)
        # each link's zones: what both ends carry (an end that is not cabled back counts
        # alone; _links reports it)
        ends: dict[tuple[str, str], set[str]] = {}
        for host in switches:
            for pa in intent.devices[host].ports:
                if pa.peer in switches:
                    zones = _carried(intent, pa.profile, site_zones)
                    ends[(host, pa.peer)] = ends.get((host, pa.peer), zones) & zones
        link = {(a, b): z & ends.get((b, a), z) for (a, b), z in ends.items()}
        reach: dict[str, set[str]] = {gw: set(site_zones)}
        via: dict[str, str] = {}
        frontier = [gw]
        while frontier:  # a zone reaches a switch if some path carries it
            nxt = []
            for a in frontier:
                for (x, b), zones in sorted(link.items()):
                    if x != a:
                        continue
                    new = reach[a] & zones - reach.get(b, set())
                    if new or b not in reach:
                        if b not in reach:
                            via[b] = a
                        reach.setdefault(b, set()).update(new)
                        nxt.append(b)
            frontier = nxt
        for host in switches:
            if host == gw:
                continue
            got = reach.get(host, set())
            dev = intent.devices[host]
            used: dict[str, tuple[str, str]] = {}
            if mz in site_zones:
                used[mz] = _where(intent, host, "ansible_host")
            for i, pa in enumerate(dev.ports):
                if pa.peer in switches:
                    continue
                for z in sorted(_carried(intent, pa.profile, site_zones)
                                | _assignable(intent, pa.profile, site_zones)):
                    used.setdefault(z, _port_path(intent, host, i, "profile"))
            for z, (f, path) in sorted(used.items()):
                if z in got:
                    continue
                yield Problem(f, path, f"zone {z!r} is used on {host} but does not reach the "
                              f"site gateway {gw}: {_blocked(intent, host, gw, z, via, link)}")


def _blocked(intent: Intent, host: str, gw: str, zone: str, via: dict[str, str],
             link: dict[tuple[str, str], set[str]]) -> str:
    """Where a zone stops on the way from ``host`` to the gateway."""
    if host not in via:
        return "no trunk with a `peer` connects the two"
    at = host
    while at != gw and at in via:
        up = via[at]
        if zone not in link.get((at, up), set()):
            names = sorted({pa.profile for pa in intent.devices[at].ports if pa.peer == up}
                           | {pa.profile for pa in intent.devices[up].ports if pa.peer == at})
            return (f"the link {at} - {up} does not carry it (add it to trunk_zones, or make "
                    f"it the native_zone, of port profile {', '.join(map(repr, names))})")
        at = up
    return "no path of trunks carries it"


def _links(intent: Intent) -> Iterator[Problem]:
    """Cabling between the devices of a site: port-channels and the `peer` of each link.

    A link is one port or one port-channel at each end, and both ends name each other.
    Two loose ports to the same neighbour would leave spanning tree blocking one of them:
    a second link must be bundled (LACP).
    """
    links: dict[str, dict[str, list[int]]] = {}  # host -> peer -> port-map entries
    for host in sorted(intent.devices):
        dev = intent.devices[host]
        groups: dict[int, tuple[int, str, str | None]] = {}
        for i, pa in enumerate(dev.ports):
            if pa.channel_group is not None:
                first = groups.setdefault(pa.channel_group, (i, pa.profile, pa.peer))
                if first[0] != i and (first[1], first[2]) != (pa.profile, pa.peer):
                    yield Problem(*_port_path(intent, host, i, "channel_group"),
                                  f"Port-channel{pa.channel_group} already has profile "
                                  f"{first[1]!r} and peer {first[2]!r} (ports[{first[0]}]): "
                                  "every member of a bundle is configured alike")
            if pa.peer is None:
                continue
            other = intent.devices.get(pa.peer)
            if pa.peer == host:
                yield Problem(*_port_path(intent, host, i, "peer"), "a device is not its own peer")
            elif other is None:
                yield Problem(*_port_path(intent, host, i, "peer"), f"no such device {pa.peer!r}")
            elif other.role is Role.ap:
                yield Problem(*_port_path(intent, host, i, "peer"),
                              f"{pa.peer} is an access point: APs name their switch port in "
                              "`connected_to`")
            elif intent.device_site.get(pa.peer) != intent.device_site[host]:
                yield Problem(*_port_path(intent, host, i, "peer"),
                              f"{pa.peer} is at another site: links between sites are WAN "
                              "circuits (site.circuit)")
            else:
                links.setdefault(host, {}).setdefault(pa.peer, []).append(i)
    for host, peers in sorted(links.items()):
        dev = intent.devices[host]
        for peer, entries in sorted(peers.items()):
            bundles = {dev.ports[i].channel_group for i in entries}
            loose = [i for i in entries if dev.ports[i].channel_group is None]
            ports = sum(len(expand_interface_range(dev.ports[i].range)) for i in loose)
            if len(bundles) > 1 or (loose and ports > 1):
                yield Problem(*_port_path(intent, host, entries[-1], "peer"),
                              f"{host} has more than one link to {peer}: bundle the ports "
                              "into one port-channel (channel_group), or spanning tree "
                              "blocks all but one")
            if host not in links.get(peer, {}):
                if intent.devices[peer].role is Role.wlc:
                    # one configuration serves both chassis of the pair, each cabled to
                    # one core: the controller's bundle names no single peer
                    continue
                yield Problem(*_port_path(intent, host, entries[0], "peer"),
                              f"{peer}'s port map names no link back to {host} (`peer: "
                              f"{host}` on the ports at the other end)")
                continue
            mine = intent.port_profiles.get(dev.ports[entries[0]].profile)
            back = intent.devices[peer].ports[links[peer][host][0]]
            theirs = intent.port_profiles.get(back.profile)
            if mine is None or theirs is None:
                continue
            if mine.mode != theirs.mode or (mine.mode is PortMode.trunk and
                                            mine.native_zone != theirs.native_zone):
                yield Problem(*_port_path(intent, host, entries[0], "profile"),
                              f"{dev.ports[entries[0]].profile!r} ({mine.mode.value}, native "
                              f"{mine.native_zone}) does not match the other end, {peer}'s "
                              f"{back.profile!r} ({theirs.mode.value}, native "
                              f"{theirs.native_zone})")


def _routed_zones(intent: Intent, host: str) -> int:
    """How many zones (VRFs) a switch routes: all at a core, its site's at a gateway, the
    management zone on an L2 switch."""
    dev = intent.devices[host]
    if dev.role is Role.core:
        return len(intent.zones)
    slug = intent.device_site[host]
    if dev.role in SWITCH_ROLES and intent.gateway_of(slug) == host:
        return len(intent.sites[slug].prefixes)
    return 1


def _capacity(intent: Intent) -> Iterator[Problem]:
    """What the hardware can carry: a design a model cannot run is refused by name."""
    for host in sorted(intent.devices):
        dev = intent.devices[host]
        model = intent.device_models.get(dev.model)
        if model is None or dev.role not in SWITCH_ROLES:
            continue
        slug = intent.device_site[host]
        gateway = dev.role is Role.core or intent.gateway_of(slug) == host
        if gateway and not model.routing:
            yield Problem(*_where(intent, host, "model"),
                          f"{host} is the gateway of site {slug} but a {dev.model} does not "
                          "route (device_models: routing false): choose a routing model")
        need = _routed_zones(intent, host)
        if model.max_vrfs is not None and need > model.max_vrfs:
            lic = f" with licence {model.licence}" if model.licence else ""
            yield Problem(*_where(intent, host, "model"),
                          f"{host} needs {need} VRFs (one per zone it routes) but a "
                          f"{dev.model} carries at most {model.max_vrfs}{lic}")
