"""Benchmark: start N simulators, then N netmiko logins over a thread pool.

Run: ``.venv/bin/python bench/sim_bench.py [N] [THREADS]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main(n: int = 300, threads: int = 30) -> None:
    from netmiko import ConnectHandler

    from nornir_tasks.sim.manager import start, stop
    from nornir_tasks.sim.seed import seed_config
    from nornir_tasks.sim.shell import SimDevice

    goldens = sorted(Path(__file__).parents[1].joinpath("golden").glob("*-acc01.cfg"))
    texts = [g.read_text() for g in goldens]
    t0 = time.monotonic()
    devices = {}
    for i in range(n):
        host = f"bench-sw{i:03d}"
        text = texts[i % len(texts)]
        devices[host] = SimDevice(host, seed_config(host, text))
    t_seed = time.monotonic() - t0
    state_dir = Path(tempfile.mkdtemp(prefix="simbench-"))
    t0 = time.monotonic()
    state = start(devices, state_dir)
    t_start = time.monotonic() - t0
    try:
        def login(host: str) -> str:
            conn = ConnectHandler(device_type="cisco_xe", host="127.0.0.1",
                                  port=state.port(host), username=state.username,
                                  password=state.password)
            prompt = conn.find_prompt()
            conn.disconnect()
            return prompt

        t0 = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            prompts = list(pool.map(login, devices))
        t_login = time.monotonic() - t0
        assert len(prompts) == n
    finally:
        stop(state_dir)
    print(f"{n} devices: seed {t_seed:.2f} s, start {t_start:.2f} s "
          f"({len(state.pids)} processes), {n} netmiko logins with {threads} threads "
          f"{t_login:.2f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
