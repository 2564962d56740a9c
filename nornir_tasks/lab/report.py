"""The lab's results as a table: destinations down, source zones across.

Destinations are the rows (zones, then services, then the internet) because there are
many more of them than sources; a cell sums up every probe between the two (all sites,
all ports): ``ok`` when every probe did what the matrix says, ``FAIL`` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from rich import box
from rich.console import Console
from rich.table import Table

from nornir_tasks.lab.runner import LabReport, ProbeResult

_KIND_ORDER = {"zone": 0, "service": 1, "operator": 2, "internet": 3}
LEGEND = ("open: every probe connected; closed: none did; k/n: k of n did (ping, TCP, UDP "
          "on the flow's ports, all sites) -- each as the matrix says, else FAIL k/n: k "
          "probes disagree")


def cell(results: list[ProbeResult]) -> str:
    """One cell: ``open`` / ``closed`` / ``k/n`` when as the matrix says, else ``FAIL k/n``.

    >>> cell([])
    ''
    """
    if not results:
        return ""
    bad = sum(not r.ok for r in results)
    if bad:
        return f"[bold red]FAIL {bad}/{len(results)}[/]"
    opened = sum(r.observed for r in results)
    if opened == len(results):
        return "[green]open[/]"
    if opened == 0:
        return "[dim]closed[/]"
    return f"[green]{opened}/{len(results)}[/]"


def _order(results: list[ProbeResult], side: str) -> list[str]:
    """Zones in zone-id order, then services, operators, the internet."""
    keyed: dict[str, tuple[int, int, str]] = {}
    for r in results:
        e = getattr(r.probe, side)
        keyed.setdefault(e.group, (_KIND_ORDER[e.kind], e.rank, e.group))
    return sorted(keyed, key=lambda g: keyed[g])


def _grid(results: list[ProbeResult], rows: str, cols: str, title: str,
          corner: str) -> Table:
    row_keys, col_keys = _order(results, rows), _order(results, cols)
    cells: dict[tuple[str, str], list[ProbeResult]] = {}
    for r in results:
        key = (getattr(r.probe, rows).group, getattr(r.probe, cols).group)
        cells.setdefault(key, []).append(r)
    # no vertical rules: six zones and a status column fit an 80-column CI log
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(corner, style="bold")
    for c in col_keys:
        table.add_column(c, justify="center")
    table.add_column("", justify="center")
    for rk in row_keys:
        row = [cells.get((rk, c), []) for c in col_keys]
        bad = any(not r.ok for rs in row for r in rs)
        table.add_row(rk, *(cell(rs) for rs in row),
                      "[bold red]FAIL[/]" if bad else "[green]ok[/]")
    return table


def matrix_tables(report: LabReport) -> list[Table]:
    """From the zones (destinations down, source zones across), and towards the zones
    from outside them (the NOC, monitoring, RADIUS CoA, the internet)."""
    inside = [r for r in report.results if r.probe.source.kind == "zone"]
    outside = [r for r in report.results if r.probe.source.kind != "zone"]
    tables = [_grid(inside, "destination", "source",
                    f"from the zones at {', '.join(report.sites)}", "to \\ from")]
    if outside:
        tables.append(_grid(outside, "source", "destination", "from outside into the zones",
                            "from \\ to"))
    return tables


def mismatch_table(report: LabReport) -> Table:
    table = Table(title="mismatches (expected = the matrix; terms = the loaded rules, "
                        "evaluated first-match)", style="red")
    for col in ("source", "destination", "probe", "expected", "observed", "terms", "why",
                "detail"):
        table.add_column(col, overflow="fold")  # a site/zone name must stay readable
    for r in report.mismatches:
        j = r.to_json()
        table.add_row(f"{j['source']}\n{j['source_address']}",
                      f"{j['destination']}\n{j['destination_address']}", j["probe"],
                      j["expected"], j["observed"], j["terms"], j["reason"], j["detail"])
    return table


def print_report(report: LabReport, console: Console | None = None) -> None:
    con = console or Console()
    for table in matrix_tables(report):
        con.print(table)
    con.print(f"[dim]{LEGEND}[/]")
    if report.mismatches:
        con.print(mismatch_table(report))
    for t in report.trunks:
        con.print(f"trunk {t.interface} ({t.site}): carries VLANs "
                  f"{','.join(map(str, t.vlans))}; 802.1Q tags seen: "
                  f"{','.join(map(str, t.tags_seen)) or 'none'}")
    for problem in report.problems:
        con.print(f"[bold red]{problem}[/]")
    j = report.to_json()
    c = j["counts"]
    ct = report.conntrack_entries
    con.print(f"{c['probes']} probes: {c['open']} open, {c['closed']} closed, "
              f"{c['mismatches']} not as the matrix says, {c['skipped']} skipped "
              f"(same subnet); {report.nft_rules} stateless nft rules, conntrack entries "
              f"in the core: {'n/a' if ct is None else ct}")
    tm = report.timings
    con.print(f"build {tm.get('build_s', 0)} s, probe {tm.get('probe_s', 0)} s, "
              f"teardown {tm.get('teardown_s', 0)} s")
    for w in report.warnings:
        con.print(f"[yellow]warning: {w}[/]")
    if report.kept:
        con.print(f"lab left up (--keep); tear it down with: sh {report.kept}")
    verdict = ("[bold green]every pair as the matrix says[/]" if report.exit_code == 0
               else "[bold red]the packets disagree with the matrix[/]")
    con.print(verdict)


def progress_printer() -> Callable[[str], None]:
    err = Console(stderr=True)

    def say(message: str) -> None:
        err.print(f"[dim]lab: {message}[/]")

    return say
