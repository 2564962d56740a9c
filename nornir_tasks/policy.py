"""The zone policy matrix compiled into stateless ingress ACLs, one per zone, by Aerleon.

The core pair is the single policy point. Every core interface that faces a zone's hosts
(the per-site transit links and the town hall's own zone SVIs) filters what enters from
that zone with ``ZONE-<ZONE>-IN``. The ACLs are stateless, exactly like IOS-XE ACLs, so
replies need explicit terms: TCP ``established``, UDP from the service port, ICMP
echo-reply.

Term order of each zone's ACL (first match wins):

1. replies to the flows others may open towards the zone (every :func:`flows` entry whose
   destination is this zone: the operator's NOC, monitoring and RADIUS CoA towards the
   management zone; the zones' traffic towards the services in the data centre);
2. traffic inside the zone (between its own sites);
3. what the zone may open: infrastructure flows and its rules, on their ports;
4. internet: deny every internal prefix, then permit anything else;
5. deny everything.

The same flows decide the route-target imports of each zone's VRF at the core
(:func:`route_imports`), so routing and filtering say the same thing.

The matrix is compiled into vendor-neutral :class:`Term` s first; Aerleon (a maintained
ACL generator) turns them into Cisco extended ACLs, which are parsed back into
structured :class:`~nornir_tasks.design.structured.AclEntry` s so the template prints them
the way the device does (sequence numbers, port names).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Any

from nornir_tasks.design.structured import Acl, AclEntry
from nornir_tasks.intent.checks import INTERNET
from nornir_tasks.intent.flows import host_zones, service_prefixes, zone_holding
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.intent.model import FlowEnd

Net = ipaddress.IPv4Network
PRIVATE = [Net("10.0.0.0/8"), Net("172.16.0.0/12"), Net("192.168.0.0/16")]


def acl_name(zone: str) -> str:
    """Name of a zone's ingress ACL on the core.

    >>> acl_name("pupils")
    'ZONE-PUPILS-IN'
    """
    return f"ZONE-{zone.upper()}-IN"


@dataclass(frozen=True)
class Term:
    """One vendor-neutral, stateless filter term."""

    name: str
    action: str  # accept | deny
    protocols: tuple[str, ...] = ()  # () = any IP protocol
    source: tuple[Net, ...] = ()  # () = any
    destination: tuple[Net, ...] = ()
    source_ports: tuple[str, ...] = ()  # "443" or "10000-20000"
    destination_ports: tuple[str, ...] = ()
    established: bool = False
    icmp_types: tuple[str, ...] = ()  # echo-request | echo-reply
    comment: str = ""


def _split_ports(ports: list[str]) -> dict[str, list[str]]:
    """``["tcp/443", "udp/53", "icmp"]`` -> ``{"tcp": ["443"], "udp": ["53"], "icmp": []}``.

    >>> _split_ports(["tcp/443", "udp/10000-20000", "tcp/53"])
    {'tcp': ['443', '53'], 'udp': ['10000-20000']}
    """
    out: dict[str, list[str]] = {}
    for spec in ports:
        proto, _, port = spec.partition("/")
        out.setdefault(proto, [])
        if port:
            out[proto].append(port)
    return out


def _service_terms(prefix: str, src: tuple[Net, ...], dst: tuple[Net, ...],
                   ports: list[str], comment: str,
                   source_ports: list[str] | None = None) -> list[Term]:
    """What an opener may send: the flow's ports, from its fixed source ports if it has
    them (DHCP relay 67, renewal 68, NTP 123), else from any port."""
    fixed = _split_ports(list(source_ports or ()))
    terms = []
    for proto, plist in sorted(_split_ports(ports).items()):
        if proto == "any":
            terms.append(Term(f"{prefix}-ip", "accept", (), src, dst, comment=comment))
        elif proto == "icmp":
            terms.append(Term(f"{prefix}-icmp", "accept", ("icmp",), src, dst,
                              icmp_types=("echo-request",), comment=comment))
        elif source_ports and not fixed.get(proto):
            continue  # the flow fixes source ports of this protocol: none given
        else:
            terms.append(Term(f"{prefix}-{proto}", "accept", (proto,), src, dst,
                              source_ports=tuple(fixed.get(proto, ())),
                              destination_ports=tuple(plist), comment=comment))
    return terms


#: where a client's replies go when a flow does not fix its source ports
EPHEMERAL = "1024-65535"


def _reply_terms(prefix: str, src: tuple[Net, ...], dst: tuple[Net, ...],
                 ports: list[str], source_ports: list[str] | None, comment: str) -> list[Term]:
    """Stateless replies from ``src`` (the answering side) to ``dst`` (the opener).

    A reply leaves the service port and goes back to the port the opener sent from: the
    flow's ``source_ports``, by default the ephemeral range. Scoping the destination port
    keeps a host of the answering side from reaching any port of the opener by choosing
    the service port as its source port.
    """
    back = _split_ports(list(source_ports or ()))
    terms = []
    for proto, plist in sorted(_split_ports(ports).items()):
        dports = tuple(back.get(proto, [])) if source_ports else (EPHEMERAL,)
        if proto in ("tcp", "udp") and not dports:
            continue  # the flow fixes source ports of the other protocol only
        if proto == "tcp":
            terms.append(Term(f"{prefix}-tcp", "accept", ("tcp",), src, dst,
                              source_ports=tuple(plist), destination_ports=dports,
                              established=True, comment=comment))
        elif proto == "udp":
            terms.append(Term(f"{prefix}-udp", "accept", ("udp",), src, dst,
                              source_ports=tuple(plist), destination_ports=dports,
                              comment=comment))
        elif proto == "icmp":
            terms.append(Term(f"{prefix}-icmp", "accept", ("icmp",), src, dst,
                              icmp_types=("echo-reply",), comment=comment))
    return terms


@dataclass(frozen=True)
class Flow:
    """A flow the matrix allows: who may open what towards whom."""

    name: str
    src_zone: str
    src: tuple[Net, ...]
    dst_zone: str  # a zone, or INTERNET
    dst: tuple[Net, ...]  # () for the internet
    ports: tuple[str, ...]
    comment: str
    source_ports: tuple[str, ...] | None = None  # the opener's; None = ephemeral
    reply: bool = True
    stateful: bool = False  # routed through the town-hall firewall, which keeps state


def service_zone(intent: Intent, service: str) -> str:
    """The zone a service lives in: the zone whose committed prefix holds its addresses."""
    zone = zone_holding(intent, list(intent.services[service].prefixes))
    if zone is None:
        raise ValueError(f"service {service!r} is in no zone prefix (the intent checks say so)")
    return zone


def end_parts(intent: Intent, end: FlowEnd) -> list[tuple[str, tuple[Net, ...]]]:
    """The zones a flow end lives in, with the prefixes the ACL terms use for each.

    Zones, relay agents and devices are written as their zone's whole pool: listing every
    site's gateway or every device would grow each ACL with the estate. What the pool
    adds beyond the declared hosts is computed by ``verify`` as exposure and must be
    accepted in the intent (``zone_policy.accepted_exposures``).
    """
    pools = {z: (p.pool,) for z, p in intent.pools.zones.items()}
    out: list[tuple[str, tuple[Net, ...]]] = [(z, pools[z]) for z in host_zones(intent, end)]
    if end.service is not None:
        nets = tuple(service_prefixes(intent, end.service))
        out.append((_zone_of(intent, nets), nets))
    return out


@per_intent
def flows(intent: Intent) -> list[Flow]:
    """Every allowed flow: the zone rules and the infrastructure (required) flows
    (computed once per intent: every core VRF's imports and every zone's ACL ask)."""
    pools = {z: (p.pool,) for z, p in intent.pools.zones.items()}
    pol = intent.policy
    out: list[Flow] = []
    for i, rule in enumerate(pol.rules):
        if rule.to == INTERNET:
            out.append(Flow(f"rule-{i}-internet", rule.from_, pools[rule.from_], INTERNET, (),
                            tuple(rule.ports or ["any"]),
                            rule.description or f"{rule.from_} to the internet"))
        elif rule.to in intent.services:
            svc = intent.services[rule.to]
            out.append(Flow(f"rule-{i}-{rule.to}", rule.from_, pools[rule.from_],
                            service_zone(intent, rule.to), tuple(svc.prefixes),
                            (*(rule.ports or svc.ports), "icmp"),
                            rule.description or f"{rule.from_} to {rule.to}",
                            stateful=rule.stateful))
        else:
            out.append(Flow(f"rule-{i}-{rule.to}", rule.from_, pools[rule.from_], rule.to,
                            pools[rule.to], tuple(rule.ports or []),
                            rule.description or f"{rule.from_} to {rule.to}",
                            stateful=rule.stateful))
    for flow in pol.infrastructure:
        for src_zone, src in end_parts(intent, flow.from_):
            for dst_zone, dst in end_parts(intent, flow.to):
                out.append(Flow(f"infra-{flow.name}", src_zone, src, dst_zone, dst,
                                tuple(flow.ports), flow.description or flow.name,
                                tuple(flow.source_ports) if flow.source_ports else None,
                                flow.reply))
    return out


def _zone_of(intent: Intent, nets: tuple[Net, ...]) -> str:
    zone = zone_holding(intent, list(nets))
    if zone is None:
        raise ValueError(f"{nets} is in no zone prefix (the intent checks say so)")
    return zone


def zone_terms(intent: Intent) -> dict[str, list[Term]]:
    """The compiled terms of every zone's ingress ACL, in evaluation order."""
    pools = {z: (p.pool,) for z, p in intent.pools.zones.items()}
    internal = tuple(ipaddress.collapse_addresses(
        [*PRIVATE, *(p.pool for p in intent.pools.zones.values()),
         *(n for s in intent.services.values() for n in s.prefixes)]))
    allowed = flows(intent)
    out: dict[str, list[Term]] = {}
    for zone in sorted(intent.zones, key=lambda z: intent.zones[z].id):
        terms: list[Term] = []
        # 1. replies to what others may open towards this zone
        for f in allowed:
            if f.dst_zone == zone and f.src_zone != zone and f.reply:
                terms += _reply_terms(f"reply-{f.name}-{f.src_zone}", f.dst, f.src,
                                      list(f.ports), list(f.source_ports or ()) or None,
                                      f"replies: {f.comment}")
        # 2. inside the zone, between its own sites
        terms.append(Term("intra-zone", "accept", (), pools[zone], pools[zone],
                          comment=f"{zone} to {zone}"))
        # 3. what this zone may open towards other zones and services
        to_internet = False
        for f in allowed:
            if f.src_zone != zone or f.dst_zone == zone:
                continue
            if f.dst_zone == INTERNET:
                to_internet = True
                continue
            terms += _service_terms(f.name, f.src, f.dst, list(f.ports), f.comment,
                                    list(f.source_ports or ()) or None)
        # 4. internet: nothing internal, anything else
        if to_internet:
            terms.append(Term("internet-not-internal", "deny", (), pools[zone], internal,
                              comment="internet only: no internal destination"))
            terms.append(Term("internet", "accept", (), pools[zone], (),
                              comment=f"{zone} to the internet"))
        # 5. default deny
        terms.append(Term("default-deny", "deny", comment="default deny between zones"))
        out[zone] = terms
    return out


def route_imports(intent: Intent) -> dict[str, list[str]]:
    """Which zones' routes each zone's VRF imports at the core: the destinations of its
    allowed flows, and the sources of flows towards it (for the replies). Nothing else,
    so routing itself already keeps the zones apart where the matrix says deny."""
    imports: dict[str, set[str]] = {z: set() for z in intent.zones}
    for f in flows(intent):
        if f.dst_zone in (INTERNET, f.src_zone) or f.stateful:
            continue  # a stateful pair is routed through the firewall, never leaked
        imports[f.src_zone].add(f.dst_zone)
        imports[f.dst_zone].add(f.src_zone)
    return {z: sorted(v, key=lambda n: intent.zones[n].id) for z, v in imports.items()}


def internet_zones(intent: Intent) -> list[str]:
    """Zones with a default route to the internet firewall."""
    return sorted({r.from_ for r in intent.policy.rules if r.to == INTERNET},
                  key=lambda z: intent.zones[z].id)


def stateful_pairs(intent: Intent) -> list[tuple[str, str]]:
    """The zone pairs routed through the town-hall firewall (sorted by zone id)."""
    pairs: set[tuple[str, str]] = set()
    for f in flows(intent):
        if f.stateful:
            a, b = sorted((f.src_zone, f.dst_zone), key=lambda z: intent.zones[z].id)
            pairs.add((a, b))
    return sorted(pairs, key=lambda p: (intent.zones[p[0]].id, intent.zones[p[1]].id))


def firewall_zones(intent: Intent) -> list[str]:
    """Zones with a leg on the firewall: those with an internet rule, and both zones of
    every stateful pair."""
    zones = set(internet_zones(intent)) | {z for p in stateful_pairs(intent) for z in p}
    return sorted(zones, key=lambda z: intent.zones[z].id)


def firewall_routes(intent: Intent) -> list[tuple[str, Net, str]]:
    """(VRF zone, prefix, leg zone) of every route through the firewall of a stateful
    pair: in each zone's VRF, the other zone's pool, by that zone's own leg."""
    out = []
    for a, b in stateful_pairs(intent):
        out.append((a, intent.pools.zones[b].pool, a))
        out.append((b, intent.pools.zones[a].pool, b))
    return out


# --------------------------------------------------------------------------- Aerleon


def _aerleon_inputs(terms: dict[str, list[Term]]) -> tuple[list[dict[str, Any]],
                                                            dict[str, Any]]:
    """Aerleon policy (one filter per zone) and its network/service definitions."""
    networks: dict[str, Any] = {}
    services: dict[str, Any] = {}

    def net_name(nets: tuple[Net, ...]) -> str:
        name = "NET_" + "_".join(str(n).replace(".", "_").replace("/", "_") for n in nets)
        networks.setdefault(name, {"values": [{"address": str(n)} for n in nets]})
        return name

    def svc_name(protos: tuple[str, ...], ports: tuple[str, ...]) -> str:
        name = "SVC_" + "_".join(protos) + "_" + "_".join(p.replace("-", "_") for p in ports)
        services.setdefault(name, [{"port": p, "protocol": proto}
                                   for p in ports for proto in protos])
        return name

    filters = []
    for zone, zterms in terms.items():
        aterms = []
        for t in zterms:
            at: dict[str, Any] = {"name": t.name, "action": t.action}
            if t.comment:
                at["comment"] = t.comment
            if t.protocols:
                at["protocol"] = " ".join(t.protocols)
            if t.source:
                at["source-address"] = net_name(t.source)
            if t.destination:
                at["destination-address"] = net_name(t.destination)
            if t.source_ports:
                at["source-port"] = svc_name(t.protocols, t.source_ports)
            if t.destination_ports:
                at["destination-port"] = svc_name(t.protocols, t.destination_ports)
            if t.established:
                at["option"] = "tcp-established"
            if t.icmp_types:
                at["icmp-type"] = " ".join(t.icmp_types)
            aterms.append(at)
        filters.append({"header": {"targets": {"cisco": f"{acl_name(zone)} extended"}},
                        "terms": aterms})
    policy = {"filename": "zones", "filters": filters}
    return [policy], {"networks": networks, "services": services}


_ADDR = r"(?:any|host \S+|\S+ \S+)"
_PORT = r"(?:eq \S+|range \S+ \S+)"
_LINE = re.compile(
    rf"^(?P<action>permit|deny) (?P<proto>\S+) (?P<src>{_ADDR})(?: (?P<sport>{_PORT}))?"
    rf" (?P<dst>{_ADDR})(?: (?P<dport>{_PORT}))?(?: (?P<icmp>\d+))?"
    rf"(?P<est> established)?$")
_ICMP_NAMES = {"0": "echo-reply", "8": "echo"}
#: the longest ACL remark IOS accepts
REMARK_MAX = 100


def _net(text: str) -> Net | None:
    if text == "any":
        return None
    if text.startswith("host "):
        return Net(f"{text[5:]}/32")
    addr, wildcard = text.split()
    return Net(f"{addr}/{wildcard}")


def _ports(text: str | None) -> str | None:
    if text is None:
        return None
    parts = text.split()
    return parts[1] if parts[0] == "eq" else f"{parts[1]}-{parts[2]}"


def parse_cisco_acl(text: str) -> dict[str, list[AclEntry]]:
    """Aerleon's Cisco output -> structured entries, numbered as IOS-XE numbers them.

    A remark takes the sequence number of the entry after it, the way 17.x prints it.
    """
    acls: dict[str, list[AclEntry]] = {}
    current: list[AclEntry] | None = None
    block: list[str] = []
    seq = 0
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("ip access-list extended "):
            current = acls.setdefault(line.split()[-1], [])
            seq, block = 0, []
            continue
        if current is None or not line or line.startswith(("!", "no ", "exit")):
            continue
        if line.startswith("remark "):
            text_ = line[len("remark "):]
            if "$" not in text_:  # Aerleon's $Id:$ placeholders
                block.append(text_)
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"unexpected ACL line from Aerleon: {line!r}")
        seq += 10
        if block:
            # Aerleon writes the term's name, then its comment wrapped over several
            # remarks: keep the comment as one remark, cut to what IOS takes (100)
            remark = " ".join(block[1:]) or block[0]
            current.append(AclEntry(seq=seq, action="remark", remark=remark[:REMARK_MAX]))
            block = []
        current.append(AclEntry(
            seq=seq, action=m["action"], protocol=m["proto"], source=_net(m["src"]),
            destination=_net(m["dst"]), src_ports=_ports(m["sport"]),
            dst_ports=_ports(m["dport"]), established=bool(m["est"]),
            icmp_type=_ICMP_NAMES.get(m["icmp"], m["icmp"]) if m["icmp"] else None))
    return acls


@per_intent
def _generate(intent: Intent) -> dict[str, list[AclEntry]]:
    """One Aerleon run per intent: every core switch and verify ask for the same ACLs."""
    from aerleon import api
    from aerleon.lib import naming

    policies, defs = _aerleon_inputs(zone_terms(intent))
    definitions = naming.Naming()
    definitions.ParseDefinitionsObject(defs, "")
    # Aerleon logs a warning per expanded term; the output is checked, not the log
    logging.getLogger("absl").setLevel(logging.ERROR)
    out = api.Generate(policies, definitions)  # type: ignore[arg-type]  # plain dicts
    assert out is not None
    return parse_cisco_acl(out["zones.acl"])


@per_intent
def zone_acls(intent: Intent) -> list[Acl]:
    """Every zone's ingress ACL, sorted by name (the order IOS-XE prints them); the same
    objects for both cores (their text is rendered once)."""
    acls = _generate(intent)
    return [Acl(name, "extended", entries) for name, entries in sorted(acls.items())]
