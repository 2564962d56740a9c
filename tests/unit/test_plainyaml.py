"""The fast reader of plain YAML must read every document exactly as the loader's PyYAML
does, or hand it to PyYAML: checked on every inventory file of the repository and on
documents generated and mutated at random (any mismatch would let bad input load as
something else)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from nornir_tasks.intent.loader import _Loader
from nornir_tasks.intent.plainyaml import NOT_PLAIN, read_plain

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p for d in ("inventory", "tests") for p in (ROOT / d).rglob("*.yml"))

#: characters and pieces that make YAML mean something else, or fail
ALPHABET = [*"abyYnNoOtTfF019-_.:/+ #'\"{}[],&*!|>%@`?=<~\t\r\n\\",
            "ø", "\u00a0", "\u2028", "x", "  ", "- ", ": ", "\n  ", "\n- ", "0x1f", "1_0",
            "1:20", ".inf", "-.5", "null", "~", "2001-01-01", "<<", "yes", "on", "Off"]


def _pyyaml(raw: bytes) -> tuple[bool, Any]:
    try:
        return True, yaml.load(raw, Loader=_Loader)  # noqa: S506 - the safe loader
    except yaml.YAMLError:
        return False, None


def _same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (1, 1.0 and True are equal in Python)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (len(a) == len(b)
                and all(type(x) is type(y) and x == y for x, y in zip(a, b, strict=True))
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:
        return bool(b != b)
    return bool(a == b)


def _agrees(raw: bytes) -> bool:
    fast = read_plain(raw)
    if fast is NOT_PLAIN:
        return True
    ok, slow = _pyyaml(raw)
    return ok and _same(fast, slow)


def test_reads_every_inventory_file_as_pyyaml_does() -> None:
    fast_read = 0
    for path in FILES:
        raw = path.read_bytes()
        assert _agrees(raw), path
        fast_read += read_plain(raw) is not NOT_PLAIN
    # the point of the reader: the inventory files are read without PyYAML
    assert fast_read >= len(FILES) * 3 // 4, (fast_read, len(FILES))


def _mutated(rng: random.Random, seeds: list[str]) -> str:
    text = rng.choice(seeds)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        op = rng.random()
        if op < 0.4:
            text = text[:at] + rng.choice(ALPHABET) + text[at:]
        elif op < 0.7:
            text = text[:at] + text[at + rng.randint(1, 3):]
        else:
            lines = text.split("\n")
            lines[rng.randrange(len(lines))] = rng.choice(lines)
            text = "\n".join(lines)
    return text


def _generated(rng: random.Random) -> str:
    def token(most: int) -> str:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, most)))

    lines = []
    for _ in range(rng.randint(1, 8)):
        indent = " " * rng.choice([0, 0, 2, 2, 4, 1, 3])
        kind = rng.random()
        if kind < 0.4:
            lines.append(f"{indent}{token(5) or 'k'}: {token(6)}")
        elif kind < 0.6:
            lines.append(f"{indent}- {token(5)}")
        elif kind < 0.8:
            lines.append(f"{indent}k{rng.randint(0, 3)}: {{a: {token(5)}, "
                         f"b{rng.randint(0, 2)}: [{token(5)}, x]}}")
        else:
            lines.append(f"{indent}k{rng.randint(0, 3)}:")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_pyyaml_on_mutated_and_generated_documents(seed: int) -> None:
    rng = random.Random(seed)
    seeds = [p.read_text() for p in FILES if p.stat().st_size < 3000]
    fast = 0
    for n in range(5000):
        text = _mutated(rng, seeds) if n % 2 else _generated(rng)
        raw = text.encode("utf-8", "surrogatepass")
        assert _agrees(raw), text
        fast += read_plain(raw) is not NOT_PLAIN
    assert fast > 500  # the fuzz reaches the fast path, not only the fallback


@pytest.mark.parametrize("text, expected", [
    ("a: yes\nb: 0x1f\nc: 1_0\nd: 10.0.0.1\ne: ~\n", {"a": True, "b": 31, "c": 10,
                                                     "d": "10.0.0.1", "e": None}),
    ("- a: 1\n  b: [x, {y: 2}]\n- - 3\n", [{"a": 1, "b": ["x", {"y": 2}]}, [3]]),
    ("k:\n- 1\n- 'two' # c\n", {"k": [1, "two"]}),
])
def test_reads_the_plain_subset(text: str, expected: Any) -> None:
    assert _same(read_plain(text.encode()), expected)


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",          # duplicate key: the loader's own error names the line
    "a: &x 1\nb: *x\n",       # anchors
    "a: |\n  text\n",         # block scalar
    "a: b\n  c\n",            # multi-line plain scalar
    "a: 2001-01-01\n",        # timestamp
    "a:\tb\n",                # tab
    "'a': 1\n",               # quoted key
    "a: 'it''s'\n",           # quote escape
])
def test_leaves_the_rest_to_pyyaml(text: str) -> None:
    assert read_plain(text.encode()) is NOT_PLAIN
