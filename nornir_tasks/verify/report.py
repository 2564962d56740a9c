"""Findings, the proven matrix, and their Markdown and JSON forms."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VIOLATION, WARNING, NOTE = "violation", "warning", "note"
CHECKS = {
    "input": "config text verify cannot read",
    "vrf": "a. VRF separation",
    "l2": "b. layer 2: zone VLANs on ports and trunks",
    "l2-path": "f. layer-2 paths: every used zone VLAN reaches its gateway",
    "exposure": "h. exposure: what the ACLs let through beyond the declared flows",
    "required": "g. required flows end to end (DHCP, DNS, RADIUS, CAPWAP, management, ...)",
    "wireless": "c. wireless: WLAN default VLANs and FlexConnect VLANs",
    "matrix": "d. zone matrix at the policy point",
    "reply": "d. stateless replies of allowed flows",
    "policy-point": "d. every zone's ingress at the core is filtered",
    "radius": "e. RADIUS policy: group -> zone VLAN",
}


@dataclass
class Finding:
    """One result worth telling: a violation (fails verify), a warning or a note."""

    check: str
    severity: str
    message: str
    device: str | None = None
    lineno: int | None = None
    line: str | None = None
    pair: str | None = None  # "pupils -> admin_systems"
    site: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        if self.device is None:
            return ""
        if self.lineno is None:
            return self.device
        return f"{self.device}:{self.lineno}"

    def text(self) -> str:
        parts = [f"[{self.check}]"]
        if self.device:
            parts.append(self.where())
        if self.line:
            parts.append(f"`{self.line}`")
        if self.pair:
            parts.append(f"({self.pair})")
        parts.append(self.message)
        return " ".join(parts)


@dataclass
class Cell:
    """One cell of the proven matrix."""

    status: str  # allowed | denied | same zone | violation | n/a
    text: str
    pairs: int = 0
    violations: int = 0
    assumed: bool = False


@dataclass
class CheckResult:
    """A check that ran, with how much it looked at and whether it held."""

    check: str
    subject: str  # device, site/zone -> column, ...
    result: str  # pass | fail | skipped
    count: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def _finding(f: Finding) -> dict[str, Any]:
    return {"check": f.check, "severity": f.severity, "message": f.message,
            "device": f.device, "lineno": f.lineno, "line": f.line, "pair": f.pair,
            "site": f.site, "detail": f.detail}


def _cell(c: Cell) -> dict[str, Any]:
    return {"status": c.status, "text": c.text, "pairs": c.pairs,
            "violations": c.violations, "assumed": c.assumed}


def dumps(data: dict[str, Any]) -> str:
    """A report's data as JSON: indented, except the check rows, one compact row per
    line (tens of thousands of rows: one line each keeps the file diffable and its
    writing fast).

    >>> print(dumps({"ok": True, "checks": [{"check": "l2", "count": 3}]}))
    {
      "ok": true,
      "checks": [
        {"check": "l2", "count": 3}
      ]
    }
    """
    parts = []
    row_json = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    for key, value in data.items():
        if key == "checks" and value:
            # one encoder for every row: json.dumps would build one per row
            rows = ",\n".join("    " + row_json(row) for row in value)
            text = f"[\n{rows}\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    #: how much of the zone matrix was evaluated how (see docs/verify.md, "How the proof
    #: scales"): ``blocks``/``reply_blocks`` are the core-level evaluations
    work: dict[str, int] = field(default_factory=dict)
    #: the exposure table: per zone ACL and destination zone, what passes beyond the
    #: declared flows, what is accepted (with the reason) and what is not
    exposure: list[dict[str, Any]] = field(default_factory=list)
    #: the required flows, proven end to end (one row per flow)
    required: list[dict[str, Any]] = field(default_factory=list)

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == VIOLATION]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.violations

    # ----------------------------------------------------------------- output

    def to_data(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": {
                "violations": len(self.violations),
                "warnings": len(self.warnings),
                **self.stats,
            },
            "violations": [_finding(f) for f in self.violations],
            "warnings": [_finding(f) for f in self.warnings],
            "notes": [*self.notes, *(f.text() for f in self.findings
                                     if f.severity == NOTE)],
            "matrix": {
                "rows": self.rows,
                "columns": self.columns,
                "cells": {r: {c: _cell(self.cells[(r, c)]) for c in self.columns
                              if (r, c) in self.cells} for r in self.rows},
            },
            "required_flows": self.required,
            "exposure": self.exposure,
            "checks": [{"check": c.check, "subject": c.subject, "result": c.result,
                        "count": c.count, "detail": c.detail} for c in self.checks],
            "work": dict(self.work),
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def to_json(self) -> str:
        return dumps(self.to_data())

    def matrix_markdown(self) -> str:
        head = "| from \\ to | " + " | ".join(self.columns) + " |"
        sep = "|---|" + "---|" * len(self.columns)
        lines = [head, sep]
        for r in self.rows:
            cells = []
            for c in self.columns:
                cell = self.cells.get((r, c))
                cells.append(cell.text if cell is not None else "n/a")
            lines.append(f"| **{r}** | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def required_markdown(self) -> list[str]:
        """The required-flow table: every flow, proven end to end at every site."""
        if not self.required:
            return []
        out = ["## Required flows, proven end to end", "",
               "Each required flow of the intent, expanded into its concrete ends at every "
               "site and proven from the config text: layer 2 from each end to the switch "
               "that routes it, the route both ways, every ACL on the way for the flow's "
               "whole header space (its ports, from its source ports), the stateless reply, "
               "`ip helper-address` on every relaying SVI. *Single links* counts the links "
               "whose loss alone would cut an end off (a single uplink; a bundle of two "
               "survives the loss of one member).", "",
               "| flow | from | to | ports | instances | failed | sites | single links |",
               "|---|---|---|---|---:|---:|---:|---:|"]
        for r in self.required:
            status = "✓" if not r["failed"] else "VIOLATION"
            out.append(f"| {r['flow']} {status} | {r['from']} | {r['to']} | {r['ports']} | "
                       f"{r['instances']} | {r['failed']} | {r['sites']} | "
                       f"{len(r['single_points'])} |")
        out.append("")
        return out

    def exposure_markdown(self) -> list[str]:
        """The exposure table: what the ACLs let through beyond the declared flows."""
        out = ["## Exposure: what the stateless ACLs let through beyond the matrix", "",
               "Computed exactly from the ACL text at the policy point (every address, "
               "protocol, source and destination port, ICMP type and TCP flag), minus what "
               "the matrix and the required flows declare, with their stateless replies. "
               "Every row is either accepted in the intent "
               "(`zone_policy.accepted_exposures`, with its reason) or a violation.", ""]
        if not self.exposure:
            return out + ["Nothing passes beyond the declared flows.", ""]
        out += ["| from | to | ACL | what passes | accepted because |", "|---|---|---|---|---|"]
        for e in self.exposure:
            reasons = "<br>".join(f"{reason}" for reason, _ in
                                  ((a["reason"], a["rows"]) for a in e["accepted"]))
            if e["residual"]:
                reasons += ("<br>" if reasons else "") + "**NOT ACCEPTED:** " + "; ".join(
                    f"`{r}`" for r in e["residual"])
            rows = "<br>".join(f"`{r}`" for r in e["rows"])
            out.append(f"| {e['from']} | {e['to']} | {e['acl']} | {rows} | {reasons} |")
        out.append("")
        return out

    def to_markdown(self) -> str:
        v, w = self.violations, self.warnings
        out = ["# Zone proof (fellesnett verify)", "",
               "Generated by `fellesnett verify` from the rendered config TEXT of every "
               "device, compared with the zone matrix of the inventory. Do not edit.", "",
               f"**Result: {'PROVEN' if self.ok else 'VIOLATIONS FOUND'}** — "
               f"{len(v)} violation(s), {len(w)} warning(s); "
               + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in self.stats.items()) + ".",
               "", "## Proven zone matrix", "",
               "Rows are source zones (and the operator's hosts), columns destination "
               "zones, services, the NOC and the internet. Each cell holds for every site "
               "of the row's zone and every destination address of the column: "
               "\"allowed ✓ (ports)\" — every allowed probe passes the ACLs at the policy "
               "point and is routed, and nothing else passes; \"denied ✓\" — no probe "
               "gets through; \"VIOLATION\" — see below. † marks cells where routing to "
               "the destination is not in the config text (the ACL alone decides).", "",
               self.matrix_markdown()]
        out += self.required_markdown() + self.exposure_markdown()
        if v:
            out += ["## Violations", ""]
            out += [f"- {f.text()}" for f in v]
            out.append("")
        if w:
            out += ["## Warnings", ""]
            out += [f"- {f.text()}" for f in w]
            out.append("")
        notes = [*self.notes, *(f.text() for f in self.findings if f.severity == NOTE)]
        if notes:
            out += ["## What this proof assumes", ""]
            out += [f"- {n}" for n in notes]
            out.append("")
        out += ["## Checks", "", "| check | subjects | passed | failed | skipped |",
                "|---|---:|---:|---:|---:|"]
        for check, title in CHECKS.items():
            rs = [c for c in self.checks if c.check == check]
            if not rs:
                continue
            n = {k: sum(1 for c in rs if c.result == k) for k in ("pass", "fail", "skipped")}
            out.append(f"| {title} | {len(rs)} | {n['pass']} | {n['fail']} | {n['skipped']} |")
        out.append("")
        return "\n".join(out)
