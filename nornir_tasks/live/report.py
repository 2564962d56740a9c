"""Reports of live runs: diff as Markdown (a merge-request comment) and JSON; summary table."""

from __future__ import annotations

import json
from typing import Any

from nornir_tasks.live.outcome import HostOutcome, Status, counts


def diff_markdown(outcomes: list[HostOutcome]) -> str:
    """One collapsible block per device with changes; failures listed first.

    >>> print(diff_markdown([HostOutcome("sw1", Status.pending, 1, ["hostname sw1"]),
    ...                      HostOutcome("sw2", Status.unchanged)]), end="")
    ## fellesnett diff: 1 of 2 devices differ from the intent
    <BLANKLINE>
    | devices | differ | in sync | unreachable | lines to change |
    |---:|---:|---:|---:|---:|
    | 2 | 1 | 1 | 0 | 1 |
    <BLANKLINE>
    <details><summary><code>sw1</code>: 1 line</summary>
    <BLANKLINE>
    ```
    hostname sw1
    ```
    <BLANKLINE>
    </details>
    """
    failed = [o for o in outcomes if o.status is Status.failed]
    differ = [o for o in outcomes if o.changes and o.status is not Status.failed]
    insync = len(outcomes) - len(failed) - len(differ)
    total = sum(o.changes for o in differ)
    out = [f"## fellesnett diff: {len(differ)} of {len(outcomes)} devices differ from the intent",
           "", "| devices | differ | in sync | unreachable | lines to change |",
           "|---:|---:|---:|---:|---:|",
           f"| {len(outcomes)} | {len(differ)} | {insync} | {len(failed)} | {total} |", ""]
    if failed:
        out += ["### Not compared", ""]
        out += [f"- `{o.host}`: {o.error}" for o in failed]
        out.append("")
    for o in differ:
        plural = "s" if o.changes != 1 else ""
        out += [f"<details><summary><code>{o.host}</code>: {o.changes} line{plural}</summary>",
                "", "```", *o.lines, "```", "", "</details>"]
    return "\n".join(out) + "\n"


def diff_json(outcomes: list[HostOutcome]) -> str:
    data: dict[str, Any] = {
        "summary": counts(outcomes),
        "devices": {o.host: {"status": o.status.value, "changes": o.changes,
                             "remediation": o.lines, "error": o.error} for o in outcomes},
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


_STYLE = {Status.unchanged: "dim", Status.pending: "yellow", Status.changed: "green",
          Status.rolled_back: "magenta", Status.failed: "bold red", Status.skipped: "red"}


def summary_table(outcomes: list[HostOutcome], title: str) -> Any:
    """A rich renderable: devices needing attention listed, then the totals."""
    from rich.console import Group
    from rich.table import Table

    detail = Table(title=f"fellesnett {title}", show_lines=False, expand=False)
    for col in ("device", "status", "lines", "where", "what happened"):
        detail.add_column(col)
    for o in outcomes:
        if o.status in (Status.unchanged,) and not o.error:
            continue
        what = "; ".join(x for x in (o.error, o.rollback) if x)
        if o.skipped_secret_lines:
            what += f"; {len(o.skipped_secret_lines)} secret line(s) not restored (scrubbed)"
        detail.add_row(o.host, f"[{_STYLE[o.status]}]{o.status.value}[/]", str(o.changes),
                       o.stage, what)
    totals = Table(title="summary")
    c = counts(outcomes)
    for status in Status:
        totals.add_column(status.value, justify="right")
    totals.add_column("devices", justify="right")
    totals.add_row(*(str(c[s.value]) for s in Status), str(len(outcomes)))
    return Group(detail, totals) if detail.row_count else totals
