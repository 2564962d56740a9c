"""The playbooks against simulators: check mode sends nothing, a failing device is rolled
back, and bad input gives a message, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_helpers import BIN, Sims, ansible_env, run, sims_fixture  # noqa: F401 - fixture `sims`

from nornir_tasks.sim.faults import set_fault


def _playbook(name: str, env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = run([str(BIN / "ansible-playbook"), f"playbooks/{name}", *args], env)
    return proc.returncode, proc.stdout + proc.stderr


def _drift(sims: Sims) -> dict[str, int]:
    proc = sims.fellesnett("diff", "--sim", "--sim-dir", str(sims.dir), "--limit",
                           ",".join(sims.hosts), "--json")
    return {h: d["changes"] for h, d in json.loads(proc.stdout)["devices"].items()}


def _vars(tmp: Path) -> list[str]:
    return ["-e", f"fellesnett_deploy_output_dir={tmp}/render",
            "-e", f"fellesnett_deploy_backup_dir={tmp}/backups",
            "-e", f"fellesnett_deploy_work_dir={tmp}/work"]


def test_check_mode_shows_the_remediation_and_sends_nothing(sims: Sims, tmp_path: Path
                                                             ) -> None:
    before = _drift(sims)
    code, out = _playbook("deploy.yml", sims.env(), "--limit", ",".join(sims.hosts),
                          "--check", "--diff", *_vars(tmp_path))
    assert code == 0, out[-4000:]
    assert "no ip http server" in out  # --diff prints the masked remediation
    assert "would change" in out
    assert _drift(sims) == before
    assert not (tmp_path / "backups" / ".git").exists()  # check mode commits nothing


def test_failing_device_is_rolled_back_and_others_converge(sims: Sims, tmp_path: Path
                                                            ) -> None:
    bad, good = "alta-helsesenter-acc01", "alta-helsesenter-dist01"
    set_fault(sims.dir, bad, reject_line="^ip dhcp snooping vlan")
    before = _drift(sims)
    code, out = _playbook("deploy.yml", sims.env(), "--limit", f"{bad},{good}",
                          "-e", "fellesnett_canary=0", *_vars(tmp_path))
    assert code != 0
    assert "rolled back" in out and "verified identical to the pre-change config" in out
    assert "Invalid input" in out
    after = _drift(sims)
    assert after[bad] == before[bad] > 0  # back where it was
    assert after[good] == 0
    assert not list((tmp_path / "work").glob("*.push"))


def test_failed_canary_stops_the_rest(sims: Sims, tmp_path: Path) -> None:
    canary = "alta-helsesenter-acc01"  # the first access switch: the hosts line orders them
    set_fault(sims.dir, canary, reject_line="^no ip http server")
    before = _drift(sims)
    code, out = _playbook("deploy.yml", sims.env(), "--limit", ",".join(sims.hosts),
                          *_vars(tmp_path))
    assert code != 0
    assert _drift(sims) == before  # nothing else was attempted


def test_limit_selecting_only_access_points_is_an_error() -> None:
    code, out = _playbook("render.yml", ansible_env(), "--limit", "alta-skole-ap01")
    assert code != 0
    assert "selects no device that has a config" in out
    assert "Traceback" not in out


def test_sim_mode_without_simulators_is_an_error(tmp_path: Path) -> None:
    env = ansible_env(FELLESNETT_SIM="1", FELLESNETT_SIM_DIR=str(tmp_path / "none"))
    code, out = _playbook("backup.yml", env, "--limit", "alta-helsesenter-acc01")
    assert code != 0
    assert "no simulators running in" in out and "fellesnett sim start" in out
    assert "Traceback" not in out


def test_device_without_simulator_is_stopped_before_any_connection(sims: Sims) -> None:
    code, out = _playbook("backup.yml", sims.env(), "--limit", "barnevernet-sw01")
    assert code != 0
    assert "has no simulator" in out
