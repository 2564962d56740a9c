"""ansible-lint (production profile) and yamllint are clean on playbooks/, roles/ and the
in-repository collection."""

from __future__ import annotations

from ansible_helpers import BIN, ansible_env, run


def test_yamllint_clean() -> None:
    proc = run([str(BIN / "yamllint"), "--strict", "."], ansible_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ansible_lint_production_profile_clean() -> None:
    proc = run([str(BIN / "ansible-lint", ), "--profile", "production", "--offline",
                "--nocolor"], ansible_env())
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert "Profile 'production' was required, and it passed" in out
