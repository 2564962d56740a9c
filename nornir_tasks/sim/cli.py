"""``fellesnett sim start|stop|status``: SSH device simulators on 127.0.0.1."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError


def default_state_dir() -> Path:
    """``$FELLESNETT_SIM_DIR``, else ``.fellesnett/sim`` under the current directory."""
    env = os.environ.get("FELLESNETT_SIM_DIR")
    return Path(env) if env else Path(".fellesnett") / "sim"


def _serial(host: str) -> str:
    return "FOC" + hashlib.sha256(host.encode()).hexdigest()[:8].upper()


def _cmd_start(args: argparse.Namespace) -> int:
    from nornir_tasks.build import config_hosts, render_host
    from nornir_tasks.intent.loader import load_intent
    from nornir_tasks.sim.manager import start
    from nornir_tasks.sim.seed import seed_config
    from nornir_tasks.sim.shell import SimDevice

    if args.processes is not None and args.processes < 1:
        raise UsageError("--processes must be at least 1")
    t0 = time.monotonic()
    if args.legacy is not None:
        from nornir_tasks.sim.legacy_world import load_world

        state = start(load_world(args.legacy), args.sim_dir, processes=args.processes)
        return _started(args, state, t0)
    intent = load_intent(args.inventory)
    hosts = config_hosts(intent, args.limit)
    if not hosts:
        raise UsageError(f"--limit {args.limit!r} selects no device that has a config")
    devices = {}
    for host in hosts:
        dev = intent.devices[host]
        devices[host] = SimDevice(
            hostname=host, config=seed_config(host, render_host(intent, host)),
            flavour="c9800" if dev.role.value == "wlc" else "ios-xe",
            model=dev.model, serial=_serial(host),
            software=intent.device_models[dev.model].software or "17.9.4a")
    state = start(devices, args.sim_dir, processes=args.processes)
    return _started(args, state, t0)


def _started(args: argparse.Namespace, state: Any, t0: float) -> int:
    ports = [h["port"] for h in state.hosts.values()]
    summary: dict[str, Any] = {
        "devices": len(state.hosts), "processes": len(state.pids),
        "ports": [min(ports), max(ports)], "state_file": str(args.sim_dir / "state.json"),
        "seconds": round(time.monotonic() - t0, 2)}
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print(f"started {summary['devices']} simulated devices in {summary['processes']} "
              f"processes on 127.0.0.1 ports {min(ports)}-{max(ports)} "
              f"({summary['seconds']} s)")
        print(f"state (credentials, ports): {summary['state_file']}")
    return 0


def _cmd_stop(args: argparse.Namespace) -> int:
    from nornir_tasks.sim.manager import stop

    n = stop(args.sim_dir)
    print(json.dumps({"stopped_processes": n}) if args.json else
          f"stopped {n} simulator processes" if n else "no simulators were running")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from nornir_tasks.sim.manager import status

    info = status(args.sim_dir)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    elif not info["running"]:
        print(f"no simulators running in {info['state_dir']}" if "devices" not in info else
              f"simulators in {info['state_dir']} are dead; run `fellesnett sim stop`")
    else:
        print(f"{info['devices']} simulated devices running in {len(info['pids'])} processes "
              f"on ports {info['ports'][0]}-{info['ports'][1]} since {info['started']}")
    return 0


def register(sub: Any) -> None:
    """Add ``sim`` and its sub-commands to the main parser."""
    p = sub.add_parser("sim", help="start/stop stateful IOS-XE SSH simulators on 127.0.0.1")
    simsub = p.add_subparsers(dest="sim_command", required=True, metavar="SUBCOMMAND")

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--sim-dir", type=Path, default=default_state_dir(),
                       help="where state.json lives (default: $FELLESNETT_SIM_DIR or "
                            ".fellesnett/sim)")
        q.add_argument("--json", action="store_true", help="print a machine-readable summary")

    q = simsub.add_parser("start", help="simulate every device that gets a config")
    q.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    q.add_argument("--limit", "-l", metavar="EXPR", help="Ansible-style host pattern")
    q.add_argument("--legacy", type=Path, metavar="WORLD.yml", default=None,
                   help="simulate the legacy IOS classic / ArubaOS-Switch devices of a world "
                        "file instead of the inventory's devices")
    q.add_argument("--processes", type=int, default=None,
                   help="worker processes (default: one per 40 devices, at most one per CPU)")
    common(q)
    q.set_defaults(func=_cmd_start)
    q = simsub.add_parser("stop", help="stop the simulators")
    common(q)
    q.set_defaults(func=_cmd_stop)
    q = simsub.add_parser("status", help="show whether simulators are running")
    common(q)
    q.set_defaults(func=_cmd_status)
