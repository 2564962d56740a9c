"""Live operations over real SSH against 24 simulated devices on 127.0.0.1.

The simulators are started by ``fellesnett sim start`` (seeded with a plausible pre-existing
config that drifts from the intent) and stopped at the end. Each device's config is read
back in the assertions over an independent netmiko session, not through the code under
test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from netmiko import ConnectHandler

from nornir_tasks.cli import main
from nornir_tasks.live.remediation import converged
from nornir_tasks.sim.faults import clear_faults, set_fault

ROOT = Path(__file__).resolve().parents[2]
LIMIT = "site_alta_ungdomsskole,site_radhuset,aktivitetssenteret-sw01"


class Lab:
    """A running set of simulators and the directories a live run writes to."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sim_dir = root / "sim"
        self.backups = root / "backups"
        self.locks = root / "locks"

    def state(self) -> dict[str, object]:
        return json.loads((self.sim_dir / "state.json").read_text())  # type: ignore[no-any-return]

    def hosts(self) -> list[str]:
        return sorted(self.state()["hosts"])  # type: ignore[call-overload]

    def running(self, host: str) -> str:
        """The device's running config, read over a fresh SSH session of our own."""
        st = self.state()
        port = st["hosts"][host]["port"]  # type: ignore[index]
        with ConnectHandler(device_type="cisco_xe", host="127.0.0.1", port=port,
                            username=st["username"], password=st["password"],
                            fast_cli=True) as conn:
            return str(conn.send_command("show running-config", read_timeout=30))

    def all_running(self, hosts: list[str]) -> dict[str, str]:
        with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
            return dict(zip(hosts, pool.map(self.running, hosts), strict=True))

    def run(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        capsys.readouterr()
        code = main([args[0], "--sim", "--limit", LIMIT, "--backups", str(self.backups),
                     "--json", *args[1:]])
        out = capsys.readouterr().out
        return code, (json.loads(out) if out.strip() else {})


def _statuses(report: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {d["host"]: d["status"] for d in report["devices"]}


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim_secrets: dict[str, str]
        ) -> Iterator[Lab]:
    lab = Lab(tmp_path)
    monkeypatch.setenv("FELLESNETT_SIM_DIR", str(lab.sim_dir))
    monkeypatch.setenv("FELLESNETT_LOCK_DIR", str(lab.locks))
    for k, v in sim_secrets.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(ROOT)
    assert main(["sim", "start", "--limit", LIMIT]) == 0
    try:
        yield lab
    finally:
        main(["sim", "stop"])


def test_full_deploy_converges_and_the_second_run_changes_nothing(
        lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    hosts = lab.hosts()
    assert len(hosts) >= 20
    seeds = lab.all_running(hosts)

    code, dry = lab.run(capsys, "deploy")
    assert code == 0
    assert set(_statuses(dry).values()) == {"would change"}
    assert all(lab.running(h) == seeds[h] for h in hosts[:3])  # a dry run sends nothing

    code, first = lab.run(capsys, "deploy", "--apply", "--change-ref", "net/fellesnett!17")
    assert code == 0, first
    assert _statuses(first) == {h: "changed" for h in hosts}
    assert first["summary"]["changed"] == len(hosts)

    for h, now in lab.all_running(hosts).items():
        assert "<<secret" not in now and "Test-" not in now  # hashes only, never plaintext
        assert now != seeds[h]

    code, second = lab.run(capsys, "deploy", "--apply")
    assert code == 0
    assert _statuses(second) == {h: "unchanged" for h in hosts}
    assert sum(d["changes"] for d in second["devices"]) == 0

    log = subprocess.run(["git", "-C", str(lab.backups), "log", "--format=%s"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert log[0].startswith("pre-change") or log[0].startswith("post-change")
    assert any(s.startswith("post-change") for s in log)
    post = first["post_change_backup"]
    body = subprocess.run(["git", "-C", str(lab.backups), "log", "-1", "--format=%B", post],
                          capture_output=True, text=True, check=True).stdout
    assert "Change-Ref: net/fellesnett!17" in body and "Intent-Commit: " in body
    stored = "".join(p.read_text() for p in lab.backups.rglob("*.cfg"))
    assert "$9$" not in stored and "Test-" not in stored


def test_faults_leave_every_other_device_changed_and_the_faulted_ones_as_they_were(
        lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    hosts = lab.hosts()
    code, plan = lab.run(capsys, "diff")
    assert code == 0
    # the device refuses the last command of its own remediation: all before it are applied
    last = plan["devices"]["alta-ungdomsskole-acc04"]["remediation"][-1].strip()
    faulted = {
        "alta-ungdomsskole-acc02": {"down": True},
        "alta-ungdomsskole-acc03": {"refuse_login": True},
        "alta-ungdomsskole-acc04": {"reject_line": rf"^\s*{re.escape(last)}\s*$"},
        "alta-ungdomsskole-acc05": {"drop_after_lines": 3, "times": 1},
        "alta-ungdomsskole-acc06": {"hang_after_lines": 3, "times": 1},
    }
    seeds = lab.all_running(hosts)
    for host, fault in faulted.items():
        set_fault(lab.sim_dir, host, **fault)

    code, report = lab.run(capsys, "deploy", "--apply", "--timeout", "4",
                           "--connect-timeout", "4")
    assert code == 1
    status = _statuses(report)
    by_host = {d["host"]: d for d in report["devices"]}
    assert status["alta-ungdomsskole-acc02"] == "failed"
    assert status["alta-ungdomsskole-acc03"] == "failed"
    assert "authentication" in by_host["alta-ungdomsskole-acc03"]["error"]
    for host in ("alta-ungdomsskole-acc04", "alta-ungdomsskole-acc05",
                 "alta-ungdomsskole-acc06"):
        assert status[host] == "rolled back", by_host[host]
        assert "verified identical" in by_host[host]["rollback"]
    assert {h: s for h, s in status.items() if h not in faulted} == {
        h: "changed" for h in hosts if h not in faulted}
    assert report["summary"] == {"unchanged": 0, "would change": 0,
                                 "changed": len(hosts) - 5, "rolled back": 3, "failed": 2,
                                 "skipped": 0}

    clear_faults(lab.sim_dir)
    for host in faulted:  # exactly the config it had before the run, hashes included
        after = lab.running(host)
        assert converged(after, seeds[host], masked=False) == [], host
    # and the others really converged on the intent
    code, again = lab.run(capsys, "diff")
    assert code == 0
    changes = {d: v["changes"] for d, v in again["devices"].items()}
    assert all(changes[h] == 0 for h in hosts if h not in faulted)
    assert all(changes[h] > 0 for h in faulted)


def test_a_failed_canary_stops_the_rest(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    canary = "aktivitetssenteret-sw01"  # first access switch by name: the canary
    set_fault(lab.sim_dir, canary, reject_line=r".", times=1)
    code, report = lab.run(capsys, "deploy", "--apply", "--canary", "1")
    assert code == 1
    assert report["canary"] == canary
    status = _statuses(report)
    assert status[canary] == "rolled back", report
    assert {s for h, s in status.items() if h != canary} == {"skipped"}


def test_backup_diff_and_rollback_to_a_backup(lab: Lab, capsys: pytest.CaptureFixture[str]
                                              ) -> None:
    hosts = lab.hosts()
    seeds = lab.all_running(hosts)
    code, report = lab.run(capsys, "backup")
    assert code == 0 and report["backup_commit"] != "no change"
    before = report["backup_commit"]
    code, report = lab.run(capsys, "backup")
    assert report["backup_commit"] == "no change"

    capsys.readouterr()
    assert main(["diff", "--sim", "--limit", LIMIT]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith(f"## fellesnett diff: {len(hosts)} of {len(hosts)} devices")
    assert "<code>radhuset-core01</code>" in markdown and "$9$" not in markdown

    assert lab.run(capsys, "deploy", "--apply")[0] == 0
    code, report = lab.run(capsys, "rollback", "--to", before)
    assert code == 0, report
    assert set(_statuses(report).values()) == {"changed"}
    skipped = {d["host"]: d["skipped_secret_lines"] for d in report["devices"]}
    assert all(skipped.values())  # the seeds' SNMP community: scrubbed, so not restorable
    for h, now in lab.all_running(hosts).items():  # back at the backup, apart from the
        # secret lines it could not hold
        left = [line.strip() for line in converged(now, seeds[h], masked=True)]
        assert left == skipped[h], h


def test_an_overlapping_deploy_is_refused(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    from nornir_tasks.live.lock import device_locks

    with device_locks(["radhuset-core01"], lab.locks):
        code = main(["deploy", "--sim", "--limit", LIMIT, "--apply"])
    assert code == 2
    assert "radhuset-core01 is locked by another run" in capsys.readouterr().err


def test_live_commands_without_simulators_or_credentials_fail_cleanly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("FELLESNETT_SIM_DIR", str(tmp_path / "none"))
    assert main(["diff", "--sim"]) == 2
    assert "fellesnett sim start" in capsys.readouterr().err
    for var in ("FELLESNETT_USERNAME", "FELLESNETT_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    assert main(["backup", "--limit", "radhuset-core01"]) == 2
    assert "FELLESNETT_USERNAME" in capsys.readouterr().err
    assert os.environ.get("FELLESNETT_SIM_DIR")
