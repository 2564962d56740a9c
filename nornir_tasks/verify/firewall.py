"""The town-hall firewall's policy read back from its TEXT (the nftables file of a build).

A stateful pair of zones is routed through the firewall instead of leaking routes at the
core (:mod:`nornir_tasks.firewall`). What crosses it is decided by connection state, which
no stateless ACL can express: a packet from A to B passes when it opens a connection a
rule accepts (``ct state new accept``), or when it belongs to a connection accepted the
other way (``ct state established,related accept``): the reply of a real connection, from
the port that was asked, to the port that asked, whatever the host sends.

This module reads the subset of nftables the generator writes (a ``forward`` base chain
with ``policy drop``, the established/related accept, and one jump per term chain whose
rules match ``ip saddr``, ``ip daddr``, ``ip protocol``, ``tcp|udp dport`` and end in
``ct state new accept`` or ``drop``), in rule order, first match; anything else is an
unreadable line (a violation: a hole in the proof). From it:

* :meth:`FirewallPolicy.new` — the headers that may open a connection (Linux tracks TCP
  loosely, so any flags of the accepted ports, not only a SYN);
* :meth:`FirewallPolicy.forward` — what the firewall forwards at all: new connections,
  and the replies of new connections of the other way (source and destination swapped,
  their ports swapped, any flags; ICMP echo answered by echo-reply).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nornir_tasks.verify.headerspace import Row, Space

#: the generator's base chain and the rules this reader understands
_TABLE = re.compile(r"^table ip \S+ \{$")
_CHAIN = re.compile(r"^chain (\S+) \{$")
_SET = re.compile(r"\{([^}]*)\}")


@dataclass
class Rule:
    lineno: int
    text: str
    action: str  # accept | drop
    space: Space
    #: what the rule matches, as read: protocols, source and destination prefixes and
    #: destination ports (None: any)
    fields: Fields | None = None


#: (protocols or None for any, sources, destinations, destination ports)
Fields = tuple[list[str] | None, list[str] | None, list[str] | None, list[str] | None]


@dataclass
class FirewallPolicy:
    path: str
    rules: list[Rule] = field(default_factory=list)
    stateful: bool = False  # the base chain accepts established,related first
    stateful_line: tuple[int, str] | None = None
    default: str = "drop"
    default_line: tuple[int, str] | None = None
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    def new(self) -> Space:
        """Headers that open a connection: the accepted ones, first match."""
        out = Space.empty()
        seen = Space.empty()
        for r in self.rules:
            if r.action == "accept":
                out |= r.space - seen
            seen |= r.space
        if self.default == "accept":
            out |= Space.full() - seen
        return out

    def forward(self) -> Space:
        """What the firewall forwards: new connections and, if stateful, their replies."""
        new = self.new()
        return new | reverse(new) if self.stateful else new

    def rule_for(self, space: Space) -> Rule | None:
        """The first accepting rule that lets part of ``space`` open a connection."""
        seen = Space.empty()
        for r in self.rules:
            if r.action == "accept" and (r.space - seen) & space:
                return r
            seen |= r.space
        return None


def reverse(space: Space) -> Space:
    """The replies of the connections in ``space``: addresses and ports swapped, any TCP
    flags, ICMP echo answered by echo-reply (other ICMP types by any type: errors are
    related to their connection).

    >>> s = Space.of_flow("tcp", ["10.0.0.0/24"], ["10.9.0.1/32"], dport="443")
    >>> [r.text() for r in reverse(s).rows()]
    ['tcp 10.9.0.1/32 sport 443 -> 10.0.0.0/24']
    """
    out = Space.empty()
    for row in space.rows():
        out |= _reverse_row(row)
    return out


def _reverse_row(row: Row) -> Space:
    if row.protocol == "tcp":
        return Space.of_flow("tcp", row.destinations, row.sources, sport=row.dport or None,
                             dport=row.sport or None)
    if row.protocol == "udp":
        return Space.of_flow("udp", row.destinations, row.sources, sport=row.dport or None,
                             dport=row.sport or None)
    if row.protocol == "icmp":
        types = row.icmp_types
        answer = ["echo-reply"] if types and set(types) <= {"echo", "8"} else None
        return Space.of_flow("icmp", row.destinations, row.sources, icmp_types=answer)
    # ip, several protocols or others: every packet of those protocols back
    return Space.of_flow(row.protocol, row.destinations, row.sources)


def _values(text: str) -> list[str]:
    m = _SET.fullmatch(text.strip())
    inner = m.group(1) if m else text
    return [v.strip() for v in inner.split(",") if v.strip()]


def _rule(text: str) -> tuple[str, Space, Fields]:
    """One rule line -> (action, the headers it matches, the fields it names).
    ValueError if unreadable."""
    words = text
    action = ""
    for tail in (" ct state new accept", " accept", " drop"):
        if words.endswith(tail):
            action = "accept" if "accept" in tail else "drop"
            words = words[: -len(tail)]
            break
    else:
        if words in ("drop", "accept"):
            return words, Space.full(), (None, None, None, None)
        raise ValueError("the rule neither accepts nor drops")
    src = dst = None
    protocol = "ip"
    dport: list[str] | None = None
    rest = words.strip()
    while rest:
        m = re.match(r"^ip (saddr|daddr) (\{[^}]*\}|\S+)\s*", rest)
        if m:
            values = _values(m.group(2))
            if m.group(1) == "saddr":
                src = values
            else:
                dst = values
            rest = rest[m.end():]
            continue
        m = re.match(r"^ip protocol (\{[^}]*\}|\S+)\s*", rest)
        if m:
            protocol = ",".join(_values(m.group(1)))
            rest = rest[m.end():]
            continue
        m = re.match(r"^(tcp|udp) dport (\{[^}]*\}|\S+)\s*", rest)
        if m:
            protocol, dport = m.group(1), _values(m.group(2))
            rest = rest[m.end():]
            continue
        raise ValueError(f"unexpected {rest.split()[0]!r}")
    protocols = None if protocol == "ip" else protocol.split(",")
    return action, Space.of_flow(protocol, src, dst, dport=dport), (protocols, src, dst, dport)


def read_firewall(path: str, text: str) -> FirewallPolicy:
    """Read the generated policy: the base chain's order of jumps, each chain's rules."""
    policy = FirewallPolicy(path)
    chains: dict[str, list[tuple[int, str]]] = {}
    current: str | None = None
    base = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or _TABLE.match(line) or line.startswith(
                "comment "):
            continue
        m = _CHAIN.match(line)
        if m:
            current = m.group(1)
            chains[current] = []
            continue
        if line == "}":
            current = None
            continue
        if current is None:
            policy.problems.append((n, line, "outside a chain"))
            continue
        if line.startswith("type filter hook "):
            base = current
            if "hook forward" not in line:
                policy.problems.append((n, line, "not the forward hook"))
            policy.default = "accept" if "policy accept" in line else "drop"
            policy.default_line = (n, line)
            continue
        chains[current].append((n, line))
    if base is None:
        policy.problems.append((0, "", "no base chain on the forward hook"))
        return policy
    # the base chain in order, its jumps followed one level (the generator's shape):
    # a rule anywhere else that nft would evaluate is a line this reader cannot place
    for i, (n, line) in enumerate(chains[base]):
        if line == "ct state established,related accept":
            if i == 0:
                policy.stateful, policy.stateful_line = True, (n, line)
            else:
                policy.problems.append((n, line, "cannot read: state accepted after other "
                                        "rules"))
        elif line.startswith("jump "):
            name = line.split()[1]
            if name not in chains:
                policy.problems.append((n, line, f"no chain {name!r}"))
            for k, inner in chains.get(name, []):
                _add_rule(policy, k, inner)
        else:
            _add_rule(policy, n, line)
    return policy


def _add_rule(policy: FirewallPolicy, n: int, line: str) -> None:
    if line.startswith(("jump ", "goto ", "ct state ")):
        policy.problems.append((n, line, "cannot read: nested jumps and state matches "
                                "are not modelled"))
        return
    try:
        action, space, fields = _rule(line)
    except ValueError as exc:
        policy.problems.append((n, line, f"cannot read: {exc}"))
        return
    policy.rules.append(Rule(n, line, action, space, fields))
