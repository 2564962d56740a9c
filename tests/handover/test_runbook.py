"""The runbook's commands are real: each one parses with the real command line, and the
add-a-site -> deploy -> roll back and the secret-rotation procedures run against the device
simulators on 127.0.0.1 (a private inventory copy, simulator, lock and backup directories
in tmp)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from nornir_tasks.cli import build_parser, main
from nornir_tasks.handover.tables import RUNBOOK

SITE = "site_testby_skole"


def runbook_commands() -> list[str]:
    """Every `fellesnett ...` line inside a fenced sh block of docs/runbook.md."""
    out, inside = [], False
    for line in RUNBOOK.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            inside = stripped == "```sh"
            continue
        if inside and stripped.startswith("fellesnett "):
            out.append(stripped)
    return out


def test_the_runbook_covers_the_procedures() -> None:
    cmds = runbook_commands()
    verbs = {" ".join(shlex.split(c)[1:3]) for c in cmds}
    for verb in ("deploy --apply", "site add", "handover verify", "handover diff",
                 "sim start", "validate build"[:8]):
        assert any(v.startswith(verb) for v in verbs), verb
    assert any("--rotate-secrets" in c for c in cmds)
    assert any(shlex.split(c)[1] == "rollback" for c in cmds)


@pytest.mark.parametrize("command", runbook_commands())
def test_every_runbook_command_parses(command: str) -> None:
    argv = shlex.split(command)[1:]
    args = build_parser().parse_args(argv)  # SystemExit(2) on a renamed option
    assert callable(args.func)


# --------------------------------------------------------------------------- simulators


class Lab:
    def __init__(self, root: Path, inventory: Path) -> None:
        self.root, self.inventory = root, inventory
        self.backups = root / "backups"

    def run(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        capsys.readouterr()
        code = main([*argv, "--sim", "--inventory", str(self.inventory), "--limit",
                     f"{SITE},core", "--backups", str(self.backups), "--json"])
        out = capsys.readouterr().out
        return code, (json.loads(out) if out.strip() else {})


def _statuses(report: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {d["host"]: d["status"] for d in report["devices"]}


@pytest.fixture
def lab(inventory_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], sim_secrets: dict[str, str]) -> Iterator[Lab]:
    monkeypatch.setenv("FELLESNETT_SIM_DIR", str(tmp_path / "sim"))
    monkeypatch.setenv("FELLESNETT_LOCK_DIR", str(tmp_path / "locks"))
    for k, v in sim_secrets.items():
        monkeypatch.setenv(k, v)
    # runbook "Add a site", step 1 (one switch, one AP: a small site keeps the test quick)
    assert main(["site", "add", "--inventory", str(inventory_copy), "--name", "Testby skole",
                 "--kind", "school", "--circuit-type", "l2", "--provider", "Fiberoperatør AS",
                 "--circuit-id", "FIB-00777", "--bandwidth", "1000", "--aps", "1"]) == 0
    assert main(["build", "--inventory", str(inventory_copy), "--out",
                 str(tmp_path / "build"), "--limit", f"{SITE},core,wlc"]) == 0
    assert main(["sim", "start", "--inventory", str(inventory_copy), "--limit",
                 f"{SITE},core"]) == 0
    try:
        yield Lab(tmp_path, inventory_copy)
    finally:
        main(["sim", "stop"])


def test_add_a_site_deploy_it_roll_it_back_and_rotate_a_secret(
        lab: Lab, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = {"radhuset-core01", "radhuset-core02", "testby-skole-sw01"}
    # runbook "Deploy a change": dry run, then apply, then nothing left to do
    code, dry = lab.run(capsys, "deploy")
    assert code == 0 and set(_statuses(dry).values()) == {"would change"}
    code, first = lab.run(capsys, "deploy", "--apply", "--change-ref", "net/fellesnett!43")
    assert code == 0, first
    assert _statuses(first) == {h: "changed" for h in hosts}
    pre = first["pre_change_backup"]
    assert re.fullmatch(r"[0-9a-f]{7,40}", pre)
    code, again = lab.run(capsys, "deploy", "--apply")
    assert code == 0 and set(_statuses(again).values()) == {"unchanged"}

    # runbook "Roll back": to the pre-change backup of the deploy
    code, back = lab.run(capsys, "rollback", "--to", pre, "--change-ref", "INC-1234")
    assert code == 0, back
    assert set(_statuses(back).values()) == {"changed"}
    code, drift = lab.run(capsys, "diff")
    assert code == 0 and all(d["changes"] > 0 for d in drift["devices"].values())

    # runbook "Rotate a secret": converge, then send the TACACS+ key on purpose
    assert lab.run(capsys, "deploy", "--apply")[0] == 0
    monkeypatch.setenv("FELLESNETT_SECRET_TACACS_KEY", "Rb-Tacacs-rotated-6")
    code, rotated = lab.run(capsys, "deploy", "--apply", "--rotate-secrets", "tacacs_key")
    assert code == 0, rotated
    assert _statuses(rotated) == {h: "changed" for h in hosts}
    code, after = lab.run(capsys, "deploy", "--apply")
    assert code == 0 and set(_statuses(after).values()) == {"unchanged"}
    stored = "".join(p.read_text() for p in lab.backups.rglob("*.cfg"))
    assert "Rb-Tacacs" not in stored
