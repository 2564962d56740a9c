"""`molecule test` (syntax, converge, idempotence, verify) for every role, no containers.

The live roles run against simulators this test starts on 127.0.0.1 (and stops); what
they produce is compared with what the `fellesnett` commands produce on the same devices.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible_helpers import BIN, ROOT, Sims, ansible_env, run, sims_fixture  # noqa: F401 - fixture `sims`


def _molecule(role: str, env: dict[str, str]) -> str:
    # molecule keeps a scenario's state (e.g. "prepared") between runs: start afresh
    run([str(BIN / "molecule"), "reset"], env, cwd=ROOT / "roles" / role)
    proc = run([str(BIN / "molecule"), "test"], env, cwd=ROOT / "roles" / role, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    for step in ("syntax", "converge", "idempotence", "verify"):
        assert f"{step}: Executed: Successful" in out, f"{step} did not run:\n{out[-3000:]}"
    return out


@pytest.mark.parametrize("role", ["fellesnett_render", "fellesnett_audit"])
def test_offline_role(role: str, tmp_path: Path) -> None:
    _molecule(role, ansible_env(FELLESNETT_MOLECULE_OUT=str(tmp_path)))


def test_backup_role_matches_fellesnett_backup(sims: Sims, tmp_path: Path) -> None:
    _molecule("fellesnett_backup", sims.env(FELLESNETT_MOLECULE_OUT=str(tmp_path)))
    theirs = tmp_path / "fellesnett-backups"
    proc = sims.fellesnett("backup", "--sim", "--sim-dir", str(sims.dir), "--limit",
                           ",".join(sims.hosts), "--backups", str(theirs), "--json")
    assert proc.returncode == 0, proc.stderr
    files = sorted(p.relative_to(theirs) for p in theirs.rglob("*.cfg"))
    assert len(files) == len(sims.hosts)
    for rel in files:
        assert (tmp_path / "backups" / rel).read_bytes() == (theirs / rel).read_bytes(), rel


def test_diff_role_matches_fellesnett_diff(sims: Sims, tmp_path: Path) -> None:
    _molecule("fellesnett_diff", sims.env(FELLESNETT_MOLECULE_OUT=str(tmp_path)))
    theirs = tmp_path / "fellesnett-drift.md"
    proc = sims.fellesnett("diff", "--sim", "--sim-dir", str(sims.dir), "--limit",
                           ",".join(sims.hosts), "-o", str(theirs))
    assert proc.returncode == 0, proc.stderr
    ours = (tmp_path / "drift" / "drift.md").read_text()
    assert ours == theirs.read_text()
    assert f"{len(sims.hosts)} of {len(sims.hosts)} devices differ" in ours


def test_deploy_role_converges_the_simulators(sims: Sims, tmp_path: Path) -> None:
    before = sims.fellesnett("diff", "--sim", "--sim-dir", str(sims.dir), "--limit",
                             ",".join(sims.hosts), "--json")
    assert all(d["changes"] > 0 for d in json.loads(before.stdout)["devices"].values())
    _molecule("fellesnett_deploy", sims.env(FELLESNETT_MOLECULE_OUT=str(tmp_path)))
    after = sims.fellesnett("diff", "--sim", "--sim-dir", str(sims.dir), "--limit",
                            ",".join(sims.hosts), "--json")
    assert after.returncode == 0, after.stderr
    devices = json.loads(after.stdout)["devices"]
    assert sorted(devices) == sorted(sims.hosts)
    assert all(d["changes"] == 0 for d in devices.values()), devices
