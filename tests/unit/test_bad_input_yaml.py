"""The loader's work and memory are bounded: a YAML alias bomb, a recursive alias or a
nest deeper than any inventory is refused in milliseconds with a located error, where a
bomb in an address field used to run for 25 s and past 2 GB."""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nornir_tasks.errors import IntentError
from nornir_tasks.intent.loader import load_intent

SITE = "group_vars/site_alta_bibliotek.yml"
FIELD = "    admin: 10.68.9.0/26\n"  # a scalar field: an address


def _bomb(levels: int = 9, width: int = 9) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the one before."""
    lines = [f'l0: &l0 [{", ".join(["lol"] * width)}]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _plant(inventory: Path, head: str, value: str) -> Path:
    site = inventory / SITE
    text = site.read_text(encoding="utf-8")
    assert FIELD in text, "the reference site changed: pick another field"
    site.write_text(head + text.replace(FIELD, f"    admin: {value}\n"), encoding="utf-8")
    return site


def _limit_memory() -> None:  # without the bound, the child dies instead of the machine
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_alias_bomb_in_an_address_is_refused_fast_and_small(inventory_copy: Path) -> None:
    _plant(inventory_copy, _bomb(), "*l9")  # 9**10 = 3.5e9 values
    code = ("import sys, time\n"
            "from nornir_tasks.errors import IntentError\n"
            "from nornir_tasks.intent.loader import load_intent\n"
            "t = time.perf_counter()\n"
            "try:\n"
            f"    load_intent({str(inventory_copy)!r})\n"
            "except IntentError as exc:\n"
            "    print(f'{time.perf_counter() - t:.3f}')\n"
            "    print(*exc.problems, sep='\\n')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=30, preexec_fn=_limit_memory)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    seconds, *problems = proc.stdout.splitlines()
    assert float(seconds) < 1.0
    assert len(problems) == 1
    assert re.fullmatch(rf"{SITE}: line 10 column 5: aliases of the anchor here expand the "
                        r"document to 8,\d{3},\d{3},\d{3} values, more than 100,000 \(a YAML "
                        r"alias bomb\?\); write the values out or use fewer aliases",
                        problems[0]), problems[0]


def test_cli_refuses_the_bomb_with_exit_2(inventory_copy: Path) -> None:
    _plant(inventory_copy, _bomb(), "*l9")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nornir_tasks.cli", "validate",
                           "--inventory", str(inventory_copy)], capture_output=True, text=True,
                          timeout=30, preexec_fn=_limit_memory)
    assert time.perf_counter() - start < 10
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert f"  {SITE}: line 10 column 5: aliases of the anchor here" in proc.stderr


@pytest.mark.parametrize(("value", "where", "message"), [
    ("&r [*r]", "line 16 column 12", "an alias refers to the node it is part of"),
    # with an alias, the walk that bounds it bounds the depth too
    ("&x [" + "[" * 70 + "*x" + "]" * 71, "line 16 column 76", "nested more than 64 levels"),
    # without one: as deep as the constructor reaches, or as the parser does
    ("[" * 500 + "]" * 500, "", "nested too deeply"),
    ("\n      " + "- " * 2000 + "x", "line 17 column 1999", "exceeded maximum nesting depth"),
])
def test_recursive_and_deep_documents_are_refused(inventory_copy: Path, value: str,
                                                  where: str, message: str) -> None:
    _plant(inventory_copy, "", value)
    with pytest.raises(IntentError) as info:
        load_intent(inventory_copy)
    problems = info.value.problems
    assert len(problems) == 1 and problems[0].file == SITE, problems
    assert message in problems[0].message and problems[0].path == where, problems


def test_anchors_and_merge_keys_within_bounds_still_load(inventory_copy: Path) -> None:
    site = inventory_copy / SITE
    text = site.read_text(encoding="utf-8")
    text = text.replace("  name: Alta bibliotek\n", "  name: &n Alta bibliotek\n")
    text = text.replace("  kind: municipal\n", "  kind: municipal\n  address: *n\n")
    site.write_text(text, encoding="utf-8")
    intent = load_intent(inventory_copy)
    assert intent.sites["alta_bibliotek"].address == "Alta bibliotek"
