"""The lab's results as tables: the matrix (destinations down, source zones across), the
required flows, and the crafted probes against ``verify``'s prediction.

Destinations are the matrix's rows (zones, then services, then the internet) because there
are many more of them than sources; a cell sums up every probe between the two (all sites,
all ports): ``ok`` when every probe did what the matrix says, ``FAIL`` otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich import box
from rich.console import Console
from rich.table import Table

from nornir_tasks.lab.phases import RequiredResult
from nornir_tasks.lab.runner import LabReport, ProbeResult

_KIND_ORDER = {"zone": 0, "service": 1, "internet": 2}
WIDTH = 132
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
    from outside them (the servers, the NOC, the internet)."""
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


def required_table(report: LabReport) -> Table:
    """One row per required flow and site: how many real exchanges worked."""
    rows: dict[tuple[str, str], list[RequiredResult]] = {}
    for r in report.required:
        rows.setdefault((r.probe.flow, r.probe.site), []).append(r)
    table = Table(title="required flows with real daemons and clients", box=box.SIMPLE_HEAD,
                  title_justify="left")
    for col in ("flow", "site", "exchanges", ""):
        table.add_column(col)
    for (flow, site), rs in rows.items():
        bad = [r for r in rs if not r.ok]
        table.add_row(flow, site, f"{len(rs) - len(bad)}/{len(rs)} "
                      f"({', '.join(sorted({r.probe.probe for r in rs}))})",
                      "[bold red]FAIL[/]" if bad else "[green]ok[/]")
    return table


def failed_required_table(report: LabReport) -> Table:
    table = Table(title="required flows that failed", style="red")
    for col in ("flow", "site", "from", "to", "probe", "what happened"):
        table.add_column(col, overflow="fold")
    for r in report.failed_required:
        p = r.probe
        table.add_row(p.flow, p.site, p.source, p.destination, p.probe, r.detail)
    return table


def adversarial_lines(report: LabReport) -> list[str]:
    adv = report.adversarial
    if adv is None:
        return []
    c = adv.counts()
    ports = len(adv.plan.source_ports)
    lines = [f"crafted probes: {c['sent']} sent (UDP and TCP ACK-only, {ports} "
             f"source ports), {c['passed']} passed, {c['predicted']} predicted to pass by "
             f"verify's exposure model, {c['disagreements']} disagreements; {c['resent']} "
             f"resent, sniffer drops {c['sniffer_drops']}"]
    if adv.held:
        passed = sum(i in adv.seen for i in adv.held)
        lines.append(f"  the firewall's state: {len(adv.held)} crafted probes the ACL lets "
                     f"through into a stateful pair's opener, sent first to a firewall with "
                     f"no connection: {passed} passed (e.g. {adv.plan.probe(adv.held[0]).text()})")
    for d in adv.disagreements[:20]:
        lines.append(f"[bold red]  {d.source.key} -> {d.destination.key}: {d.text()} "
                     f"predicted {'pass' if adv.predicted[d.id] else 'drop'}, observed "
                     f"{'pass' if d.id in adv.seen else 'drop'}[/]")
    lines += [f"  note: {n}" for n in adv.notes]
    more = len(adv.disagreements) - 20
    if more > 0:
        lines.append(f"[bold red]  ... and {more} more (--json lists them all)[/]")
    return lines


def print_report(report: LabReport, console: Console | None = None) -> None:
    # eight zones, a status column and service names do not fit 80 columns: a log (not a
    # terminal) gets the width the tables need
    con = console or Console(width=None if sys.stdout.isatty() else WIDTH)
    for table in matrix_tables(report):
        con.print(table)
    con.print(f"[dim]{LEGEND}[/]")
    if report.mismatches:
        con.print(mismatch_table(report))
    if report.required:
        con.print(required_table(report))
    if report.failed_required:
        con.print(failed_required_table(report))
    for line in report.required_skipped:
        con.print(f"[dim]not run: {line}[/]")
    if report.matrix_only:
        con.print(f"[dim]required flows proved by the matrix probes only: "
                  f"{', '.join(report.matrix_only)}[/]")
    for line in adversarial_lines(report):
        con.print(line)
    for t in report.trunks:
        con.print(f"trunk {t.interface} ({t.site}): carries VLANs "
                  f"{','.join(map(str, t.vlans))}; 802.1Q tags seen: "
                  f"{','.join(map(str, t.tags_seen)) or 'none'}")
    for problem in report.problems:
        con.print(f"[bold red]{problem}[/]")
    j = report.to_json()
    c = j["counts"]
    ct = report.conntrack_entries
    fw = report.firewall
    if fw is not None:
        con.print(f"town-hall firewall (stateful pairs: {', '.join(fw['pairs']) or 'none'}; "
                  f"the internet behind it): {fw['policy']} "
                  f"loaded as generated (sha256 {fw['sha256'][:12]}), legs "
                  f"{', '.join(g['zone'] + ' ' + g['firewall'] for g in fw['legs'])}, routes "
                  f"{'; '.join(fw['routes'])}; core routes from "
                  f"{'; '.join(r.split(': ')[0] for r in fw['core_routes'])}; connections "
                  f"tracked: {fw['conntrack_entries']}")
    con.print(f"{c['probes']} probes: {c['open']} open, {c['closed']} closed, "
              f"{c['mismatches']} not as the matrix says, {c['skipped']} skipped "
              f"(same subnet); {report.nft_rules} stateless nft rules, conntrack entries "
              f"in the core: {'n/a' if ct is None else ct}")
    tm = report.timings
    con.print(", ".join(f"{k.removesuffix('_s')} {v} s" for k, v in tm.items()))
    for w in report.warnings:
        con.print(f"[yellow]warning: {w}[/]")
    if report.kept:
        con.print(f"lab left up (--keep); tear it down with: sh {report.kept}")
    verdict = ("[bold green]every pair as the matrix says, every required flow works, every "
               "crafted probe as verify predicts[/]" if report.exit_code == 0
               else "[bold red]the packets disagree with the intent or with verify[/]")
    con.print(verdict)


def progress_printer() -> Callable[[str], None]:
    err = Console(stderr=True)

    def say(message: str) -> None:
        err.print(f"[dim]lab: {message}[/]")

    return say
