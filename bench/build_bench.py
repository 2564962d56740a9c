"""Benchmark ``fellesnett build``: whole-process wall time and peak memory by estate size.

    python bench/build_bench.py [--sizes 100 1000 10000] [--repeat 3] [--markdown]

Generates synthetic county-scale estates (``nornir_tasks.estate --devices N``) under
``bench/out/``, then runs the real command line in a fresh process per run and reads the
child's own peak RSS from ``wait4``. Reports the best of ``--repeat`` runs, and the
marginal time per device between consecutive sizes (the slope, which excludes start-up).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def run_once(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KiB) and stdout of one child process.

    The parent imports nothing heavy: a forked child's peak RSS counts the parent's pages
    until it execs, so a fat parent would inflate every figure. Output goes to files so
    that ``wait4`` (not ``communicate``) reaps the child and reports its own rusage.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read().decode()}")
        return wall, usage.ru_maxrss, out.read().decode()


def _generator_stamp() -> str:
    """What a cached estate was generated from: the generator and the shared settings it
    copies. A cache from other sources is generated again (it may no longer validate)."""
    digest = hashlib.sha256()
    sources = [ROOT / "nornir_tasks" / "estate.py",
               *sorted((ROOT / "inventory" / "group_vars" / "all").glob("*.yml"))]
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def estate(size: int) -> Path:
    path = OUT / f"estate-{size}"
    stamp = path / ".generated-from"
    if not (path / "hosts.yml").exists() or not stamp.is_file() \
            or stamp.read_text() != _generator_stamp():
        subprocess.run([sys.executable, "-m", "nornir_tasks.estate", str(path),
                        "--devices", str(size)], cwd=ROOT, check=True)
        stamp.write_text(_generator_stamp())
    return path


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-proof", action="store_true",
                    help="time only `build --no-verify` (the zone proof is the slow part)")
    ap.add_argument("--reference", action="store_true", default=True,
                    help="also time the committed reference inventory")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    fellesnett = str(Path(sys.executable).parent / "fellesnett")
    targets: list[tuple[str, Path]] = []
    if args.reference:
        targets.append(("reference", ROOT / "inventory"))
    targets += [(f"synthetic-{size}", estate(size)) for size in args.sizes]
    modes = [("build", []), ("build --no-verify", ["--no-verify"])]
    if args.no_proof:
        modes = modes[1:]
    for mode, extra in modes:
        rows = []
        for name, path in targets:
            hosts = json.loads(run_once([fellesnett, "validate", "--inventory", str(path),
                                         "--json"])[2])["devices"]
            best = None
            walls = []
            for _ in range(args.repeat):
                wall, rss, out = run_once([fellesnett, "build", "--inventory", str(path),
                                           "--out", str(OUT / f"build-{name}"), "--json",
                                           *extra])
                walls.append(wall)
                if best is None or wall < best[0]:
                    best = (wall, rss, json.loads(out)["devices"])
            assert best is not None
            # a VM's page faults make single runs vary: the median shows the spread
            rows.append({"estate": name, "hosts": hosts, "configs": best[2],
                         "wall_s": round(best[0], 2),
                         "median_wall_s": round(statistics.median(walls), 2),
                         "runs_s": [round(w, 2) for w in walls],
                         "peak_rss_mib": round(best[1] / 1024, 1)})
            print(json.dumps({"mode": mode, **rows[-1]}), file=sys.stderr)
        synth = [r for r in rows if r["estate"].startswith("synthetic")]
        for a, b in zip(synth, synth[1:], strict=False):
            for key, wall in (("marginal_ms_per_host", "wall_s"),
                              ("median_marginal_ms_per_host", "median_wall_s")):
                slope = (b[wall] - a[wall]) / (b["hosts"] - a["hosts"]) * 1000
                b[key] = round(slope, 3)
        print(f"### `fellesnett {mode}` — {date.today().isoformat()}\n")
        print(f"Machine: {machine()}. Best of {args.repeat} runs, whole process "
              f"(`fellesnett {mode} --json`), peak RSS of the process.\n")
        print("| estate | hosts | configs | wall time (s) | peak RSS (MiB) | marginal ms/host "
              "| median wall (s) | median marginal ms/host |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['estate']} | {r['hosts']} | {r['configs']} | {r['wall_s']} | "
                  f"{r['peak_rss_mib']} | {r.get('marginal_ms_per_host', '')} | "
                  f"{r['median_wall_s']} | {r.get('median_marginal_ms_per_host', '')} |")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
