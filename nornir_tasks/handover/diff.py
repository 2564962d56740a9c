"""``fellesnett handover diff OLD NEW``: the change log between two handover bundles.

What an operator receiving a new bundle wants to know, in this order:

1. devices added and removed (a device is a ``configs/<site>/<host>.cfg``; a host that
   moved site is *changed*, not removed and added);
2. per changed device, the config lines added and removed, as a unified diff whose
   context shows the section a line belongs to;
3. the proven zone matrix: cells whose verdict changed, zones or destinations that
   appeared or went away;
4. every other file added, removed or changed (docs, RADIUS policy), with line counts.

``MANIFEST.sha256`` is left out (it changes whenever anything does) and so is the tarball
beside a build directory. Exit code as ``diff(1)``: 0 the bundles are the same, 1 they
differ, 2 trouble (not a bundle, unreadable).
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from nornir_tasks.build import MANIFEST
from nornir_tasks.handover.bundle import Bundle

MATRIX = "docs/zone-matrix.json"
#: Files longer than this (old + new lines) get line counts, not a unified diff.
MAX_DIFF_LINES = 40_000


@dataclass
class DeviceChange:
    host: str
    old_path: str
    new_path: str
    added: list[str]
    removed: list[str]
    diff: list[str]


@dataclass
class FileChange:
    path: str
    change: str  # added / removed / changed
    added_lines: int = 0
    removed_lines: int = 0
    diff: list[str] = field(default_factory=list)


@dataclass
class BundleDiff:
    old: str
    new: str
    devices_added: list[str] = field(default_factory=list)
    devices_removed: list[str] = field(default_factory=list)
    devices_changed: list[DeviceChange] = field(default_factory=list)
    matrix: dict[str, Any] = field(default_factory=dict)
    files: list[FileChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.devices_added or self.devices_removed or self.devices_changed
                    or self.matrix.get("changed") or self.files)

    def to_data(self) -> dict[str, Any]:
        return {
            "changed": self.changed, "old": self.old, "new": self.new,
            "devices": {
                "added": self.devices_added, "removed": self.devices_removed,
                "changed": {d.host: {"path": d.new_path, "moved_from": (
                    d.old_path if d.old_path != d.new_path else None),
                    "added": d.added, "removed": d.removed, "diff": d.diff}
                    for d in self.devices_changed},
            },
            "zone_matrix": self.matrix,
            "files": [{"path": f.path, "change": f.change, "added_lines": f.added_lines,
                       "removed_lines": f.removed_lines, "diff": f.diff} for f in self.files],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def to_markdown(self, full: bool = False) -> str:
        out = [f"## Handover change log: `{self.old}` → `{self.new}`", ""]
        if not self.changed:
            return "\n".join([*out, "No change: the bundles hold the same files."]) + "\n"
        n_lines = sum(len(d.added) + len(d.removed) for d in self.devices_changed)
        out += [f"- devices added: **{len(self.devices_added)}**, removed: "
                f"**{len(self.devices_removed)}**, changed: **{len(self.devices_changed)}** "
                f"({n_lines} config lines added or removed)",
                f"- zone matrix: **{self.matrix.get('summary', 'not compared')}**",
                f"- other files added, removed or changed: **{len(self.files)}**", ""]
        if self.devices_added or self.devices_removed:
            out += ["### Devices added and removed", "", "| device | change |", "|---|---|"]
            out += [f"| `{h}` | added |" for h in self.devices_added]
            out += [f"| `{h}` | removed |" for h in self.devices_removed]
            out.append("")
        if self.devices_changed:
            out += ["### Config changes per device", ""]
            for d in self.devices_changed:
                moved = f", moved from `{d.old_path}`" if d.old_path != d.new_path else ""
                out += [f"<details><summary><code>{d.host}</code>: +{len(d.added)} "
                        f"−{len(d.removed)}{moved}</summary>", "", "```diff", *d.diff, "```",
                        "", "</details>", ""]
        cells = self.matrix.get("cells", [])
        if self.matrix.get("changed"):
            out += ["### Zone matrix", ""]
            for key in ("rows_added", "rows_removed", "columns_added", "columns_removed"):
                if self.matrix.get(key):
                    out.append(f"- {key.replace('_', ' ')}: "
                               + ", ".join(f"`{x}`" for x in self.matrix[key]))
            if self.matrix.get("result"):
                out.append(f"- result: {self.matrix['result']['old']} → "
                           f"{self.matrix['result']['new']}")
            if cells:
                out += ["", "| from | to | old | new |", "|---|---|---|---|"]
                out += [f"| {c['from']} | {c['to']} | {c['old']} | {c['new']} |" for c in cells]
            out.append("")
        if self.files:
            out += ["### Other files", "", "| file | change | lines + | lines − |",
                    "|---|---|---:|---:|"]
            out += [f"| `{f.path}` | {f.change} | {f.added_lines} | {f.removed_lines} |"
                    for f in self.files]
            out.append("")
            if full:
                for f in self.files:
                    if f.diff:
                        out += [f"<details><summary><code>{f.path}</code></summary>", "",
                                "```diff", *f.diff, "```", "", "</details>", ""]
        return "\n".join(out).rstrip("\n") + "\n"


def device_of(path: str) -> str | None:
    """The host a bundle path configures, if it is a device config.

    >>> device_of("configs/alta_skole/alta-skole-acc01.cfg"), device_of("docs/README.md")
    ('alta-skole-acc01', None)
    """
    p = PurePosixPath(path)
    if len(p.parts) == 3 and p.parts[0] == "configs" and p.suffix == ".cfg":
        return p.stem
    return None


def _lines(data: bytes) -> list[str] | None:
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None  # binary: compared by hash only


def line_changes(old: list[str], new: list[str], context: int = 3
                 ) -> tuple[list[str], list[str], list[str]]:
    """Added lines, removed lines and a unified diff (without file headers).

    Beyond :data:`MAX_DIFF_LINES` the lines are counted, in no particular order, and the
    diff is empty (the Markdown report then shows counts only).

    >>> added, removed, diff = line_changes(["a", "b"], ["a", "c"], context=0)
    >>> added, removed, diff
    (['c'], ['b'], ['@@ -2 +2 @@', '-b', '+c'])
    """
    if len(old) + len(new) > MAX_DIFF_LINES:
        # difflib is quadratic on long files full of similar lines (the proven matrix's
        # JSON has ~120,000): count the lines that went and came instead
        a, b = Counter(old), Counter(new)
        return list((b - a).elements()), list((a - b).elements()), []
    diff = list(difflib.unified_diff(old, new, lineterm="", n=context))[2:]
    added = [ln[1:] for ln in diff if ln.startswith("+")]
    removed = [ln[1:] for ln in diff if ln.startswith("-")]
    return added, removed, diff


def diff_bundles(old: Bundle, new: Bundle, context: int = 3) -> BundleDiff:
    """Compare two bundles (see the module docstring for what is compared)."""
    out = BundleDiff(old=str(old.source), new=str(new.source))
    skip = {MANIFEST}
    old_dev = {device_of(p): p for p in old.files if device_of(p)}
    new_dev = {device_of(p): p for p in new.files if device_of(p)}
    out.devices_added = sorted(h for h in new_dev if h and h not in old_dev)
    out.devices_removed = sorted(h for h in old_dev if h and h not in new_dev)
    for host in sorted(h for h in old_dev.keys() & new_dev.keys() if h):
        op, np_ = old_dev[host], new_dev[host]
        a, b = old.files[op], new.files[np_]
        if a == b and op == np_:
            continue
        al, bl = _lines(a) or [], _lines(b) or []
        added, removed, diff = line_changes(al, bl, context)
        out.devices_changed.append(DeviceChange(host, op, np_, added, removed, diff))
    device_paths = set(old_dev.values()) | set(new_dev.values())
    out.matrix = matrix_changes(old.files.get(MATRIX), new.files.get(MATRIX))
    for path in sorted((old.files.keys() | new.files.keys()) - skip - device_paths):
        a_data, b_data = old.files.get(path), new.files.get(path)
        if a_data == b_data:
            continue
        a_lines = _lines(a_data) if a_data is not None else []
        b_lines = _lines(b_data) if b_data is not None else []
        change = "added" if a_data is None else "removed" if b_data is None else "changed"
        if a_lines is None or b_lines is None:
            out.files.append(FileChange(path, change + " (binary)"))
            continue
        added, removed, diff = line_changes(a_lines, b_lines, context)
        out.files.append(FileChange(path, change, len(added), len(removed), diff))
    return out


def matrix_changes(old: bytes | None, new: bytes | None) -> dict[str, Any]:
    """Verdict changes between two proven zone matrices (``docs/zone-matrix.json``).

    Only the verdict of a cell counts (its text: "denied ✓", "allowed ✓ (tcp/443)",
    "VIOLATION"); the number of address pairs behind it grows with every site and is
    not a change of policy.
    """
    if old is None or new is None:
        missing = "old" if old is None else "new"
        if old is None and new is None:
            return {"changed": False, "summary": "no proven matrix in either bundle"}
        return {"changed": True, "summary": f"no proven matrix in the {missing} bundle "
                "(a --limit build?)"}
    try:
        a, b = json.loads(old), json.loads(new)
        am, bm = a["matrix"], b["matrix"]
        acells, bcells = am["cells"], bm["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        return {"changed": True, "summary": f"unreadable zone matrix: {exc}"}
    out: dict[str, Any] = {
        "rows_added": [r for r in bm["rows"] if r not in am["rows"]],
        "rows_removed": [r for r in am["rows"] if r not in bm["rows"]],
        "columns_added": [c for c in bm["columns"] if c not in am["columns"]],
        "columns_removed": [c for c in am["columns"] if c not in bm["columns"]],
        "cells": [],
    }
    for row in bm["rows"]:
        for col in bm["columns"]:
            ov = acells.get(row, {}).get(col, {}).get("text")
            nv = bcells.get(row, {}).get(col, {}).get("text")
            if ov is not None and nv is not None and ov != nv:
                out["cells"].append({"from": row, "to": col, "old": ov, "new": nv})
    if a.get("ok") != b.get("ok"):
        out["result"] = {"old": "proven" if a.get("ok") else "violations",
                         "new": "proven" if b.get("ok") else "violations"}
    changed = any(out[k] for k in ("rows_added", "rows_removed", "columns_added",
                                   "columns_removed", "cells")) or "result" in out
    out["changed"] = changed
    out["summary"] = (f"{len(out['cells'])} cell(s) changed" if changed else
                      "unchanged (every verdict the same)")
    return out
