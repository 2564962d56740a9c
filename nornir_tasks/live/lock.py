"""Per-device locks: two deploys can never change the same device at the same time.

One ``flock`` per device under the lock directory, held for the whole run. Runs on disjoint
devices proceed side by side; an overlapping run stops before touching anything and says
which device is held and by whom. The kernel drops the locks when a process dies, so a
crashed run never leaves a stale lock. The locks are local to the machine: the CI pipeline
serialises deploys across machines (one deploy job at a time).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from nornir_tasks.errors import UsageError


def lock_dir() -> Path:
    return Path(os.environ.get("FELLESNETT_LOCK_DIR", ".fellesnett/locks"))


@contextlib.contextmanager
def device_locks(hosts: list[str], directory: Path | None = None) -> Iterator[None]:
    directory = directory or lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    held: list[int] = []
    try:
        for host in sorted(hosts):  # one order for everyone: no deadlock between runs
            fd = os.open(directory / f"{host}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise UsageError(f"{host} is locked by another run (pid {holder}); wait for "
                                 f"it to finish (lock: {directory / (host + '.lock')})") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            held.append(fd)
        yield
    finally:
        for fd in held:
            os.close(fd)
