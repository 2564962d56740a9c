"""What the lab builds, computed from the intent alone: namespaces, addresses, OVS ports,
the core's legs, routes and nftables chains, and the endpoints that send and answer probes.

Pure (no root, no processes). What is probed and what each probe must show lives in
:mod:`nornir_tasks.lab.probes` (the matrix), :mod:`nornir_tasks.lab.required` (the required
flows with real daemons) and :mod:`nornir_tasks.lab.adversarial` (crafted packets predicted
by ``verify``'s exposure model).

The core holds every gateway itself, one leg per site and zone: the zone's VLAN from that
site's trunk lands on its own core interface, as a site's per-zone transit does in
production, so a DHCP relay on that leg knows which site a request comes from.

The town-hall firewall is a namespace behind one leg per zone that reaches the internet
or is in a stateful pair (``stateful: true``), loading the generated policy, with the
core's routes into it and its routes back read from the shipped texts
(:mod:`nornir_tasks.lab.firewall`). The internet stand-in sits behind the firewall, as
the real internet does: what a zone sends there and what comes back crosses the policy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nornir_tasks.errors import UsageError
from nornir_tasks.intent.flows import NOC
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Role, SiteKind
from nornir_tasks.lab.firewall import (
    NAMESPACE as FIREWALL_NS,
)
from nornir_tasks.lab.firewall import (
    FirewallHop,
    FirewallInputError,
    default_files,
    firewall_hop,
)
from nornir_tasks.lab.nft import Chain
from nornir_tasks.limit import select_hosts
from nornir_tasks.policy import Term, firewall_zones, zone_terms

Net = ipaddress.IPv4Network
Addr = ipaddress.IPv4Address
Iface = ipaddress.IPv4Interface

#: the internet as seen from the lab: TEST-NET-2 (RFC 5737). Never 192.0.2.0/24: the
#: machine's own uplink lives there on the CI runners.
INTERNET_ADDRESS = Addr("198.51.100.10")
#: link nets between the core and the namespaces behind their own legs: link-local, so
#: they can never collide with an address of the intent
LINK_NETS = Net("169.254.0.0/16")
PRIVATE = (Net("10.0.0.0/8"), Net("172.16.0.0/12"), Net("192.168.0.0/16"))
INTERNET = "internet"
#: the core's chain on its legs from the firewall (no ACL there: the firewall decided)
FROM_FIREWALL = "from_firewall"
HOST_OFFSET = 10  # a zone host is network + 10 (the gateway is network + mgmt_gateway_host)
MAX_SITES = 8  # probes grow with the square of the hosts; 8 sites is ~60 hosts
#: roles whose management address can stand for the management zone's host (a device
#: the NOC logs into and that asks RADIUS); the access switches first
DEVICE_ROLES = (Role.access, Role.distribution, Role.core, Role.wlc)


class LabInputError(UsageError):
    """The intent or the arguments cannot be turned into a lab (exit 2)."""


@dataclass(frozen=True)
class Endpoint:
    """An address that sends or answers probes."""

    key: str  # unique: "alta_skole/pupils", "mail", "radius#2", "noc", "internet"
    kind: str  # zone | service | internet  (the NOC is a service-like end named "noc")
    group: str  # table heading: the zone, service, "noc" or "internet"
    address: Addr
    namespace: str  # logical name of the namespace holding the address
    chain: str  # the nftables chain that filters what this endpoint sends
    zone: str | None = None  # zone whose pool holds the address
    site: str | None = None
    service: str | None = None  # service name, or "noc"
    subnet: Net | None = None  # a zone host's site prefix (on-link, not via the core)
    rank: int = 0  # the zone's id: tables list zones in the order the configs do
    roles: tuple[str, ...] = ()  # roles of the devices whose management address this is
    primary: bool = True  # the first address of its service (or a zone host)


@dataclass(frozen=True)
class HostNs:
    """One zone at one site: a namespace on the site switch's access port."""

    name: str
    site: str
    zone: str
    vlan: int
    address: Iface
    gateway: Addr
    switch_port: str  # OVS side of the veth (in the switch namespace)


@dataclass(frozen=True)
class SiteSwitch:
    index: int
    site: str
    bridge: str  # the site's switch
    core_bridge: str  # the core side of its trunk: pops the tags onto the site's legs
    trunk_site: str  # trunk veth end on the site bridge (tcpdump watches it)
    trunk_core: str  # its peer on the core-side bridge
    vlans: tuple[int, ...]  # exactly the site's zone VLANs
    hosts: tuple[HostNs, ...]


@dataclass(frozen=True)
class CoreLeg:
    """The core's interface towards one zone at one site (an access port of the site's
    core-side bridge), holding that zone's gateway address at that site."""

    site: str
    zone: str
    vlan: int
    bridge: str
    interface: str  # in the core namespace
    switch_port: str  # OVS side
    gateway: Iface


@dataclass(frozen=True)
class DirectNs:
    """A namespace behind its own leg (no switch): servers behind the core, or the
    internet behind the firewall."""

    name: str
    interface: str  # the core's (or the firewall's) side of the veth
    core_address: Iface  # the address on that side: the namespace's gateway
    address: Iface
    chain: str
    routes: tuple[Net, ...]  # what the core routes to it
    loopback: tuple[Addr, ...]  # the addresses it answers for (on lo)
    #: preferred source of its default route: the DHCP server's address where it lives
    #: (dnsmasq answers a relay from an unbound socket, so the route picks the source)
    source: Addr | None = None
    #: the logical namespace it hangs off: the core, or the firewall
    behind: str = "core"


@dataclass
class LabPlan:
    sites: list[str]
    switches: list[SiteSwitch]
    core_legs: list[CoreLeg]
    direct: list[DirectNs]
    chains: list[Chain]
    unreachable: list[Net]
    endpoints: list[Endpoint]
    #: the town-hall firewall (None: no zone reaches the internet or is in a pair)
    firewall: FirewallHop | None = None
    #: ``ip rule iif <interface> lookup <table>`` in the core: what enters on a leg of a
    #: zone of a stateful pair looks up that zone's VRF routes through the firewall first
    firewall_rules: list[tuple[str, int]] = field(default_factory=list)
    #: the same for a zone's default route to the firewall, looked up after the main table
    internet_rules: list[tuple[str, int]] = field(default_factory=list)

    @property
    def hosts(self) -> list[HostNs]:
        return [h for s in self.switches for h in s.hosts]

    @property
    def namespaces(self) -> list[str]:
        """Every logical namespace name: switch, core, the firewall, servers/internet,
        zone hosts."""
        fw = [FIREWALL_NS] if self.firewall is not None else []
        return ["sw", "core", *fw, *(d.name for d in self.direct),
                *(h.name for h in self.hosts)]

    def host(self, site: str, zone: str) -> HostNs | None:
        return next((h for h in self.hosts if h.site == site and h.zone == zone), None)

    def endpoint(self, key: str) -> Endpoint:
        return next(e for e in self.endpoints if e.key == key)

    def leg(self, site: str, zone: str) -> CoreLeg | None:
        return next((g for g in self.core_legs if g.site == site and g.zone == zone), None)


# --------------------------------------------------------------------------- sites


def choose_sites(intent: Intent, limit: str | None) -> list[str]:
    """The sites of the hosts ``--limit`` selects; default the first site (lowest index)
    of the first kind in site_kinds and of the first kind after it that differs in having
    children on site: on the reference, a school and a municipal site (every zone, and a
    site without pupils)."""
    if limit:
        hosts = select_hosts(limit, intent.groups)
        sites = sorted({intent.device_site[h] for h in hosts if h in intent.device_site},
                       key=lambda s: (intent.sites[s].index, s))
        if not sites:
            raise LabInputError(f"--limit {limit!r} selects no site")
    else:
        sites = []
        children: bool | None = None
        for kind, d in intent.site_kinds.items():
            of_kind = sorted((s for s, v in intent.sites.items() if v.kind == kind),
                             key=lambda s: intent.sites[s].index)
            if kind == SiteKind.core or not of_kind or d.children is children:
                continue
            sites.append(of_kind[0])
            if children is not None:
                break
            children = d.children
        if not sites:
            sites = sorted(intent.sites, key=lambda s: intent.sites[s].index)[:2]
    if len(sites) > MAX_SITES:
        raise LabInputError(f"--limit selects {len(sites)} sites; the lab builds at most "
                            f"{MAX_SITES} at a time (probes grow with the square of the "
                            "hosts): narrow the pattern")
    return sites


# --------------------------------------------------------------------------- chains


# --------------------------------------------------------------------------- addresses


def one_address(net: Net) -> Addr:
    """The address that stands for a prefix: itself for a /32, else network + 10."""
    if net.prefixlen == 32:
        return net.network_address
    return net.network_address + min(HOST_OFFSET, net.num_addresses - 2)


def _free_address(net: Net, gateway: Addr, avoid: Sequence[Net]) -> Addr:
    """network + 10, or the next address that is neither the gateway nor a server's
    (the town hall's mgmt prefix holds the controller and the NOC)."""
    addr = net.network_address + HOST_OFFSET
    while addr < net.broadcast_address:
        if addr != gateway and not any(addr in n for n in avoid):
            return addr
        addr += 1
    raise LabInputError(f"no free host address in {net}")


def _device_address(intent: Intent, site: str, net: Net, gateway: Addr,
                    avoid: Sequence[Net]) -> tuple[Addr, tuple[str, ...]] | None:
    """A managed device's address in the site's management prefix (an access switch
    first): the management zone's host *is* that device, so the required flows to and
    from devices (SSH from the NOC, RADIUS, NTP) use a real device address."""
    order = {r: i for i, r in enumerate(DEVICE_ROLES)}
    devices = sorted((order[intent.devices[h].role], h) for h in intent.site_devices(site)
                     if intent.devices[h].role in order)
    for _, h in devices:
        addr = intent.devices[h].ansible_host
        if addr is not None and addr in net and addr != gateway \
                and not any(addr in n for n in avoid):
            return addr, device_roles(intent, addr)
    return None


def device_roles(intent: Intent, addr: Addr) -> tuple[str, ...]:
    """Roles of the devices managed at ``addr`` (the controller's address is one)."""
    return tuple(sorted({d.role.value for d in intent.devices.values()
                         if d.ansible_host == addr and d.role is not Role.ap}))


def _link_net(n: int) -> Net:
    """The n-th link net: ``169.254.<n>.0/30``.

    >>> _link_net(4)
    IPv4Network('169.254.4.0/30')
    """
    return Net(f"{LINK_NETS.network_address + 256 * n}/30")


def _zone_of(intent: Intent, addr: Addr) -> str | None:
    for zone in sorted(intent.zones, key=lambda z: intent.zones[z].id):
        pool = intent.pools.zones.get(zone)
        if pool is not None and addr in pool.pool:
            return zone
    return None


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class _Outside:
    """A server address (or the NOC's) before it is placed in a namespace."""

    key: str
    service: str
    address: Addr
    net: Net
    primary: bool


def _outside(intent: Intent) -> list[_Outside]:
    """Every service address and the NOC, one address per prefix."""
    out = []
    named = [(n, list(intent.services[n].prefixes)) for n in sorted(intent.services)]
    named.append((NOC, list(intent.management.noc_prefixes)))
    for name, nets in named:
        for i, net in enumerate(nets):
            key = name if len(nets) == 1 else f"{name}#{i + 1}"
            out.append(_Outside(key, name, one_address(net), net, i == 0))
    return out


def lab_firewall(intent: Intent, files: Mapping[str, str] | None = None,
                 configs: Mapping[str, str] | None = None) -> FirewallHop | None:
    """The town-hall firewall (None when no zone has a leg on it), from a build's
    ``firewall/`` files and core configs; each defaults to what ``fellesnett build``
    generates from the intent (the same generator, the same text)."""
    if not firewall_zones(intent):
        return None
    if configs is None:
        from nornir_tasks.lab.prediction import core_configs

        configs = core_configs(intent)
    try:
        return firewall_hop(intent, files if files is not None else default_files(intent),
                            configs)
    except FirewallInputError as exc:
        raise LabInputError(f"the town-hall firewall: {exc}") from None


def build_plan(intent: Intent, sites: Sequence[str],
               terms: Mapping[str, Sequence[Term]] | None = None,
               firewall: FirewallHop | None = None) -> LabPlan:
    """Everything the lab builds for ``sites``.

    ``terms`` replaces :func:`nornir_tasks.policy.zone_terms` (tests inject a fault
    there); the expectations never read it. ``firewall`` is the hop of the stateful
    pairs (:func:`lab_firewall`; computed from the intent when not given).
    """
    for s in sites:
        if s not in intent.sites:
            raise LabInputError(f"unknown site {s!r}")
    if firewall is None and firewall_zones(intent):
        firewall = lab_firewall(intent)
    zterms = dict(terms) if terms is not None else zone_terms(intent)
    gw_host = intent.management.mgmt_gateway_host
    dhcp = intent.services.get("dhcp")
    dhcp_server = one_address(dhcp.prefixes[0]) if dhcp and dhcp.prefixes else None

    # servers and the NOC, grouped by the zone that holds them; each group is one
    # namespace behind its own core leg, filtered by that zone's chain
    groups: dict[str, list[_Outside]] = {}
    for item in _outside(intent):
        zone = _zone_of(intent, item.address)
        if zone is None:  # the intent checks forbid it; a lab cannot place it either
            raise LabInputError(f"{item.key} ({item.address}) lies in no zone's pool")
        groups.setdefault(zone, []).append(item)
    avoid = [item.net for items in groups.values() for item in items]

    endpoints: list[Endpoint] = []
    direct: list[DirectNs] = []
    chain_ifaces: dict[str, list[str]] = {}
    for k, zone in enumerate(sorted(groups, key=lambda z: intent.zones[z].id)):
        link = _link_net(16 + k)
        ns, chain, iface = f"dc-{zone}", f"zone_{zone}", f"d{intent.zones[zone].vlan}"
        items = groups[zone]
        held = tuple(sorted({item.address for item in items}))
        direct.append(DirectNs(
            ns, iface, Iface(f"{link.network_address + 1}/30"),
            Iface(f"{link.network_address + 2}/30"), chain,
            tuple(ipaddress.collapse_addresses(item.net for item in items)), held,
            dhcp_server if dhcp_server in held else None))
        chain_ifaces.setdefault(chain, []).append(iface)
        for item in items:
            endpoints.append(Endpoint(item.key, "service", item.service, item.address, ns,
                                      chain, zone=zone, service=item.service,
                                      rank=intent.zones[zone].id,
                                      roles=device_roles(intent, item.address),
                                      primary=item.primary))
    if firewall is not None:
        # behind the firewall, which routes there whatever it has no route for; what
        # comes back crosses its legs into the core, which has no ACL on them
        inet_link = _link_net(4)
        direct.append(DirectNs(INTERNET, "inet", Iface(f"{inet_link.network_address + 1}/30"),
                               Iface(f"{inet_link.network_address + 2}/30"), FROM_FIREWALL,
                               (Net("0.0.0.0/0"),), (INTERNET_ADDRESS,), behind=FIREWALL_NS))
        endpoints.append(Endpoint(INTERNET, "internet", INTERNET, INTERNET_ADDRESS, INTERNET,
                                  FROM_FIREWALL))

    switches: list[SiteSwitch] = []
    legs: list[CoreLeg] = []
    for i, slug in enumerate(sites):
        site = intent.sites[slug]
        hosts = []
        for zone in intent.zones_at(site):
            net = site.prefixes[zone]
            vlan = intent.zones[zone].vlan
            gw = net.network_address + gw_host
            found = (_device_address(intent, slug, net, gw, avoid)
                     if zone == intent.policy.management_zone else None)
            addr, roles = found or (_free_address(net, gw, avoid), ())
            host = HostNs(f"h-{slug}-{zone}", slug, zone, vlan, Iface(f"{addr}/{net.prefixlen}"),
                          gw, f"s{i}v{vlan}")
            hosts.append(host)
            leg = CoreLeg(slug, zone, vlan, f"k{i}", f"g{i}v{vlan}", f"c{i}v{vlan}",
                          Iface(f"{gw}/{net.prefixlen}"))
            legs.append(leg)
            chain_ifaces.setdefault(f"zone_{zone}", []).append(leg.interface)
            endpoints.append(Endpoint(f"{slug}/{zone}", "zone", zone, addr, host.name,
                                      f"zone_{zone}", zone=zone, site=slug, subnet=net,
                                      rank=intent.zones[zone].id, roles=roles))
        switches.append(SiteSwitch(i, slug, f"s{i}", f"k{i}", f"t{i}s", f"t{i}c",
                                   tuple(sorted(h.vlan for h in hosts)), tuple(hosts)))

    chains: list[Chain] = []
    for zone in sorted(intent.zones, key=lambda z: intent.zones[z].id):
        name = f"zone_{zone}"
        if name in chain_ifaces:
            if zone not in zterms:
                raise LabInputError(f"no policy terms for zone {zone!r}")
            own = [g for g in legs if g.zone == zone]
            chains.append(Chain(
                name, tuple(chain_ifaces[name]), tuple(zterms[zone]),
                f"ingress from zone {zone}: policy.zone_terms()[{zone!r}]",
                gateways=tuple(g.gateway.ip for g in own),
                gateway_legs=tuple(g.interface for g in own)))
    rules: list[tuple[str, int]] = []
    internet_rules: list[tuple[str, int]] = []
    if firewall is not None:
        # the core's legs towards the firewall carry no ACL (the edge SVIs have no
        # access-group): the firewall is the policy point between its legs
        chains.append(Chain(FROM_FIREWALL, tuple(g.core_interface for g in firewall.legs),
                            (Term("edge-leg", "accept",
                                  comment="the core's firewall legs carry no ACL"),),
                            f"from the firewall ({firewall.path}): no ACL at the core"))
        for zone, table in firewall.tables.items():
            edge = firewall.leg(zone)
            faces = [*chain_ifaces.get(f"zone_{zone}", []),
                     *([edge.core_interface] if edge is not None else [])]
            rules += [(iface, table) for iface in faces]
        # a zone's own legs (sites, data centre) fall back to its default route; never
        # its leg from the firewall (what comes back from the internet goes to the zone)
        for zone, table in firewall.internet_tables.items():
            internet_rules += [(iface, table) for iface in chain_ifaces.get(f"zone_{zone}", [])]
    return LabPlan(list(sites), switches, legs, direct, chains, list(PRIVATE), endpoints,
                   firewall, rules, internet_rules)
