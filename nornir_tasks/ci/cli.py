"""``fellesnett ci shards | shard | canary``: what each pipeline job works on."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError


def _intent(args: argparse.Namespace) -> Any:
    from nornir_tasks.intent.loader import load_intent

    return load_intent(args.inventory)


def _cmd_shards(args: argparse.Namespace) -> int:
    from nornir_tasks.ci.shards import split

    shards = split(_intent(args), args.total, args.limit)
    if args.json:
        print(json.dumps([{"shard": s.index, "devices": s.devices, "sites": list(s.sites),
                           "limit": s.limit} for s in shards], indent=2))
    else:
        for s in shards:
            print(f"shard {s.index}: {len(s.sites)} sites, {s.devices} devices")
    return 0


def _cmd_shard(args: argparse.Namespace) -> int:
    from nornir_tasks.ci.shards import split

    if not 0 <= args.index < args.total:
        raise UsageError(f"--index must be 0..{args.total - 1}")
    print(split(_intent(args), args.total, args.limit)[args.index].limit)
    return 0


def _cmd_canary(args: argparse.Namespace) -> int:
    from nornir_tasks.build import config_hosts
    from nornir_tasks.ci.shards import split
    from nornir_tasks.live.run import canaries

    intent = _intent(args)
    hosts = config_hosts(intent, args.limit)
    if args.shard is not None:
        shard = split(intent, args.total, args.limit)[args.shard]
        hosts = [h for h in hosts if intent.device_site[h] in shard.sites]
    print(",".join(canaries(intent, hosts, args.count)))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("ci", help="pipeline helpers: shard split and canary, from the inventory")
    ci = p.add_subparsers(dest="ci_command", required=True, metavar="SUBCOMMAND")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--inventory", "-i", type=Path, default=Path("inventory"))
        q.add_argument("--limit", "-l", metavar="EXPR",
                       help="restrict to these hosts first (Ansible pattern)")
        q.add_argument("--total", type=int, default=4, help="number of shards (default 4)")

    q = ci.add_parser("shards", help="list the shards: sites and devices of each")
    common(q)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=_cmd_shards)
    q = ci.add_parser("shard", help="print the --limit expression of one shard (may be empty)")
    common(q)
    q.add_argument("--index", type=int, required=True, help="shard number, 0-based")
    q.set_defaults(func=_cmd_shard)
    q = ci.add_parser("canary", help="print the canary device(s), comma-separated")
    common(q)
    q.add_argument("--count", type=int, default=1)
    q.add_argument("--shard", type=int, help="choose the canary inside this shard")
    q.set_defaults(func=_cmd_canary)
