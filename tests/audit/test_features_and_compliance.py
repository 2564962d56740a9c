"""The audit's feature table and compliance rules, without devices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nornir_tasks.audit.compliance import IgnoreRules, compare, masked_paths
from nornir_tasks.audit.features import FEATURES, OTHER, RULES, classify
from nornir_tasks.cli import main
from nornir_tasks.intent.loader import Intent

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.cfg"))


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda p: p.stem)
def test_every_intended_line_lands_in_a_named_feature(golden: Path) -> None:
    unclassified = [p for p in masked_paths(golden.read_text()) if classify(p) == OTHER]
    assert unclassified == []


def test_every_template_is_claimed_by_exactly_one_feature() -> None:
    claimed = [t for f in FEATURES for t in f.templates]
    assert len(claimed) == len(set(claimed))
    templates = {p.relative_to(ROOT / "templates").as_posix()
                 for d in ("ios_xe", "c9800") for p in (ROOT / "templates" / d).glob("*.j2")}
    assert set(claimed) == templates
    assert {r.feature for r in RULES} == {f.name for f in FEATURES}


@pytest.mark.parametrize(("path", "feature"), [
    (("username intruder privilege 15 secret <<secret>>",), "aaa"),
    (("ip access-list extended ZONE-GUEST-IN", "20 permit udp any any eq bootps"), "acls"),
    (("vlan 3333",), "vlans"),
    (("vlan 3333", "name ROGUE"), "vlans"),
    (("wireless profile policy PP-GJEST", "vlan 120"), "wlan"),
    (("interface GigabitEthernet1/0/5", "access-session closed"), "dot1x"),
    (("interface GigabitEthernet1/0/5", "storm-control broadcast level 1.00"), "edge_security"),
    (("interface Vlan110", "ip access-group ZONE-PUPILS-IN in"), "acls"),
    (("interface Vlan110", "ip address 10.32.0.1 255.255.252.0"), "interfaces"),
    (("line vty 0 4", "access-class MGMT-ACCESS in vrf-also"), "acls"),
    (("snmp-server community <<secret>> RO",), "services"),
    (("ap f4db.e600.d42b", "site-tag default-site-tag"), "aps"),
    (("router bgp 65000", "address-family ipv4 vrf STAFF"), "routing"),
    (("made-up-command 1",), OTHER),
])
def test_classification(path: tuple[str, ...], feature: str) -> None:
    assert classify(path) == feature


def test_inventory_ignore_rules_apply_to_both_sides(intent: Intent) -> None:
    intended = "hostname a\nntp server vrf MGMT 10.0.0.1\n"
    running = ("Building configuration...\nCurrent configuration : 1234 bytes\nhostname a\n"
               "ntp clock-period 36028797018963968\nntp server vrf MGMT 10.0.0.1\n"
               "crypto pki certificate chain TP-self-signed-1\n certificate self-signed 01\n"
               "  3082024A 30820133 A0030201 02020101\n  quit\n")
    rules = IgnoreRules.of(intent.audit.ignore, "ios_xe")
    assert all(r.compliant for r in compare(intended, running, rules).values())
    unruly = compare(intended, running)
    assert not unruly["services"].compliant and not unruly["base"].compliant


def test_secrets_are_compared_masked() -> None:
    intended = "enable secret 9 <<secret:enable_secret>>\n"
    running = "enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM\n"
    assert compare(intended, running)["aaa"].compliant


def test_the_same_line_under_another_section_is_not_the_same_line() -> None:
    intended = "wireless profile policy A\n vlan 150\nwireless profile policy B\n vlan 120\n"
    running = "wireless profile policy A\n vlan 120\nwireless profile policy B\n vlan 150\n"
    wlan = compare(intended, running)["wlan"]
    assert len(wlan.missing) == 2 and len(wlan.extra) == 2


@pytest.mark.parametrize("args", [
    ["audit", "--until", "HEAD"],
    ["audit", "--offline", "--sim"],
    ["audit", "--limit", "no-such-host*"],
    ["audit", "--offline", "--backups", "/nonexistent/backups"],
])
def test_bad_input_exits_2_without_a_traceback(args: list[str], capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("fellesnett:")


def test_a_device_without_any_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from nornir_tasks.live.backups import BackupRepo

    monkeypatch.chdir(ROOT)
    repo = BackupRepo(tmp_path / "backups")
    repo.ensure()
    repo.write("radhuset", "radhuset-acc01", (ROOT / "tests/golden/radhuset-acc01.cfg").read_text())
    assert repo.commit("one device only") is not None
    out = tmp_path / "a.json"
    code = main(["audit", "--offline", "--limit", "radhuset-acc01,radhuset-acc02",
                 "--backups", str(repo.root), "--no-zone-proof", "--json", str(out)])
    assert code == 2
    data = json.loads(out.read_text())
    assert data["summary"]["not_audited"] == 1 and data["summary"]["compliant"] == 1
    assert "no backup of radhuset-acc02" in capsys.readouterr().out
