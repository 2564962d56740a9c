"""The ArubaOS-Switch engine without SSH, and the legacy world file and its CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from nornir_tasks.cli import main
from nornir_tasks.errors import UsageError
from nornir_tasks.legacy import read_config
from nornir_tasks.sim.legacy_world import load_world, synthetic_world
from nornir_tasks.sim.procurve import ProCurveEngine

LEGACY = Path(__file__).parents[1] / "fixtures" / "legacy"
PROCURVE = sorted((LEGACY / "aruba_os_switch").glob("*.cfg")) + [
    LEGACY / "published" / "hp2620-andycranston.cfg"]


@pytest.mark.parametrize("path", PROCURVE, ids=lambda p: p.name)
def test_procurve_engine_prints_a_loaded_config_back_line_for_line(path: Path) -> None:
    text = path.read_text()
    assert ProCurveEngine(text).text() == text


def test_untagged_takes_a_port_out_of_default_vlan_and_back() -> None:
    e = ProCurveEngine((LEGACY / "published" / "hp2620-andycranston.cfg").read_text())
    assert e.apply(("vlan", "100"), "untagged 17") is None
    vlan1, vlan100 = e.vlans()[1], e.vlans()[100]
    assert "17" in vlan100.untagged and "17" not in vlan1.untagged and "17" in vlan1.no_untagged
    assert "   no untagged 1-17,22-24\n   untagged 18-21,25-28\n" in e.text()
    assert e.apply(("vlan", "100"), "no untagged 17") is None
    assert e.text() == (LEGACY / "published" / "hp2620-andycranston.cfg").read_text()
    e.apply(("config", ""), "no vlan 200")  # its ports return to VLAN 1
    assert "   untagged 17-28\n" in e.text() and "vlan 200" not in e.text()


def test_engine_global_lines_and_contexts() -> None:
    e = ProCurveEngine((LEGACY / "aruba_os_switch" / "servicetorget-sw01.cfg").read_text())
    e.apply(("config", ""), "hostname NEW-NAME")
    e.apply(("config", ""), "vlan 30 untagged 7")
    e.apply(("eth", "7"), 'name "Skriver"')
    e.apply(("eth", "50"), "enable")
    e.apply(("config", ""), "no telnet-server")  # already there
    e.apply(("config", ""), "telnet-server")
    text = e.text()
    assert 'hostname "NEW-NAME"\n' in text and e.hostname() == "NEW-NAME"
    assert 'vlan 30\n   name "VLAN30"\n   untagged 7\n' in text
    assert text.index("vlan 30") < text.index("vlan 110")
    assert 'interface 7\n   name "Skriver"\n   exit\n' in text
    assert "interface 50\n   exit" in text and "telnet-server" not in text
    assert e.apply(("config", ""), "vlan 5000") is not None
    dev = read_config(text, "x")
    assert dev.ports["7"].access_vlan == 30 and dev.ports["5"].access_vlan == 110


def test_world_file_loads_the_four_fixtures() -> None:
    world = load_world(LEGACY / "world.yml")
    assert {d.flavour for d in world.values()} == {"ios-classic", "aruba-os-switch"}
    assert world["BOSSEKOP-BHG-SW01"].world["vlan_names"]["10"] == "BARNEHAGE"
    assert world["HELSESTASJON-SW01"].model == "J9726A"


@pytest.mark.parametrize(("text", "message"), [
    ("devices: 3\n", "devices: the file must be a mapping with a list `devices`"),
    ("devices:\n- {hostname: a, platform: junos, config: x}\n",
     "devices[0].platform: 'junos' is not one of"),
    ("devices:\n- {hostname: a, platform: cisco_ios}\n", "devices[0].config: missing"),
    ("devices:\n- {hostname: a, platform: cisco_ios, config: nope.cfg}\n",
     "devices[0].config: cannot read"),
    ("devices:\n- {hostname: a, platform: cisco_ios, config: c.cfg,\n"
     "   macs: [{vlan: 10, mac: zz, port: Gi0/1}]}\n", "devices[0].macs[0].mac: 'zz' is not"),
    ("devices:\n- {hostname: a, platform: cisco_ios, config: c.cfg,\n"
     "   neighbours: [{port: Gi0/1, name: x, protocols: [stp]}]}\n",
     "devices[0].neighbours[0].protocols: ['stp']"),
    ("devices:\n- {hostname: a, platform: cisco_ios, config: c.cfg, colour: red}\n",
     "devices[0]: unknown key(s) ['colour']"),
    ("devices: [\n", "not YAML"),
])
def test_bad_world_file_says_where(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "c.cfg").write_text("hostname a\n")
    path = tmp_path / "w.yml"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        load_world(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_cli_start_legacy_reports_a_bad_world_without_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.yml"
    path.write_text("devices:\n- {hostname: a, platform: cisco_ios}\n")
    rc = main(["sim", "start", "--legacy", str(path), "--sim-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert rc != 0 and "devices[0].config: missing" in err and "Traceback" not in err


def test_cli_start_and_stop_legacy_world(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    sim_dir = tmp_path / "s"
    try:
        assert main(["sim", "start", "--legacy", str(LEGACY / "world.yml"),
                     "--sim-dir", str(sim_dir)]) == 0
        assert "started 4 simulated devices" in capsys.readouterr().out
        assert (sim_dir / "state.json").exists()
    finally:
        assert main(["sim", "stop", "--sim-dir", str(sim_dir)]) == 0


def test_synthetic_world_is_deterministic_and_reads_back() -> None:
    world = synthetic_world(6)
    assert world == synthetic_world(6) and len(world) == 6
    for dev in world.values():
        text = dev.config if dev.flavour == "ios-classic" else ProCurveEngine(dev.config).text()
        assert text == dev.config or dev.flavour == "ios-classic"
        legacy = read_config(dev.config, dev.hostname)
        assert legacy.ports and legacy.vlans
