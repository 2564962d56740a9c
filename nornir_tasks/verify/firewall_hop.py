"""The town-hall firewall as one more hop of the routing model, for the stateful pairs.

A stateful pair's traffic leaves the core on the opener's leg towards the firewall and
comes back on the other zone's leg (:mod:`nornir_tasks.firewall`). The firewall is not a
device of the estate, so verify builds it from what is known of it:

* its legs, from the intent (``zone_policy.internet_edge``: zone N has the N-th /29 of
  the transit block, the firewall at .6, the core pair's HSRP address at .1), one per
  zone with a firewall leg (:func:`nornir_tasks.policy.firewall_zones`);
* its routes: **an assumption, handed over in ``firewall/README.md``**: every zone's pool
  back into that zone's own leg, to the core pair's address there (the firewall's own
  routing is its administrator's, not in any generated text);
* what it forwards, read from the generated policy TEXT (:mod:`.firewall`): the
  replies of accepted connections first (``ct state established,related accept``), then
  the rules in order, then the chain's policy. For a probe, which carries no connection
  state, that is "a new connection a rule accepts, or the reverse of one" — the same
  header space :meth:`FirewallPolicy.forward` gives the exposure check.

The routing model hands a packet to the firewall only on a route towards an internal
prefix (a stateful pair's pool); the default route still leaves the estate there, as
before: what lies beyond the firewall is not in the text.
"""

from __future__ import annotations

import ipaddress

from nornir_tasks.design.structured import AclEntry
from nornir_tasks.intent.loader import Intent
from nornir_tasks.policy import firewall_zones
from nornir_tasks.verify.firewall import FirewallPolicy
from nornir_tasks.verify.model import (
    Acl,
    AclRule,
    Address,
    DeviceText,
    Interface,
    Net,
    StaticRoute,
)
from nornir_tasks.verify.parse import ConfigTree, Line

#: the firewall's name in findings: they point at lines of its policy file
FIREWALL_HOST = "firewall/fellesnett.nft"
FORWARD = "forward"
FIREWALL_OFFSET, CORE_VIP_OFFSET = 6, 1


def _net(n: ipaddress.IPv4Network) -> Net:
    return Net(int(n.network_address), n.prefixlen)


def _entries(policy: FirewallPolicy) -> tuple[list[AclEntry], list[AclRule]]:
    """The policy as first-match entries over one packet's headers."""
    entries: list[AclEntry] = []
    rules: list[AclRule] = []

    def add(line: Line, entry: AclEntry) -> None:
        rules.append(AclRule(line, None))
        entries.append(AclEntry(len(entries), entry.action, entry.protocol, entry.source,
                                entry.destination, entry.dst_ports, False, None,
                                entry.src_ports, entry.icmp_type))

    expanded = [(r, list(_expand(r.action, r.fields))) for r in policy.rules
                if r.fields is not None]
    if policy.stateful and policy.stateful_line is not None:
        line = Line(policy.stateful_line[1], policy.stateful_line[0])
        for rule, forward in expanded:
            if rule.action == "drop" and rule.fields == (None, None, None, None):
                break  # nothing after a catch-all drop opens a connection
            if rule.action == "accept":
                for e in forward:
                    add(line, _reverse(e))
    for rule, forward in expanded:
        line = Line(rule.text, rule.lineno)
        for e in forward:
            add(line, e)
    if policy.default == "accept" and policy.default_line is not None:
        add(Line(policy.default_line[1], policy.default_line[0]), AclEntry(0, "permit", "ip"))
    return entries, rules


def _expand(action: str, fields: tuple[list[str] | None, ...] | None
            ) -> list[AclEntry]:
    assert fields is not None
    protocols, sources, destinations, dports = fields
    act = "permit" if action == "accept" else "deny"
    out = []
    any_: list[str | None] = [None]
    for proto in protocols or ["ip"]:
        for src in sources or any_:
            for dst in destinations or any_:
                s = ipaddress.IPv4Network(src) if src else None
                d = ipaddress.IPv4Network(dst) if dst else None
                ports: list[str | None] = list(dports or any_) if proto in ("tcp", "udp") \
                    else any_
                for port in ports:
                    out.append(AclEntry(0, act, proto, s, d, port))
    return out


def _reverse(e: AclEntry) -> AclEntry:
    """The replies of the connections an accepting entry opens: addresses swapped, the
    port asked becomes the source port, any flags; ICMP of any type (echo-reply, and the
    errors conntrack relates to the connection)."""
    if e.protocol in ("tcp", "udp"):
        return AclEntry(0, "permit", e.protocol, e.destination, e.source, None,
                        src_ports=e.dst_ports)
    return AclEntry(0, "permit", e.protocol, e.destination, e.source)


def firewall_device(intent: Intent, policy: FirewallPolicy) -> DeviceText:
    """The firewall as the routing model sees it (see the module's docstring)."""
    edge = intent.policy.internet_edge
    base = int(edge.transit.network_address)
    root = Line("", 0)
    dev = DeviceText(FIREWALL_HOST, ConfigTree(FIREWALL_HOST, root, 0))
    entries, rules = _entries(policy)
    head = policy.default_line or (0, "")
    dev.acls[FORWARD] = Acl(FORWARD, "extended", Line(head[1], head[0]), entries, rules)
    for zone in firewall_zones(intent):
        first = base + 8 * intent.zones[zone].id
        leg = Net(first, 29)
        line = Line(f"leg of zone {zone} (zone_policy.internet_edge)", 0)
        intf = Interface(f"leg-{zone}", line, routed=True)
        intf.addresses.append(Address(first + FIREWALL_OFFSET, leg, line))
        intf.acl_in, intf.acl_in_line = FORWARD, dev.acls[FORWARD].line
        dev.interfaces[intf.name] = intf
        route = Line(f"route {intent.pools.zones[zone].pool} via the core pair on the "
                     f"{zone} leg (firewall/README.md)", 0)
        dev.routes.append(StaticRoute(None, _net(intent.pools.zones[zone].pool), route,
                                      next_hop=first + CORE_VIP_OFFSET))
    return dev
