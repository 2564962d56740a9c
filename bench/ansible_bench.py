"""Benchmark the Ansible path against the Nornir path on the same jobs, whole processes.

    python bench/ansible_bench.py [--devices 300] [--forks 50] [--repeat 1] [--skip-render]

1. Render the reference estate (218 configs):
   ``ansible-playbook playbooks/render.yml`` vs ``fellesnett build --no-verify``
   (the outputs are compared byte for byte before the figures are printed).
2. Drift check of a synthetic estate with at least ``--devices`` simulated devices
   (``bench/live_bench.py``'s estate): ``ansible-playbook playbooks/backup.yml`` then
   ``playbooks/diff.yml`` (``FELLESNETT_SIM=1``) vs ``fellesnett backup --sim`` then
   ``fellesnett diff --sim``. Both sides find the same drift (checked).

Prints a Markdown table for docs/benchmarks.md. The simulators run on the same machine
and compete with both clients for CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_bench import OUT, ROOT, machine  # noqa: E402
from live_bench import estate_with, timed  # noqa: E402

BIN = Path(sys.executable).parent


def ansible_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "FELLESNETT_"))}
    env.update({"PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                "FELLESNETT_LOCK_DIR": str(OUT / "ansible-locks")})
    env.update(extra)
    return env


def best(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    return min(timed(cmd, env)[0] for _ in range(repeat))


def render_job(repeat: int, forks: int) -> tuple[float, float]:
    env = ansible_env()
    out_a, out_n = OUT / "ansible-render", OUT / "nornir-render"
    shutil.rmtree(out_a, ignore_errors=True)
    a = best([str(BIN / "ansible-playbook"), "playbooks/render.yml", "-f", str(forks),
              "-e", f"fellesnett_render_output_dir={out_a}"], env, repeat)
    n = best([str(BIN / "fellesnett"), "build", "--no-verify", "--out", str(out_n)], env, repeat)
    ours = {p.relative_to(out_a): p.read_bytes() for p in (out_a / "configs").rglob("*.cfg")}
    theirs = {p.relative_to(out_n): p.read_bytes() for p in (out_n / "configs").rglob("*.cfg")}
    assert ours == theirs and len(ours) == 218, "the two paths rendered different configs"
    return a, n


def with_role_groups(estate: Path) -> Path:
    """The synthetic estate with the repository's constructed role groups (zz_roles.yml)."""
    target = estate / "zz_roles.yml"
    if not target.exists():
        shutil.copy(ROOT / "inventory" / "zz_roles.yml", target)
    return estate


def drift_job(devices: int, repeat: int, forks: int) -> tuple[int, float, float, float, float]:
    estate, n = estate_with(devices)
    estate = with_role_groups(estate)
    sim_dir = OUT / "ansible-sim"
    env = ansible_env(FELLESNETT_SIM="1", FELLESNETT_SIM_DIR=str(sim_dir))
    fellesnett = str(BIN / "fellesnett")
    timed([fellesnett, "sim", "stop", "--sim-dir", str(sim_dir)], env)
    timed([fellesnett, "sim", "start", "--inventory", str(estate), "--sim-dir", str(sim_dir)],
          env)
    try:
        a_b = a_d = n_b = n_d = float("inf")
        for _ in range(repeat):
            backups, drift = OUT / "ansible-backups", OUT / "ansible-drift"
            shutil.rmtree(backups, ignore_errors=True)
            common = ["-i", str(estate), "-f", str(forks)]
            t_b, _ = timed([str(BIN / "ansible-playbook"), "playbooks/backup.yml", *common,
                            "-e", f"fellesnett_backup_dir={backups}"], env)
            t_d, _ = timed([str(BIN / "ansible-playbook"), "playbooks/diff.yml", *common,
                            "-e", f"fellesnett_diff_report_dir={drift}"], env)
            a_b, a_d = min(a_b, t_b), min(a_d, t_d)
            ours = json.loads((drift / "drift.json").read_text())
            nb = OUT / "nornir-backups"
            shutil.rmtree(nb, ignore_errors=True)
            live = ["--sim", "--sim-dir", str(sim_dir), "--inventory", str(estate),
                    "--backups", str(nb), "--json"]
            t_b, _ = timed([fellesnett, "backup", *live], env)
            t_d, out = timed([fellesnett, "diff", *live], env)
            n_b, n_d = min(n_b, t_b), min(n_d, t_d)
            theirs = json.loads(out)
            assert ours["summary"] == theirs["summary"], (ours["summary"], theirs["summary"])
            assert ours["summary"]["failed"] == 0
    finally:
        timed([fellesnett, "sim", "stop", "--sim-dir", str(sim_dir)], env)
    return n, a_b, a_d, n_b, n_d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=300)
    ap.add_argument("--forks", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-render", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = []
    if not args.skip_render:
        a, n = render_job(args.repeat, args.forks)
        rows.append(("render the reference estate (218 configs)",
                     "`ansible-playbook playbooks/render.yml`", a,
                     "`fellesnett build --no-verify`", n))
        print(json.dumps({"render_ansible_s": round(a, 1), "render_nornir_s": round(n, 1)}),
              file=sys.stderr)
    n_dev, a_b, a_d, n_b, n_d = drift_job(args.devices, args.repeat, args.forks)
    rows.append((f"drift check, {n_dev} simulated devices: backup",
                 "`playbooks/backup.yml`", a_b, "`fellesnett backup --sim`", n_b))
    rows.append((f"drift check, {n_dev} simulated devices: diff",
                 "`playbooks/diff.yml`", a_d, "`fellesnett diff --sim`", n_d))
    rows.append((f"drift check, {n_dev} simulated devices: backup + diff",
                 "both playbooks", a_b + a_d, "both commands", n_b + n_d))
    print(f"### Ansible path vs Nornir path — {date.today().isoformat()}\n")
    print(f"Machine: {machine()}. Whole processes, best of {args.repeat}; Ansible with "
          f"`-f {args.forks}`, fellesnett with its default workers. Same inventory, same "
          f"outputs (checked). Total benchmark time {time.perf_counter() - t0:.0f} s.\n")
    print("| job | Ansible | (s) | Nornir / fellesnett | (s) | Ansible ÷ Nornir |")
    print("|---|---|---:|---|---:|---:|")
    for job, a_cmd, a_s, n_cmd, n_s in rows:
        print(f"| {job} | {a_cmd} | {a_s:.1f} | {n_cmd} | {n_s:.1f} | {a_s / n_s:.1f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
