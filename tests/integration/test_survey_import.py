"""Survey over real SSH (simulators of a Catalyst 2960-X, a 2960 on IOS 12.2 and two
ArubaOS-Switch, seeded from tests/fixtures/legacy/world.yml), then import the survey with
the mapping file: the access points LLDP/CDP found become AP hosts on their new ports,
with their MAC addresses, and the proposal builds."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from nornir_tasks.build import build
from nornir_tasks.cli import main
from nornir_tasks.estate_init import init_estate

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "fixtures" / "legacy"


@pytest.fixture(scope="module")
def surveyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("survey")
    sim = work / "sim"
    assert main(["sim", "start", "--legacy", str(LEGACY / "world.yml"),
                 "--sim-dir", str(sim)]) == 0
    try:
        assert main(["survey", str(LEGACY / "survey-devices.yml"), "--sim", "--sim-dir",
                     str(sim), "--repo", str(work / "survey")]) == 0
        yield work
    finally:
        main(["sim", "stop", "--sim-dir", str(sim)])


def test_the_survey_reads_every_device_and_commits_once(surveyed: Path) -> None:
    repo = surveyed / "survey"
    hosts = sorted(p.name for p in (repo / "devices").iterdir())
    assert hosts == ["ALTA-SKOLE-SW01", "BOSSEKOP-BHG-SW01", "HELSESTASJON-SW01",
                     "SERVICETORGET-SW01"]
    log = subprocess.run(["git", "-C", str(repo), "log", "--oneline"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(log) == 2 and "4 devices read, 0 unreachable" in log[0]
    alta = json.loads((repo / "devices" / "ALTA-SKOLE-SW01" / "survey.json").read_text())
    assert alta["facts"]["model"] == "WS-C2960X-48FPD-L"
    assert alta["facts"]["os_version"] == "15.2(7)E4"
    aps = {n["port"]: n for n in alta["neighbours"] if "AIR-AP2802I" in n["platform"]}
    assert aps["GigabitEthernet1/0/41"]["chassis_id"] == "00a2.eeb2.b7b3"
    assert {"cdp", "lldp"} <= set(aps["GigabitEthernet1/0/41"]["protocols"])
    aruba = json.loads((repo / "devices" / "SERVICETORGET-SW01" / "survey.json").read_text())
    assert aruba["facts"]["model"] == "J9775A" and aruba["macs"]
    # secrets scrubbed as in backups, on both platforms
    for host in hosts:
        text = (repo / "devices" / host / "running-config.txt").read_text()
        for secret in ("$1$Rq7H$", "$1$y6Nb$", "0822455D0A16", "sk0leRO", '"public"'):
            assert secret not in text, (host, secret)
    report = (repo / "REPORT.md").read_text()
    assert "| ALTA-SKOLE-SW01 | GigabitEthernet1/0/41 | ALTA-SKOLE-AP01 |" in report
    assert "```mermaid" in report and (repo / "topology.dot").is_file()


def test_an_unreachable_device_is_reported_not_fatal(surveyed: Path, tmp_path: Path) -> None:
    devices = yaml.safe_load((LEGACY / "survey-devices.yml").read_text())
    devices["devices"].append({"host": "GONE-SW01", "platform": "cisco_ios"})
    path = tmp_path / "devices.yml"
    path.write_text(yaml.safe_dump(devices))
    sim = surveyed / "sim"
    state = json.loads((sim / "state.json").read_text())
    state["hosts"]["GONE-SW01"] = {"host": "127.0.0.1", "port": 9, "flavour": "ios-classic"}
    (sim / "state.json").write_text(json.dumps(state))
    try:
        code = main(["survey", str(path), "--sim", "--sim-dir", str(sim), "--repo",
                     str(tmp_path / "survey"), "--timeout", "3"])
    finally:
        del state["hosts"]["GONE-SW01"]
        (sim / "state.json").write_text(json.dumps(state))
    assert code == 0
    report = (tmp_path / "survey" / "REPORT.md").read_text()
    assert "4 devices read, 1 unreachable" in report and "GONE-SW01 | unreachable" in report


def test_the_survey_imports_with_its_access_points_and_builds(surveyed: Path) -> None:
    base = surveyed / "base"
    init_estate(base, "Nordby kommune")
    assert main(["import", str(surveyed / "survey"), "-m", str(LEGACY / "import" /
                 "mapping.yml"), "-i", str(base), "-o", str(surveyed / "proposed")]) == 0
    hosts = yaml.safe_load((surveyed / "proposed" / "hosts.yml").read_text())
    flat = {h: f for kind in hosts["all"]["children"].values()
            for site in (kind.get("children") or {}).values()
            for h, f in (site.get("hosts") or {}).items()}
    assert flat["alta-skole-ap01"]["mac"] == "00a2.eeb2.b7b3"
    assert flat["alta-skole-ap01"]["connected_to"] == {
        "switch": "alta-skole-sw01", "port": "GigabitEthernet1/0/41"}
    # IOS 12.2 gives CDP only: the AP's MAC is the one address on its port
    assert flat["bossekop-barnehage-ap01"]["connected_to"]["port"] == "GigabitEthernet1/0/17"
    rows = json.loads((surveyed / "proposed-report" / "import.json").read_text())["devices"]
    for row in rows.values():
        assert row["carried"] + row["not_carried"] + row["framing"] == row["lines_read"]
        assert row["surveyed"]
    build(surveyed / "proposed", surveyed / "build")
    assert (surveyed / "build" / "configs" / "alta_skole" / "alta-skole-sw01.cfg").is_file()


def _secrets(inventory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nornir_tasks.handover.secrets_doc import secret_uses
    from nornir_tasks.intent.loader import load_intent

    for use in secret_uses(load_intent(inventory)):
        monkeypatch.setenv(f"FELLESNETT_SECRET_{use.name.upper()}", f"Test-{use.name}-1")


def _running(sim: Path, host: str) -> str:
    from netmiko import ConnectHandler

    st = json.loads((sim / "state.json").read_text())
    with ConnectHandler(device_type="cisco_ios", host="127.0.0.1",
                        port=st["hosts"][host]["port"], username=st["username"],
                        password=st["password"], fast_cli=True) as conn:
        return str(conn.send_command("show running-config", read_timeout=30))


def test_wave_one_migrates_phase_by_phase_and_a_fault_rolls_back_to_legacy(
        surveyed: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from nornir_tasks.build import render_host
    from nornir_tasks.intent.loader import load_intent
    from nornir_tasks.live.remediation import converged
    from nornir_tasks.sim.faults import set_fault

    proposed, sim, mig = surveyed / "proposed", surveyed / "sim", surveyed / "migration"
    assert proposed.is_dir(), "runs after the import test"
    _secrets(proposed, monkeypatch)
    monkeypatch.setenv("FELLESNETT_LOCK_DIR", str(surveyed / "locks"))
    assert main(["migrate", "plan", "-i", str(proposed), "--import-report",
                 str(surveyed / "proposed-report"), "--survey", str(surveyed / "survey"),
                 "--out", str(mig / "plan.yml")]) == 0
    plan = yaml.safe_load((mig / "plan.yml").read_text())["waves"]
    assert list(plan[0]["sites"]) == ["alta_skole"]  # the one in-place site is the pilot
    run = ["migrate", "run", "--plan", str(mig / "plan.yml"), "--wave", "1", "-i",
           str(proposed), "--sim", "--sim-dir", str(sim), "--state", str(mig),
           "--backups", str(surveyed / "backups"), "--json"]
    legacy = _running(sim, "ALTA-SKOLE-SW01")
    # a fault in the move phase: the device goes back to its legacy config exactly
    assert main([*run, "--phase", "prestage", "--apply"]) == 0
    set_fault(sim, "ALTA-SKOLE-SW01", reject_line=r"^\s*access-session port-control auto$",
              times=1)
    capsys.readouterr()
    assert main([*run, "--phase", "move", "--apply"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["devices"][0]["status"] == "rolled back", out
    back = _running(sim, "ALTA-SKOLE-SW01")
    assert converged(back, legacy, masked=False) == []
    assert converged(legacy, back, masked=False) == []
    # then the whole wave, phase by phase
    for phase in ("prestage", "move", "cleanup"):
        assert main([*run, "--phase", phase, "--apply"]) == 0, phase
    intended = render_host(load_intent(proposed), "alta-skole-sw01")
    assert converged(_running(sim, "ALTA-SKOLE-SW01"), intended, masked=True) == []
    state = json.loads((mig / "state.json").read_text())
    assert state["sites"]["alta_skole"]["state"] == "migrated"
    assert oct((mig / "legacy" / "alta-skole-sw01.cfg").stat().st_mode)[-3:] == "600"
    # the audit holds the migrated site to the intent and reports the others as legacy
    capsys.readouterr()
    main(["audit", "--sim", "--sim-dir", str(sim), "-i", str(proposed), "--migration",
          str(mig), "--backups", str(surveyed / "backups"), "--no-zone-proof", "--limit",
          "site_alta_skole,site_bossekop_barnehage,site_helsestasjonen,site_servicetorget",
          "--json-stdout"])
    data = json.loads(capsys.readouterr().out)
    assert [d["host"] for d in data["devices"]] == ["alta-skole-sw01"]
    assert {d["host"]: d["state"] for d in data["legacy"]} == {
        "bossekop-barnehage-sw01": "legacy", "helsestasjonen-sw01": "legacy",
        "servicetorget-sw01": "legacy"}
    assert all(d["surveyed"] for d in data["legacy"])
