"""Benchmark the drift check (``backup`` then ``diff``) over SSH against simulated devices.

    python bench/live_bench.py [--devices 300] [--workers 10 25 50 100] [--repeat 1]

Generates a synthetic estate with about ``--devices`` configurable devices under
``bench/out/``, starts simulators for all of them (``fellesnett sim start``), then times the
real command lines as whole processes for each worker count: ``fellesnett backup --sim``
followed by ``fellesnett diff --sim``, and the one-pass ``fellesnett diff --backup --sim``.
Prints a Markdown table for docs/benchmarks.md.
The simulators run on the same machine and compete with the client for CPU, so the figures
are an upper bound of what the client costs on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_bench import OUT, ROOT, machine  # noqa: E402


def estate_with(config_devices: int) -> tuple[Path, int]:
    """A synthetic estate holding at least ``config_devices`` switches and controllers."""
    from nornir_tasks.build import config_hosts
    from nornir_tasks.intent.loader import load_intent

    hosts = int(config_devices * 2.1)
    while True:
        path = OUT / f"estate-live-{hosts}"
        if not (path / "hosts.yml").exists():
            subprocess.run([sys.executable, "-m", "nornir_tasks.estate", str(path),
                            "--devices", str(hosts)], cwd=ROOT, check=True)
        n = len(config_hosts(load_intent(path), None))
        if n >= config_devices:
            return path, n
        hosts = int(hosts * config_devices / n) + 10


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=300)
    ap.add_argument("--workers", type=int, nargs="+", default=[10, 25, 50, 100])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    estate, n = estate_with(args.devices)
    fellesnett = str(Path(sys.executable).parent / "fellesnett")
    sim_dir = OUT / "live-sim"
    env = {**os.environ, "FELLESNETT_SIM_DIR": str(sim_dir),
           "FELLESNETT_LOCK_DIR": str(OUT / "live-locks")}
    start_s, _ = timed([fellesnett, "sim", "start", "--inventory", str(estate)], env)
    rows = []
    try:
        for workers in args.workers:
            best: tuple[float, float, float] | None = None
            for _ in range(args.repeat):
                backups = OUT / "live-backups"
                shutil.rmtree(backups, ignore_errors=True)
                common = ["--sim", "--inventory", str(estate), "--workers", str(workers),
                          "--backups", str(backups), "--json"]
                b, out = timed([fellesnett, "backup", *common], env)
                assert json.loads(out)["summary"]["failed"] == 0
                d, out = timed([fellesnett, "diff", *common], env)
                assert json.loads(out)["summary"]["failed"] == 0
                one, out = timed([fellesnett, "diff", "--backup", *common], env)
                assert json.loads(out)["summary"]["failed"] == 0
                if best is None or b + d < best[0] + best[1]:
                    best = (b, d, one)
            assert best is not None
            rows.append((workers, *best))
            print(json.dumps({"workers": workers, "backup_s": round(best[0], 1),
                              "diff_s": round(best[1], 1), "one_pass_s": round(best[2], 1)}),
                  file=sys.stderr)
    finally:
        subprocess.run([fellesnett, "sim", "stop"], cwd=ROOT, env=env, check=False)
    print(f"### Drift check of {n} simulated devices — {date.today().isoformat()}\n")
    print(f"Machine: {machine()}. Simulators started in {start_s:.1f} s. Whole processes, "
          f"best of {args.repeat}: `fellesnett backup --sim` then `fellesnett diff --sim`.\n")
    print("| workers | backup (s) | diff (s) | backup + diff (s) | `diff --backup`, one pass (s) |")
    print("|---:|---:|---:|---:|---:|")
    for workers, b, d, one in rows:
        print(f"| {workers} | {b:.1f} | {d:.1f} | {b + d:.1f} | {one:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
