"""``fellesnett survey DEVICES.yml``: read every listed device, write the survey
repository (one commit per run) and its report. An unreachable device is reported in the
summary and the report, never fatal."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import yaml

from nornir_tasks.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "survey", help="read today's legacy devices over SSH into a survey repository",
        description="Survey the devices of the networks that run today (Cisco IOS classic "
        "by NAPALM getters plus CDP; HPE ArubaOS-Switch by netmiko and ntc-templates): "
        "facts, interfaces, VLANs, LLDP/CDP neighbours, MAC and ARP tables, running "
        "configs. Writes a git repository (one commit per run, secrets scrubbed) and "
        "REPORT.md; `fellesnett import` reads it.")
    p.add_argument("devices", type=Path, metavar="DEVICES.yml",
                   help="the devices to survey: host, address, platform, credentials "
                        "(environment variable names)")
    p.add_argument("--repo", type=Path, default=Path("survey"),
                   help="the survey repository (default: %(default)s)")
    p.add_argument("--sim", action="store_true",
                   help="survey the simulators (`fellesnett sim start --legacy`)")
    p.add_argument("--sim-dir", type=Path, default=None, help="the simulators' state folder")
    p.add_argument("--workers", type=int, default=20, help="devices read at once (default 20)")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds to wait for a device to answer (default 10)")
    p.add_argument("--end-of-life", type=Path, default=None, metavar="EOL.yml",
                   help="end-of-support dates by model ({MODEL: {date, source}})")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nornir_tasks.sim.cli import default_state_dir
    from nornir_tasks.survey.inventory import load_list, logins
    from nornir_tasks.survey.run import survey

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    devices = load_list(args.devices)
    sim_dir = (args.sim_dir or default_state_dir()) if args.sim else None
    eol = _end_of_life(args.end_of_life)
    t0 = time.monotonic()
    result = survey(devices, logins(devices, args.devices, sim_dir), args.repo,
                    workers=args.workers, timeout=args.timeout, end_of_life=eol,
                    when=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
    summary = {**result, "seconds": round(time.monotonic() - t0, 2)}
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
        return 0
    print(f"surveyed {len(summary['surveyed'])} devices in {summary['seconds']} s; "
          f"{len(summary['unreachable'])} unreachable")
    for host, why in sorted(summary["unreachable"].items()):
        print(f"  unreachable {host}: {why.splitlines()[0][:160]}")
    print(f"survey repository: {args.repo}/ (commit {summary['commit'] or 'unchanged'}); "
          f"report: {args.repo}/REPORT.md")
    return 0


def _end_of_life(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and {"date", "source"} <= set(v) for v in data.values()):
        raise UsageError(f"{path}: expected {{MODEL: {{date: YYYY-MM-DD, source: URL}}}}")
    return {str(k): {"date": str(v["date"]), "source": str(v["source"])}
            for k, v in data.items()}
