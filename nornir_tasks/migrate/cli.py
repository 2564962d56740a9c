"""``fellesnett migrate plan|run``: cut the imported sites over, wave by wave."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError

DEFAULT_STATE = Path("migration")


def register(sub: Any) -> None:
    p = sub.add_parser("migrate", help="cut today's sites over to the new design, wave by wave")
    msub = p.add_subparsers(dest="migrate_command", required=True, metavar="SUBCOMMAND")
    q = msub.add_parser("plan", help="order the imported sites in waves (a file to edit)",
                        description="Read the import report and the proposed inventory "
                        "(and the survey, for which sites others hang on); write the waves.")
    q.add_argument("--inventory", "-i", type=Path, default=Path("inventory"))
    q.add_argument("--import-report", type=Path, required=True,
                   help="the folder `fellesnett import` wrote its report to")
    q.add_argument("--survey", type=Path, default=None, help="the survey repository")
    q.add_argument("--out", "-o", type=Path, default=DEFAULT_STATE / "plan.yml",
                   help="the plan file (default: %(default)s); never overwritten")
    q.set_defaults(func=_cmd_plan)
    r = msub.add_parser("run", help="migrate one wave (dry run unless --apply)",
                        description="Pre-stage, move (ports in batches) and clean-up, with "
                        "checks between steps and a verified rollback to the legacy config "
                        "on any failure. Dry run by default.")
    r.add_argument("--plan", type=Path, default=DEFAULT_STATE / "plan.yml")
    r.add_argument("--wave", type=int, required=True)
    r.add_argument("--phase", choices=("prestage", "move", "cleanup", "all"), default="all")
    r.add_argument("--apply", action="store_true", help="send the changes (default: dry run)")
    r.add_argument("--inventory", "-i", type=Path, default=Path("inventory"))
    r.add_argument("--devices", type=Path, default=None, metavar="DEVICES.yml",
                   help="the survey's device list (addresses and credentials of the legacy "
                        "devices); not needed with --sim")
    r.add_argument("--sim", action="store_true", help="run against the simulators")
    r.add_argument("--sim-dir", type=Path, default=None)
    r.add_argument("--state", type=Path, default=DEFAULT_STATE,
                   help="migration state: legacy configs (0600) and state.json "
                        "(default: %(default)s)")
    r.add_argument("--backups", type=Path, default=Path("backups"))
    r.add_argument("--batch-size", type=int, default=8, help="ports per move batch")
    r.add_argument("--canary", type=int, default=1, help="devices migrated first, alone")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=_cmd_run)


def _cmd_plan(args: argparse.Namespace) -> int:
    from nornir_tasks.intent.loader import load_intent
    from nornir_tasks.legacy.surveyed import read_survey
    from nornir_tasks.migrate.plan import dump, sites_from_import, waves

    if args.out.exists():
        raise UsageError(f"{args.out} exists: the plan is the engineer's file now; give "
                         "another --out")
    try:
        report = json.loads((args.import_report / "import.json").read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{args.import_report}/import.json: cannot read the import report: "
                         f"{exc}") from None
    intent = load_intent(args.inventory)
    surveyed = read_survey(args.survey) if args.survey else None
    plan = waves(sites_from_import(intent, report, surveyed))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(dump(plan), encoding="utf-8")
    tmp.replace(args.out)
    for w in plan:
        print(f"wave {w['wave']} ({w['name']}): {', '.join(w['sites'])}")
    print(f"plan: {args.out} (edit and commit it; then `fellesnett migrate run --wave 1`)")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from nornir_tasks.intent.loader import load_intent
    from nornir_tasks.live.outcome import exit_code
    from nornir_tasks.live.secrets import SecretStore
    from nornir_tasks.migrate.plan import IN_PLACE, load_plan
    from nornir_tasks.migrate.run import PHASES, WaveJob, run_wave
    from nornir_tasks.sim.cli import default_state_dir
    from nornir_tasks.survey.inventory import SurveyDevice, SurveyList, load_list, logins

    if args.batch_size < 1 or args.canary < 0:
        raise UsageError("--batch-size must be at least 1 and --canary 0 or more")
    waves = load_plan(args.plan)
    wave = next((w for w in waves if w["wave"] == args.wave), None)
    if wave is None:
        raise UsageError(f"{args.plan}: no wave {args.wave} "
                         f"(waves: {', '.join(str(w['wave']) for w in waves)})")
    intent = load_intent(args.inventory)
    legacy_of: dict[str, str] = {}
    replaced: list[str] = []
    for slug, site in wave["sites"].items():
        if slug not in intent.sites:
            raise UsageError(f"{args.plan}: wave {args.wave}: site {slug!r} is not in "
                             f"{args.inventory}")
        for host, d in site["devices"].items():
            if host not in intent.devices:
                raise UsageError(f"{args.plan}: wave {args.wave}: {host} is not in "
                                 f"{args.inventory}")
            if d["method"] == IN_PLACE:
                legacy_of[str(d["legacy"])] = host
            else:
                replaced.append(host)
    if not legacy_of:
        raise UsageError(f"wave {args.wave} has no device migrated in place "
                         f"(replace: {', '.join(replaced)}): swap those switches and deploy")
    hosts = sorted(legacy_of)
    if args.sim:
        listed = SurveyList(devices=[SurveyDevice(host=h, platform="cisco_ios") for h in hosts])
        access = logins(listed, args.plan, args.sim_dir or default_state_dir())
    else:
        if args.devices is None:
            raise UsageError("--devices DEVICES.yml (the survey's list) gives the legacy "
                             "devices' addresses and credentials; or use --sim")
        access = logins(load_list(args.devices), args.devices, None)
        missing = [h for h in hosts if h not in access]
        if missing:
            raise UsageError(f"{args.devices}: no entry for {', '.join(missing)}")
    job = WaveJob(intent=intent, wave=args.wave,
                  phases=PHASES if args.phase == "all" else (args.phase,), apply=args.apply,
                  state_dir=args.state, store=SecretStore(), legacy_of=legacy_of,
                  batch_size=args.batch_size)
    outcomes, canary = run_wave(job, access, hosts, canary=args.canary,
                                backups=args.backups if args.apply else None)
    if args.json:
        print(json.dumps({"wave": args.wave, "phases": list(job.phases), "apply": args.apply,
                          "canary": canary, "replace": replaced,
                          "devices": [o.to_dict() for o in outcomes]}, indent=2))
    else:
        print(f"wave {args.wave} ({wave.get('name', '')}), {'+'.join(job.phases)}, "
              f"{'APPLIED' if args.apply else 'dry run'}; canary: {', '.join(canary)}")
        print(f"{'device':<28} {'status':<12} {'commands':>8}  detail")
        for o in outcomes:
            detail = "; ".join(x for x in (o.stage, o.error, o.rollback) if x)
            print(f"{o.host:<28} {o.status.value:<12} {o.changes:>8}  {detail}")
        for host in replaced:
            print(f"{host:<28} {'not run':<12} {'':>8}  replace: swap the switch, then deploy")
        if not args.apply:
            for o in outcomes:
                for line in o.lines:
                    print(f"  {o.host}: {line}")
    return exit_code(outcomes)
