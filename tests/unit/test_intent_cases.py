"""Negative tests of the intent model and checks, one directory per case.

A case is ``tests/intent_cases/<name>/`` holding two files:

``patch.yml``
    A list of edits applied to a copy of the reference ``inventory/``::

        - {file: group_vars/all/zones.yml, set: zones.voice.vlan, value: 150}
        - {file: hosts.yml, delete: all.children.school.children.site_x.hosts.x-ap01.mac}
        - {file: group_vars/site_x.yml, raw: "site:\\n  name: [broken\\n"}
        - {file: host_vars/x-sw01.yml, remove_file: true}
        - {file: host_vars/x-sw01.yml, move_to: host_vars/x-sw01.yaml}

    Key paths are dotted; ``[n]`` indexes a list (``wireless.ssids[1].zone``). Every key
    on the way must exist (a stale patch fails loudly instead of testing nothing); ``set``
    may add the last key, or append to a list with ``[n]`` where n is its length. ``set``
    on a file that does not exist creates it. A file is re-written with ``yaml.safe_dump``,
    so formatting and comments of the copy change; its content does not.

``expected.yml``
    ``errors``: problems that must ALL be reported, each ``{file, path, message_contains}``
    (file and key path exact, message by substring). Optional keys: ``description``;
    ``max_problems`` to bound the total (one mistake must not drown in follow-on errors);
    ``cli: true`` to also run ``python -m nornir_tasks.cli validate`` on the case;
    ``known_bug`` (text) marks the case as an expected failure until the loader or the
    checks are fixed -- strict, so a fix turns it red until the marker is removed.

Adding a case is adding a directory; nothing here changes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from nornir_tasks.cli import main
from nornir_tasks.errors import IntentError, Problem
from nornir_tasks.intent.loader import load_intent

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "intent_cases"
MIN_CASES = 30

_KEY = r"[^.\[\]]+(?:\[\d+\])*"
_PATH = re.compile(rf"^{_KEY}(?:\.{_KEY})*$")
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_OPS = {"set", "delete", "raw", "remove_file", "move_to"}
_ERROR_KEYS = {"file", "path", "message_contains"}
_EXPECTED_KEYS = {"errors", "description", "max_problems", "cli", "known_bug"}


# --------------------------------------------------------------------------- the case format


@dataclass(frozen=True)
class Case:
    name: str
    patch: list[dict[str, Any]]
    errors: list[dict[str, str]]
    max_problems: int | None
    cli: bool
    known_bug: str | None


def _load_case(directory: Path) -> Case:
    patch = yaml.safe_load((directory / "patch.yml").read_text(encoding="utf-8"))
    expected = yaml.safe_load((directory / "expected.yml").read_text(encoding="utf-8"))
    return Case(
        name=directory.name,
        patch=patch,
        errors=expected["errors"],
        max_problems=expected.get("max_problems"),
        cli=bool(expected.get("cli", False)),
        known_bug=expected.get("known_bug"),
    )


def _case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())


def _params() -> list[Any]:
    params = []
    for directory in _case_dirs():
        case = _load_case(directory)
        marks = [pytest.mark.xfail(reason=case.known_bug, strict=True)] if case.known_bug else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def _split(path: str) -> list[str | int]:
    """``a.b[2].c`` -> ``["a", "b", 2, "c"]``."""
    if not _PATH.match(path):
        raise ValueError(f"bad key path {path!r}")
    return [m[1] if m[1] else int(m[2]) for m in _TOKEN.finditer(path)]


def _walk(data: Any, parts: list[str | int], where: str) -> Any:
    node = data
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            raise AssertionError(f"patch: {where}: no {part!r} on the way (stale case?)") from None
    return node


def apply_patch(root: Path, ops: list[dict[str, Any]]) -> None:
    """Apply the edits of a ``patch.yml`` to the inventory copy at ``root``."""
    for op in ops:
        kinds = _OPS & set(op)
        assert len(kinds) == 1 and set(op) <= {"file", "value"} | _OPS, f"bad patch op {op}"
        (kind,) = kinds
        target = root / op["file"]
        where = f"{op['file']}: {op.get(kind)}"
        if kind == "raw":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(op["raw"], encoding="utf-8")
            continue
        if kind == "remove_file":
            assert target.is_file(), f"patch: {op['file']} does not exist (stale case?)"
            target.unlink()
            continue
        if kind == "move_to":
            assert target.is_file(), f"patch: {op['file']} does not exist (stale case?)"
            target.rename(root / op["move_to"])
            continue
        data = yaml.safe_load(target.read_text(encoding="utf-8")) if target.is_file() else {}
        *parents, last = _split(op[kind])
        parent = _walk(data, parents, where)
        if kind == "set":
            assert "value" in op, f"patch: {where}: `set` needs a value"
            if isinstance(parent, list) and last == len(parent):
                parent.append(op["value"])
            elif isinstance(parent, list):
                assert isinstance(last, int) and last < len(parent), f"patch: {where}: bad index"
                parent[last] = op["value"]
            else:
                assert isinstance(parent, dict), f"patch: {where}: not a mapping"
                parent[last] = op["value"]
        else:
            _walk(parent, [last], where)
            del parent[last]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
                          encoding="utf-8")


def _matches(problem: Problem, exp: dict[str, str]) -> bool:
    return (problem.file == exp["file"] and problem.path == exp["path"]
            and exp["message_contains"] in problem.message)


def _missing(problems: list[Problem], case: Case) -> list[dict[str, str]]:
    return [e for e in case.errors if not any(_matches(p, e) for p in problems)]


# --------------------------------------------------------------------------- the tests


def test_enough_cases() -> None:
    assert len(_case_dirs()) >= MIN_CASES


@pytest.mark.parametrize("directory", _case_dirs(), ids=lambda p: p.name)
def test_case_files_are_well_formed(directory: Path) -> None:
    assert sorted(p.name for p in directory.iterdir()) == ["expected.yml", "patch.yml"]
    expected = yaml.safe_load((directory / "expected.yml").read_text(encoding="utf-8"))
    assert set(expected) <= _EXPECTED_KEYS and expected["errors"], "errors: must not be empty"
    for err in expected["errors"]:
        assert set(err) == _ERROR_KEYS, f"each error needs exactly {sorted(_ERROR_KEYS)}"
        assert all(isinstance(err[k], str) for k in _ERROR_KEYS)
    assert isinstance(expected.get("max_problems", 1), int)
    patch = yaml.safe_load((directory / "patch.yml").read_text(encoding="utf-8"))
    assert isinstance(patch, list) and patch, "patch.yml is a non-empty list of edits"


@pytest.mark.parametrize("case", _params())
def test_invalid_intent_is_reported(case: Case, inventory_copy: Path) -> None:
    apply_patch(inventory_copy, case.patch)
    with pytest.raises(IntentError) as info:
        load_intent(inventory_copy)
    problems = info.value.problems
    missing = _missing(problems, case)
    listing = "\n".join(f"  {p}" for p in problems[:40])
    assert not missing, f"not reported: {missing}\nreported ({len(problems)}):\n{listing}"
    if case.max_problems is not None:
        assert len(problems) <= case.max_problems, f"{len(problems)} problems:\n{listing}"


@pytest.mark.parametrize("case", [p for p in _params() if p.values[0].cli])
def test_cli_reports_the_problem(case: Case, inventory_copy: Path) -> None:
    apply_patch(inventory_copy, case.patch)
    proc = subprocess.run(
        [sys.executable, "-m", "nornir_tasks.cli", "validate", "--inventory", str(inventory_copy)],
        capture_output=True, text=True, cwd=inventory_copy.parent, timeout=120, check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("fellesnett: the intent is invalid (")
    for exp in case.errors:
        head = f"  {exp['file']}: {exp['path']}: " if exp["path"] else f"  {exp['file']}: "
        assert any(line.startswith(head) and exp["message_contains"] in line[len(head):]
                   for line in lines), f"no line {head}...{exp['message_contains']}...\n" \
                                       f"{proc.stderr}"


def test_cli_in_process_exit_code(inventory_copy: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    apply_patch(inventory_copy, [{"file": "group_vars/all/zones.yml", "set": "zones.voice.vlan",
                                  "value": 150}])
    assert main(["validate", "--inventory", str(inventory_copy)]) == 2
    err = capsys.readouterr().err
    assert "  group_vars/all/zones.yml: zones.voice.vlan: 150 is already used by guest" in err
    assert "(1 problem):" in err


# --------------------------------------------------------------------------- the patcher itself


def test_patch_set_delete_append(tmp_path: Path) -> None:
    f = tmp_path / "a.yml"
    f.write_text("x:\n  l: [{k: 1}, {k: 2}]\n  m: {n: 1}\n", encoding="utf-8")
    apply_patch(tmp_path, [
        {"file": "a.yml", "set": "x.l[1].k", "value": 3},
        {"file": "a.yml", "set": "x.l[2]", "value": {"k": 4}},
        {"file": "a.yml", "delete": "x.m.n"},
        {"file": "b.yml", "set": "new", "value": [1]},
    ])
    assert yaml.safe_load(f.read_text()) == {"x": {"l": [{"k": 1}, {"k": 3}, {"k": 4}], "m": {}}}
    assert yaml.safe_load((tmp_path / "b.yml").read_text()) == {"new": [1]}


@pytest.mark.parametrize("op", [
    {"file": "a.yml", "set": "x.nope.k", "value": 1},
    {"file": "a.yml", "delete": "x.gone"},
    {"file": "a.yml", "set": "x.l[5]", "value": 1},
    {"file": "gone.yml", "remove_file": True},
])
def test_patch_fails_loudly_when_stale(tmp_path: Path, op: dict[str, Any]) -> None:
    (tmp_path / "a.yml").write_text("x: {l: [1]}\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="patch"):
        apply_patch(tmp_path, [op])


def test_split_key_path() -> None:
    assert _split("all.children.site_x.hosts.x-sw01.ports[3].range") == [
        "all", "children", "site_x", "hosts", "x-sw01", "ports", 3, "range"]
    assert _split("wireless.ssids[1][0]") == ["wireless", "ssids", 1, 0]
    with pytest.raises(ValueError):
        _split("a..b")
