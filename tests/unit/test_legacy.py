"""Legacy running configs (tests/fixtures/legacy): every line of every config is carried,
reported as not carried with a reason, or framing; the carried lines give the VLANs and
the per-port view the import needs; no secret reaches a report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nornir_tasks.legacy import read_config
from nornir_tasks.legacy.model import FEATURES, LegacyDevice
from nornir_tasks.legacy.report import device_markdown, read_files, write_report
from nornir_tasks.legacy.text import FRAMING

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "fixtures" / "legacy"
CONFIGS = sorted(LEGACY.rglob("*.cfg"))
FELLESNETT = Path(sys.executable).with_name("fellesnett")
#: what the fixtures hold in place of secrets: none may appear in a report
SECRETS = ["$1$Rq7H$", "$1$y6Nb$", "0822455D0A16", "sk0leRO", "Barnehage1", "Operator123",
           "4f26aeafdb2367620a393c973eddbe8fe8b846ba", '"public"', "community public"]


def _read(name: str) -> LegacyDevice:
    (path,) = [p for p in CONFIGS if p.name == name]
    return read_config(path.read_text(), str(path))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_line_is_carried_reported_or_framing(path: Path) -> None:
    text = path.read_text()
    dev = read_config(text, str(path))
    assert dev.lines_read == len(text.splitlines())
    carried = sum(ln.span for ln in dev.carried)
    reported = sum(ln.span for ln in dev.not_carried)
    assert carried + reported + dev.framing == dev.lines_read
    # each line of the text is one statement's, or framing, exactly once
    covered: set[int] = set()
    for ln in dev.lines:
        span = set(range(ln.number, ln.number + ln.span))
        assert not span & covered, ln
        covered |= span
    lines = text.splitlines()
    framing = [lines[n - 1] for n in range(1, len(lines) + 1) if n not in covered]
    assert len(framing) == dev.framing
    assert all(FRAMING.match(line.strip()) for line in framing), framing
    # and every statement says why: a feature of the report, or what it becomes
    for ln in dev.not_carried:
        assert ln.feature in FEATURES and ln.reason, ln


def test_a_line_nobody_knows_is_reported_never_dropped() -> None:
    text = (LEGACY / "cisco_ios" / "bossekop-barnehage-sw01.cfg").read_text()
    text = text.replace("hostname BOSSEKOP-BHG-SW01\n",
                        "hostname BOSSEKOP-BHG-SW01\nmacro auto global processing\n")
    dev = read_config(text)
    (line,) = [ln for ln in dev.lines if ln.text == "macro auto global processing"]
    assert not line.carried and line.feature == "other"
    assert "not understood" in line.reason
    assert dev.accounted() == dev.lines_read


def test_a_cisco_school_switch_as_the_port_map_needs_it() -> None:
    dev = _read("alta-skole-sw01.cfg")
    assert dev.hostname == "ALTA-SKOLE-SW01" and dev.software == "15.2"
    assert {v.id: v.name for v in dev.vlans.values()} == {
        10: "ELEVER", 20: "LARERE", 30: "ADMINISTRASJON", 40: "TELEFONI", 50: "SKRIVERE",
        60: "AP-MGMT", 99: "SWITCH-MGMT", 999: "PARKERING"}
    p = dev.ports
    assert (p["GigabitEthernet1/0/1"].mode, p["GigabitEthernet1/0/1"].access_vlan) == (
        "access", 10)
    assert p["GigabitEthernet1/0/1"].description == "Klasserom 100"
    phone = p["GigabitEthernet1/0/25"]
    assert (phone.access_vlan, phone.voice_vlan) == (20, 40)
    uplink = p["GigabitEthernet1/0/49"]
    assert uplink.mode == "trunk" and uplink.channel_group == 1
    assert uplink.allowed == (10, 20, 30, 40, 50, 60, 99)
    assert p["Port-channel1"].allowed == uplink.allowed
    assert [n for n, port in p.items() if port.shutdown] == [
        f"GigabitEthernet1/0/{n}" for n in range(45, 49)]
    assert str(dev.svis[99].address) == "10.200.99.11/24"
    # port security is reported, line by line, with where its job goes
    security = dev.by_feature()["port-security"]
    assert len(security) == 4 * 24 and all("802.1X" in ln.reason for ln in security)
    assert all(ln.context[0].startswith("interface GigabitEthernet1/0/") for ln in security)


def test_a_vtp_switch_names_the_vlans_it_does_not_declare() -> None:
    dev = _read("bossekop-barnehage-sw01.cfg")
    assert sorted(dev.vlans) == [10, 60] and all(not v.name for v in dev.vlans.values())
    assert len(dev.notes) == 2 and all("vlan.dat" in n for n in dev.notes)
    assert dev.ports["GigabitEthernet0/1"].mode == "trunk"
    assert dev.ports["GigabitEthernet0/1"].allowed is None  # every VLAN


def test_an_aruba_switch_as_a_per_port_view() -> None:
    dev = _read("servicetorget-sw01.cfg")
    assert (dev.hostname, dev.model, dev.software) == (
        "SERVICETORGET-SW01", "J9775A", "YA.16.10.0012")
    assert dev.vlans[120].voice and dev.vlans[110].name == "ADMINISTRASJON"
    p = dev.ports
    # untagged in a data VLAN, tagged in the voice VLAN: a phone's port
    assert (p["1"].mode, p["1"].access_vlan, p["1"].voice_vlan) == ("access", 110, 120)
    assert p["1"].description == "Servicetorget skranke 1"
    assert (p["21"].access_vlan, p["21"].voice_vlan) == (130, None)
    # the LAG carries the tagged VLANs, and so do its members
    assert p["Trk1"].mode == "trunk" and p["Trk1"].allowed == (110, 120, 130, 199)
    assert p["49"].channel_group == p["50"].channel_group == 1
    assert p["49"].allowed == p["Trk1"].allowed
    assert p["50"].shutdown
    assert str(dev.svis[199].address) == "10.100.99.21/24"


def test_published_configs_read_as_their_switches_are_set_up() -> None:
    """Real running configs (tests/fixtures/legacy/README.md gives their sources)."""
    hp = _read("hp2620-andycranston.cfg")
    assert (hp.hostname, hp.model, hp.software) == ("hp2620", "J9623A", "RA.16.01.0012")
    assert {v.id: v.name for v in hp.vlans.values()} == {1: "DEFAULT_VLAN", 100: "HOME",
                                                         200: "DEV"}
    assert all(hp.ports[str(n)].access_vlan == 100 for n in range(1, 17))
    assert all(hp.ports[str(n)].access_vlan == 200 for n in range(22, 25))
    # untagged in VLAN 1, tagged in 100 and 200: a trunk with native VLAN 1
    p21 = hp.ports["21"]
    assert (p21.mode, p21.native_vlan, p21.allowed) == ("trunk", 1, (1, 100, 200))
    assert str(hp.svis[100].address) == "192.168.1.10/24"
    assert [str(h) for h in hp.svis[100].helpers] == ["192.168.1.254"]
    helper = [ln for ln in hp.lines if ln.text.startswith("ip helper-address")]
    assert len(helper) == 1 and helper[0].context == ("vlan 100",)
    assert not helper[0].carried and "services.dhcp" in helper[0].reason

    sw9 = _read("ios15-sw9-johnb83435.cfg")
    assert sw9.hostname == "SW9" and sw9.software == "15.2"
    lag = sw9.ports["Ethernet0/0"]
    assert (lag.mode, lag.allowed, lag.channel_group) == ("trunk", (101, 102, 265), 1)
    assert sw9.ports["Ethernet0/2"].access_vlan == 101
    assert str(sw9.svis[265].address) == "10.30.1.90/24"
    assert sorted(sw9.vlans) == [101, 102, 265] and len(sw9.notes) == 3


def test_no_secret_reaches_a_report(tmp_path: Path) -> None:
    devices = read_files([LEGACY])
    assert len(devices) == len(CONFIGS) == 6
    write_report(devices, tmp_path / "report")
    texts = [p.read_text() for p in sorted((tmp_path / "report").iterdir())]
    assert len(texts) == 7  # one page per device and the summary
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, secret
    assert "<<secret>>" in "".join(texts)
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert {s["hostname"] for s in summary} == {d.hostname for d in devices}


def test_the_page_lists_every_line_not_carried() -> None:
    dev = _read("helsestasjonen-sw01.cfg")
    page = device_markdown(dev)
    for ln in dev.not_carried:
        assert f"| {ln.number} |" in page
    assert "## Not carried, by feature" in page and "### snmp" in page


def test_the_command_refuses_bad_paths_and_keeps_a_foreign_directory(tmp_path: Path) -> None:
    proc = subprocess.run([str(FELLESNETT), "legacy", "report", str(tmp_path / "nothing")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no such file or directory" in proc.stderr
    assert "Traceback" not in proc.stderr
    foreign = tmp_path / "out"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    proc = subprocess.run([str(FELLESNETT), "legacy", "report", str(LEGACY), "--out",
                           str(foreign)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "not an earlier report" in proc.stderr
    assert (foreign / "notes.txt").read_text() == "mine"
    proc = subprocess.run([str(FELLESNETT), "legacy", "report", str(LEGACY), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert all(r["carried"] + r["not_carried"] + r["framing"] == r["lines_read"] for r in rows)
