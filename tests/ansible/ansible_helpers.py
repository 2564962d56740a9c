"""Helpers for the Ansible parity tests: the repository's ansible.cfg, simulators on
127.0.0.1 started and stopped by the test itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: the devices of the live molecule scenarios (roles/*/molecule/default/converge.yml)
LIVE_HOSTS = ["alta-helsesenter-acc01", "alta-helsesenter-dist01", "radhuset-wlc01"]


def ansible_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANSIBLE_", "MOLECULE_", "FELLESNETT_"))}
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1",
                "PY_COLORS": "0", "ANSIBLE_LOCAL_TEMP": "/tmp/fellesnett-ansible-tmp",
                "FELLESNETT_LOCK_DIR": extra.pop("FELLESNETT_LOCK_DIR", "") or
                str(Path("/tmp/fellesnett-ansible-locks"))})
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path = ROOT, timeout: float = 600
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


class Sims:
    def __init__(self, state_dir: Path, hosts: list[str]) -> None:
        self.dir, self.hosts = state_dir, hosts

    def env(self, **extra: str) -> dict[str, str]:
        return ansible_env(FELLESNETT_SIM="1", FELLESNETT_SIM_DIR=str(self.dir), **extra)

    def fellesnett(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(BIN / "fellesnett"), *args], self.env())


def start_sims(state_dir: Path, hosts: list[str]) -> Sims:
    proc = run([str(BIN / "fellesnett"), "sim", "start", "--sim-dir", str(state_dir),
                "--limit", ",".join(hosts)], ansible_env())
    assert proc.returncode == 0, proc.stderr
    return Sims(state_dir, hosts)


@pytest.fixture(name="sims")
def sims_fixture(tmp_path: Path) -> Iterator[Sims]:
    """Fresh simulators (with their seeded drift) for the live scenarios' devices."""
    state = tmp_path / "sim"
    s = start_sims(state, LIVE_HOSTS)
    try:
        yield s
    finally:
        run([str(BIN / "fellesnett"), "sim", "stop", "--sim-dir", str(state)], ansible_env())
