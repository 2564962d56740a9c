"""The GitLab pipeline, run for real with gitlab-ci-local (shell executor, no Docker).

A snapshot of the working tree becomes a throw-away git repository; the live jobs are pointed
at simulators this test starts (``FELLESNETT_LIVE=--sim``) for two sites in two different
shards. Proven: the whole pipeline passes end to end (lint … deploy canary → shards →
post-check → manual rollback), the devices converge and are rolled back to the pre-deploy
backup; and a broken inventory stops the pipeline at validate with nothing deployed.

Marked ``pipeline``: the pipeline's own test job deselects it (``-m "not pipeline"``), so
the pipeline never runs itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from netmiko import ConnectHandler

from nornir_tasks.cli import main
from nornir_tasks.live.remediation import converged

pytestmark = pytest.mark.pipeline

ROOT = Path(__file__).resolve().parents[2]
SCOPE = "site_radhuset,site_alta_skole"  # shards 0 and 3 of 4; the canary is in shard 0


def _gitlab_ci_local() -> str:
    found = shutil.which("gitlab-ci-local")
    if found and shutil.which("rsync"):
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("gitlab-ci-local and rsync are required in CI (.ci/run installs them)")
    pytest.skip("gitlab-ci-local or rsync not installed (npm install -g gitlab-ci-local@4.73.0)")


def _snapshot(dest: Path) -> Path:
    """The working tree as git sees it (tracked + untracked, not ignored), committed."""
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard",
                            "-z"], capture_output=True, text=True, check=True).stdout
    for rel in filter(None, files.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    git = ["git", "-C", str(dest), "-c", "user.name=ci", "-c", "user.email=ci@localhost"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "snapshot"], check=True)
    return dest


class Pipeline:
    def __init__(self, tmp: Path, secrets: dict[str, str]) -> None:
        self.repo = _snapshot(tmp / "repo")
        self.sim_dir, self.backups = tmp / "sim", tmp / "backups"
        self.variables = {
            "FELLESNETT_VENV": str(Path(sys.executable).parent.parent),
            "FELLESNETT_LIVE": "--sim", "FELLESNETT_SIM_DIR": str(self.sim_dir),
            "FELLESNETT_SCOPE": SCOPE, "FELLESNETT_BACKUPS": str(self.backups),
            "FELLESNETT_LOCK_DIR": str(tmp / "locks"), "FELLESNETT_SKIP_LAB": "1",
            # the full suite runs in CI anyway; inside the pipeline a quick slice proves the job
            "PYTEST_ARGS": "tests/ci -p no:cacheprovider",
            **secrets,
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [_gitlab_ci_local(), "--shell-isolation", "--force-shell-executor",
               "--no-color", *args]
        for k, v in self.variables.items():
            cmd += ["--variable", f"{k}={v}"]
        return subprocess.run(cmd, cwd=self.repo, capture_output=True, text=True, timeout=1200)

    def running(self) -> dict[str, str]:
        state = json.loads((self.sim_dir / "state.json").read_text())
        out = {}
        for host, target in sorted(state["hosts"].items()):
            with ConnectHandler(device_type="cisco_xe", host="127.0.0.1", port=target["port"],
                                username=state["username"], password=state["password"],
                                fast_cli=True) as conn:
                out[host] = str(conn.send_command("show running-config", read_timeout=30))
        return out


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim_secrets: dict[str, str]
             ) -> Iterator[Pipeline]:
    _gitlab_ci_local()
    p = Pipeline(tmp_path, sim_secrets)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("FELLESNETT_SIM_DIR", str(p.sim_dir))
    assert main(["sim", "start", "--limit", SCOPE]) == 0
    try:
        # what the backups hold before the first pipeline (the diff job reads them)
        assert main(["backup", "--sim", "--limit", SCOPE, "--backups", str(p.backups)]) == 0
        yield p
    finally:
        main(["sim", "stop"])


def _passed(output: str) -> dict[str, str]:
    """Job name -> PASS/FAIL/... from gitlab-ci-local's final report."""
    out = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("PASS", "FAIL", "WARN"):
            out[" ".join(parts[1:])] = parts[0]
    return out


def test_the_pipeline_deploys_checks_and_rolls_back(pipeline: Pipeline) -> None:
    before = pipeline.running()
    # the manual gate opened; every job of a default-branch pipeline runs
    result = pipeline.run("--manual", "deploy-canary")
    report = _passed(result.stdout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for job in ("lint", "validate", "render", "verify", "test", "diff-report",
                "deploy-dry-run", "deploy-canary", "post-check"):
        assert report.get(job) == "PASS", (job, report)
    shard_jobs = {j: r for j, r in report.items() if j.startswith("deploy: [")}
    assert len(shard_jobs) == 4 and set(shard_jobs.values()) == {"PASS"}, report
    assert not any(j.startswith("rollback") for j in report)  # manual: not without a click

    repo = pipeline.repo
    canary = json.loads((repo / "deploy-canary.json").read_text())
    assert [d["host"] for d in canary["devices"]] == ["radhuset-acc01"]
    assert canary["devices"][0]["status"] == "changed"
    shards = [json.loads(p.read_text()) for p in sorted(repo.glob("deploy-[0-9].json"))]
    done = {d["host"] for r in shards for d in r["devices"]
            if d["status"] in ("changed", "unchanged")}
    assert done == set(before)  # every device of the scope went through its shard's job
    diff_md = (repo / "diff.md").read_text()
    assert "radhuset-core01" in diff_md and "$9$" not in diff_md
    deployed = pipeline.running()
    assert all(deployed[h] != before[h] for h in before)

    # later, someone clicks the manual rollback: every shard back at the pre-deploy backup
    result = pipeline.run("--manual", "rollback", "rollback")
    report = _passed(result.stdout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert sorted(report) == [f"rollback: [{k}]" for k in range(4)], report
    after = pipeline.running()
    for host in before:
        left = [line.strip() for line in converged(after[host], before[host], masked=True)]
        # only what a scrubbed backup cannot hold stays out: the legacy SNMP community
        assert left in ([], ["snmp-server community <<secret>> RO"]), (host, left)


def test_a_broken_inventory_stops_at_validate_and_nothing_is_deployed(pipeline: Pipeline
                                                                     ) -> None:
    before = pipeline.running()
    zones = pipeline.repo / "inventory/group_vars/all/zones.yml"
    zones.write_text(zones.read_text().replace("vlan: 110", "vlan: 5000", 1))
    subprocess.run(["git", "-C", str(pipeline.repo), "-c", "user.name=ci", "-c",
                    "user.email=ci@localhost", "commit", "-qam", "broken"], check=True)
    result = pipeline.run("--manual", "deploy-canary")
    report = _passed(result.stdout)
    assert result.returncode != 0
    assert report.get("validate") == "FAIL", report
    assert not any(j.startswith(("deploy", "post-check", "rollback")) for j in report), report
    assert pipeline.running() == before
