"""``fellesnett audit``: compliance against the intent, history, zone proof, three reports.

Exit codes: 0 every device compliant (and the zone matrix proven on the running configs),
1 any finding (drift, unsaved changes, wrong software, a device audited from an old
backup because it could not be read, a zone violation), 2 bad arguments or a device that
could not be audited at all (no read and no backup).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError
from nornir_tasks.live import DEFAULT_WORKERS


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _cmd_audit(args: argparse.Namespace) -> int:
    from nornir_tasks.audit.report_html import to_html
    from nornir_tasks.audit.report_json import to_data, to_json
    from nornir_tasks.audit.report_markdown import summary_text, to_markdown
    from nornir_tasks.audit.run import AuditOptions, run_audit

    if args.offline and args.sim:
        raise UsageError("--offline reads only the backups; it cannot be combined with --sim")
    if args.until and not args.since:
        raise UsageError("--until needs --since")
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    options = AuditOptions(inventory=args.inventory, limit=args.limit, backups=args.backups,
                           offline=args.offline, since=args.since, until=args.until,
                           zone_proof=not args.no_zone_proof, migration=args.migration)
    live = None
    mode = "offline (backups head)"
    if not args.offline:
        from nornir_tasks.live.inventory import Timeouts
        from nornir_tasks.live.run import LiveOptions, context

        if args.timeout <= 0 or args.connect_timeout <= 0:
            raise UsageError("--timeout and --connect-timeout must be positive")
        from nornir_tasks.audit.run import migrated_aliases, not_migrated

        live = context(LiveOptions(
            inventory=args.inventory, limit=args.limit, sim=args.sim, sim_dir=args.sim_dir,
            workers=args.workers, backups=args.backups,
            exclude=frozenset(not_migrated(args.migration)),
            aliases=migrated_aliases(args.migration),
            timeouts=Timeouts(connect=args.connect_timeout, command=args.timeout)))
        mode = "simulators" if args.sim else "devices"
    report = run_audit(options, live, mode)
    data = to_data(report)
    for path, render in ((args.json, to_json), (args.markdown, to_markdown),
                         (args.html, to_html)):
        if path is not None:
            _write(path, render(data))
    print(summary_text(data), file=sys.stderr if args.json_stdout else sys.stdout, end="")
    print("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()),
          file=sys.stderr)
    if args.json_stdout:
        sys.stdout.write(to_json(data))
    return report.exit_code


def register(sub: Any) -> None:
    """Add ``audit`` to the ``fellesnett`` command line."""
    p = sub.add_parser(
        "audit", help="compliance of every device against the intent, per feature; history "
        "since a commit or date; zone proof; JSON, Markdown and HTML reports (exit 1 on any "
        "finding)")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    p.add_argument("--limit", "-l", metavar="EXPR", help="Ansible-style host pattern")
    p.add_argument("--sim", action="store_true",
                   help="read the simulators of `fellesnett sim start` instead of the devices")
    p.add_argument("--sim-dir", type=Path, default=None,
                   help="simulator state directory (default: $FELLESNETT_SIM_DIR or "
                        ".fellesnett/sim)")
    p.add_argument("--offline", action="store_true",
                   help="contact no device: audit the head of the backups (no unsaved-change "
                        "or software check)")
    p.add_argument("--backups", type=Path,
                   default=Path(os.environ.get("FELLESNETT_BACKUPS", "backups")),
                   help="backup git repository (default: $FELLESNETT_BACKUPS or backups)")
    p.add_argument("--since", metavar="REV_OR_DATE",
                   help="also report what changed since a commit (of this project or of the "
                        "backups) or a date: intent commits, backup commits, approvals")
    p.add_argument("--until", metavar="REV_OR_DATE",
                   help="end of the history window (default: now)")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the JSON report")
    p.add_argument("--markdown", type=Path, metavar="FILE",
                   help="write the Markdown report (a merge-request comment)")
    p.add_argument("--html", type=Path, metavar="FILE",
                   help="write the self-contained HTML report")
    p.add_argument("--json-stdout", action="store_true",
                   help="print the JSON report on stdout (the summary goes to stderr)")
    p.add_argument("--migration", type=Path, default=None, metavar="DIR",
                   help="the migration's folder (plan.yml, state.json): sites not yet "
                        "migrated are reported as legacy, not as drift")
    p.add_argument("--no-zone-proof", action="store_true",
                   help="skip the zone proof of the running configs")
    p.add_argument("--workers", "-w", type=int, default=DEFAULT_WORKERS,
                   help="devices read at once (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds to wait for a device's answer (default: %(default)s)")
    p.add_argument("--connect-timeout", type=float, default=10.0,
                   help="seconds to wait for a login (default: %(default)s)")
    p.set_defaults(func=_cmd_audit)
