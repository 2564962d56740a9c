"""``fellesnett import``: a survey (or legacy config files) and a mapping file in, a
proposed inventory and the import report out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "import", help="turn a survey of today's networks into a proposed inventory",
        description="Read the surveyed legacy devices (a survey repository, or running "
        "config files) and the engineer's mapping file (legacy VLAN -> zone and port "
        "profile per network, device -> site, models); write the proposed inventory (the "
        "base inventory plus one site per mapped site, validated before it is written) "
        "and the import report (port by port, and every legacy line not carried).")
    p.add_argument("sources", nargs="+", type=Path, metavar="SURVEY|CONFIG",
                   help="a survey repository (fellesnett survey), or config files/folders")
    p.add_argument("--mapping", "-m", type=Path, required=True, help="the mapping file (YAML)")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="the base inventory the sites are added to (default: %(default)s)")
    p.add_argument("--out", "-o", type=Path, required=True,
                   help="new directory for the proposed inventory")
    p.add_argument("--report", type=Path, default=None,
                   help="new directory for the import report (default: <out>-report)")
    p.add_argument("--platform", choices=("cisco_ios", "aruba_os_switch"),
                   help="platform of every config file (default: detected per file)")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nornir_tasks.legacy.mapping import load_mapping
    from nornir_tasks.legacy.proposal import propose
    from nornir_tasks.legacy.surveyed import from_configs, read_survey

    if not args.inventory.is_dir():
        raise UsageError(f"--inventory {args.inventory}: no such directory")
    mapping = load_mapping(args.mapping)
    surveys = [s for s in args.sources if (s / "devices").is_dir()]
    configs = [s for s in args.sources if s not in surveys]
    devices = [d for s in surveys for d in read_survey(s)]
    if configs:
        devices += from_configs(configs, args.platform)
    report = args.report or args.out.with_name(args.out.name + "-report")
    result = propose(args.inventory, devices, mapping, str(args.mapping), args.out, report)
    summary = result.summary()
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True))
        return 0
    for name, site in summary["sites"].items():
        print(f"site {name} ({site['kind']}): {', '.join(site['hosts'])}")
    for host, d in summary["devices"].items():
        print(f"  {host}: {d['lines_read']} lines: {d['carried']} carried, "
              f"{d['not_carried']} not carried, {d['framing']} framing; {d['ports']} ports")
    for host, why in summary["skipped"].items():
        print(f"skipped {host}: {why}")
    print(f"proposed inventory: {result.out}/ (build it: fellesnett build -i {result.out})")
    print(f"report: {result.report}/README.md")
    return 0
