"""Fault injection for ``fellesnett verify``: small patches to rendered config files.

A case is ``tests/verify/cases/<name>.yml``::

    description: what the fault is and why verify must catch it
    patches:                       # applied in order to a copy of a clean build
      - host: radhuset-core01      # the config file <host>.cfg (or file: radius/...)
        within: '^ip access-list extended ZONE-PUPILS-IN$'   # optional: only this block
        after: '^ip access-list extended ZONE-PUPILS-IN$'    # insert after the 1st match
        insert: [' 5 permit ip any any']
      - host: alta-skole-dist01
        within: '^interface Vlan120$'
        replace: {old: ' vrf forwarding STAFF', new: ' vrf forwarding PUPILS'}
      - {host: x, within: '^interface Vlan2018$', delete: '^ ip access-group '}
      - {host: x, write_bytes: "\\xff\\xfe\\x00"}   # the whole file (latin-1 escapes)
      - {host: x, remove: true}
    expect:
      exit: 1                      # 0 proven, 1 violations, 2 unreadable input
      violations:                  # each must match one reported violation
        - check: matrix            # exact: check, device, pair, site, line
          device: radhuset-core01
          pair: pupils -> admin_systems
          line: 5 permit ip any any
          at_patch: 0              # its line number is where patch 0 put its line
          message_contains: open
      only_checks: [matrix, policy-point]   # optional: no violation of another check
      stderr_contains: not UTF-8   # for exit 2

``within`` selects the block of the first top-level line matching it (that line and its
indented children); ``after``/``delete`` are regular expressions over whole lines,
``replace.old`` must occur exactly once in the selected block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PATCH_KEYS = {"host", "file", "within", "after", "insert", "replace", "delete", "write_bytes",
              "remove"}
VIOLATION_KEYS = {"check", "device", "pair", "site", "line", "at_patch", "message_contains",
                  "line_contains", "pair_contains"}


class PatchError(AssertionError):
    """A patch that does not apply: the case is stale, not the verifier wrong."""


@dataclass
class Applied:
    lineno: int | None  # 1-based line number of the inserted or replaced line


def _block(lines: list[str], within: str | None) -> tuple[int, int]:
    """[start, end) of the block selected by ``within`` (the whole file without it)."""
    if within is None:
        return 0, len(lines)
    pattern = re.compile(within)
    for i, line in enumerate(lines):
        if not line.startswith((" ", "!")) and pattern.search(line):
            end = i + 1
            while end < len(lines) and lines[end].startswith(" "):
                end += 1
            return i, end
    raise PatchError(f"no top-level line matches within={within!r}")


def apply_patch(build: Path, patch: dict[str, Any]) -> Applied:
    """Apply one patch to the build output at ``build`` (its configs/ and radius/)."""
    unknown = set(patch) - PATCH_KEYS
    if unknown:
        raise PatchError(f"unknown patch keys {sorted(unknown)}")
    if "file" in patch:
        path = build / patch["file"]
        if not path.is_file():
            raise PatchError(f"{patch['file']}: no such file in the build")
    else:
        found = list((build / "configs").rglob(f"{patch['host']}.cfg"))
        if len(found) != 1:
            raise PatchError(f"{patch['host']}.cfg: found {len(found)} files")
        path = found[0]
    if patch.get("remove"):
        path.unlink()
        return Applied(None)
    if "write_bytes" in patch:
        path.write_bytes(str(patch["write_bytes"]).encode("latin-1"))
        return Applied(None)
    lines = path.read_text(encoding="utf-8").splitlines()
    start, end = _block(lines, patch.get("within"))
    applied = Applied(None)
    if "after" in patch:
        pattern = re.compile(patch["after"])
        at = next((i for i in range(start, end) if pattern.search(lines[i])), None)
        if at is None:
            raise PatchError(f"{path.name}: no line matches after={patch['after']!r}")
        new = list(patch["insert"])
        lines[at + 1:at + 1] = new
        applied = Applied(at + 2)
    elif "replace" in patch:
        old, new_text = patch["replace"]["old"], patch["replace"]["new"]
        hits = [i for i in range(start, end) if lines[i] == old]
        if len(hits) != 1:
            raise PatchError(f"{path.name}: {len(hits)} lines equal {old!r} in the block")
        lines[hits[0]] = new_text
        applied = Applied(hits[0] + 1)
    elif "delete" in patch:
        pattern = re.compile(patch["delete"])
        hits = [i for i in range(start, end) if pattern.search(lines[i])]
        if not hits:
            raise PatchError(f"{path.name}: no line matches delete={patch['delete']!r}")
        for i in reversed(hits):
            del lines[i]
    else:
        raise PatchError(f"patch does nothing: {patch}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return applied


def matches(expected: dict[str, Any], found: dict[str, Any], applied: list[Applied]) -> bool:
    """Does one reported violation (JSON form) meet one expected violation?"""
    for key in ("check", "device", "pair", "site", "line"):
        if key in expected and found.get(key) != expected[key]:
            return False
    if "line_contains" in expected and expected["line_contains"] not in (found["line"] or ""):
        return False
    if "pair_contains" in expected and expected["pair_contains"] not in (found["pair"] or ""):
        return False
    if "message_contains" in expected and expected["message_contains"] not in found["message"]:
        return False
    return not ("at_patch" in expected
                and found.get("lineno") != applied[int(expected["at_patch"])].lineno)
