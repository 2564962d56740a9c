"""What the lab builds and what each probe must show, computed from the intent alone.

Pure (no root, no processes): the namespaces and their addresses, the OVS ports, the
core's routes and nftables chains, and every probe with two verdicts:

* ``expected`` -- read directly from the matrix as written in the inventory (rules,
  infrastructure flows, the operator's access to management). This reading is
  deliberately independent of :mod:`nornir_tasks.policy`: the lab is a proof of the
  compiled terms, so it must not take its expectations from them. An injected or
  mis-compiled term then shows up as a mismatch.
* ``model`` -- first-match evaluation (:mod:`nornir_tasks.acl_eval`) of the very terms
  the lab loads into nftables, over the whole stateless exchange (request, reply, and
  for TCP the client's ACK). When a probe fails, comparing the two tells whether the
  compiled terms or the packet path (nft generator, topology) disagrees with the matrix.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nornir_tasks.acl_eval import Packet, evaluate
from nornir_tasks.design.structured import AclEntry
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import Intent
from nornir_tasks.lab.nft import Chain
from nornir_tasks.limit import select_hosts
from nornir_tasks.policy import Term, zone_terms

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
HOST_OFFSET = 10  # a zone host is network + 10 (the gateway is network + mgmt_gateway_host)
MAX_SITES = 8  # probes grow with the square of the hosts; 8 sites is ~45 hosts
EPHEMERAL = 40000  # the client port the model assumes (Linux picks from 32768-60999)
ZONE_PROBES = ("icmp", "tcp/22", "tcp/443")  # between zones: ping, SSH, HTTPS
OPERATOR_SOURCE_PROBES = {"noc": ("icmp", "tcp/22", "tcp/443"), "monitoring": ("udp/161",),
                          "coa": ("udp/1700",)}
INTERNET_PROBES = ("icmp", "tcp/443")


class LabInputError(UsageError):
    """The intent or the arguments cannot be turned into a lab (exit 2)."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class OperatorFlow:
    """Who may open what towards the management zone from outside it."""

    name: str
    sources: tuple[Net, ...]
    ports: tuple[str, ...]


@dataclass(frozen=True)
class Endpoint:
    """An address that sends or answers probes."""

    key: str  # unique: "alta_skole/pupils", "mail", "radius#2", "noc", "internet"
    kind: str  # zone | service | operator | internet
    group: str  # table heading: the zone, service or operator name, or "internet"
    address: Addr
    namespace: str  # logical name of the namespace holding the address
    chain: str  # the nftables chain that filters what this endpoint sends
    zone: str | None = None  # zone whose pool holds the address
    site: str | None = None
    service: str | None = None
    subnet: Net | None = None  # a zone host's site prefix (on-link, not via the core)
    rank: int = 0  # the zone's id: tables list zones in the order the configs do


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
    bridge: str
    trunk_site: str  # trunk veth end on the site bridge (tcpdump watches it)
    trunk_core: str  # its peer on the core bridge
    vlans: tuple[int, ...]  # exactly the site's zone VLANs
    hosts: tuple[HostNs, ...]


@dataclass(frozen=True)
class CoreLeg:
    """A core interface towards one zone's VLAN on the core bridge (access port)."""

    zone: str
    vlan: int
    interface: str  # in the core namespace
    switch_port: str  # OVS side
    addresses: tuple[Iface, ...]  # the zone's gateway at every chosen site


@dataclass(frozen=True)
class DirectNs:
    """A namespace behind its own leg of the core (no switch): servers or the internet."""

    name: str
    interface: str  # core side of the veth
    core_address: Iface
    address: Iface
    chain: str
    routes: tuple[Net, ...]  # what the core routes to it
    loopback: tuple[Addr, ...]  # the addresses it answers for (on lo)


@dataclass(frozen=True)
class Probe:
    id: int
    source: Endpoint
    destination: Endpoint
    proto: str  # icmp | tcp | udp
    port: int | None
    expected: bool
    reason: str
    model: bool

    @property
    def label(self) -> str:
        return self.proto if self.port is None else f"{self.proto}/{self.port}"


@dataclass(frozen=True)
class Skipped:
    source: str
    destination: str
    probe: str
    reason: str


@dataclass(frozen=True)
class Listener:
    proto: str
    address: Addr
    port: int


@dataclass
class LabPlan:
    sites: list[str]
    switches: list[SiteSwitch]
    core_legs: list[CoreLeg]
    direct: list[DirectNs]
    chains: list[Chain]
    unreachable: list[Net]
    endpoints: list[Endpoint]
    probes: list[Probe] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    listeners: dict[str, list[Listener]] = field(default_factory=dict)

    @property
    def hosts(self) -> list[HostNs]:
        return [h for s in self.switches for h in s.hosts]

    @property
    def namespaces(self) -> list[str]:
        """Every logical namespace name: switch, core, servers/internet, zone hosts."""
        return ["sw", "core", *(d.name for d in self.direct), *(h.name for h in self.hosts)]


# --------------------------------------------------------------------------- sites


def choose_sites(intent: Intent, limit: str | None) -> list[str]:
    """The sites of the hosts ``--limit`` selects; default one school and one municipal
    site (the lowest index of each kind): every zone, and a site without pupils."""
    if limit:
        hosts = select_hosts(limit, intent.groups)
        sites = sorted({intent.device_site[h] for h in hosts if h in intent.device_site},
                       key=lambda s: (intent.sites[s].index, s))
        if not sites:
            raise LabInputError(f"--limit {limit!r} selects no site")
    else:
        sites = []
        for kind in ("school", "municipal"):
            of_kind = sorted((s for s, v in intent.sites.items() if v.kind.value == kind),
                             key=lambda s: intent.sites[s].index)
            sites += of_kind[:1]
        if not sites:
            sites = sorted(intent.sites, key=lambda s: intent.sites[s].index)[:2]
    if len(sites) > MAX_SITES:
        raise LabInputError(f"--limit selects {len(sites)} sites; the lab builds at most "
                            f"{MAX_SITES} at a time (probes grow with the square of the "
                            "hosts): narrow the pattern")
    return sites


# --------------------------------------------------------------------------- matrix


def operator_flows(intent: Intent) -> list[OperatorFlow]:
    """The operator's access to the management zone, from the management data.

    The same three flows :func:`nornir_tasks.policy.flows` compiles (NOC: SSH and ping;
    the monitoring system: SNMP polls; the RADIUS servers: change of authorisation when
    CoA is on), read here on their own so the lab's expectation is not taken from the
    code it checks.
    """
    m = intent.management
    out = [OperatorFlow("noc", tuple(m.noc_prefixes), ("tcp/22", "icmp")),
           OperatorFlow("monitoring", tuple(Net(f"{c}/32") for c in m.snmp_collectors),
                        ("udp/161",))]
    if intent.aaa.radius.coa:
        out.append(OperatorFlow("coa", tuple(Net(f"{s.address}/32")
                                             for s in intent.aaa.radius.servers),
                                ("udp/1700",)))
    return out


def port_matches(specs: Iterable[str], proto: str, port: int | None) -> bool:
    """Does a probe fall under ``tcp/N``, ``udp/N-M``, ``icmp`` or ``any``?

    >>> port_matches(["tcp/443", "udp/10000-20000"], "udp", 10000)
    True
    >>> port_matches(["tcp/443"], "icmp", None)
    False
    """
    for spec in specs:
        if spec == "any" or (spec == "icmp" and proto == "icmp"):
            return True
        p, _, ports = spec.partition("/")
        if p == proto and ports and port is not None:
            first, _, last = ports.partition("-")
            if int(first) <= port <= int(last or first):
                return True
    return False


def matrix_verdict(intent: Intent, src: Endpoint, dst: Endpoint, proto: str,
                   port: int | None) -> tuple[bool, str]:
    """What the matrix as written says about one probe: (may it connect, why).

    A rule to a service allows the service's ports (or the rule's) and ping; a rule to a
    zone exactly its ports; ``internet`` anything outside; an infrastructure flow exactly
    its ports; inside a zone everything; everything else is denied.
    """
    pol = intent.policy
    if src.zone is not None:
        pool = intent.pools.zones[src.zone].pool
        if dst.kind != "internet" and dst.address in pool:
            return True, f"inside zone {src.zone}"
        for flow in pol.infrastructure:
            if src.zone in flow.from_ and flow.to in (dst.service, dst.zone) \
                    and port_matches(flow.ports, proto, port):
                return True, f"infrastructure flow {flow.name}"
        for rule in pol.rules:
            if rule.from_ != src.zone:
                continue
            if rule.to == INTERNET and dst.kind == "internet":
                return True, f"rule {rule.from_} -> internet"
            if dst.service is not None and rule.to == dst.service:
                ports = list(rule.ports or intent.services[rule.to].ports)
                if port_matches([*ports, "icmp"], proto, port):
                    return True, f"rule {rule.from_} -> {rule.to}"
            if rule.to in intent.zones and rule.to == dst.zone \
                    and port_matches(rule.ports or [], proto, port):
                return True, f"rule {rule.from_} -> {rule.to}"
    if dst.zone == pol.management_zone and dst.kind == "zone":
        for op in operator_flows(intent):
            if any(src.address in n for n in op.sources) and port_matches(op.ports, proto, port):
                return True, f"operator flow {op.name}"
    return False, "default deny"


# --------------------------------------------------------------------------- model


def _entries(terms: Sequence[Term]) -> list[AclEntry]:
    """Terms as ACL entries for :func:`nornir_tasks.acl_eval.evaluate` (one per
    protocol x address x port combination, the way an extended ACL spells them)."""
    out: list[AclEntry] = []
    for t in terms:
        action = "permit" if t.action == "accept" else "deny"
        protos: tuple[str | None, ...] = t.protocols or (("tcp",) if t.established else (None,))
        for proto in protos:
            for s in t.source or (None,):
                for d in t.destination or (None,):
                    for sp in t.source_ports or (None,):
                        for dp in t.destination_ports or (None,):
                            for it in t.icmp_types or (None,):
                                out.append(AclEntry(
                                    seq=10 * (len(out) + 1), action=action,
                                    protocol=proto or "ip", source=s, destination=d,
                                    src_ports=sp, dst_ports=dp, established=t.established,
                                    icmp_type=it))
    return out


def model_verdict(entries: Mapping[str, list[AclEntry]], src: Endpoint, dst: Endpoint,
                  proto: str, port: int | None) -> bool:
    """Do the loaded terms pass the whole stateless exchange of one probe?"""
    out, back = entries[src.chain], entries[dst.chain]

    def ok(acl: list[AclEntry], p: Packet) -> bool:
        return evaluate(acl, p)[0] == "permit"

    a, b = src.address, dst.address
    if proto == "icmp":
        return (ok(out, Packet("icmp", a, b, icmp_type="echo-request"))
                and ok(back, Packet("icmp", b, a, icmp_type="echo-reply")))
    if proto == "udp":
        return (ok(out, Packet("udp", a, b, EPHEMERAL, port))
                and ok(back, Packet("udp", b, a, port, EPHEMERAL)))
    return (ok(out, Packet("tcp", a, b, EPHEMERAL, port))  # SYN
            and ok(back, Packet("tcp", b, a, port, EPHEMERAL, established=True))  # SYN-ACK
            and ok(out, Packet("tcp", a, b, EPHEMERAL, port, established=True)))  # ACK, data


# --------------------------------------------------------------------------- chains


def internet_terms(pools: Sequence[Net]) -> list[Term]:
    """What comes back from the internet leg. It stands in for the stateful internet
    firewall: only replies (TCP with ACK/RST, echo-reply), never a new connection. No UDP:
    the zones resolve and sync time through the internal services."""
    zones = tuple(ipaddress.collapse_addresses(pools))
    return [
        Term("reply-tcp", "accept", ("tcp",), (), zones, established=True,
             comment="replies to connections the zones opened"),
        Term("reply-icmp", "accept", ("icmp",), (), zones, icmp_types=("echo-reply",),
             comment="replies to pings from the zones"),
        Term("default-deny", "deny", comment="nothing opens a connection from the internet"),
    ]


# --------------------------------------------------------------------------- the plan


def _one_address(net: Net) -> Addr:
    """The address that stands for a prefix: itself for a /32, else network + 10."""
    if net.prefixlen == 32:
        return net.network_address
    return net.network_address + min(HOST_OFFSET, net.num_addresses - 2)


def _host_address(net: Net, gateway: Addr, avoid: Sequence[Net]) -> Addr:
    """network + 10, or the next address that is neither the gateway nor a server's
    (the town hall's mgmt prefix holds the controller, its servers prefix the NOC)."""
    addr = net.network_address + HOST_OFFSET
    while addr < net.broadcast_address:
        if addr != gateway and not any(addr in n for n in avoid):
            return addr
        addr += 1
    raise LabInputError(f"no free host address in {net}")


def _probe_ports(specs: Iterable[str]) -> list[tuple[str, int | None]]:
    """``tcp/443``, ``udp/10000-20000``, ``icmp`` -> (proto, port): a range is probed on
    its first port; ``any`` on nothing extra (ping and the zone probes cover it)."""
    out: list[tuple[str, int | None]] = []
    for spec in specs:
        if spec == "icmp":
            item: tuple[str, int | None] = ("icmp", None)
        elif spec == "any":
            continue
        else:
            proto, _, ports = spec.partition("/")
            item = (proto, int(ports.split("-")[0]))
        if item not in out:
            out.append(item)
    return out


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


def build_plan(intent: Intent, sites: Sequence[str],
               terms: Mapping[str, Sequence[Term]] | None = None) -> LabPlan:
    """Everything the lab builds and probes for ``sites``.

    ``terms`` replaces :func:`nornir_tasks.policy.zone_terms` (tests inject a fault
    there); the expectations never read it.
    """
    for s in sites:
        if s not in intent.sites:
            raise LabInputError(f"unknown site {s!r}")
    zterms = dict(terms) if terms is not None else zone_terms(intent)
    pools = {z: p.pool for z, p in intent.pools.zones.items()}
    gw_host = intent.management.mgmt_gateway_host
    operators = operator_flows(intent)

    # servers, the NOC and the collectors: grouped by the zone that holds them; each group
    # is one namespace behind its own core leg, filtered by that zone's chain
    outside: list[tuple[str, str, str | None, Addr, Net]] = []  # key, kind, service, addr, net
    for name in sorted(intent.services):
        nets = intent.services[name].prefixes
        for i, net in enumerate(nets):
            key = name if len(nets) == 1 else f"{name}#{i + 1}"
            outside.append((key, "service", name, _one_address(net), net))
    for op in operators:
        for i, net in enumerate(op.sources):
            key = op.name if len(op.sources) == 1 else f"{op.name}#{i + 1}"
            outside.append((key, "operator", None, _one_address(net), net))
    groups: dict[str, list[tuple[str, str, str | None, Addr, Net]]] = {}
    for item in outside:
        zone = _zone_of(intent, item[3])
        if zone is None:  # the intent checks forbid it; a lab cannot place it either
            raise LabInputError(f"{item[0]} ({item[3]}) lies in no zone's pool")
        groups.setdefault(zone, []).append(item)
    avoid = [item[4] for item in outside]

    endpoints: list[Endpoint] = []
    direct: list[DirectNs] = []
    chain_ifaces: dict[str, list[str]] = {}
    for k, zone in enumerate(sorted(groups, key=lambda z: intent.zones[z].id)):
        link = _link_net(16 + k)
        ns, chain, iface = f"dc-{zone}", f"zone_{zone}", f"d{intent.zones[zone].vlan}"
        items = groups[zone]
        direct.append(DirectNs(
            ns, iface, Iface(f"{link.network_address + 1}/30"),
            Iface(f"{link.network_address + 2}/30"), chain,
            tuple(ipaddress.collapse_addresses(i[4] for i in items)),
            tuple(sorted({i[3] for i in items}))))
        chain_ifaces.setdefault(chain, []).append(iface)
        for key, kind, service, addr, _ in items:
            endpoints.append(Endpoint(key, kind, service or key.split("#")[0], addr, ns, chain,
                                      zone=zone, service=service))
    inet_link = _link_net(4)
    direct.append(DirectNs(INTERNET, "inet", Iface(f"{inet_link.network_address + 1}/30"),
                           Iface(f"{inet_link.network_address + 2}/30"), "internet",
                           (Net("0.0.0.0/0"),), (INTERNET_ADDRESS,)))
    chain_ifaces["internet"] = ["inet"]
    endpoints.append(Endpoint(INTERNET, "internet", INTERNET, INTERNET_ADDRESS, INTERNET,
                              "internet"))

    switches: list[SiteSwitch] = []
    legs: dict[str, list[Iface]] = {}
    for i, slug in enumerate(sites):
        site = intent.sites[slug]
        hosts = []
        for zone in intent.zones_at(site):
            net = site.prefixes[zone]
            vlan = intent.zones[zone].vlan
            gw = net.network_address + gw_host
            addr = _host_address(net, gw, avoid)
            host = HostNs(f"h-{slug}-{zone}", slug, zone, vlan, Iface(f"{addr}/{net.prefixlen}"),
                          gw, f"s{i}v{vlan}")
            hosts.append(host)
            legs.setdefault(zone, []).append(Iface(f"{gw}/{net.prefixlen}"))
            endpoints.append(Endpoint(f"{slug}/{zone}", "zone", zone, addr, host.name,
                                      f"zone_{zone}", zone=zone, site=slug, subnet=net,
                                      rank=intent.zones[zone].id))
        switches.append(SiteSwitch(i, slug, f"s{i}", f"t{i}s", f"t{i}c",
                                   tuple(sorted(h.vlan for h in hosts)), tuple(hosts)))
    core_legs = []
    for zone in sorted(legs, key=lambda z: intent.zones[z].id):
        vlan = intent.zones[zone].vlan
        core_legs.append(CoreLeg(zone, vlan, f"v{vlan}", f"c{vlan}", tuple(legs[zone])))
        chain_ifaces.setdefault(f"zone_{zone}", []).append(f"v{vlan}")

    chains: list[Chain] = []
    for zone in sorted(intent.zones, key=lambda z: intent.zones[z].id):
        name = f"zone_{zone}"
        if name in chain_ifaces:
            if zone not in zterms:
                raise LabInputError(f"no policy terms for zone {zone!r}")
            chains.append(Chain(name, tuple(chain_ifaces[name]), tuple(zterms[zone]),
                                f"ingress from zone {zone}: policy.zone_terms()[{zone!r}]"))
    chains.append(Chain("internet", ("inet",), tuple(internet_terms(list(pools.values()))),
                        "from the internet: replies only"))

    plan = LabPlan(list(sites), switches, core_legs, direct, chains, list(PRIVATE), endpoints)
    _add_probes(intent, plan)
    return plan


def _add_probes(intent: Intent, plan: LabPlan) -> None:
    entries = {c.name: _entries(c.terms) for c in plan.chains}
    zone_hosts = [e for e in plan.endpoints if e.kind == "zone"]
    services = [e for e in plan.endpoints if e.kind == "service"]
    operators = [e for e in plan.endpoints if e.kind == "operator"]
    internet = next(e for e in plan.endpoints if e.kind == "internet")
    pol = intent.policy

    def service_specs(name: str) -> list[str]:
        return [*intent.services[name].ports,
                *(p for f in pol.infrastructure if f.to == name for p in f.ports)]

    todo: list[tuple[Endpoint, Endpoint, list[tuple[str, int | None]]]] = []
    for src in zone_hosts:
        for dst in zone_hosts:
            if dst is not src:
                extra = [p for r in pol.rules if r.from_ == src.zone and r.to == dst.zone
                         for p in r.ports or []]
                todo.append((src, dst, _probe_ports([*ZONE_PROBES, *extra])))
        for dst in services:
            assert dst.service is not None
            todo.append((src, dst, _probe_ports(["icmp", *service_specs(dst.service)])))
        todo.append((src, internet, _probe_ports(INTERNET_PROBES)))
    for src in [*operators, internet]:
        specs = OPERATOR_SOURCE_PROBES.get(src.group, ZONE_PROBES)
        for dst in zone_hosts:
            todo.append((src, dst, _probe_ports(specs)))

    listen: dict[str, set[tuple[str, Addr, int]]] = {}
    for src, dst, probes in todo:
        for proto, port in probes:
            label = proto if port is None else f"{proto}/{port}"
            same = next((e.subnet for e in (src, dst) if e.subnet is not None
                         and (src.address in e.subnet) and (dst.address in e.subnet)), None)
            if same is not None:
                # on-link at the site: the packet never reaches the policy point
                plan.skipped.append(Skipped(src.key, dst.key, label,
                                            f"same subnet {same}: does not cross the core"))
                continue
            expected, reason = matrix_verdict(intent, src, dst, proto, port)
            model = model_verdict(entries, src, dst, proto, port)
            plan.probes.append(Probe(len(plan.probes) + 1, src, dst, proto, port, expected,
                                     reason, model))
            if port is not None:
                listen.setdefault(dst.namespace, set()).add((proto, dst.address, port))
    plan.listeners = {ns: [Listener(p, a, n) for p, a, n in sorted(items)]
                      for ns, items in sorted(listen.items())}
