"""Start, stop and inspect background simulator processes.

``start`` writes each worker's devices to ``STATE_DIR/worker-N.json``, spawns detached
workers (``python -m nornir_tasks.sim.manager worker STATE_DIR N``), waits until every
device accepts TCP connections, then writes ``STATE_DIR/state.json`` (mode 0600)::

    {"username": "fellesnett", "password": "...", "started": "2026-...Z",
     "pids": [123, 124],
     "hosts": {"sw1": {"host": "127.0.0.1", "port": 40123, "flavour": "ios-xe"}}}
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError
from nornir_tasks.sim.shell import SimDevice

USERNAME = "fellesnett"
STATE = "state.json"
DEVICES_PER_WORKER = 40


@dataclass(frozen=True)
class SimState:
    """A running set of simulators, as recorded in ``state.json``."""

    state_dir: Path
    username: str
    password: str
    hosts: dict[str, dict[str, Any]]
    pids: list[int]
    started: str

    def port(self, host: str) -> int:
        return int(self.hosts[host]["port"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is dead too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _read_state(state_dir: Path) -> SimState | None:
    try:
        data = json.loads((state_dir / STATE).read_text())
    except (OSError, ValueError):
        return None
    return SimState(state_dir, data["username"], data["password"], data["hosts"],
                    [int(p) for p in data["pids"]], data["started"])


def load_state(state_dir: Path) -> SimState:
    """The running simulators, or a UsageError saying how to start them."""
    state = _read_state(state_dir)
    if state is None:
        raise UsageError(f"no simulators running in {state_dir}; run `fellesnett sim start`")
    if not all(_alive(p) for p in state.pids):
        raise UsageError(f"the simulators in {state_dir} have died; run "
                         "`fellesnett sim stop` and `fellesnett sim start`")
    return state


def status(state_dir: Path) -> dict[str, Any]:
    """Summary of the simulators in ``state_dir`` (``running`` False when none)."""
    state = _read_state(state_dir)
    if state is None:
        return {"running": False, "state_dir": str(state_dir)}
    alive = [p for p in state.pids if _alive(p)]
    ports = [h["port"] for h in state.hosts.values()]
    return {"running": len(alive) == len(state.pids), "state_dir": str(state_dir),
            "devices": len(state.hosts), "pids": state.pids, "alive": alive,
            "ports": [min(ports), max(ports)] if ports else [], "started": state.started}


def _host_key(state_dir: Path) -> Path:
    import paramiko  # type: ignore[import-untyped]

    path = state_dir / "host_key"
    if not path.exists():
        key = paramiko.RSAKey.generate(2048)
        key.write_private_key_file(str(path))
        os.chmod(path, 0o600)
    return path


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def start(devices: Mapping[str, SimDevice], state_dir: Path, processes: int | None = None,
          base_port: int | None = None, timeout: float = 60.0) -> SimState:
    """Start simulators for ``devices``; return once every one accepts connections.

    ``base_port`` is accepted for compatibility and ignored: the kernel picks free
    ports, so parallel test runs never collide.
    """
    if not devices:
        raise UsageError("no devices to simulate")
    state_dir.mkdir(parents=True, exist_ok=True)
    old = _read_state(state_dir)
    if old is not None:
        if all(_alive(p) for p in old.pids):
            raise UsageError(f"simulators already running in {state_dir} "
                             f"({len(old.hosts)} devices); run `fellesnett sim stop` first")
        stop(state_dir)
    names = sorted(devices)
    n = processes or min(os.cpu_count() or 1, math.ceil(len(names) / DEVICES_PER_WORKER))
    n = max(1, min(n, len(names)))
    password = secrets.token_urlsafe(18)
    key = _host_key(state_dir)
    for stale in state_dir.glob("ports-*.json"):
        stale.unlink()
    procs: list[subprocess.Popen[bytes]] = []
    env = {**os.environ, "FELLESNETT_SIM_PASSWORD": password}
    for i in range(n):
        chunk = [asdict(devices[h]) for h in names[i::n]]
        _write_private(state_dir / f"worker-{i}.json", json.dumps(chunk))
        log = open(state_dir / f"worker-{i}.log", "wb")  # noqa: SIM115 - handed to the child
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "nornir_tasks.sim.manager", "worker", str(state_dir), str(i),
             str(key)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=env, start_new_session=True))
        log.close()
    pids = [p.pid for p in procs]
    try:
        ports = _wait_ready(state_dir, procs, names, timeout)
    except BaseException:
        _terminate(pids)
        raise
    hosts = {h: {"host": "127.0.0.1", "port": ports[h], "flavour": devices[h].flavour}
             for h in names}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    _write_private(state_dir / STATE, json.dumps(
        {"username": USERNAME, "password": password, "hosts": hosts, "pids": pids,
         "started": started}, indent=1, sort_keys=True))
    return SimState(state_dir, USERNAME, password, hosts, pids, started)


def _wait_ready(state_dir: Path, procs: list[subprocess.Popen[bytes]], names: list[str],
                timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    ports: dict[str, int] = {}
    while len(ports) < len(names):
        for i, proc in enumerate(procs):
            if proc.poll() is not None:
                tail = (state_dir / f"worker-{i}.log").read_text(errors="replace")[-800:]
                raise UsageError(f"simulator worker {i} exited with {proc.returncode}:\n{tail}")
        for f in state_dir.glob("ports-*.json"):
            ports.update(json.loads(f.read_text()))
        if time.monotonic() > deadline:
            raise UsageError(f"simulators not ready after {timeout:.0f} s "
                             f"({len(ports)}/{len(names)} listening); see {state_dir}/worker-*.log")
        time.sleep(0.05)
    for host in names:
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports[host]), timeout=2).close()
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise UsageError(f"simulator {host} does not accept connections on "
                                     f"port {ports[host]}: {exc}") from exc
                time.sleep(0.05)
    return ports


def _terminate(pids: list[int], grace: float = 5.0) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in pids:
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop(state_dir: Path) -> int:
    """Stop the simulators in ``state_dir``; return how many processes were signalled."""
    state = _read_state(state_dir)
    if state is None:
        return 0
    _terminate(state.pids)
    for path in [state_dir / STATE, *state_dir.glob("worker-*.json"),
                 *state_dir.glob("ports-*.json")]:
        path.unlink(missing_ok=True)
    return len(state.pids)


def _worker(state_dir: Path, index: int, key_path: Path) -> None:
    import threading

    import paramiko

    from nornir_tasks.sim.server import SimServer
    from nornir_tasks.sim.shell import make_device

    specs = json.loads((state_dir / f"worker-{index}.json").read_text())
    devices = [make_device(SimDevice(**s), state_dir) for s in specs]
    server = SimServer(devices, USERNAME, os.environ.pop("FELLESNETT_SIM_PASSWORD"),
                       paramiko.RSAKey.from_private_key_file(str(key_path)))
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _write_private(state_dir / f"ports-{index}.json", json.dumps(server.ports))
    thread.join()


if __name__ == "__main__":  # pragma: no cover - the worker entry point
    if len(sys.argv) == 5 and sys.argv[1] == "worker":
        _worker(Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit("usage: python -m nornir_tasks.sim.manager worker STATE_DIR INDEX KEY")
