"""The config engine: loading the goldens, modes, `no`, single values, ACLs, secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nornir_tasks.sim.engine import DUPLICATE_SEQ, INVALID, ConfigEngine
from nornir_tasks.sim.secrets_hash import type7_decode

GOLDEN = sorted((Path(__file__).parents[1] / "golden").glob("*.cfg"))


def _meaningful(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()
            if line.strip() and line.strip() not in ("!", "end")]


def test_there_are_goldens() -> None:
    assert len(GOLDEN) >= 12


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_round_trip(path: Path) -> None:
    text = path.read_text()
    shown = ConfigEngine(path.stem, text).running_config().splitlines()
    assert shown[0] == "Building configuration..."
    assert shown[2].startswith("Current configuration : ")
    assert _meaningful("\n".join(shown[3:])) == _meaningful(text)


def _engine(text: str) -> ConfigEngine:
    e = ConfigEngine("sw1", text)
    e.enter_config()
    return e


BASE = """\
hostname sw1
no ip http server
interface Vlan100
 description mgmt
 ip address 10.0.0.2 255.255.255.0
 no ip redirects
 shutdown
vlan 100
 name MGMT
ip access-list standard MGMT
 10 permit 10.10.0.0 0.0.0.255
 20 deny   any
wireless profile policy PP
 vlan 150
 no shutdown
tacacs server t1
 address ipv4 10.1.1.1
 key 7 0822455D0A16
"""


def test_prompts_follow_sub_modes_and_exit() -> None:
    e = _engine(BASE)
    assert e.prompt_suffix() == "(config)"
    e.apply("router bgp 65000")
    e.apply("address-family ipv4 vrf MGMT")
    assert e.prompt_suffix() == "(config-router-af)"
    e.apply("exit-address-family")
    assert e.prompt_suffix() == "(config-router)"
    e.apply("exit")
    e.apply("vrf definition X")
    e.apply("address-family ipv4")
    assert e.prompt_suffix() == "(config-vrf-af)"
    e.apply("ip access-list extended ACL")
    assert e.prompt_suffix() == "(config-ext-nacl)"
    e.apply("end")
    assert not e.in_config


def test_indentation_does_not_matter_and_global_lines_pop_out() -> None:
    e = _engine(BASE)
    assert e.apply("interface Vlan100") is None
    assert e.apply("description new") is None  # not indented
    assert e.apply("hostname sw2") is None  # global: leaves config-if
    assert e.prompt_suffix() == "(config)"
    assert e.apply("  ip dhcp snooping vlan 110") is None
    lines = e.lines()
    assert "hostname sw2" in lines and "ip dhcp snooping vlan 110" in lines
    assert " description new" in e.section("^interface Vlan100").splitlines()


def test_ambiguous_vlan_stays_in_policy_profile() -> None:
    """`vlan N` is a policy-profile command as well as a global opener, as on a C9800."""
    e = _engine(BASE)
    e.apply("wireless profile policy PP")
    e.apply("vlan 160")
    assert e.section("wireless profile policy").splitlines()[1] == " vlan 160"
    assert "vlan 160" not in e.lines()


def test_garbage_is_rejected() -> None:
    e = _engine(BASE)
    assert e.apply("frobnicate the network") == INVALID
    assert e.lines() == ConfigEngine("sw1", BASE).lines()


def test_no_semantics() -> None:
    e = _engine(BASE)
    e.apply("interface Vlan100")
    e.apply("no description")  # by prefix
    e.apply("no shutdown")  # default: nothing shown
    e.apply("ip redirects")  # default-on: removes the shown `no` form
    e.apply("no ip proxy-arp")  # shown in its `no` form
    e.apply("no ip address 10.0.0.2 255.255.255.0")
    sect = e.section("^interface Vlan100").splitlines()
    assert sect == ["interface Vlan100", " no ip address", " no ip proxy-arp"]
    e.apply("no vlan 100")  # a section opener: the whole section goes
    e.apply("no ntp server 10.9.9.9")  # absent: accepted silently
    e.apply("ip http server")
    lines = e.lines()
    assert "vlan 100" not in lines and " name MGMT" not in lines
    assert "ip http server" in lines and "no ip http server" not in lines
    e.apply("wireless profile policy PP")
    e.apply("shutdown")
    assert e.section("wireless profile policy").splitlines() == [
        "wireless profile policy PP", " vlan 150"]


def test_single_valued_commands_replace() -> None:
    e = _engine(BASE)
    for line in ("hostname core", "interface Vlan100", "description one",
                 "ip address 10.0.0.3 255.255.255.0", "description two",
                 "ip address 10.0.1.3 255.255.255.0 secondary", "vlan 100", "name NEW",
                 "snmp-server location A", "snmp-server location B",
                 "username bob privilege 15 secret 9 $9$abc",
                 "username bob privilege 1 secret 9 $9$x"):
        assert e.apply(line) is None, line
    lines = e.lines()
    assert lines[0] == "hostname core"
    assert sum(line.startswith(" description") for line in lines) == 1
    assert " description two" in lines
    assert " ip address 10.0.0.3 255.255.255.0" in lines
    assert " ip address 10.0.1.3 255.255.255.0 secondary" in lines
    assert [line for line in lines if line.startswith("snmp-server location")] == [
        "snmp-server location B"]
    assert [line for line in lines if line.startswith("username")] == [
        "username bob privilege 1 secret 9 $9$x"]


def test_acl_sequence_numbers() -> None:
    e = _engine(BASE)
    e.apply("ip access-list standard MGMT")
    assert e.apply("15 permit 10.20.0.0 0.0.0.255") is None
    assert e.apply("permit 10.30.0.0 0.0.0.255") is None  # gets last + 10
    assert e.apply("10 permit 10.99.0.0 0.0.0.255") == DUPLICATE_SEQ
    assert e.apply("no 20") is None
    assert e.section("^ip access-list standard MGMT").splitlines() == [
        "ip access-list standard MGMT", " 10 permit 10.10.0.0 0.0.0.255",
        " 15 permit 10.20.0.0 0.0.0.255", " 30 permit 10.30.0.0 0.0.0.255"]
    e.apply("40 deny any")
    e.apply("no 15 permit 10.20.0.0 0.0.0.255")
    assert e.section("^ip access-list standard MGMT").splitlines()[-2:] == [
        " 30 permit 10.30.0.0 0.0.0.255", " 40 deny   any"]


def test_secrets_are_stored_hashed() -> None:
    e = _engine(BASE)
    e.apply("enable secret 0 Hemmelig1")
    e.apply("username ops privilege 15 secret Hemmelig2")
    e.apply("tacacs server t1")
    e.apply("key 0 TacKey")
    e.apply("wlan gjest 2 Alta-Gjest")
    e.apply("security wpa psk set-key ascii 0 GuestPsk")
    text = e.running_config()
    for plain in ("Hemmelig1", "Hemmelig2", "TacKey", "GuestPsk"):
        assert plain not in text
    assert re.search(r"^enable secret 9 \$9\$[./0-9A-Za-z]{14}\$[./0-9A-Za-z]{43}$", text, re.M)
    assert re.search(r"^username ops privilege 15 secret 9 \$9\$", text, re.M)
    key = re.search(r"^ key 7 ([0-9A-F]+)$", text, re.M)
    assert key and type7_decode(key.group(1)) == "TacKey"
    assert re.search(r"^ security wpa psk set-key ascii 8 \S+$", text, re.M)
    # stable per device: the same input gives the same stored hash
    again = _engine(BASE)
    again.apply("enable secret 0 Hemmelig1")
    assert [x for x in again.lines() if x.startswith("enable")] == [
        x for x in e.lines() if x.startswith("enable")]
    # already hashed input is kept as given
    e.apply("tacacs server t1")
    e.apply("key 7 0822455D0A16")
    assert " key 7 0822455D0A16" in e.lines()


def test_section_include_and_startup() -> None:
    e = _engine(BASE)
    assert e.include("^hostname") == "hostname sw1\n"
    assert e.section("vlan 100") == "vlan 100\n name MGMT\n"
    e.apply("hostname sw9")
    assert "hostname sw1" in e.startup_config()
    e.write_memory()
    assert "hostname sw9" in e.startup_config()
    assert e.running_config().rstrip().endswith("end")
