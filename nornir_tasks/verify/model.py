"""What a device's config TEXT says, as typed records that keep their source lines.

:func:`read_device` turns a :class:`~nornir_tasks.verify.parse.ConfigTree` into a
:class:`DeviceText`: interfaces (VRF, addresses, HSRP, ACLs, switchport VLANs), the VLAN
database, VRF definitions with their route targets, static routes, local BGP, prefix
lists, route maps and ACLs. Every record holds the :class:`Line` it came from, so a
finding can name the device, the line number and the line.

Nothing here knows the intent: the checks compare these records with it.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from nornir_tasks.design.structured import AclEntry
from nornir_tasks.verify.parse import ConfigTree, Line, parse_section

ALL_VLANS = frozenset(range(1, 4095))
_DOTTED = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")

#: Port keywords IOS-XE prints instead of numbers (``show running-config`` form).
TCP_PORTS = {
    "bgp": 179, "chargen": 19, "cmd": 514, "daytime": 13, "discard": 9, "domain": 53,
    "echo": 7, "exec": 512, "finger": 79, "ftp": 21, "ftp-data": 20, "gopher": 70,
    "hostname": 101, "ident": 113, "irc": 194, "klogin": 543, "kshell": 544, "login": 513,
    "lpd": 515, "msrpc": 135, "nntp": 119, "onep-plain": 15001, "onep-tls": 15002,
    "pim-auto-rp": 496, "pop2": 109, "pop3": 110, "smtp": 25, "sunrpc": 111, "tacacs": 49,
    "talk": 517, "telnet": 23, "time": 37, "uucp": 540, "whois": 43, "www": 80,
}
UDP_PORTS = {
    "biff": 512, "bootpc": 68, "bootps": 67, "discard": 9, "dnsix": 195, "domain": 53,
    "echo": 7, "isakmp": 500, "mobile-ip": 434, "nameserver": 42, "netbios-dgm": 138,
    "netbios-ns": 137, "netbios-ss": 139, "non500-isakmp": 4500, "ntp": 123,
    "pim-auto-rp": 496, "rip": 520, "ripv6": 521, "snmp": 161, "snmptrap": 162,
    "sunrpc": 111, "syslog": 514, "tacacs": 49, "talk": 517, "tftp": 69, "time": 37,
    "who": 513, "xdmcp": 177,
}
_PROTO_NUMBERS = {"1": "icmp", "6": "tcp", "17": "udp", "0": "ip"}
_ICMP_TYPES = {"echo": "echo", "8": "echo", "echo-reply": "echo-reply", "0": "echo-reply"}
#: ACL options that narrow an entry to packets the probes cannot represent. A ``permit``
#: with one is read as if it matched regardless (it may open), a ``deny`` with one as if
#: it did not exist (it may not close): the worst case either way. ``fragments`` is one:
#: a ``permit ... fragments`` lets non-initial fragments of any port through.
_CONDITIONS = {"dscp", "precedence", "tos", "ttl", "time-range", "option", "syn", "fin",
               "psh", "urg", "match-any", "match-all", "fragments"}
_IGNORED = {"log", "log-input"}


def ip_int(text: str) -> int:
    """A dotted quad as an integer (ValueError for anything ipaddress would refuse)."""
    parts = text.split(".")
    if len(parts) == 4:
        value = 0
        for p in parts:
            # the plain form only (no leading zeros, ASCII digits, <= 255); the rest is
            # left to ipaddress, which says what is wrong with it
            if not (0 < len(p) <= 3 and p.isascii() and p.isdigit()) or (
                    len(p) > 1 and p[0] == "0"):
                break
            octet = int(p)
            if octet > 255:
                break
            value = value << 8 | octet
        else:
            return value
    return int(ipaddress.IPv4Address(text))


def int_ip(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


@functools.lru_cache(maxsize=1024)
def mask_len(mask: str) -> int:
    """``255.255.255.0`` -> 24. Raises ValueError on a non-contiguous mask."""
    return ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen


@dataclass(frozen=True, slots=True)
class Net:
    """An IPv4 prefix as integers, for fast membership tests."""

    addr: int
    plen: int
    mask: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mask",
                           (0xFFFFFFFF << (32 - self.plen)) & 0xFFFFFFFF if self.plen else 0)

    def __contains__(self, ip: object) -> bool:
        assert isinstance(ip, int)
        return (ip & self.mask) == self.addr

    def within(self, other: Net) -> bool:
        """Is this prefix inside ``other`` (or equal to it)?"""
        return self.plen >= other.plen and (self.addr & other.mask) == other.addr

    @property
    def last(self) -> int:
        return self.addr | (~self.mask & 0xFFFFFFFF)

    def __str__(self) -> str:
        return f"{int_ip(self.addr)}/{self.plen}"

    @classmethod
    def of(cls, net: ipaddress.IPv4Network) -> Net:
        return cls(int(net.network_address), net.prefixlen)


@dataclass(slots=True, eq=False)
class Address:
    ip: int
    net: Net
    line: Line
    secondary: bool = False


@dataclass(slots=True, eq=False)
class Hsrp:
    group: int
    vip: int | None = None
    priority: int = 100
    line: Line | None = None


@dataclass(slots=True, eq=False)
class Interface:
    name: str
    line: Line
    routed: bool  # an L3 interface: SVI, tunnel, loopback, or `no switchport`
    vrf: str | None = None
    vrf_line: Line | None = None
    addresses: list[Address] = field(default_factory=list)
    hsrp: dict[int, Hsrp] = field(default_factory=dict)
    acl_in: str | None = None
    acl_in_line: Line | None = None
    acl_out: str | None = None
    acl_out_line: Line | None = None
    shutdown: bool = False
    mode: str | None = None  # access | trunk | None (not stated)
    mode_line: Line | None = None
    access_vlan: int | None = None
    access_line: Line | None = None
    voice_vlan: int | None = None
    voice_line: Line | None = None
    native_vlan: int | None = None
    native_line: Line | None = None
    allowed: frozenset[int] | None = None  # trunk allowed list; None = not stated (all)
    allowed_lines: list[Line] = field(default_factory=list)
    tunnel_key: int | None = None
    channel_group: int | None = None  # member of Port-channel<N>
    channel_line: Line | None = None
    helpers: list[tuple[int, Line]] = field(default_factory=list)  # ip helper-address

    @property
    def svi_vlan(self) -> int | None:
        if self.name.startswith("Vlan") and self.name[4:].isdigit():
            return int(self.name[4:])
        return None

    @property
    def tunnel_number(self) -> int | None:
        if self.name.startswith("Tunnel") and self.name[6:].isdigit():
            return int(self.name[6:])
        return None

    @property
    def up(self) -> bool:
        return not self.shutdown

    def carried_vlans(self) -> frozenset[int] | None:
        """VLANs this switchport carries (None = every VLAN: a trunk without a list)."""
        if self.routed:
            return frozenset()
        if self.mode == "trunk":
            return self.allowed
        vlans = {self.access_vlan if self.access_vlan is not None else 1}
        if self.voice_vlan is not None:
            vlans.add(self.voice_vlan)
        return frozenset(vlans)


@dataclass(slots=True, eq=False)
class Vrf:
    name: str
    line: Line
    rd: str | None = None
    exports: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    rt_lines: list[Line] = field(default_factory=list)
    maps: list[Line] = field(default_factory=list)  # import/export maps (not modelled)


@dataclass(slots=True, eq=False)
class StaticRoute:
    vrf: str | None
    net: Net
    line: Line
    next_hop: int | None = None
    interface: str | None = None
    null: bool = False
    global_nh: bool = False  # `global`: next hop in the global table (a VRF leak)
    distance: int = 1  # administrative distance: the lowest usable route of a prefix wins
    track: int | None = None  # withdrawn while this track object is down


@dataclass(slots=True)
class SlaProbe:
    """``ip sla N`` with ``icmp-echo TARGET source-interface IF`` and ``vrf V``."""

    number: int
    line: Line
    target: int | None = None
    source_interface: str | None = None
    vrf: str | None = None


@dataclass(slots=True, eq=False)
class BgpVrf:
    vrf: str
    line: Line
    redistribute: dict[str, tuple[str | None, Line]] = field(default_factory=dict)
    networks: list[tuple[Net, Line]] = field(default_factory=list)
    neighbors: list[Line] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Bgp:
    asn: str
    line: Line
    vrfs: dict[str, BgpVrf] = field(default_factory=dict)
    neighbors: list[Line] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class PrefixListEntry:
    seq: int
    action: str
    net: Net
    ge: int | None
    le: int | None
    line: Line

    def matches(self, net: Net) -> bool:
        if not net.within(self.net) and not (net.plen == self.net.plen
                                             and net.addr == self.net.addr):
            return False
        if self.ge is None and self.le is None:
            return net.plen == self.net.plen
        low = self.ge if self.ge is not None else self.net.plen
        high = self.le if self.le is not None else 32
        return low <= net.plen <= high


@dataclass(slots=True, eq=False)
class RouteMapEntry:
    seq: int
    action: str
    line: Line
    prefix_lists: list[str] = field(default_factory=list)
    other_match: list[Line] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AclRule:
    """Where an evaluated entry came from: the config line and its printed sequence."""

    line: Line
    seq: int | None  # as printed; None for an unnumbered line

    def label(self) -> str:
        return f"{self.seq} " if self.seq is not None else ""


@dataclass(slots=True, eq=False)
class Acl:
    """An ACL read from text, in evaluation order.

    ``entries[i].seq`` is the evaluation position (an ordinal), ``rules[entries[i].seq]``
    the line it came from; one line may give several entries (``eq 80 443``).
    """

    name: str
    kind: str  # standard | extended
    line: Line | None
    entries: list[AclEntry] = field(default_factory=list)
    rules: list[AclRule] = field(default_factory=list)
    problems: list[tuple[Line, str]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class DeviceText:
    host: str
    tree: ConfigTree
    hostname: str | None = None
    hostname_line: Line | None = None
    interfaces: dict[str, Interface] = field(default_factory=dict)
    vlans: dict[int, Line] = field(default_factory=dict)
    vrfs: dict[str, Vrf] = field(default_factory=dict)
    routes: list[StaticRoute] = field(default_factory=list)
    bgp: Bgp | None = None
    prefix_lists: dict[str, list[PrefixListEntry]] = field(default_factory=dict)
    route_maps: dict[str, list[RouteMapEntry]] = field(default_factory=dict)
    acls: dict[str, Acl] = field(default_factory=dict)
    slas: dict[int, SlaProbe] = field(default_factory=dict)
    tracks: dict[int, tuple[int, Line]] = field(default_factory=dict)  # -> its ip sla number
    problems: list[tuple[Line, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- VLAN lists


def vlan_list_to_set(text: str) -> frozenset[int]:
    """IOS VLAN list syntax -> the VLAN IDs.

    >>> sorted(vlan_list_to_set("100,110-112,2000"))
    [100, 110, 111, 112, 2000]
    """
    out: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        first, _, last = part.partition("-")
        lo = int(first)
        hi = int(last) if last else lo
        if not (1 <= lo <= hi <= 4094):
            raise ValueError(f"not a VLAN range: {part!r}")
        out.update(range(lo, hi + 1))
    return frozenset(out)


# --------------------------------------------------------------------------- ACL lines


def _address(tokens: list[str], i: int) -> tuple[ipaddress.IPv4Network | None, int]:
    """Parse an ACL address at ``tokens[i]``; (network or None for any, next index)."""
    tok = tokens[i]
    if tok == "any":
        return None, i + 1
    if tok == "host":
        return ipaddress.IPv4Network(f"{tokens[i + 1]}/32"), i + 2
    if tok in ("object-group", "addrgroup"):
        raise ValueError("object groups are not supported by verify")
    if _DOTTED.match(tok):
        if i + 1 < len(tokens) and _DOTTED.match(tokens[i + 1]):
            return ipaddress.IPv4Network(f"{tok}/{tokens[i + 1]}"), i + 2
        return ipaddress.IPv4Network(f"{tok}/32"), i + 1
    raise ValueError(f"expected an address, got {tok!r}")


def _port(tok: str, proto: str) -> int:
    if tok.isdigit():
        return int(tok)
    names = TCP_PORTS if proto == "tcp" else UDP_PORTS
    if tok in names:
        return names[tok]
    raise ValueError(f"unknown {proto} port name {tok!r}")


def _ports(tokens: list[str], i: int, proto: str) -> tuple[list[str] | None, int]:
    """Parse a port operator; a list of ``"N"``/``"N-M"`` specs (any of them matches)."""
    if i >= len(tokens) or tokens[i] not in ("eq", "neq", "lt", "gt", "range"):
        return None, i
    op = tokens[i]
    if op == "range":
        lo, hi = _port(tokens[i + 1], proto), _port(tokens[i + 2], proto)
        return [f"{lo}-{hi}"], i + 3
    if op == "eq":
        specs: list[str] = []
        j = i + 1
        while j < len(tokens) and (tokens[j].isdigit() or tokens[j] in (
                TCP_PORTS if proto == "tcp" else UDP_PORTS)):
            specs.append(str(_port(tokens[j], proto)))
            j += 1
        if not specs:
            raise ValueError("eq without a port")
        return specs, j
    p = _port(tokens[i + 1], proto)
    if op == "lt":
        return [f"0-{p - 1}"], i + 2
    if op == "gt":
        return [f"{p + 1}-65535"], i + 2
    return [s for s in (f"0-{p - 1}" if p > 0 else "", f"{p + 1}-65535" if p < 65535 else "")
            if s], i + 2


def parse_acl_line(text: str, kind: str) -> tuple[int | None, list[AclEntry]]:
    """One ACL line -> (printed sequence, entries with seq 0). Remarks give no entries.

    >>> seq, es = parse_acl_line("30 permit tcp 10.32.0.0 0.3.255.255 host 10.10.40.10 eq 443",
    ...                          "extended")
    >>> seq, es[0].action, str(es[0].source), str(es[0].destination), es[0].dst_ports
    (30, 'permit', '10.32.0.0/14', '10.10.40.10/32', '443')
    >>> parse_acl_line("40 permit udp any eq domain any", "extended")[1][0].src_ports
    '53'

    Raises:
        ValueError: the line is not an ACL entry verify understands.
    """
    tokens = text.split()
    seq: int | None = None
    if tokens and tokens[0].isdigit():
        seq = int(tokens.pop(0))
    if not tokens:
        raise ValueError("empty ACL entry")
    action = tokens[0]
    if action == "remark":
        return seq, []
    if action not in ("permit", "deny"):
        raise ValueError(f"expected permit, deny or remark, got {action!r}")
    if kind == "standard":
        src, i = _address(tokens, 1)
        rest = [t for t in tokens[i:] if t not in _IGNORED]
        if rest:
            raise ValueError(f"unexpected {' '.join(rest)!r}")
        return seq, [AclEntry(0, action, None, src, None)]
    proto = _PROTO_NUMBERS.get(tokens[1], tokens[1])
    if proto == "object-group":
        raise ValueError("service object groups are not supported by verify")
    src, i = _address(tokens, 2)
    sports, i = _ports(tokens, i, proto) if proto in ("tcp", "udp") else (None, i)
    dst, i = _address(tokens, i)
    dports, i = _ports(tokens, i, proto) if proto in ("tcp", "udp") else (None, i)
    established = False
    icmp_type: str | None = None
    conditional = False
    while i < len(tokens):
        tok = tokens[i]
        if tok in _IGNORED:
            i += 1
        elif tok == "established" and proto == "tcp":
            established = True  # ACK or RST set: exactly the model's reply flags
            i += 1
        elif tok in ("ack", "rst") and proto == "tcp":
            # one flag: a permit is read as `established` (ACK or RST, it may open more),
            # a deny as absent (it closes less than `established` would)
            established = True
            conditional = True
            i += 1
        elif proto == "icmp" and icmp_type is None and (tok in _ICMP_TYPES or tok.isdigit()):
            icmp_type = _ICMP_TYPES.get(tok, tok)
            i += 1
            if i < len(tokens) and tokens[i].isdigit():
                # an ICMP code narrows the type: a deny with one is read as absent
                conditional = True
                i += 1
        elif tok in _CONDITIONS:
            conditional = True
            i += 1
            if tok in ("dscp", "precedence", "tos", "time-range", "option"):
                i += 1
            elif tok == "ttl":
                i += 3 if i < len(tokens) and tokens[i] == "range" else 2
        else:
            raise ValueError(f"unexpected {tok!r}")
    if conditional and action == "deny":
        return seq, []
    entries = []
    no_port: list[str | None] = [None]
    for sp in sports or no_port:
        for dp in dports or no_port:
            entries.append(AclEntry(0, action, proto, src, dst, dp, established,
                                    src_ports=sp, icmp_type=icmp_type))
    return seq, entries


def _read_acl(name: str, kind: str, header: Line | None, lines: Sequence[Line],
              texts: list[str] | None = None) -> Acl:
    acl = Acl(name, kind, header)
    parsed: list[tuple[tuple[int, int], AclRule, list[AclEntry]]] = []
    last_seq = 0
    seen: dict[int, Line] = {}
    for pos, line in enumerate(lines):
        try:
            seq, entries = parse_acl_line(texts[pos] if texts else line.text, kind)
        except (ValueError, IndexError) as exc:
            acl.problems.append((line, f"cannot read ACL entry: {exc}"))
            continue
        if seq is not None:
            if entries and seq in seen:
                acl.problems.append((line, f"sequence {seq} used twice (also line "
                                           f"{seen[seq].lineno})"))
            if entries:
                seen[seq] = line
            last_seq = seq
        if entries:
            parsed.append(((seq if seq is not None else last_seq, pos),
                           AclRule(line, seq), entries))
    parsed.sort(key=lambda t: t[0])
    for ordinal, (_, rule, entries) in enumerate(parsed):
        acl.rules.append(rule)
        for e in entries:
            acl.entries.append(AclEntry(ordinal, e.action, e.protocol, e.source,
                                        e.destination, e.dst_ports, e.established,
                                        src_ports=e.src_ports, icmp_type=e.icmp_type))
    return acl


# --------------------------------------------------------------------------- sections


_PHYSICAL = re.compile(r"^(?:[A-Za-z]+Ethernet|[A-Za-z]+GigE|Port-channel|Ethernet)")
#: first words of the interface lines :func:`_interface` reads (all others are skipped)
_INTERFACE_HEADS = frozenset({"no", "shutdown", "vrf", "ip", "standby", "switchport",
                              "tunnel", "channel-group"})
_SKIP: tuple[object, ...] = ("skip",)


@dataclass(slots=True)
class InterfaceLineCache:
    """What interface lines say, shared by the devices of one estate.

    ``lines``: a line's meaning by its text (it does not depend on where it is);
    ``sections``: an interface section's meaning by its raw text (an estate repeats the
    same port section on thousands of ports): each line that says something, as
    (line offset from the ``interface`` line, text, meaning).
    """

    lines: dict[str, tuple[object, ...]] = field(default_factory=dict)
    sections: dict[str, tuple[tuple[int, str, tuple[object, ...]], ...]] = field(
        default_factory=dict)


def _interface_line(t: str) -> tuple[object, ...]:
    """What one line under ``interface`` says, as an action (see :func:`_interface`)."""
    if t.split(None, 1)[0] not in _INTERFACE_HEADS:
        return _SKIP
    w = t.split()
    head = w[0]
    try:
        if t == "no switchport":
            return ("routed",)
        if t == "shutdown":
            return ("shutdown",)
        if w[:2] == ["vrf", "forwarding"] or w[:3] == ["ip", "vrf", "forwarding"]:
            return ("vrf", w[-1])
        if w[:2] == ["ip", "address"] and len(w) >= 4 and _DOTTED.match(w[2]):
            ip = ip_int(w[2])
            plen = mask_len(w[3])
            return ("address", ip, Net(ip & Net(0, plen).mask, plen), "secondary" in w[4:])
        if w[:2] == ["ip", "access-group"] and len(w) >= 4:
            return ("acl", w[3], w[2])
        if w[:2] == ["ip", "helper-address"] and len(w) >= 3:
            return ("helper", ip_int(w[-1]))
        if head == "channel-group" and len(w) >= 2 and w[1].isdigit():
            return ("channel", int(w[1]))
        if head == "standby" and len(w) >= 3 and w[1].isdigit():
            if w[2] == "ip" and len(w) >= 4:
                return ("hsrp", int(w[1]), "ip", ip_int(w[3]))
            if w[2] == "priority" and len(w) >= 4:
                return ("hsrp", int(w[1]), "priority", int(w[3]))
            return ("hsrp", int(w[1]), None, None)
        if head != "switchport":
            if w[:2] == ["tunnel", "key"] and len(w) >= 3 and w[2].isdigit():
                return ("tunnel_key", int(w[2]))
            return _SKIP
        if w[1:2] == ["mode"] and len(w) >= 3:
            return ("mode", w[2])
        if w[1:3] == ["access", "vlan"] and len(w) >= 4 and w[3].isdigit():
            return ("access", int(w[3]))
        if w[1:3] == ["voice", "vlan"] and len(w) >= 4 and w[3].isdigit():
            return ("voice", int(w[3]))
        if w[1:4] == ["trunk", "native", "vlan"] and len(w) >= 5:
            return ("native", int(w[4]))
        if w[1:4] == ["trunk", "allowed", "vlan"] and len(w) >= 5:
            op, arg = (w[4], w[5] if len(w) > 5 else "") if w[4] in (
                "add", "remove", "except") else ("set", w[4])
            values = frozenset() if arg == "none" else ALL_VLANS if arg == "all" else \
                vlan_list_to_set(arg)
            return ("allowed", op, values)
    except (ValueError, IndexError) as exc:
        return ("error", exc)
    return _SKIP


def _meaning(text: str, cache: InterfaceLineCache) -> tuple[object, ...]:
    action = cache.lines.get(text)
    if action is None:
        action = cache.lines[text] = _interface_line(text)
    return action


def _section_meaning(body: str, cache: InterfaceLineCache
                     ) -> tuple[tuple[int, str, tuple[object, ...]], ...]:
    shape = cache.sections.get(body)
    if shape is None:
        scratch = Line("interface", 0)  # numbers the section's lines from 1
        shape = cache.sections[body] = tuple(
            (c.lineno, c.text, action) for c in parse_section(scratch, body)
            if (action := _meaning(c.text, cache))[0] != "skip")
    return shape


def _apply(intf: Interface, action: tuple[object, ...], c: Line) -> None:
    """Record what one interface line says (``action``: see :func:`_interface_line`)."""
    kind = action[0]
    if kind == "routed":
        intf.routed = True
    elif kind == "shutdown":
        intf.shutdown = True
    elif kind == "vrf":
        intf.vrf, intf.vrf_line = str(action[1]), c
    elif kind == "address":
        _, ip, net, secondary = action
        assert isinstance(ip, int) and isinstance(net, Net)
        intf.addresses.append(Address(ip, net, c, secondary=bool(secondary)))
    elif kind == "acl":
        if action[1] == "in":
            intf.acl_in, intf.acl_in_line = str(action[2]), c
        elif action[1] == "out":
            intf.acl_out, intf.acl_out_line = str(action[2]), c
    elif kind == "hsrp":
        _, group, what, value = action
        assert isinstance(group, int)
        h = intf.hsrp.setdefault(group, Hsrp(group))
        if what == "ip":
            assert isinstance(value, int)
            h.vip, h.line = value, c
        elif what == "priority":
            assert isinstance(value, int)
            h.priority = value
    elif kind == "mode":
        intf.mode, intf.mode_line = str(action[1]), c
    elif kind == "access":
        assert isinstance(action[1], int)
        intf.access_vlan, intf.access_line = action[1], c
    elif kind == "voice":
        assert isinstance(action[1], int)
        intf.voice_vlan, intf.voice_line = action[1], c
    elif kind == "native":
        assert isinstance(action[1], int)
        intf.native_vlan, intf.native_line = action[1], c
    elif kind == "allowed":
        _, op, values = action
        assert isinstance(values, frozenset)
        intf.allowed_lines.append(c)
        current = intf.allowed if intf.allowed is not None else ALL_VLANS
        if op == "set":
            intf.allowed = values
        elif op == "add":
            intf.allowed = current | values
        elif op == "remove":
            intf.allowed = current - values
        else:
            intf.allowed = ALL_VLANS - values
    elif kind == "tunnel_key":
        assert isinstance(action[1], int)
        intf.tunnel_key = action[1]
    elif kind == "helper":
        assert isinstance(action[1], int)
        intf.helpers.append((action[1], c))
    elif kind == "channel":
        assert isinstance(action[1], int)
        intf.channel_group, intf.channel_line = action[1], c
    elif kind == "error":
        assert isinstance(action[1], Exception)
        raise action[1]


def _interface(line: Line, cache: InterfaceLineCache | None = None) -> Interface:
    words = line.words
    name = words[1] if len(words) > 1 else ""
    intf = Interface(name, line, not _PHYSICAL.match(name))
    if cache is None:
        cache = InterfaceLineCache()
    if line.body is not None and line.kids is None:
        # the section as text, read once per distinct text; only the lines that say
        # something become line objects (the rest are built if anyone asks for them)
        body, base = line.body, line.lineno
        if body.startswith(" description "):
            # every port has its own description and it says nothing verify reads: the
            # rest of the section is what repeats
            cut = body.find("\n") + 1
            if cut:
                body, base = body[cut:], base + 1
        for offset, text, action in _section_meaning(body, cache):
            _apply(intf, action, Line(text, base + offset, line))
    else:
        for c in line.children:
            action = _meaning(c.text, cache)
            if action[0] != "skip":
                _apply(intf, action, c)
    if intf.mode is None and intf.allowed_lines:
        intf.mode = "trunk"
    return intf


def _vrf(line: Line) -> Vrf:
    vrf = Vrf(line.words[-1], line)
    for c in line.walk():
        w = c.words
        if w[0] == "rd" and len(w) >= 2:
            vrf.rd = w[1]
        elif w[0] == "route-target" and len(w) >= 3:
            vrf.rt_lines.append(c)
            if w[1] in ("export", "both"):
                vrf.exports.add(w[2])
            if w[1] in ("import", "both"):
                vrf.imports.add(w[2])
            if w[1] not in ("export", "import", "both"):  # `route-target 1:1` = both
                vrf.exports.add(w[1])
                vrf.imports.add(w[1])
        elif w[0] in ("import", "export") and len(w) >= 2 and w[1] == "map":
            vrf.maps.append(c)
    return vrf


def _sla(line: Line) -> SlaProbe:
    sla = SlaProbe(int(line.words[2]), line)
    for c in line.children:
        cw = c.words
        if cw[0] == "icmp-echo" and len(cw) >= 2 and _DOTTED.match(cw[1]):
            sla.target = ip_int(cw[1])
            if len(cw) >= 4 and cw[2] == "source-interface":
                sla.source_interface = cw[3]
        elif cw[0] == "vrf" and len(cw) == 2:
            sla.vrf = cw[1]
    return sla


def _static_route(line: Line) -> StaticRoute:
    w = line.words[2:]
    vrf = None
    if w and w[0] == "vrf":
        vrf, w = w[1], w[2:]
    net = Net(ip_int(w[0]), mask_len(w[1]))
    if net.addr & net.mask != net.addr:
        raise ValueError("address has host bits set for its mask")
    route = StaticRoute(vrf, net, line)
    rest = w[2:]
    i = 0
    while i < len(rest):
        tok = rest[i]
        if _DOTTED.match(tok) and route.next_hop is None:
            route.next_hop = ip_int(tok)
        elif tok == "track" and i + 1 < len(rest) and rest[i + 1].isdigit():
            route.track = int(rest[i + 1])
            i += 1
        elif tok in ("name", "tag", "track"):
            i += 1
        elif tok.isdigit() and (route.next_hop is not None or route.interface is not None):
            route.distance = int(tok)  # after the next hop, before `name` (ios-xe-syntax.md)
        elif tok == "global":
            route.global_nh = True
        elif tok in ("permanent", "multicast", "dhcp") or tok.isdigit():
            pass
        elif tok.lower().startswith("null"):
            route.null = True
        elif route.interface is None and route.next_hop is None:
            route.interface = tok
        i += 1
    return route


def _bgp(line: Line) -> Bgp:
    bgp = Bgp(line.words[2] if len(line.words) > 2 else "?", line)
    for c in line.children:
        w = c.words
        if w[0] == "neighbor":
            bgp.neighbors.append(c)
        elif w[:2] == ["address-family", "ipv4"] and len(w) >= 4 and w[2] == "vrf":
            bv = bgp.vrfs.setdefault(w[3], BgpVrf(w[3], c))
            for cc in c.children:
                ww = cc.words
                if ww[0] == "redistribute" and len(ww) >= 2:
                    rm = ww[ww.index("route-map") + 1] if "route-map" in ww else None
                    bv.redistribute[ww[1]] = (rm, cc)
                elif ww[0] == "network" and len(ww) >= 2:
                    plen = mask_len(ww[3]) if len(ww) >= 4 and ww[2] == "mask" else \
                        ipaddress.IPv4Network(ww[1], strict=False).prefixlen
                    bv.networks.append((Net(ip_int(ww[1]), plen), cc))
                elif ww[0] == "neighbor":
                    bv.neighbors.append(cc)
        elif w[:2] == ["address-family", "ipv4"] or w[0] == "address-family":
            for cc in c.children:
                if cc.words[0] == "neighbor":
                    bgp.neighbors.append(cc)
    return bgp


def _prefix_list(line: Line) -> tuple[str, PrefixListEntry] | None:
    w = line.words  # ip prefix-list NAME seq N permit P/L [ge X] [le Y]
    if len(w) < 5 or w[3] == "description":
        return None
    i = 3
    seq = 0
    if w[i] == "seq":
        seq, i = int(w[i + 1]), i + 2
    action = w[i]
    net = ipaddress.IPv4Network(w[i + 1])
    ge = le = None
    rest = w[i + 2:]
    for k in range(0, len(rest) - 1, 2):
        if rest[k] == "ge":
            ge = int(rest[k + 1])
        elif rest[k] == "le":
            le = int(rest[k + 1])
    return w[2], PrefixListEntry(seq, action, Net.of(net), ge, le, line)


_TOP_HEADS = frozenset({"hostname", "interface", "vlan", "vrf", "ip", "router", "route-map",
                        "access-list", "track"})


def read_device(host: str, tree: ConfigTree,
                cache: InterfaceLineCache | None = None) -> DeviceText:
    """Every record verify needs from one device's config text.

    ``cache`` (text of an interface line -> what it says) may be shared by the devices
    of one estate: their port lines repeat.
    """
    dev = DeviceText(host, tree)
    numbered: dict[str, list[Line]] = {}
    if cache is None:
        cache = InterfaceLineCache()
    for line in tree.top:
        if line.text.split(None, 1)[0] not in _TOP_HEADS:
            continue
        w = line.words
        head = w[0]
        try:
            if head == "hostname" and len(w) >= 2:
                dev.hostname, dev.hostname_line = w[1], line
            elif head == "interface" and len(w) >= 2:
                intf = _interface(line, cache)
                dev.interfaces[intf.name] = intf
            elif head == "vlan" and len(w) == 2 and re.match(r"^[\d,-]+$", w[1]):
                for v in vlan_list_to_set(w[1]):
                    dev.vlans[v] = line
            elif (head == "vrf" and len(w) >= 3 and w[1] == "definition") or (
                    w[:2] == ["ip", "vrf"] and len(w) == 3):
                vrf = _vrf(line)
                dev.vrfs[vrf.name] = vrf
            elif w[:2] == ["ip", "route"] and len(w) >= 4:
                dev.routes.append(_static_route(line))
            elif w[:2] == ["ip", "sla"] and len(w) == 3 and w[2].isdigit():
                dev.slas[int(w[2])] = _sla(line)
            elif (head == "track" and len(w) >= 5 and w[1].isdigit() and w[2:4] == ["ip", "sla"]
                  and w[4].isdigit()):
                # `reachability` (or `state`): both follow the probe's success here
                dev.tracks[int(w[1])] = (int(w[4]), line)
            elif w[:2] == ["router", "bgp"]:
                dev.bgp = _bgp(line)
            elif w[:2] == ["ip", "prefix-list"]:
                pl = _prefix_list(line)
                if pl is not None:
                    dev.prefix_lists.setdefault(pl[0], []).append(pl[1])
            elif head == "route-map" and len(w) >= 2:
                action = w[2] if len(w) >= 3 else "permit"
                seq = int(w[3]) if len(w) >= 4 else 10
                rme = RouteMapEntry(seq, action, line)
                for c in line.children:
                    cw = c.words
                    if cw[:4] == ["match", "ip", "address", "prefix-list"]:
                        rme.prefix_lists.extend(cw[4:])
                    elif cw[0] == "match":
                        rme.other_match.append(c)
                dev.route_maps.setdefault(w[1], []).append(rme)
            elif w[:2] == ["ip", "access-list"] and len(w) >= 4 and w[2] in (
                    "extended", "standard"):
                dev.acls[w[3]] = _read_acl(w[3], w[2], line, line.children)
            elif head == "access-list" and len(w) >= 3 and w[1].isdigit():
                numbered.setdefault(w[1], []).append(line)
        except (ValueError, IndexError) as exc:
            dev.problems.append((line, f"cannot read: {exc}"))
    for number, lines in numbered.items():
        n = int(number)
        kind = "standard" if n < 100 or 1300 <= n <= 1999 else "extended"
        bodies = [" ".join(line.words[2:]) for line in lines]
        dev.acls[number] = _read_acl(number, kind, None, lines, bodies)
    for entries in dev.prefix_lists.values():
        entries.sort(key=lambda e: e.seq)
    for rm in dev.route_maps.values():
        rm.sort(key=lambda e: e.seq)
    return dev

