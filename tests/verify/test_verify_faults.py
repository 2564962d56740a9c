"""Every fault-injection case in ``tests/verify/cases/`` is caught (see verify_faults.py).

Each case copies the session's clean build, applies its patches to the config text, runs
``fellesnett verify --json`` on it and checks the exit code and the reported violations.
Adding a case is adding a YAML file; nothing here changes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from verify_faults import VIOLATION_KEYS, Applied, apply_patch, matches

from nornir_tasks.verify import register

HERE = Path(__file__).resolve().parent
CASES = sorted((HERE / "cases").glob("*.yml"))
INVENTORY = HERE.parents[1] / "inventory"
MIN_CASES = 8


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``fellesnett verify ARGV`` through the sub-command's own parser."""
    parser = argparse.ArgumentParser(prog="fellesnett")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", *argv])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = int(args.func(args))
    return code, out.getvalue(), err.getvalue()


def run_case(case: dict[str, Any], built: Path, work: Path) -> tuple[int, str, str,
                                                                     list[Applied]]:
    target = work / "build"
    shutil.copytree(built / "configs", target / "configs")
    if (built / "radius").is_dir():
        shutil.copytree(built / "radius", target / "radius")
    applied = [apply_patch(target, p) for p in case["patches"]]
    code, out, err = run_cli(["--configs", str(target), "--inventory", str(INVENTORY),
                              "--json"])
    return code, out, err, applied


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= MIN_CASES


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fault_is_caught(path: Path, built: Path, tmp_path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    code, out, err, applied = run_case(case, built, tmp_path)
    assert code == expect["exit"], f"exit {code}\n{err}\n{out[:3000]}"
    if code == 2:
        assert "Traceback" not in err
        assert expect["stderr_contains"] in err, err
        return
    report = json.loads(out)
    violations = report["violations"]
    for want in expect.get("violations", []):
        assert set(want) <= VIOLATION_KEYS, sorted(set(want) - VIOLATION_KEYS)
        assert any(matches(want, v, applied) for v in violations), (
            f"not reported: {want}\nreported:\n" + "\n".join(
                f"  {v['check']} {v['device']}:{v['lineno']} {v['line']!r} ({v['pair']}) "
                f"{v['message'][:160]}" for v in violations[:40]))
    if "only_checks" in expect:
        others = [v for v in violations if v["check"] not in expect["only_checks"]]
        assert not others, others[:5]
