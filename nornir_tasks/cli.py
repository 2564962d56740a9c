"""The ``fellesnett`` command line.

Exit codes, the same for every sub-command: 0 ok, 1 the job ran and found a problem
(reserved for verify/diff/audit), 2 invalid intent or invalid arguments. Bad input never
ends in a traceback: the error names the file, the key path and what is wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nornir_tasks.build import VerifyFailed
from nornir_tasks.errors import IntentError, UsageError

EXIT_OK, EXIT_FOUND, EXIT_INVALID = 0, 1, 2
DEFAULT_INVENTORY = Path("inventory")


def _add_common(p: argparse.ArgumentParser, limit: bool = True) -> None:
    p.add_argument("--inventory", "-i", type=Path, default=DEFAULT_INVENTORY,
                   help="inventory directory (default: %(default)s)")
    if limit:
        p.add_argument("--limit", "-l", metavar="EXPR",
                       help="Ansible-style host pattern: school_*, site_alta_skole, "
                            "access:&municipal, !kindergarten")


def _cmd_build(args: argparse.Namespace) -> int:
    from nornir_tasks.build import build, check_out

    check_out(args.out)  # before the build's time is spent
    quiet = args.json or not sys.stderr.isatty()
    if quiet:
        result = build(args.inventory, args.out, args.limit, args.workers,
                       run_verify=not args.no_verify, keep_heap=_EXITS_AFTER)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(),
                      console=_console(), transient=True) as bar:
            task = bar.add_task("validate", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            result = build(args.inventory, args.out, args.limit, args.workers, progress,
                           run_verify=not args.no_verify, keep_heap=_EXITS_AFTER)
    summary = result.summary()
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(f"built {summary['devices']} device configs ({summary['config_lines']} lines) "
              f"and {summary['docs']} docs in {summary['seconds']} s -> {result.out}/")
        print(f"handover: {summary['handover']} sha256 {summary['handover_sha256']}")
        print(f"zone proof: {summary['verify']}")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from nornir_tasks.intent.loader import load_intent
    from nornir_tasks.limit import select_hosts

    intent = load_intent(args.inventory)
    hosts = select_hosts(args.limit, intent.groups) if args.limit else set(intent.devices)
    if args.limit and not hosts:
        raise UsageError(f"--limit {args.limit!r} selects no host")
    summary = {"ok": True, "sites": len(intent.sites), "devices": len(intent.devices),
               "selected": len(hosts)}
    print(json.dumps(summary, sort_keys=True) if args.json else
          f"intent is valid: {summary['sites']} sites, {summary['devices']} devices")
    return EXIT_OK


def _cmd_design(args: argparse.Namespace) -> int:
    from nornir_tasks.build import config_hosts
    from nornir_tasks.design import design_device
    from nornir_tasks.design.structured import to_data
    from nornir_tasks.intent.loader import load_intent

    intent = load_intent(args.inventory)
    hosts = config_hosts(intent, args.limit)
    if not hosts:
        raise UsageError(f"--limit {args.limit!r} selects no device that has a config")
    data = {h: to_data(design_device(intent, h)) for h in hosts}
    print(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    return EXIT_OK


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fellesnett",
        description="Infrastructure as code for the merged municipal network: render, "
        "verify, deploy and hand over from one intent.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="validate, design and render every device; write the "
                       "handover output atomically")
    _add_common(p)
    p.add_argument("--out", "-o", type=Path, default=Path("build"),
                   help="output directory (default: %(default)s); replaced only when it "
                        "is absent, empty or an earlier build, never a file or a foreign "
                        "directory")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.add_argument("--workers", type=int, default=None,
                   help="render processes (default: one per CPU; used on large estates)")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the zone proof of the rendered configs (it runs by default)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("validate", help="check the intent (schema and semantics) only")
    _add_common(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("design", help="print the structured config (JSON) of devices")
    _add_common(p)
    p.set_defaults(func=_cmd_design)

    from nornir_tasks import estate_init, lab, site_add, verify, zone_add

    estate_init.register(sub)
    site_add.register(sub)
    zone_add.register(sub)
    verify.register(sub)
    lab.register(sub)
    from nornir_tasks.sim import cli as sim_cli

    sim_cli.register(sub)
    from nornir_tasks.live import cli as live_cli

    live_cli.register(sub)
    from nornir_tasks.ci import cli as ci_cli

    ci_cli.register(sub)
    from nornir_tasks.handover import cli as handover_cli

    handover_cli.register(sub)
    from nornir_tasks.audit import cli as audit_cli

    audit_cli.register(sub)
    from nornir_tasks.legacy import report as legacy_report

    legacy_report.register(sub)
    from nornir_tasks.legacy import import_cli

    import_cli.register(sub)
    from nornir_tasks.survey import cli as survey_cli

    survey_cli.register(sub)
    from nornir_tasks.migrate import cli as migrate_cli

    migrate_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "workers", None) is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    try:
        return int(args.func(args))
    except VerifyFailed as exc:
        print(f"fellesnett: {exc}; nothing was written:", file=sys.stderr)
        for finding in exc.report.violations:
            print(f"  {finding.text()}", file=sys.stderr)
        return EXIT_FOUND
    except IntentError as exc:
        print(f"fellesnett: the intent is invalid ({len(exc.problems)} problem"
              f"{'s' if len(exc.problems) != 1 else ''}):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"fellesnett: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except BrokenPipeError:
        # `fellesnett design | head`: the reader has gone; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"fellesnett: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("fellesnett: interrupted; previous output left intact", file=sys.stderr)
        return 130


#: commands whose process ends with a large heap the interpreter would free object by
#: object (a 10,000-device build holds millions of parsed lines): the OS reclaims it at
#: once. Live commands keep the normal exit, so their SSH sessions close politely.
HARD_EXIT = {"build", "verify"}
#: set by :func:`run` only: the process ends with the command, so a build may leave its
#: heap to the exit (``main`` called in-process, by tests, frees as usual)
_EXITS_AFTER = False


def run() -> None:
    """The console entry point: :func:`main`, then a fast exit after ``build``/``verify``
    (the same as mypy's ``hard_exit``: flush, then ``os._exit``)."""
    global _EXITS_AFTER
    argv = sys.argv[1:]
    _EXITS_AFTER = bool(argv) and argv[0] in HARD_EXIT
    code = main(argv)
    if _EXITS_AFTER:
        with contextlib.suppress(BrokenPipeError):  # `fellesnett build --json | head`
            sys.stdout.flush()
        with contextlib.suppress(BrokenPipeError):
            sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    run()
