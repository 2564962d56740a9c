"""Unit tests of verify's pieces: the text parser, ACL lines, routing and leaking."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nornir_tasks.acl_eval import Packet, evaluate
from nornir_tasks.verify.model import (
    DeviceText,
    Net,
    ip_int,
    parse_acl_line,
    read_device,
    vlan_list_to_set,
)
from nornir_tasks.verify.parse import ConfigTextError, Line, parse_config, parse_lines
from nornir_tasks.verify.routing import Network

IP = ipaddress.ip_address


def device(host: str, text: str) -> DeviceText:
    return read_device(host, parse_config(text, host))


# --------------------------------------------------------------------------- parser


def test_indentation_bang_and_banner() -> None:
    text = """!
hostname sw1
banner motd ^C
interface Vlan999
 this is banner text, not a command
^C
!
vrf definition PUPILS
 rd 65000:2
 !
 address-family ipv4
  route-target import 65000:7
 exit-address-family
!
interface Vlan110
 vrf forwarding PUPILS
!
end
interface Vlan666
"""
    tree = parse_config(text)
    assert [line.text for line in tree.top] == [
        "hostname sw1", "banner motd ^C", "vrf definition PUPILS", "interface Vlan110"]
    vrf = tree.find("vrf definition PUPILS")
    assert vrf is not None
    af = vrf.child("address-family ipv4")
    assert af is not None and af.children[0].text == "route-target import 65000:7"
    assert af.children[0].lineno == 12
    assert af.children[0].path() == (
        "vrf definition PUPILS > address-family ipv4 > route-target import 65000:7")


def test_unterminated_banner_and_binary_are_errors() -> None:
    with pytest.raises(ConfigTextError, match="never ends"):
        parse_config("hostname a\nbanner motd ^C\ntext\n")
    with pytest.raises(ConfigTextError, match="binary"):
        parse_config("hostname a\n\x00\x01")


def test_banner_on_one_line() -> None:
    tree = parse_config("banner login ^CAuthorised only^C\nhostname x\n")
    assert [line.text for line in tree.top][-1] == "hostname x"


def _shape(line: Line) -> list[tuple[int, str, str, list[object]]]:
    return [(c.lineno, c.text, c.path(), _shape(c)) for c in line.children]


#: lines of the shapes a config has: sections, nested sections, comments, banners, blank
#: and whitespace-only lines, `end`, text after `end`, stray indented lines
_LINES = st.sampled_from([
    "interface Gi1/0/1", " description x", " switchport mode access", "  nested deeper",
    "   deepest", "!", " !", "  !", "", "   ", "\t", "end", "hostname a", "banner motd ^C",
    "banner login ^Cone line^C", "text inside", "^C", "after ^C", " indented after",
    "vrf definition X", " address-family ipv4", "  route-target import 1:1",
    " exit-address-family", "\tTabbed", "line vty 0 4", " transport input ssh",
])


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINES, max_size=30), st.booleans(), st.sampled_from(["\n", "\r\n"]))
def test_section_reader_equals_line_reader(lines: list[str], final: bool, br: str) -> None:
    """The fast reader (top-level lines by regex, sections parsed on use) builds the same
    tree as the line-by-line reader, or fails the same way, on any mix of lines."""
    text = br.join(lines) + (br if final else "")
    outcomes = []
    for reader in (parse_config, parse_lines):
        try:
            tree = reader(text, "t")
            outcomes.append(("tree", tree.lines, _shape(tree.root)))
        except ConfigTextError as exc:
            outcomes.append(("error", str(exc)))
    assert outcomes[0] == outcomes[1]


def test_section_reader_equals_line_reader_on_the_reference_configs(built: Path) -> None:
    from nornir_tasks.verify import load_configs

    for host, text in load_configs(built).items():
        fast, slow = parse_config(text, host), parse_lines(text, host)
        assert (fast.lines, _shape(fast.root)) == (slow.lines, _shape(slow.root)), host


# --------------------------------------------------------------------------- ACL lines


@pytest.mark.parametrize(("line", "want"), [
    ("10 permit tcp 10.32.0.0 0.3.255.255 host 10.10.40.10 eq 443",
     [("permit", "tcp", "10.32.0.0/14", "10.10.40.10/32", None, "443", False, None)]),
    ("80 permit udp 10.32.0.0 0.3.255.255 host 10.10.20.123 eq ntp",
     [("permit", "udp", "10.32.0.0/14", "10.10.20.123/32", None, "123", False, None)]),
    ("20 permit tcp host 10.10.40.10 eq www 10.32.0.0 0.3.255.255 established",
     [("permit", "tcp", "10.10.40.10/32", "10.32.0.0/14", "80", None, True, None)]),
    ("permit udp any any range 10000 20000",
     [("permit", "udp", None, None, None, "10000-20000", False, None)]),
    ("permit tcp any any eq www 443",
     [("permit", "tcp", None, None, None, "80", False, None),
      ("permit", "tcp", None, None, None, "443", False, None)]),
    ("deny tcp any any gt 1023", [("deny", "tcp", None, None, None, "1024-65535", False, None)]),
    ("permit icmp any any echo-reply",
     [("permit", "icmp", None, None, None, None, False, "echo-reply")]),
    ("permit icmp any any 8", [("permit", "icmp", None, None, None, None, False, "echo")]),
    ("permit 6 any host 10.0.0.1 eq 22 log",
     [("permit", "tcp", None, "10.0.0.1/32", None, "22", False, None)]),
    ("deny ip any any dscp ef", []),  # a conditional deny may not close: read as absent
    # non-initial fragments carry no ports: a permit lets every port's through (worst
    # case), a deny stops no first fragment (read as absent)
    ("permit ip any any fragments", [("permit", "ip", None, None, None, None, False, None)]),
    ("deny ip any any fragments", []),
    # one TCP flag: a permit opens at least what `established` opens, a deny closes less
    ("permit tcp any any rst", [("permit", "tcp", None, None, None, None, True, None)]),
    ("deny tcp any any ack", []),
    ("deny tcp any any established", [("deny", "tcp", None, None, None, None, True, None)]),
    # an ICMP code narrows the type: a deny with one is read as absent
    ("deny icmp any any echo 0", []),
    ("permit icmp any any echo 0", [("permit", "icmp", None, None, None, None, False,
                                     "echo")]),
    ("10 remark anything", []),
])
def test_acl_line_forms(line: str, want: list[tuple[object, ...]]) -> None:
    _, entries = parse_acl_line(line, "extended")
    got = [(e.action, e.protocol, str(e.source) if e.source else None,
            str(e.destination) if e.destination else None, e.src_ports, e.dst_ports,
            e.established, e.icmp_type) for e in entries]
    assert got == want


@pytest.mark.parametrize("line", ["permit tcp any any eq notaport",
                                  "permit ip object-group X any",
                                  "permit ip 10.0.0.0 0.255.0.255 any",
                                  "allow ip any any"])
def test_unreadable_acl_lines_raise(line: str) -> None:
    with pytest.raises(ValueError):
        parse_acl_line(line, "extended")


def test_acl_order_sequence_numbers_and_unnumbered_lines() -> None:
    dev = device("c", """hostname c
ip access-list extended T
 30 deny ip any host 10.0.0.3
 10 permit ip any host 10.0.0.1
 permit ip any host 10.0.0.3
 20 deny ip any any
 20 permit ip any any
access-list 101 permit tcp any any eq 22
""")
    acl = dev.acls["T"]
    # IOS order by sequence; the unnumbered line stays right after 10, before 20
    assert [(r.seq, r.line.lineno) for r in acl.rules] == [(10, 4), (None, 5), (20, 6),
                                                           (20, 7), (30, 3)]
    assert any("used twice" in why for _, why in acl.problems)
    pkt = Packet("tcp", IP("10.9.9.9"), IP("10.0.0.3"), 50000, 443)
    action, entry = evaluate(acl.entries, pkt)
    assert action == "permit" and entry is not None and acl.rules[entry.seq].seq is None
    assert dev.acls["101"].rules[0].line.text.startswith("access-list 101")


def test_vlan_lists_and_trunk_allowed_edits() -> None:
    assert vlan_list_to_set("1,3-5") == {1, 3, 4, 5}
    dev = device("s", """hostname s
interface GigabitEthernet1/0/1
 switchport trunk allowed vlan 100,110
 switchport trunk allowed vlan add 120-121
 switchport trunk allowed vlan remove 110
 switchport mode trunk
interface GigabitEthernet1/0/2
 switchport mode trunk
interface GigabitEthernet1/0/3
 switchport access vlan 150
 switchport voice vlan 140
 switchport mode access
""")
    i = dev.interfaces
    assert i["GigabitEthernet1/0/1"].carried_vlans() == {100, 120, 121}
    assert i["GigabitEthernet1/0/2"].carried_vlans() is None  # every VLAN
    assert i["GigabitEthernet1/0/3"].carried_vlans() == {140, 150}


# --------------------------------------------------------------------------- routing


CORE = """hostname core
vrf definition PUPILS
 rd 65000:2
 address-family ipv4
  route-target export 65000:2
  route-target import 65000:7
vrf definition SERVERS
 rd 65000:7
 address-family ipv4
  route-target export 65000:7
  route-target import 65000:2
interface Vlan2002
 vrf forwarding PUPILS
 ip address 10.255.0.4 255.255.255.254
 ip access-group ZONE-PUPILS-IN in
interface Vlan200
 vrf forwarding SERVERS
 ip address 10.10.0.2 255.255.0.0
router bgp 65000
 address-family ipv4 vrf PUPILS
  redistribute connected
  redistribute static route-map RM-NO-DEFAULT
 address-family ipv4 vrf SERVERS
  redistribute connected
  redistribute static route-map RM-NO-DEFAULT
ip route vrf PUPILS 10.32.0.0 255.255.252.0 10.255.0.5
ip route vrf PUPILS 0.0.0.0 0.0.0.0 10.255.0.5
ip access-list extended ZONE-PUPILS-IN
 10 permit tcp 10.32.0.0 0.3.255.255 host 10.10.40.10 eq 443
 20 deny ip any any
ip prefix-list PL-DEFAULT seq 5 permit 0.0.0.0/0
route-map RM-NO-DEFAULT deny 10
 match ip address prefix-list PL-DEFAULT
route-map RM-NO-DEFAULT permit 20
"""
SITE = """hostname gw
vrf definition PUPILS
interface Vlan110
 vrf forwarding PUPILS
 ip address 10.32.0.1 255.255.252.0
interface Vlan2002
 vrf forwarding PUPILS
 ip address 10.255.0.5 255.255.255.254
ip route vrf PUPILS 0.0.0.0 0.0.0.0 10.255.0.4
"""


def test_route_target_leaking_and_the_walk() -> None:
    net = Network({"core": device("core", CORE), "gw": device("gw", SITE)})
    # SERVERS imports PUPILS' connected and static routes, but not its default route
    leaked = net.lookup("core", "SERVERS", ip_int("10.32.0.9"))
    assert leaked is not None and leaked.leaked_from == "PUPILS"
    assert net.table("core", "SERVERS").by_len.get(0) is None
    # pupils at the site reach the server subnet through the core's ingress ACL
    gw = net.devices["gw"]
    path = net.forward("gw", gw.interfaces["Vlan110"], ip_int("10.10.40.10"))
    assert path.outcome == "delivered" and path.host == "core" and path.iface == "Vlan200"
    assert [(a.host, a.name) for a in path.acls] == [("core", "ZONE-PUPILS-IN")]
    # and the reply comes back from the servers' subnet to the school
    back = net.tail("core", "SERVERS", ip_int("10.32.0.9"))
    assert back.outcome == "delivered" and back.host == "gw"


def test_a_next_hop_in_another_vrf_is_a_crossing() -> None:
    leaky = SITE.replace("interface Vlan2002\n vrf forwarding PUPILS",
                         "interface Vlan2002\n vrf forwarding PUPILS") + \
        "interface Vlan2003\n vrf forwarding STAFF\n ip address 10.255.0.7 255.255.255.254\n"
    core = CORE + "interface Vlan2003\n vrf forwarding STAFF\n" \
                  " ip address 10.255.0.6 255.255.255.254\n"
    core = core.replace("interface Vlan2002\n vrf forwarding PUPILS",
                        "interface Vlan2002\n vrf forwarding STAFF")
    net = Network({"core": device("core", core), "gw": device("gw", leaky)})
    path = net.tail("gw", "PUPILS", ip_int("10.10.40.10"))
    assert path.crossings and path.crossings[0].to_vrf == "STAFF"


def test_net_membership() -> None:
    n = Net(ip_int("10.32.0.0"), 14)
    assert ip_int("10.35.255.255") in n and ip_int("10.36.0.0") not in n
    assert Net(ip_int("10.32.4.0"), 22).within(n)
