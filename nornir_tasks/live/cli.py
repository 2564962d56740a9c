"""``fellesnett backup | diff | deploy | rollback``: live operations on devices or simulators."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError
from nornir_tasks.live import DEFAULT_WORKERS
from nornir_tasks.live.outcome import HostOutcome, counts, exit_code

# nornir, napalm and hier_config load only when a live command runs, not for every command


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    p.add_argument("--limit", "-l", metavar="EXPR", help="Ansible-style host pattern")
    p.add_argument("--sim", action="store_true",
                   help="talk to the simulators of `fellesnett sim start` instead of the devices")
    p.add_argument("--sim-dir", type=Path, default=None,
                   help="simulator state directory (default: $FELLESNETT_SIM_DIR or "
                        ".fellesnett/sim)")
    p.add_argument("--workers", "-w", type=int, default=DEFAULT_WORKERS,
                   help="devices worked on at once (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds to wait for a device's answer before giving up on it "
                        "(default: %(default)s)")
    p.add_argument("--connect-timeout", type=float, default=10.0,
                   help="seconds to wait for a login (default: %(default)s)")
    p.add_argument("--backups", type=Path,
                   default=Path(os.environ.get("FELLESNETT_BACKUPS", "backups")),
                   help="backup git repository (default: $FELLESNETT_BACKUPS or backups)")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def _options(args: argparse.Namespace, progress: Any) -> Any:
    from nornir_tasks.live.inventory import Timeouts
    from nornir_tasks.live.run import LiveOptions

    if args.timeout <= 0 or args.connect_timeout <= 0:
        raise UsageError("--timeout and --connect-timeout must be positive")
    return LiveOptions(inventory=args.inventory, limit=args.limit, sim=args.sim,
                       sim_dir=args.sim_dir, workers=args.workers,
                       timeouts=Timeouts(connect=args.connect_timeout, command=args.timeout),
                       backups=args.backups, progress=progress,
                       change_ref=getattr(args, "change_ref", None),
                       from_backups=getattr(args, "from_backups", None))


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int], Callable[[str], None]] | None]:
    """A rich progress bar on a terminal; nothing in pipelines and tests."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def stage(name: str, total: int) -> Callable[[str], None]:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)

            def done(_host: str) -> None:
                bar.advance(tasks[name])
            return done
        yield stage


def _finish(args: argparse.Namespace, outcomes: list[HostOutcome], extra: dict[str, Any],
            title: str) -> int:
    if args.json:
        print(json.dumps({**extra, "summary": counts(outcomes),
                          "devices": [o.to_dict() for o in outcomes]},
                         indent=2, sort_keys=True))
    else:
        from rich.console import Console

        from nornir_tasks.live.report import summary_table

        Console(stderr=True, width=120).print(summary_table(outcomes, title))
        for key, value in extra.items():
            print(f"{key}: {value}", file=sys.stderr)
    return exit_code(outcomes)


def _cmd_backup(args: argparse.Namespace) -> int:
    from nornir_tasks.live.run import context, run_backup

    with _progress(not args.json) as bar:
        ctx = context(_options(args, bar))
        outcomes, commit = run_backup(ctx)
    from nornir_tasks.live.backups import BackupRepo

    # the head is what a later `rollback --to` needs, whether or not this run committed
    head = BackupRepo(args.backups).head()
    return _finish(args, outcomes, {"backup_commit": commit or "no change",
                                    "backup_head": head or ""}, "backup")


def _cmd_diff(args: argparse.Namespace) -> int:
    from nornir_tasks.live.run import context, run_diff

    if args.from_backups and (args.backup or args.sim):
        raise UsageError("--from-backups reads no device: it cannot be combined with "
                         "--backup or --sim")
    with _progress(args.output is not None or not args.json) as bar:
        ctx = context(_options(args, bar))
        outcomes, commit = run_diff(ctx, backup=args.backup)
    from nornir_tasks.live.report import diff_json, diff_markdown

    text = diff_json(outcomes) if args.json else diff_markdown(outcomes)
    if commit:
        print(f"backup_commit: {commit}", file=sys.stderr)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    code = exit_code(outcomes)
    if code == 0 and args.fail_on_drift and any(o.changes for o in outcomes):
        return 1
    return code


def _cmd_deploy(args: argparse.Namespace) -> int:
    from nornir_tasks.live.run import context, run_deploy

    if args.canary < 0:
        raise UsageError("--canary must be 0 or more")
    rotate = frozenset(n.strip() for n in (args.rotate_secrets or "").split(",") if n.strip())
    with _progress(not args.json) as bar:
        ctx = context(_options(args, bar))
        report = run_deploy(ctx, args.apply, args.canary, rotate, method=args.method)
    extra: dict[str, Any] = {"mode": "apply" if args.apply else "dry run (nothing sent; "
                             "add --apply)"}
    if args.apply:
        extra.update({"canary": ", ".join(report.canary) or "none",
                      "pre_change_backup": report.backups.get("pre") or "no change",
                      "post_change_backup": report.backups.get("post") or "no change"})
    return _finish(args, report.outcomes, extra, "deploy" if args.apply else "deploy (dry run)")


def _cmd_rollback(args: argparse.Namespace) -> int:
    from nornir_tasks.live.run import context, run_restore

    with _progress(not args.json) as bar:
        ctx = context(_options(args, bar))
        report = run_restore(ctx, args.to)
    return _finish(args, report.outcomes, {"restored_from": args.to,
                                           "pre_change_backup": report.backups.get("pre")
                                           or "no change"}, f"rollback to {args.to}")


def register(sub: Any) -> None:
    p = sub.add_parser("backup", help="read every device's running config into backups/ "
                       "(secrets scrubbed, one git commit per run)")
    _common(p)
    p.set_defaults(func=_cmd_backup)

    p = sub.add_parser("diff", help="running vs intended: the remediation of each device "
                       "(Markdown, or JSON with --json)")
    _common(p)
    p.add_argument("--output", "-o", type=Path, help="write the report to a file")
    p.add_argument("--from-backups", metavar="REV", nargs="?", const="HEAD",
                   help="compare the intent with the backups at REV (default HEAD) instead "
                        "of reading the devices: for merge-request pipelines without device "
                        "access")
    p.add_argument("--backup", action="store_true",
                   help="also commit the configs read to backups/ (a drift check in one pass)")
    p.add_argument("--fail-on-drift", action="store_true",
                   help="exit 1 when any device differs from the intent")
    p.set_defaults(func=_cmd_diff)

    p = sub.add_parser("deploy", help="push the remediation to devices (dry run unless --apply)")
    _common(p)
    p.add_argument("--apply", action="store_true",
                   help="really change the devices: backup, push, verify, save; roll back "
                        "any device that fails")
    p.add_argument("--canary", type=int, default=1, metavar="N",
                   help="access/distribution switches changed first; the rest only when they "
                        "all succeed (default: %(default)s, 0 = no canary)")
    p.add_argument("--rotate-secrets", metavar="NAMES",
                   help="comma-separated secret names whose lines are sent even when present "
                        "(secrets are otherwise never remediated)")
    p.add_argument("--change-ref", metavar="REF",
                   help="merge request or ticket this change implements, recorded with the "
                        "approvers and pipeline in the backup commits (in GitLab CI: the MR)")
    p.add_argument("--method", choices=("remediation", "napalm-replace"), default="remediation",
                   help="remediation: send only the changed lines (default, tested); "
                        "napalm-replace: full config replace with commit-confirm, for real "
                        "hardware with archive and SCP (see README)")
    p.set_defaults(func=_cmd_deploy)

    p = sub.add_parser("rollback", help="put devices back at the configs of a backup revision")
    _common(p)
    p.add_argument("--to", required=True, metavar="BACKUP_REV",
                   help="a commit of the backups repository (see `git -C backups log`)")
    p.add_argument("--change-ref", metavar="REF",
                   help="incident or ticket behind the rollback (recorded in the backups)")
    p.set_defaults(func=_cmd_rollback)
