"""First-match evaluation of a stateless IPv4 ACL, the way IOS-XE evaluates it.

Used by the tests and by ``verify`` on entries parsed from config text: a packet is
checked against each entry in sequence order; the first entry that matches decides; no
match is the implicit ``deny``. ``established`` matches TCP segments with ACK or RST set.

:func:`evaluate` and :func:`matches` are the definition. :func:`compile_acl` turns the
entries once into integer ranges (a :class:`CompiledAcl`, the same decisions) for callers
that ask one ACL many questions: ``compiled.evaluate(packet)`` answers like
:func:`evaluate`, and :meth:`CompiledAcl.first` takes the packet as integers (no
``ipaddress`` objects), after :meth:`CompiledAcl.addressed` has kept the entries whose
addresses match, so that a caller asking several packet shapes between the same two
addresses filters the addresses once. :func:`evaluate` itself uses the compiled form,
memoised on the entries' exact content.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nornir_tasks.design.structured import AclEntry

ICMP_ALIASES = {"echo": "echo-request"}
_PORTED = ("tcp", "udp")


@dataclass(frozen=True)
class Packet:
    protocol: str  # tcp | udp | icmp
    source: ipaddress.IPv4Address
    destination: ipaddress.IPv4Address
    src_port: int | None = None
    dst_port: int | None = None
    established: bool = False  # TCP with ACK or RST: a reply, not a new connection
    icmp_type: str | None = None  # echo-request | echo-reply


def _port_ok(spec: str | None, port: int | None) -> bool:
    if spec is None:
        return True
    if port is None:
        return False
    if "-" in spec:
        first, last = spec.split("-", 1)
        return int(first) <= port <= int(last)
    return port == int(spec)


def matches(entry: AclEntry, p: Packet) -> bool:
    """Does one permit/deny entry match the packet?

    >>> e = AclEntry(10, "permit", "tcp", None, ipaddress.ip_network("10.10.40.10/32"), "443")
    >>> matches(e, Packet("tcp", ipaddress.ip_address("10.32.0.5"),
    ...                   ipaddress.ip_address("10.10.40.10"), 50000, 443))
    True
    """
    if entry.action not in ("permit", "deny"):
        return False
    if entry.protocol not in (None, "ip", p.protocol):
        return False
    if entry.source is not None and p.source not in entry.source:
        return False
    if entry.destination is not None and p.destination not in entry.destination:
        return False
    if p.protocol in ("tcp", "udp") and not (_port_ok(entry.src_ports, p.src_port)
                                              and _port_ok(entry.dst_ports, p.dst_port)):
        return False
    if entry.protocol in ("tcp", "udp") and p.protocol not in ("tcp", "udp"):
        return False
    if entry.established and not (p.protocol == "tcp" and p.established):
        return False
    if entry.icmp_type is not None:
        want = ICMP_ALIASES.get(entry.icmp_type, entry.icmp_type)
        if p.protocol != "icmp" or ICMP_ALIASES.get(p.icmp_type or "", p.icmp_type) != want:
            return False
    return True


# --------------------------------------------------------------------------- compiled

#: a port spec as an inclusive range; a spec ``int`` cannot read stays text, and
#: :func:`_port_ok` raises on it exactly when :func:`matches` would
PortRange = tuple[int, int] | str | None

#: what of a packet besides its addresses an entry looks at: (protocol, source port,
#: destination port, established, ICMP type with its alias resolved)
Shape = tuple[str, int | None, int | None, bool, str | None]

_EMPTY = (1, 0)  # an address range nothing is in (an IPv6 prefix, for IPv4 packets)


def _range(net: ipaddress.IPv4Network | None) -> tuple[int, int]:
    if net is None:
        return 0, (1 << 32) - 1
    if net.version != 4:
        return _EMPTY
    return int(net.network_address), int(net.broadcast_address)


def _ports(spec: str | None) -> PortRange:
    if spec is None:
        return None
    try:
        if "-" in spec:
            first, last = spec.split("-", 1)
            return int(first), int(last)
        return int(spec), int(spec)
    except ValueError:
        return spec


def _port_in(spec: PortRange, port: int | None) -> bool:
    if spec is None:
        return True
    if port is None:
        return False
    if isinstance(spec, str):
        return _port_ok(spec, port)  # raises, as the definition does
    return spec[0] <= port <= spec[1]


def shape(p: Packet) -> Shape:
    """The packet's fields besides its addresses, as :meth:`CompiledAcl.first` takes
    them (the ICMP type's alias resolved the way :func:`matches` resolves it)."""
    return (p.protocol, p.src_port, p.dst_port, p.established,
            ICMP_ALIASES.get(p.icmp_type or "", p.icmp_type))


@dataclass(frozen=True, slots=True)
class _Rule:
    """One permit/deny entry as integers: what :func:`matches` checks, in its order."""

    entry: AclEntry
    protocol: str | None  # None: any (``ip`` or a standard ACL)
    src: tuple[int, int]
    dst: tuple[int, int]
    src_ports: PortRange
    dst_ports: PortRange
    established: bool
    icmp_type: str | None  # the alias resolved

    @classmethod
    def of(cls, e: AclEntry) -> _Rule:
        return cls(e, None if e.protocol in (None, "ip") else e.protocol,
                   _range(e.source), _range(e.destination), _ports(e.src_ports),
                   _ports(e.dst_ports), e.established,
                   None if e.icmp_type is None else ICMP_ALIASES.get(e.icmp_type, e.icmp_type))

    def takes(self, s: Shape) -> bool:
        """Does the entry match a packet of this shape whose addresses it matches?"""
        proto = s[0]
        if self.protocol is not None and self.protocol != proto:
            return False
        if proto in _PORTED and not (_port_in(self.src_ports, s[1])
                                     and _port_in(self.dst_ports, s[2])):
            return False
        if self.established and not (proto == "tcp" and s[3]):
            return False
        return self.icmp_type is None or (proto == "icmp" and s[4] == self.icmp_type)


class CompiledAcl:
    """An ACL's entries in evaluation order, as integer ranges: the decisions of
    :func:`evaluate` without ``ipaddress`` objects or sorting per packet.

    >>> net = ipaddress.ip_network
    >>> acl = compile_acl([
    ...     AclEntry(20, "permit", "ip"),
    ...     AclEntry(10, "deny", "tcp", None, net("10.10.40.0/24"), "22"),
    ...     AclEntry(5, "remark", remark="ssh to the servers is closed")])
    >>> ip = ipaddress.ip_address
    >>> acl.evaluate(Packet("tcp", ip("10.32.0.5"), ip("10.10.40.10"), 50000, 22))[1].seq
    10
    >>> rules = acl.addressed(int(ip("10.32.0.5")), int(ip("10.10.50.1")))
    >>> CompiledAcl.first(rules, ("tcp", 50000, 22, False, None)).action
    'permit'
    """

    __slots__ = ("entries", "position", "rules")

    def __init__(self, entries: Iterable[AclEntry]) -> None:
        given = tuple(entries)
        #: where each entry object stands in the entries given (its first place)
        self.position: dict[int, int] = {}
        for i, e in enumerate(given):
            self.position.setdefault(id(e), i)
        ordered = sorted(given, key=lambda e: e.seq)  # stable, as evaluate sorts
        self.entries = tuple(ordered)
        self.rules = tuple(_Rule.of(e) for e in ordered if e.action in ("permit", "deny"))

    def addressed(self, src: int, dst: int) -> tuple[_Rule, ...]:
        """The entries whose source and destination hold these (IPv4) addresses."""
        return tuple(r for r in self.rules
                     if r.src[0] <= src <= r.src[1] and r.dst[0] <= dst <= r.dst[1])

    @staticmethod
    def first(rules: Sequence[_Rule], s: Shape) -> AclEntry | None:
        """The deciding entry among ``rules`` (from :meth:`addressed`) for a packet of
        shape ``s``; None: the implicit deny."""
        for r in rules:
            if r.takes(s):
                return r.entry
        return None

    def evaluate(self, packet: Packet) -> tuple[str, AclEntry | None]:
        """Exactly :func:`evaluate` of the entries on ``packet``."""
        src, dst = packet.source, packet.destination
        if not (isinstance(src, ipaddress.IPv4Address)
                and isinstance(dst, ipaddress.IPv4Address)):
            return _evaluate_slowly(self.entries, packet)  # not IPv4: the definition
        entry = self.first(self.addressed(int(src), int(dst)), shape(packet))
        return ("deny", None) if entry is None else (entry.action, entry)


def _evaluate_slowly(entries: Sequence[AclEntry], packet: Packet) -> tuple[str,
                                                                           AclEntry | None]:
    for entry in entries:
        if matches(entry, packet):
            return entry.action, entry
    return "deny", None


#: compiled ACLs by their exact entries (bounded: callers build many small ACLs)
_COMPILED: dict[tuple[AclEntry, ...], CompiledAcl] = {}
_COMPILED_MAX = 4096
#: the last entries object seen per id, for a lookup without hashing every entry: a hit
#: needs the same entry objects in the same order (kept alive here, so the id is theirs)
_BY_ID: dict[int, tuple[object, tuple[AclEntry, ...], CompiledAcl]] = {}


def compile_acl(entries: Iterable[AclEntry]) -> CompiledAcl:
    """The compiled form of ``entries``, memoised on their exact content (the same
    entries in the same order give the same object)."""
    snapshot = tuple(entries)
    known = _BY_ID.get(id(entries))
    if known is not None and known[0] is entries and known[1] == snapshot:
        return known[2]
    compiled = _COMPILED.get(snapshot)
    if compiled is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
            _BY_ID.clear()
        compiled = _COMPILED[snapshot] = CompiledAcl(snapshot)
    if isinstance(entries, (list, tuple)):
        if len(_BY_ID) >= _COMPILED_MAX:
            _BY_ID.clear()
        _BY_ID[id(entries)] = (entries, snapshot, compiled)
    return compiled


def evaluate(entries: Iterable[AclEntry], packet: Packet) -> tuple[str, AclEntry | None]:
    """``("permit" | "deny", the deciding entry)``; ``None`` for the implicit deny.

    The deciding entry is the caller's own object, even when the compiled form was made
    from equal entries of another caller."""
    given = entries if isinstance(entries, (list, tuple)) else tuple(entries)
    compiled = compile_acl(given)
    action, entry = compiled.evaluate(packet)
    if entry is None:
        return action, None
    return action, given[compiled.position[id(entry)]]
