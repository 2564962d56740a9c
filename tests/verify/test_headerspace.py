"""Header spaces: exact ACL sets, checked against the first-match evaluator.

The reference semantics is :func:`nornir_tasks.acl_eval.evaluate`: for random small ACLs
and packets near the boundaries of their prefixes and ports, a packet is in
:func:`permitted` exactly when the evaluator permits it.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import operator
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nornir_tasks.acl_eval import Packet, evaluate
from nornir_tasks.design.structured import AclEntry
from nornir_tasks.verify.headerspace import (
    ADDRESS_MAX,
    IntervalSet,
    Row,
    Space,
    cidrs,
    permitted,
    permitted_by_entry,
    port_ranges,
    witness,
)
from nornir_tasks.verify.model import parse_acl_line, read_device
from nornir_tasks.verify.parse import parse_config

IP = ipaddress.IPv4Address
NET = ipaddress.IPv4Network


def entries(*lines: str, kind: str = "extended") -> list[AclEntry]:
    """ACL lines as entries numbered by position (several per line for ``eq 80 443``)."""
    return [dataclasses.replace(e, seq=n) for n, line in enumerate(lines)
            for e in parse_acl_line(line, kind)[1]]


def texts(space: Space) -> list[str]:
    return [r.text() for r in space.rows()]


def union(spaces: list[Space]) -> Space:
    return functools.reduce(operator.or_, spaces, Space.empty())


def tcp(src: str, dst: str, sport: int, dport: int, established: bool = False) -> Packet:
    return Packet("tcp", IP(src), IP(dst), sport, dport, established)


# --------------------------------------------------------------------------- IntervalSet


def test_interval_set_normalises_overlapping_touching_and_empty_ranges() -> None:
    s = IntervalSet.of([(10, 20), (5, 9), (15, 30), 40, (50, 49)])
    assert s.intervals == ((5, 30), (40, 40))
    assert len(s) == s.size == 27
    assert IntervalSet.of([]).is_empty() and not IntervalSet.of([])
    assert IntervalSet.of([(3, 4)]) == IntervalSet.of([3, 4])
    assert len({IntervalSet.of([1, 2]), IntervalSet.of([(1, 2)])}) == 1


def test_interval_set_algebra() -> None:
    a = IntervalSet.of([(0, 10), (20, 30)])
    b = IntervalSet.of([(5, 25)])
    assert (a | b).intervals == ((0, 30),)
    assert (a & b).intervals == ((5, 10), (20, 25))
    assert (a - b).intervals == ((0, 4), (26, 30))
    assert (b - a).intervals == ((11, 19),)
    assert a.complement(40).intervals == ((11, 19), (31, 40))
    assert IntervalSet.full(7).intervals == ((0, 7),)
    # one interval of b cutting two of a (the difference must not consume it early)
    assert (IntervalSet.of([(0, 5), (8, 12)]) - IntervalSet.of([(4, 9)])).intervals == (
        (0, 3), (10, 12))
    assert a.contains(0) and a.contains(30) and not a.contains(15) and 25 in a
    assert a.min() == 0
    with pytest.raises(ValueError):
        IntervalSet.of([]).min()


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=6),
       st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=6))
def test_interval_set_agrees_with_python_sets(xs: list[tuple[int, int]],
                                               ys: list[tuple[int, int]]) -> None:
    def plain(ranges: list[tuple[int, int]]) -> set[int]:
        return {v for lo, hi in ranges for v in range(lo, hi + 1)}

    def values(s: IntervalSet) -> set[int]:
        return plain(list(s.intervals))

    a, b = IntervalSet.of(xs), IntervalSet.of(ys)
    assert values(a) == plain(xs) and len(a) == len(plain(xs))
    assert values(a | b) == plain(xs) | plain(ys)
    assert values(a & b) == plain(xs) & plain(ys)
    assert values(a - b) == plain(xs) - plain(ys)
    assert values(a.complement(40)) == set(range(41)) - plain(xs)
    for lo, _ in (a | b).intervals[1:]:  # merged: no two intervals touch
        assert lo > 0 and lo - 1 not in (a | b)
    assert all(a.contains(v) == (v in plain(xs)) for v in range(-1, 42))


def test_cidrs_and_port_ranges() -> None:
    ten = IntervalSet.of([(int(IP("10.0.0.0")), int(IP("10.255.255.255")))])
    assert cidrs(ten) == ["10.0.0.0/8"]
    assert cidrs(IntervalSet.full(ADDRESS_MAX) - ten) == [
        "0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4", "32.0.0.0/3",
        "64.0.0.0/2", "128.0.0.0/1"]
    assert cidrs(IntervalSet.of([ADDRESS_MAX])) == ["255.255.255.255/32"]
    assert cidrs(IntervalSet.of([])) == []
    assert port_ranges(IntervalSet.of([22, 53, (1024, 65535)])) == ["22", "53", "1024-65535"]


@given(st.lists(st.tuples(st.integers(0, ADDRESS_MAX), st.integers(0, 4096)), max_size=4))
def test_cidrs_are_exact_and_minimal(starts: list[tuple[int, int]]) -> None:
    s = IntervalSet.of([(lo, min(lo + n, ADDRESS_MAX)) for lo, n in starts])
    nets = [NET(c) for c in cidrs(s)]
    rebuilt = IntervalSet.of([(int(n.network_address), int(n.broadcast_address))
                              for n in nets])
    assert rebuilt == s
    assert nets == sorted(nets)
    minimal = sum(len(list(ipaddress.summarize_address_range(IP(lo), IP(hi))))
                  for lo, hi in s.intervals)
    assert len(nets) == minimal


# --------------------------------------------------------------------------- entry shapes


def entry_rows(line: str, kind: str = "extended") -> list[str]:
    return texts(union([Space.of_entry(e) for e in entries(line, kind=kind)]))


def test_host_entry() -> None:
    assert entry_rows("permit tcp host 10.0.0.1 any eq 22") == [
        "tcp 10.0.0.1/32 -> 0.0.0.0/0 dport 22"]


def test_wildcard_prefix_and_any() -> None:
    assert entry_rows("permit udp 10.32.0.0 0.3.255.255 any") == [
        "udp 10.32.0.0/14 -> 0.0.0.0/0"]
    assert entry_rows("deny ip any any") == ["ip 0.0.0.0/0 -> 0.0.0.0/0"]
    assert Space.of_entry(entries("permit ip any any")[0]) == Space.full()


def test_port_operators() -> None:
    assert entry_rows("permit tcp any any range 1000 2000") == [
        "tcp 0.0.0.0/0 -> 0.0.0.0/0 dport 1000-2000"]
    assert entry_rows("permit tcp any any eq 443 80 www") == [
        "tcp 0.0.0.0/0 -> 0.0.0.0/0 dport 80,443"]
    assert entry_rows("permit udp any any neq 53") == [
        "udp 0.0.0.0/0 -> 0.0.0.0/0 dport 0-52,54-65535"]
    assert entry_rows("permit tcp any lt 1024 any gt 1023") == [
        "tcp 0.0.0.0/0 sport 0-1023 -> 0.0.0.0/0 dport 1024-65535"]
    # ``lt 0`` reads as the port spec "0--1": nothing, in acl_eval and here
    assert Space.of_entry(entries("permit tcp any any lt 0")[0]).is_empty()


def test_established_is_ack_or_rst() -> None:
    space = Space.of_entry(entries("permit tcp host 10.10.40.10 eq 443 any established")[0])
    (row,) = space.rows()
    assert row.tcp_flags == "ack/rst"
    assert row.text() == "tcp 10.10.40.10/32 sport 443 -> 0.0.0.0/0 established"
    assert tcp("10.10.40.10", "10.32.0.5", 443, 50000, established=True) in space
    assert tcp("10.10.40.10", "10.32.0.5", 443, 50000) not in space


def test_icmp_types() -> None:
    assert entry_rows("permit icmp any any echo") == ["icmp 0.0.0.0/0 -> 0.0.0.0/0 type echo"]
    assert entry_rows("permit icmp any any 0") == [
        "icmp 0.0.0.0/0 -> 0.0.0.0/0 type echo-reply"]
    assert entry_rows("permit icmp any any 3 4") == [  # the code is not modelled
        "icmp 0.0.0.0/0 -> 0.0.0.0/0 type unreachable"]
    assert entry_rows("permit icmp any any") == ["icmp 0.0.0.0/0 -> 0.0.0.0/0"]
    echo = Space.of_entry(entries("permit icmp any any echo")[0])
    ping = Packet("icmp", IP("1.1.1.1"), IP("2.2.2.2"), icmp_type="echo-request")
    assert ping in echo and ping in Space.of_flow("icmp", icmp_types="echo")
    assert Packet("icmp", IP("1.1.1.1"), IP("2.2.2.2"), icmp_type="echo-reply") not in echo


def test_ip_entry_covers_every_protocol() -> None:
    space = Space.of_entry(entries("permit ip 10.0.0.0 0.255.255.255 any")[0])
    assert texts(space) == ["ip 10.0.0.0/8 -> 0.0.0.0/0"]
    for packet in (tcp("10.1.1.1", "8.8.8.8", 1, 2),
                   Packet("udp", IP("10.1.1.1"), IP("8.8.8.8"), 1, 2),
                   Packet("icmp", IP("10.1.1.1"), IP("8.8.8.8"), icmp_type="11"),
                   Packet("ospf", IP("10.1.1.1"), IP("224.0.0.5")),
                   Packet("0", IP("10.1.1.1"), IP("224.0.0.5"))):
        assert packet in space
    assert tcp("11.1.1.1", "8.8.8.8", 1, 2) not in space


def test_standard_acl_matches_by_source_only() -> None:
    (e,) = entries("permit 10.1.0.0 0.0.255.255", kind="standard")
    assert e.protocol is None
    assert texts(Space.of_entry(e)) == ["ip 10.1.0.0/16 -> 0.0.0.0/0"]
    assert Space.of_entry(e) == Space.of_addresses(src=[NET("10.1.0.0/16")])


def test_gre_and_protocol_numbers() -> None:
    gre = Space.of_entry(entries("permit gre host 1.1.1.1 host 2.2.2.2")[0])
    assert texts(gre) == ["gre 1.1.1.1/32 -> 2.2.2.2/32"]
    assert Space.of_entry(entries("permit 47 host 1.1.1.1 host 2.2.2.2")[0]) == gre
    assert Packet("gre", IP("1.1.1.1"), IP("2.2.2.2")) in gre
    assert Packet("47", IP("1.1.1.1"), IP("2.2.2.2")) in gre
    assert Packet("esp", IP("1.1.1.1"), IP("2.2.2.2")) not in gre
    assert texts(Space.of_flow(99)) == ["proto 99 0.0.0.0/0 -> 0.0.0.0/0"]


def test_remarks_match_nothing() -> None:
    remark = AclEntry(1, "remark", remark="replies")
    assert Space.of_entry(remark).is_empty()
    assert permitted([remark]).is_empty()


def test_odd_entries_mirror_the_evaluator() -> None:
    # shapes the parser does not produce, read as acl_eval.matches reads them
    ip_established = AclEntry(0, "permit", "ip", established=True)
    assert texts(Space.of_entry(ip_established)) == [
        "tcp 0.0.0.0/0 -> 0.0.0.0/0 established"]
    assert Space.of_entry(AclEntry(0, "permit", "udp", established=True)).is_empty()
    assert Space.of_entry(AclEntry(0, "permit", "tcp", icmp_type="echo")).is_empty()
    # ports narrow TCP and UDP only
    assert texts(Space.of_entry(AclEntry(0, "permit", "ip", dst_ports="80"))) == [
        "proto 0-5,7-16,18-255 0.0.0.0/0 -> 0.0.0.0/0",
        "tcp 0.0.0.0/0 -> 0.0.0.0/0 dport 80", "udp 0.0.0.0/0 -> 0.0.0.0/0 dport 80"]
    with pytest.raises(ValueError, match="unknown IP protocol"):
        Space.of_entry(AclEntry(0, "permit", "bogus"))


# --------------------------------------------------------------------------- Space


def test_of_flow_rejects_fields_the_protocol_does_not_have() -> None:
    with pytest.raises(ValueError, match="ports need tcp or udp"):
        Space.of_flow("icmp", dport=80)
    with pytest.raises(ValueError, match="ports need tcp or udp"):
        Space.of_flow("ip", dport=80)
    with pytest.raises(ValueError, match="TCP flags need tcp"):
        Space.of_flow("udp", flags="established")
    with pytest.raises(ValueError, match="ICMP types need icmp"):
        Space.of_flow("tcp", icmp_types="echo")
    with pytest.raises(ValueError, match="not a port"):
        Space.of_flow("tcp", dport="1-70000")
    with pytest.raises(ValueError, match="an empty range"):
        Space.of_flow("tcp", dport="90-80")
    with pytest.raises(ValueError, match="unknown ICMP type"):
        Space.of_flow("icmp", icmp_types="port-unreachable")
    assert Space.of_flow("tcp,udp", dport=53) == (Space.of_flow("tcp", dport=53)
                                                  | Space.of_flow("udp", dport=53))


def test_packets_need_the_fields_of_their_protocol() -> None:
    with pytest.raises(ValueError, match="needs both ports"):
        Packet("tcp", IP("1.1.1.1"), IP("2.2.2.2")) in Space.full()  # noqa: B015
    with pytest.raises(ValueError, match="needs a type"):
        Packet("icmp", IP("1.1.1.1"), IP("2.2.2.2")) in Space.full()  # noqa: B015
    assert "not a packet" not in Space.full()


def test_complement_size_and_truth() -> None:
    ssh = Space.of_flow("tcp", dport=22)
    assert ssh.size() == 2**32 * 2**32 * 65536 * 2
    assert (ssh | ssh.complement()) == Space.full() and (ssh & ssh.complement()).is_empty()
    assert ssh.complement().size() + ssh.size() == Space.full().size()
    assert ssh and not Space.empty()
    assert ssh <= Space.of_flow("tcp") and not Space.of_flow("tcp").issubset(ssh)
    assert len({ssh, Space.of_flow("tcp", dport="22-22")}) == 1


def test_rows_group_protocols_and_sort() -> None:
    zone_to_lan = Space.of_addresses(src="10.32.0.0/14", dst="10.0.0.0/30")
    space = (zone_to_lan - Space.of_flow("tcp", dst="10.0.0.1/32", dport=23)
             | Space.of_flow("gre", dst="1.1.1.1/32"))
    assert texts(space) == [
        "ip 10.32.0.0/14 -> 10.0.0.0/32,10.0.0.2/31",  # every protocol: one row
        "proto 0-5,7-255 10.32.0.0/14 -> 10.0.0.1/32",  # all but TCP
        "tcp 10.32.0.0/14 -> 10.0.0.1/32 dport 0-22,24-65535",
        "gre 0.0.0.0/0 -> 1.1.1.1/32",
    ]
    assert texts(Space.of_flow("icmp,udp", dst="10.0.0.1/32")) == [
        "icmp,udp 0.0.0.0/0 -> 10.0.0.1/32"]
    assert texts(Space.of_flow("udp", dst="10.0.0.1/32")) == ["udp 0.0.0.0/0 -> 10.0.0.1/32"]
    assert Space.of_flow("udp").rows()[0] == Row(
        "udp", ("0.0.0.0/0",), ("0.0.0.0/0",), ("any",), ("any",))
    assert texts(Space.of_flow("tcp", dport=22, flags="initial")) == [
        "tcp 0.0.0.0/0 -> 0.0.0.0/0 dport 22 initial"]
    assert Space.empty().rows() == []


def test_rows_do_not_depend_on_how_the_space_was_built() -> None:
    a = Space.of_flow("tcp", "10.0.0.0/24", dport="80-90")
    b = Space.of_flow("tcp", "10.0.1.0/24", dport="85-100")
    c = Space.of_flow("tcp", "10.0.0.0/23", dport="85-90")
    one, two = (a | b) | c, c | (b | (a - c))
    assert one == two and hash(one) == hash(two) and one.rows() == two.rows()
    assert texts(one) == ["tcp 10.0.0.0/24 -> 0.0.0.0/0 dport 80-90",
                          "tcp 10.0.1.0/24 -> 0.0.0.0/0 dport 85-100"]


def test_witness_picks_a_usable_probe() -> None:
    (row,) = Space.of_flow("udp", "10.10.20.53/32", "10.32.0.0/14", sport=53).rows()
    assert row.witness() == Packet("udp", IP("10.10.20.53"), IP("10.32.0.1"), 53, 1)
    (row,) = Space.of_flow("tcp", dport=443, flags="ack/rst").rows()
    assert row.witness() == Packet("tcp", IP("0.0.0.1"), IP("0.0.0.1"), 50000, 443, True)
    (row,) = Space.of_flow("icmp", dst="10.0.0.1/32", icmp_types="0-20").rows()
    assert row.witness().icmp_type == "echo-request"
    (row,) = Space.of_flow("icmp", icmp_types="echo-reply").rows()
    assert row.witness().icmp_type == "echo-reply"
    (row,) = Space.of_flow("icmp", icmp_types="time-exceeded").rows()
    assert row.witness().icmp_type == "11"
    assert witness(Space.of_addresses(dst="10.0.0.0/31")) == Packet(
        "icmp", IP("0.0.0.1"), IP("10.0.0.0"), icmp_type="echo-request")
    assert witness(Space.of_flow("proto 99-100")) == Packet("99", IP("0.0.0.1"),
                                                          IP("0.0.0.1"))
    assert witness(Space.empty()) is None


# --------------------------------------------------------------------------- properties

PREFIXES = [None, "10.0.0.0/8", "10.32.0.0/14", "10.32.1.0/24", "10.32.1.5/32",
            "10.10.20.53/32", "10.10.20.52/30", "192.168.0.0/16", "0.0.0.0/1"]
PORT_SPECS = [None, "53", "443", "0-1023", "1024-65535", "80-443", "22", "0-52"]
#: ICMP types: entries in the parser's forms, packets in the probes' forms (acl_eval
#: compares them as strings, so a packet type "8" would not match an entry "echo", while
#: the header space, which knows they are one type, would)
ENTRY_ICMP = [None, "echo", "echo-reply", "3"]
PACKET_ICMP = ["echo-request", "echo", "echo-reply", "3", "11"]


def _shapes() -> dict[str | None, list[AclEntry]]:
    """Every entry the parser can give from these pools (seq 0), by protocol."""
    nets = [None if p is None else NET(p) for p in PREFIXES]
    out: dict[str | None, list[AclEntry]] = {"remark": [AclEntry(0, "remark", remark="-")]}
    for action in ("permit", "deny"):
        out.setdefault(None, []).extend(AclEntry(0, action, None, s) for s in nets)
        for protocol in ("ip", "gre"):
            out.setdefault(protocol, []).extend(AclEntry(0, action, protocol, s, d)
                                                for s in nets for d in nets)
        out.setdefault("icmp", []).extend(AclEntry(0, action, "icmp", s, d, icmp_type=t)
                                          for s in nets for d in nets for t in ENTRY_ICMP)
        for protocol, flags in (("tcp", (False, True)), ("udp", (False,))):
            out.setdefault(protocol, []).extend(
                AclEntry(0, action, protocol, s, d, dp, est, src_ports=sp)
                for est in flags for s in nets for d in nets
                for sp in PORT_SPECS for dp in PORT_SPECS)
    return out


# a protocol (TCP and UDP twice: they have the most shapes), one of its entry shapes and a
# seq: three draws per entry instead of one per field keeps hypothesis fast (drawing, not
# the tests, is what takes the time)
SHAPES = _shapes()
acl_entry = st.builds(
    lambda seq, e: dataclasses.replace(e, seq=seq), st.integers(0, 6),
    st.one_of([st.sampled_from(shapes) for shapes in SHAPES.values()]
              + [st.sampled_from(SHAPES["tcp"]), st.sampled_from(SHAPES["udp"])]))
acls = st.lists(acl_entry, min_size=3, max_size=12)


def _edges() -> list[int]:
    out: set[int] = set()
    for text in PREFIXES:
        if text is not None:
            net = NET(text)
            lo, hi = int(net.network_address), int(net.broadcast_address)
            out.update(v for v in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1)
                       if 0 <= v <= ADDRESS_MAX)
    return sorted(out)


ADDRESS_POINTS = st.one_of(st.sampled_from(_edges()), st.integers(0, ADDRESS_MAX))
PORT_POINTS = st.one_of(st.sampled_from([0, 1, 21, 22, 23, 52, 53, 54, 79, 80, 81, 442, 443,
                                         444, 1023, 1024, 1025, 50000, 65534, 65535]),
                        st.integers(0, 65535))


@st.composite
def packet(draw: st.DrawFn) -> Packet:
    protocol = draw(st.sampled_from(["tcp", "udp", "icmp", "gre", "esp"]))
    src, dst = IP(draw(ADDRESS_POINTS)), IP(draw(ADDRESS_POINTS))
    if protocol in ("tcp", "udp"):
        return Packet(protocol, src, dst, draw(PORT_POINTS), draw(PORT_POINTS),
                      established=protocol == "tcp" and draw(st.booleans()))
    if protocol == "icmp":
        return Packet(protocol, src, dst, icmp_type=draw(st.sampled_from(PACKET_ICMP)))
    return Packet(protocol, src, dst)


@settings(max_examples=300, deadline=None)
@given(acls, st.lists(packet(), min_size=1, max_size=8))
def test_permitted_agrees_with_first_match_evaluation(acl: list[AclEntry],
                                                      packets: list[Packet]) -> None:
    space = permitted(acl)
    for p in packets:
        assert (p in space) == (evaluate(acl, p)[0] == "permit"), p


@settings(deadline=None)
@given(acls, st.lists(packet(), min_size=1, max_size=8))
def test_permitted_by_entry_partitions_the_permitted_space(acl: list[AclEntry],
                                                           packets: list[Packet]) -> None:
    pieces = permitted_by_entry(acl)
    assert all(e.action == "permit" and not s.is_empty() for e, s in pieces)
    for i, (_, a) in enumerate(pieces):
        for _, b in pieces[i + 1:]:
            assert (a & b).is_empty()
    assert union([s for _, s in pieces]) == permitted(acl)
    for p in packets:  # the piece a packet is in belongs to the entry that decides it
        action, deciding = evaluate(acl, p)
        owners = [e for e, s in pieces if p in s]
        assert owners == ([deciding] if action == "permit" else [])
        assert not owners or owners[0] is deciding


@settings(deadline=None)
@given(acls, acls, acls, st.lists(packet(), min_size=1, max_size=5))
def test_set_algebra(x: list[AclEntry], y: list[AclEntry], z: list[AclEntry],
                     packets: list[Packet]) -> None:
    a, b, c = permitted(x), permitted(y), permitted(z)
    assert ((a - b) & b).is_empty()
    assert (a - b) | (a & b) == a
    assert a | b == b | a and a & b == b & a
    assert a & (b | c) == (a & b) | (a & c)
    assert a - (b | c) == (a - b) - c
    assert a.complement().complement() == a
    assert (a & b).issubset(a) and a.issubset(a | b)
    assert a.size() == (a - b).size() + (a & b).size()
    for p in packets:  # pointwise, so that equal-but-wrong results cannot hide
        assert (p in a | b) == (p in a or p in b)
        assert (p in a & b) == (p in a and p in b)
        assert (p in a - b) == (p in a and p not in b)
        assert (p in a.complement()) == (p not in a)


@settings(deadline=None)
@given(acls, acls)
def test_rows_rebuild_the_space_and_hold_their_witness(x: list[AclEntry],
                                                       y: list[AclEntry]) -> None:
    space = permitted(x) - permitted(y)
    rows = space.rows()
    rebuilt = union([r.space() for r in reversed(rows)])
    assert rebuilt == space
    assert rebuilt.rows() == rows  # the rows depend on the set, not on how it was built
    assert sum(r.space().size() for r in rows) == space.size()  # disjoint
    for row in rows:
        probe = row.witness()
        assert probe in space and probe in row.space()
        assert evaluate(x, probe)[0] == "permit" and evaluate(y, probe)[0] == "deny"
    first = witness(space)
    assert (first is None) == space.is_empty()
    assert first is None or first in space


# --------------------------------------------------------------------------- a zone ACL

ZONE_CONFIG = textwrap.dedent("""\
    hostname zone-fw
    ip access-list extended ZONE-IN
     10 remark replies from the shared services
     10 permit udp host 10.10.20.53 eq domain 10.32.0.0 0.3.255.255
     20 permit tcp host 10.10.40.10 eq 443 10.32.0.0 0.3.255.255 established
     30 remark inside the zone
     30 permit ip 10.32.0.0 0.3.255.255 10.32.0.0 0.3.255.255
     40 remark the internet, not other internal networks
     40 deny ip any 10.0.0.0 0.255.255.255
     50 deny ip any 172.16.0.0 0.15.255.255
     60 deny ip any 192.168.0.0 0.0.255.255
     70 permit ip 10.32.0.0 0.3.255.255 any
     80 deny ip any any log
    """)
ZONE = "10.32.0.0/14"
#: the zone's own prefix and the internet: everything outside RFC 1918
ZONE_REACH = [ZONE, "0.0.0.0/5", "8.0.0.0/7", "11.0.0.0/8", "12.0.0.0/6", "16.0.0.0/4",
              "32.0.0.0/3", "64.0.0.0/2", "128.0.0.0/3", "160.0.0.0/5", "168.0.0.0/6",
              "172.0.0.0/12", "172.32.0.0/11", "172.64.0.0/10", "172.128.0.0/9",
              "173.0.0.0/8", "174.0.0.0/7", "176.0.0.0/4", "192.0.0.0/9", "192.128.0.0/11",
              "192.160.0.0/13", "192.169.0.0/16", "192.170.0.0/15", "192.172.0.0/14",
              "192.176.0.0/12", "192.192.0.0/10", "193.0.0.0/8", "194.0.0.0/7",
              "196.0.0.0/6", "200.0.0.0/5", "208.0.0.0/4", "224.0.0.0/3"]


def test_zone_acl_exposure() -> None:
    dev = read_device("zone-fw", parse_config(ZONE_CONFIG, "zone-fw"))
    acl = dev.acls["ZONE-IN"]
    assert not acl.problems
    allowed = permitted(acl.entries)
    internet_row = "ip 10.32.0.0/14 -> " + ",".join(sorted(
        ZONE_REACH, key=lambda c: int(NET(c).network_address)))
    assert texts(allowed) == [
        internet_row,
        "tcp 10.10.40.10/32 sport 443 -> 10.32.0.0/14 established",
        "udp 10.10.20.53/32 sport 53 -> 10.32.0.0/14",
    ]

    replies = (Space.of_flow("udp", "10.10.20.53/32", ZONE, sport=53, dport="1024-65535")
               | Space.of_flow("tcp", "10.10.40.10/32", ZONE, sport=443,
                               dport="1024-65535", flags="established"))
    exposure = allowed - replies
    assert texts(exposure) == [
        internet_row,
        "tcp 10.10.40.10/32 sport 443 -> 10.32.0.0/14 dport 0-1023 established",
        "udp 10.10.20.53/32 sport 53 -> 10.32.0.0/14 dport 0-1023",
    ]
    internal = Space.of_addresses(dst=["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"])
    declared = (replies | Space.of_addresses(src=ZONE, dst=ZONE)
                | Space.of_addresses(src=ZONE) - internal)
    exposure = allowed - declared
    rows = exposure.rows()
    assert [r.text() for r in rows] == [
        "tcp 10.10.40.10/32 sport 443 -> 10.32.0.0/14 dport 0-1023 established",
        "udp 10.10.20.53/32 sport 53 -> 10.32.0.0/14 dport 0-1023",
    ]
    assert rows[1] == Row("udp", ("10.10.20.53/32",), ("10.32.0.0/14",), ("53",),
                          ("0-1023",))
    assert declared.issubset(Space.full()) and not allowed.issubset(declared)

    # each exposed row is named by the ACL line that is its first match
    lines = {}
    for entry, piece in permitted_by_entry(acl.entries):
        for row in rows:
            if not (piece & row.space()).is_empty():
                lines[row.protocol] = acl.rules[entry.seq].line.text
    assert lines == {
        "udp": "10 permit udp host 10.10.20.53 eq domain 10.32.0.0 0.3.255.255",
        "tcp": "20 permit tcp host 10.10.40.10 eq 443 10.32.0.0 0.3.255.255 established",
    }
    # and its witness is a packet the evaluator lets through, outside the declaration
    for row in rows:
        probe = row.witness()
        assert evaluate(acl.entries, probe)[0] == "permit" and probe not in declared
    assert rows[1].witness() == Packet("udp", IP("10.10.20.53"), IP("10.32.0.1"), 53, 1)
