"""Design step for IOS-XE switches: intent -> :class:`SwitchConfig` (no CLI text).

Roles by function:

* the **site gateway** (the distribution switch, or a site's only switch) owns the zone
  SVIs, one VRF per zone, the WAN hand-off and a default route per VRF to the core;
* **L2 access switches** carry the site's zone VLANs and have only a management SVI;
* the **core pair** terminates every site's per-zone transit (VLAN or GRE tunnel),
  routes each site's prefixes back to it, and gateways the town hall's own zones (HSRP).

Sites never route between VRFs: every zone's traffic leaves a site in its own VRF.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import operator
from collections.abc import Iterator
from dataclasses import dataclass

from nornir_tasks.design.common import (
    RADIUS_GROUP,
    ascii_text,
    build_management,
    management_acls,
    vlan_ids,
    vlan_list,
)
from nornir_tasks.design.structured import (
    Bgp,
    Dot1x,
    Hsrp,
    Port,
    RoutedPort,
    Server,
    ServicePort,
    Sla,
    StaticRoute,
    Svi,
    SwitchConfig,
    Tunnel,
    Vlan,
    Vrf,
)
from nornir_tasks.intent.checks import UNUSED_PROFILE
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.intent.model import (
    Circuit,
    Overlay,
    PortMode,
    PortProfile,
    Role,
    Site,
    SiteKind,
)
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.platforms import facts
from nornir_tasks.policy import (
    acl_name,
    firewall_routes,
    firewall_zones,
    internet_zones,
    route_imports,
    zone_acls,
)

NO_DEFAULT_MAP = "RM-NO-DEFAULT"
DEFAULT_PREFIX_LIST = "PL-DEFAULT-ROUTE"
FIREWALL_PREFIX_LIST = "PL-VIA-FIREWALL"
#: IBNS 2.0 control policies: 802.1X then MAB (clients, phones); MAB only (printers);
#: an authenticating trunk (access points: 802.1X supplicants, multi-host, no VLAN)
IBNS_POLICY = "PMAP_DefaultWiredDot1xClosedAuth_1X_MAB"
MAB_POLICY = "PMAP_MAB_ONLY"
AP_TRUNK_POLICY = "PMAP_AP_TRUNK"
#: per-port DHCP snooping rate on an untrusted edge port when the profile sets none
EDGE_RATE_LIMIT = 15
RA_GUARD_POLICY = "RA-GUARD-HOST"
TESTER_USER = "radius-probe"
ANY = ipaddress.IPv4Network("0.0.0.0/0")
#: DHCP snooping bindings survive a reload (IP Source Guard needs them at once)
SNOOPING_DATABASE = "flash:dhcp-snooping.db"
#: what `spanning-tree vlan ... root primary|secondary` sets and the device prints
STP_ROOT_PRIMARY, STP_ROOT_SECONDARY = 24576, 28672
#: administrative distance of the routes over a dual-homed site's second path: above
#: every route this design installs, so they are used only while the first is withdrawn
FLOATING = 250
#: the site gateway's probe and track object of its first circuit
GATEWAY_TRACK = 1


@dataclass(frozen=True)
class _Link:
    """One zone's point-to-point link between a site gateway and its core."""

    slug: str
    zone: str
    number: int  # VLAN or tunnel number
    core_addr: ipaddress.IPv4Interface
    site_addr: ipaddress.IPv4Interface


def transit_links(intent: Intent, slug: str) -> tuple[_Link, ...]:
    """The per-zone links of a site (or, for the core site, of the core pair)."""
    links = _transit_links(intent)
    hit = links.get(slug)
    if hit is None:
        hit = links[slug] = tuple(_site_links(intent, slug))
    return hit


@per_intent
def _transit_links(intent: Intent) -> dict[str, tuple[_Link, ...]]:
    # asked for by each core for every site, and by the docs: computed once per site
    return {}


def backup_links(intent: Intent, slug: str) -> tuple[_Link, ...]:
    """The per-zone links of a dual-homed site's second circuit (none for the others)."""
    site = intent.sites[slug]
    if site.backup_circuit is None:
        return ()
    links = _backup_links(intent)
    hit = links.get(slug)
    if hit is None:
        assert site.backup_transit is not None and site.backup_wan_vlan_base is not None
        hit = links[slug] = tuple(_site_links(intent, slug, site.backup_transit,
                                              site.backup_wan_vlan_base))
    return hit


@per_intent
def _backup_links(intent: Intent) -> dict[str, tuple[_Link, ...]]:
    return {}


def _site_links(intent: Intent, slug: str, transit: ipaddress.IPv4Network | None = None,
                wan_base: int | None = None) -> Iterator[_Link]:
    site = intent.sites[slug]
    transit = transit or site.transit
    wan_base = wan_base if wan_base is not None else site.wan_vlan_base
    assert transit is not None and wan_base is not None
    zones = sorted(intent.zones) if site.kind == SiteKind.core else intent.zones_at(site)
    first = int(transit.network_address)
    for zone in sorted(zones, key=lambda z: intent.zones[z].id):
        zid = intent.zones[zone].id
        base = first + 2 * zid
        # (int, prefixlen) tuples: parsing strings here dominated county-size builds
        yield _Link(slug, zone, wan_base + zid,
                    ipaddress.IPv4Interface((base, 31)),
                    ipaddress.IPv4Interface((base + 1, 31)))


def _wan_interface(circuit: Circuit, link: _Link) -> str:
    return f"Tunnel{link.number}" if circuit.overlay is Overlay.gre else f"Vlan{link.number}"


def _circuit_probe(intent: Intent, number: int, circuit: Circuit, links: tuple[_Link, ...],
                   at_core: bool) -> Sla:
    """The probe of a circuit from one end: the far end's address on the management
    zone's link, out of this end's own; directly connected, so it follows that circuit
    alone and never a route that depends on it."""
    mz = intent.policy.management_zone
    link = next(lk for lk in links if lk.zone == mz)
    far = link.site_addr if at_core else link.core_addr
    return Sla(number, far.ip, _wan_interface(circuit, link), intent.zones[mz].vrf)


def _gateway_ip(intent: Intent, net: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    return net.network_address + intent.management.mgmt_gateway_host


def _zone_vlan(intent: Intent, zone: str) -> Vlan:
    return Vlan(intent.zones[zone].vlan, zone.upper())


def build_switch(intent: Intent, host: str) -> SwitchConfig:
    dev = intent.devices[host]
    slug = intent.device_site[host]
    site = intent.sites[slug]
    model = intent.device_models[dev.model]
    site_zones = intent.zones_at(site)
    mz = intent.policy.management_zone
    is_core = dev.role is Role.core
    is_gateway = not is_core and intent.gateway_of(slug) == host

    vrf_zones = sorted(intent.zones) if is_core else site_zones if is_gateway else [mz]
    vrfs = sorted((_core_vrf(intent, z) if is_core else
                   Vrf(intent.zones[z].vrf, ascii_text(intent.zones[z].description))
                   for z in vrf_zones), key=lambda v: v.name)
    vlans = {intent.zones[z].vlan: _zone_vlan(intent, z) for z in site_zones}
    svis: list[Svi] = []
    tunnels: list[Tunnel] = []
    routed: list[RoutedPort] = []
    routes: list[StaticRoute] = []
    special_ports: dict[str, Port] = {}
    slas: list[Sla] = []

    if is_core:
        _core(intent, host, vlans, svis, tunnels, routed, routes, special_ports, slas)
    elif is_gateway:
        _gateway(intent, host, site, vlans, svis, tunnels, routed, routes, special_ports, slas)
    else:
        net = site.prefixes[mz]
        assert dev.ansible_host is not None
        svis.append(Svi(intent.zones[mz].vlan, ascii_text(intent.zones[mz].description),
                        intent.zones[mz].vrf,
                        ipaddress.IPv4Interface(f"{dev.ansible_host}/{net.prefixlen}")))
        routes.append(StaticRoute(intent.zones[mz].vrf, ANY, _gateway_ip(intent, net),
                                  "default-via-gateway"))

    ports, channels = _ports(intent, host, site_zones, special_ports)
    if not is_core and not is_gateway:
        # an L2 switch defines only the VLANs its ports carry (a zone it never carries,
        # such as the data centre at the town hall, has no business on it)
        used = {intent.zones[mz].vlan}
        for p in ports:
            used |= {v for v in (p.access_vlan, p.voice_vlan, p.native_vlan) if v}
            used |= set(vlan_ids(p.allowed_vlans or ""))
        vlans = {v: vlan for v, vlan in vlans.items() if v in used}
    dot1x_used = any(p.dot1x or p.mab for p in ports)
    voice = {p.voice_vlan for p in ports if p.voice_qos}
    voice_qos = bool(voice)
    if voice_qos:
        # the phones' queue holds all the way up: on every trunk that carries their VLAN
        ports = [dataclasses.replace(p, voice_qos=True)
                 if p.mode == "trunk" and not p.shutdown
                 and voice & set(vlan_ids(p.allowed_vlans or "")) else p for p in ports]
    restricted = intent.zones[intent.policy.restricted_zone].vlan
    client_vlans = [intent.zones[z].vlan for z in site_zones if intent.zones[z].client_zone]
    return SwitchConfig(
        hostname=host,
        site=slug,
        role=dev.role.value,
        model=dev.model,
        software=model.software,
        management=build_management(intent, host),
        vrfs=vrfs,
        vlans=sorted(vlans.values(), key=lambda v: v.id),
        svis=sorted(svis, key=lambda s: s.vlan),
        tunnels=sorted(tunnels, key=lambda t: t.number),
        routed_ports=routed,
        ports=ports,
        routes=sorted(routes, key=lambda r: (r.vrf or "", int(r.prefix.network_address),
                                             r.prefix.prefixlen, int(r.next_hop))),
        acls=sorted([*management_acls(intent), *(zone_acls(intent) if is_core else [])],
                    key=lambda a: a.name),
        dot1x=Dot1x(
            policy=IBNS_POLICY,
            critical_vlan=restricted,
            radius_group=RADIUS_GROUP,
            radius_servers=[Server(s.name, s.address) for s in intent.aaa.radius.servers],
            dead_criteria_time=5,
            dead_criteria_tries=3,
            tester_username=TESTER_USER,
            policies=sorted({p.policy for p in ports if p.policy}),
        ) if dot1x_used else None,
        snooping_vlans=sorted(client_vlans) if dot1x_used else [],
        ra_guard_policy=RA_GUARD_POLICY if any(p.ra_guard for p in ports) else None,
        spanning_tree_priority=_stp_priority(intent, host),
        bgp=_core_bgp(intent, host) if is_core else None,
        port_channels=channels,
        licence=model.licence,
        provision=model.provision,
        # the out-of-band port is not used: management runs in band, in the MGMT VRF
        service_port=ServicePort(model.service_port, vrf, True, model.service_port_negotiation)
        if model.service_port and (vrf := facts(model.platform).service_port_vrf) else None,
        empty_interfaces=list(model.empty_interfaces),
        voice_qos=voice_qos,
        snooping_database=SNOOPING_DATABASE if dot1x_used else None,
        slas=sorted(slas, key=lambda sla: sla.number),
    )


def _stp_priority(intent: Intent, host: str) -> int | None:
    """Root bridge of every VLAN: the first core of the pair (``root primary``), the other
    core its backup (``root secondary``); at a site its gateway, and the distribution
    switch of each other building the backup root."""
    dev = intent.devices[host]
    if dev.role is Role.core:
        assert dev.redundancy_peer is not None
        return STP_ROOT_PRIMARY if host < dev.redundancy_peer else STP_ROOT_SECONDARY
    if dev.role is not Role.distribution:
        return None
    return (STP_ROOT_PRIMARY if intent.gateway_of(intent.device_site[host]) == host
            else STP_ROOT_SECONDARY)


def route_target(intent: Intent, zone: str) -> str:
    """Route target (and RD) of a zone's VRF at the core: ``<asn>:<zone id>``."""
    return f"{intent.policy.bgp_asn}:{intent.zones[zone].id}"


def _core_vrf(intent: Intent, zone: str) -> Vrf:
    z = intent.zones[zone]
    return Vrf(z.vrf, ascii_text(z.description), rd=route_target(intent, zone),
               rt_export=[route_target(intent, zone)],
               rt_import=[route_target(intent, other)
                          for other in route_imports(intent)[zone]])


def _core_bgp(intent: Intent, host: str) -> Bgp:
    dev = intent.devices[host]
    assert dev.ansible_host is not None
    return Bgp(intent.policy.bgp_asn, dev.ansible_host,
               sorted(intent.zones[z].vrf for z in intent.zones),
               static_route_map=NO_DEFAULT_MAP, default_prefix_list=DEFAULT_PREFIX_LIST,
               firewall_prefix_list=FIREWALL_PREFIX_LIST,
               firewall_prefixes=sorted({p for _, p, _ in firewall_routes(intent)}))


def _gateway(intent: Intent, host: str, site: Site, vlans: dict[int, Vlan], svis: list[Svi],
             tunnels: list[Tunnel], routed: list[RoutedPort], routes: list[StaticRoute],
             special: dict[str, Port], slas: list[Sla]) -> None:
    slug = intent.device_site[host]
    circuit = site.circuit
    assert circuit is not None
    helpers = sorted(intent.management.dhcp_servers)
    for zone in intent.zones_at(site):
        z = intent.zones[zone]
        net = site.prefixes[zone]
        svis.append(Svi(z.vlan, ascii_text(z.description), z.vrf,
                        ipaddress.IPv4Interface(f"{_gateway_ip(intent, net)}/{net.prefixlen}"),
                        helpers=helpers if z.dhcp else []))
    dual = site.backup_circuit is not None
    _gateway_wan(intent, circuit, transit_links(intent, slug), vlans, svis, tunnels, routed,
                 routes, special, track=GATEWAY_TRACK if dual else None)
    if site.backup_circuit is not None:
        # the second circuit: the same per-zone links from its own blocks, and default
        # routes that float above the first's until its probe fails (docs/verify.md)
        _gateway_wan(intent, site.backup_circuit, backup_links(intent, slug), vlans, svis,
                     tunnels, routed, routes, special, backup=True)
        slas.append(_circuit_probe(intent, GATEWAY_TRACK, circuit, transit_links(intent, slug),
                                   at_core=False))


def _gateway_wan(intent: Intent, circuit: Circuit, links: tuple[_Link, ...],
                 vlans: dict[int, Vlan], svis: list[Svi], tunnels: list[Tunnel],
                 routed: list[RoutedPort], routes: list[StaticRoute],
                 special: dict[str, Port], track: int | None = None,
                 backup: bool = False) -> None:
    """One circuit at the site gateway: a link per zone (an 802.1Q VLAN or a GRE tunnel)
    and each zone's default route over it."""
    wan = ascii_text(f"WAN {circuit.circuit_id} {circuit.provider} til {circuit.core}")
    for link in links:
        z = intent.zones[link.zone]
        routes.append(StaticRoute(z.vrf, ANY, link.core_addr.ip,
                                  "default-via-backup" if backup else "default-via-core",
                                  distance=FLOATING if backup else None, track=track))
        desc = ascii_text(f"Transit {link.zone} til {circuit.core}"
                          + (" (reserve)" if backup else ""))
        if circuit.overlay is Overlay.gre:
            core = intent.devices[circuit.core]
            assert core.underlay_address is not None
            tunnels.append(Tunnel(link.number, desc, z.vrf, link.site_addr,
                                  circuit.site_interface, core.underlay_address.ip, link.number))
        else:
            vlans[link.number] = Vlan(link.number, f"WAN-{link.zone.upper()}"
                                      + ("-B" if backup else ""))
            svis.append(Svi(link.number, desc, z.vrf, link.site_addr))
    if circuit.overlay is Overlay.gre:
        assert circuit.underlay_address is not None and circuit.underlay_gateway is not None
        core = intent.devices[circuit.core]
        assert core.underlay_address is not None
        routed.append(RoutedPort(circuit.site_interface, wan, circuit.underlay_address))
        routes.append(StaticRoute(None, core.underlay_address.network, circuit.underlay_gateway,
                                  "gre-underlay-to-core"))
    else:
        special[circuit.site_interface] = Port(
            circuit.site_interface, wan, "wan", PortMode.trunk.value,
            allowed_vlans=vlan_list([link.number for link in links]), trusted=True)


def _core(intent: Intent, host: str, vlans: dict[int, Vlan], svis: list[Svi],
          tunnels: list[Tunnel], routed: list[RoutedPort], routes: list[StaticRoute],
          special: dict[str, Port], slas: list[Sla]) -> None:
    dev = intent.devices[host]
    slug = intent.device_site[host]
    site = intent.sites[slug]
    peer = dev.redundancy_peer
    assert peer is not None
    pair = sorted([host, peer])
    me = pair.index(host)
    helpers = sorted(intent.management.dhcp_servers)
    for zone in intent.zones_at(site):
        z = intent.zones[zone]
        net = site.prefixes[zone]
        vip = _gateway_ip(intent, net)
        addr = vip + 1 + me
        svis.append(Svi(z.vlan, ascii_text(z.description), z.vrf,
                        ipaddress.IPv4Interface(f"{addr}/{net.prefixlen}"),
                        helpers=helpers if z.dhcp else [],
                        hsrp=Hsrp(z.vlan, vip, 110 if me == 0 else 100),
                        acl_in=acl_name(zone)))
    edge = intent.policy.internet_edge
    edge_vlans = []
    inet = set(internet_zones(intent))
    for zone in firewall_zones(intent):
        z = intent.zones[zone]
        block = int(edge.transit.network_address) + 8 * z.id
        vlan = edge.vlan_base + z.id
        edge_vlans.append(vlan)
        vlans[vlan] = Vlan(vlan, f"INET-{zone.upper()}")
        # what comes back from the firewall passed its state table (NAT for the internet,
        # connection tracking for a stateful pair): the firewall decides what enters here
        svis.append(Svi(vlan, ascii_text(f"Internett {zone} via brannmur"), z.vrf,
                        ipaddress.IPv4Interface((block + 2 + me, 29)),
                        hsrp=Hsrp(vlan, ipaddress.IPv4Address(block + 1),
                                  110 if me == 0 else 100)))
        if zone in inet:
            routes.append(StaticRoute(z.vrf, ANY, ipaddress.IPv4Address(block + 6),
                                      "internet-via-firewall"))
    for zone, prefix, leg in firewall_routes(intent):
        block = int(edge.transit.network_address) + 8 * intent.zones[leg].id
        routes.append(StaticRoute(intent.zones[zone].vrf, prefix,
                                  ipaddress.IPv4Address(block + 6), "stateful-via-firewall"))
    if edge_vlans:
        special[edge.core_interface] = Port(
            edge.core_interface, "Internett-brannmur (en VLAN per sone)", "internet",
            PortMode.trunk.value, allowed_vlans=vlan_list(edge_vlans), trusted=True)
    # the pair's own per-zone link, so each core reaches sites landing on the other
    peer_addr: dict[str, ipaddress.IPv4Address] = {}
    for link in transit_links(intent, slug):
        z = intent.zones[link.zone]
        mine, theirs = (link.core_addr, link.site_addr) if me == 0 else (link.site_addr,
                                                                          link.core_addr)
        vlans[link.number] = Vlan(link.number, f"CORE-{link.zone.upper()}")
        svis.append(Svi(link.number, ascii_text(f"Transit {link.zone} til {peer}"), z.vrf, mine))
        peer_addr[link.zone] = theirs.ip
    nni: dict[str, list[int]] = {}
    underlay_nets: dict[str, ipaddress.IPv4Network] = {}
    for other, osite in sorted(intent.sites.items()):
        c = osite.circuit
        if c is None:
            continue
        c2 = osite.backup_circuit
        for circuit, links, backup in ((c, transit_links(intent, other), False),
                                       *(((c2, backup_links(intent, other), True),)
                                         if c2 is not None else ())):
            _core_circuit(intent, host, other, circuit, links, backup, peer_addr, vlans, svis,
                          tunnels, routes, slas, nni)
            if circuit.core == host and circuit.overlay is Overlay.gre:
                assert circuit.underlay_address is not None
                underlay_nets[f"{other}-b" if backup else other] = \
                    circuit.underlay_address.network
    for port, numbers in nni.items():
        special[port] = Port(port, "NNI fiberoperator (802.1Q per site og sone)", "nni",
                             PortMode.trunk.value, allowed_vlans=vlan_list(numbers), trusted=True)
    if underlay_nets:
        assert dev.underlay_address is not None and dev.underlay_gateway is not None
        port = next(c.core_interface for c in (s.circuit for s in intent.sites.values())
                    if c is not None and c.core == host and c.overlay is Overlay.gre)
        routed.append(RoutedPort(port, "L3VPN underlay (GRE per sone)", dev.underlay_address))
        for other, net in sorted(underlay_nets.items()):
            routes.append(StaticRoute(None, net, dev.underlay_gateway, f"gre-underlay-{other}"))


def _core_circuit(intent: Intent, host: str, other: str, c: Circuit, links: tuple[_Link, ...],
                  backup: bool, peer_addr: dict[str, ipaddress.IPv4Address],
                  vlans: dict[int, Vlan], svis: list[Svi], tunnels: list[Tunnel],
                  routes: list[StaticRoute], slas: list[Sla], nni: dict[str, list[int]]) -> None:
    """One circuit of site ``other`` at this core: its links if it lands here, and the
    routes to the site's prefixes over it.

    A single-homed site: over the circuit on its core, via the peer on the other. A
    dual-homed site: each core that terminates a circuit routes over it, tracked by its
    own probe of that circuit (a directly connected address, so no route it steers can
    fake it up), with a route floating above that (the other circuit on the same core,
    else via the peer) for when its probe fails; a core without a circuit of the site
    goes via the peer.
    """
    site = intent.sites[other]
    dual = site.backup_circuit is not None
    first = site.circuit
    assert first is not None
    both_here = dual and site.backup_circuit is not None and \
        site.backup_circuit.core == first.core
    for link in links:
        z = intent.zones[link.zone]
        desc = ascii_text(f"Transit {link.zone} {other}" + (" (reserve)" if backup else ""))
        if c.core == host:
            if c.overlay is Overlay.gre:
                assert c.underlay_address is not None
                tunnels.append(Tunnel(link.number, desc, z.vrf, link.core_addr,
                                      c.core_interface, c.underlay_address.ip, link.number,
                                      acl_in=acl_name(link.zone)))
            else:
                # names are unique per device (IOS refuses a name used twice); the
                # number keeps them unique when a long site name is cut at 32
                vlans[link.number] = Vlan(link.number,
                                          f"WAN{link.number}-{link.zone}-{other}".upper()[:32])
                svis.append(Svi(link.number, desc, z.vrf, link.core_addr,
                                acl_in=acl_name(link.zone)))
                nni.setdefault(c.core_interface, []).append(link.number)
        prefix = site.prefixes[link.zone]
        if not dual:
            if c.core == host:
                routes.append(StaticRoute(z.vrf, prefix, link.site_addr.ip, other))
            else:
                routes.append(StaticRoute(z.vrf, prefix, peer_addr[link.zone],
                                          f"{other}-via-peer"))
        elif c.core == host:
            if backup and both_here:
                # the first circuit lands here too: this one floats beneath it
                routes.append(StaticRoute(z.vrf, prefix, link.site_addr.ip, f"{other}-backup",
                                          distance=FLOATING))
            else:
                routes.append(StaticRoute(z.vrf, prefix, link.site_addr.ip,
                                          f"{other}-backup" if backup else other,
                                          track=site.index))
                if not both_here:  # else the second circuit, here too, floats beneath
                    routes.append(StaticRoute(z.vrf, prefix, peer_addr[link.zone],
                                              f"{other}-via-peer", distance=FLOATING))
        elif not backup and both_here:
            routes.append(StaticRoute(z.vrf, prefix, peer_addr[link.zone],
                                      f"{other}-via-peer"))
    if dual and c.core == host and not (backup and both_here):
        slas.append(_circuit_probe(intent, site.index, c, links, at_core=True))


def _ports(intent: Intent, host: str, site_zones: list[str],
           special: dict[str, Port]) -> tuple[list[Port], list[Port]]:
    """Every physical interface of the model, in the order the device prints them, and
    the port-channels bundling some of them."""
    dev = intent.devices[host]
    model = intent.device_models[dev.model]
    assigned: dict[str, tuple[PortProfile, str, str | None, int | None]] = {}
    bundles: dict[int, tuple[PortProfile, str, str | None]] = {}
    for pa in dev.ports:
        prof = intent.port_profiles[pa.profile]
        for name in expand_interface_range(pa.range):
            assigned[name] = (prof, pa.profile, pa.description, pa.channel_group)
        if pa.channel_group is not None:
            bundles.setdefault(pa.channel_group, (prof, pa.profile, pa.description))
    routed = set()
    site = intent.site_of(host)
    if site.circuit is not None and site.circuit.overlay is Overlay.gre and \
            intent.gateway_of(intent.device_site[host]) == host:
        routed.add(site.circuit.site_interface)
    if dev.role is Role.core:
        for s in intent.sites.values():
            c = s.circuit
            if c is not None and c.core == host and c.overlay is Overlay.gre:
                routed.add(c.core_interface)
    core_link_vlans = []
    if dev.role is Role.core:
        # the pair's link carries every VLAN on which the pair runs HSRP or routes between
        # the two: the zones, the pair's own transit, and the internet edge
        core_link_vlans = [link.number for link in transit_links(intent, intent.device_site[host])]
        core_link_vlans += [intent.policy.internet_edge.vlan_base + intent.zones[z].id
                            for z in firewall_zones(intent)]
    unused = intent.port_profiles[UNUSED_PROFILE]
    out = []
    for spec in model.interfaces:
        for name in expand_interface_range(spec):
            if name in routed:
                # printed in its place among the ports, from cfg.routed_ports
                out.append(Port(name, "", "routed", "routed"))
                continue
            if name in special:
                out.append(special[name])
                continue
            prof, pname, desc, group = assigned.get(name, (unused, UNUSED_PROFILE, None, None))
            out.append(_port(intent, name, prof, pname, desc, site_zones, core_link_vlans,
                             group))
    channels = [_port(intent, f"Port-channel{n}", prof, pname, desc, site_zones,
                      core_link_vlans) for n, (prof, pname, desc) in sorted(bundles.items())]
    return out, channels


#: a Port's fields after its name, in order (a port is its name and these settings)
_PORT_SETTINGS = operator.attrgetter(*[f.name for f in dataclasses.fields(Port)][1:])


def _port(intent: Intent, name: str, prof: PortProfile, pname: str, desc: str | None,
          site_zones: list[str], core_link_vlans: list[int],
          channel_group: int | None = None) -> Port:
    """The port ``name`` with a profile's settings; each distinct setting is worked out
    once per intent (an estate has hundreds of thousands of ports, a few hundred kinds)."""
    memo = _port_settings(intent)
    key = (pname, desc, tuple(site_zones), tuple(core_link_vlans), channel_group)
    settings = memo.get(key)
    if settings is None:
        settings = memo[key] = _PORT_SETTINGS(_new_port(intent, "", prof, pname, desc,
                                                        site_zones, core_link_vlans,
                                                        channel_group))
    return Port(name, *settings)  # type: ignore[arg-type]  # a Port's own fields


@per_intent
def _port_settings(intent: Intent) -> dict[tuple[object, ...], tuple[object, ...]]:
    return {}


def _new_port(intent: Intent, name: str, prof: PortProfile, pname: str, desc: str | None,
              site_zones: list[str], core_link_vlans: list[int],
              channel_group: int | None = None) -> Port:
    z = intent.zones
    description = ascii_text(desc or prof.description)
    auth = (prof.dot1x or prof.mab) and not prof.shutdown
    rate = (prof.rate_limit or EDGE_RATE_LIMIT) if prof.edge and not prof.trusted else None
    if prof.mode is PortMode.trunk:
        carried = site_zones if prof.trunk_zones is None else [
            zone for zone in site_zones if zone in prof.trunk_zones]
        ids = [z[zone].vlan for zone in carried]
        if prof.transit:
            ids += core_link_vlans
        # an authenticating trunk is an access point's port: the AP authenticates, then
        # every client MAC behind it passes (multi-host); RADIUS assigns no VLAN
        return Port(name, description, pname, "trunk",
                    native_vlan=z[prof.native_zone].vlan if prof.native_zone else None,
                    allowed_vlans=vlan_list(ids), shutdown=prof.shutdown, edge=prof.edge,
                    trusted=prof.trusted, ra_guard=prof.edge, channel_group=channel_group,
                    dot1x=prof.dot1x and auth, mab=prof.mab and auth,
                    host_mode="multi-host" if auth else None,
                    policy=AP_TRUNK_POLICY if auth else None,
                    rate_limit=prof.rate_limit if prof.edge and not prof.trusted else None)
    host_mode = policy = None
    if auth:
        if not prof.dot1x:
            host_mode, policy = "single-host", MAB_POLICY  # one device, by its MAC
        else:
            host_mode = "multi-domain" if prof.voice_zone else "multi-auth"
            policy = IBNS_POLICY
    return Port(
        name, description, pname, "access",
        access_vlan=z[prof.zone].vlan if prof.zone else None,
        voice_vlan=z[prof.voice_zone].vlan if prof.voice_zone else None,
        shutdown=prof.shutdown, edge=prof.edge, trusted=prof.trusted,
        dot1x=prof.dot1x and auth, mab=prof.mab and auth, host_mode=host_mode,
        ra_guard=prof.edge, policy=policy, rate_limit=rate,
        ip_source_guard=prof.ip_source_guard and not prof.shutdown,
        voice_qos=prof.voice_zone is not None and not prof.shutdown,
    )
