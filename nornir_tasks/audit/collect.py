"""Fresh reads for the audit: running and startup config and ``show version`` per device.

One Nornir task per device on the live runner (:func:`nornir_tasks.live.run.run_tasks`):
napalm's ``get_config(retrieve="all")`` gives running and startup in one call, and
``show version`` the software actually running. The running configs go into the backups'
git history (scrubbed, one commit per audit, none when nothing changed), so the audit
compares the intent with *the latest backed-up running config* and the history can name
the commit in which each drift first appeared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from nornir.core.task import Result, Task

from nornir_tasks.live import device
from nornir_tasks.live.backups import BackupRepo
from nornir_tasks.live.outcome import HostOutcome, Status


@dataclass(frozen=True)
class DeviceRead:
    running: str
    startup: str
    version_text: str


def audit_read_task(task: Task, reads: dict[str, DeviceRead],
                    on_done: Callable[[str], None] | None = None) -> Result:
    """Read one device; a device that fails is this device's outcome, never the run's."""
    host = task.host.name
    try:
        conn = device.connection(task)
        configs = conn.get_config(retrieve="all")
        version = conn.cli(["show version"])["show version"]
        reads[host] = DeviceRead(str(configs["running"]), str(configs["startup"]),
                                 str(version))
        outcome = HostOutcome(host, Status.unchanged, stage="read")
    except Exception as exc:  # noqa: BLE001 - any device failure is this device's outcome
        device.drop_connection(task)
        outcome = HostOutcome(host, Status.failed, stage="read", error=device.describe(exc))
    if on_done is not None:
        on_done(host)
    return Result(host=task.host, result=outcome, failed=outcome.status.bad)


def read_devices(ctx: object, on_done: Callable[[str], None] | None = None
                 ) -> tuple[dict[str, DeviceRead], dict[str, str]]:
    """Read every selected device of a live context: (reads, error by host)."""
    from nornir_tasks.live.run import Context, run_tasks

    assert isinstance(ctx, Context)
    reads: dict[str, DeviceRead] = {}
    outcomes = run_tasks(ctx, ctx.hosts, audit_read_task, reads=reads, on_done=on_done)
    errors = {o.host: o.error or "read failed" for o in outcomes if o.host not in reads}
    return reads, errors


def commit_reads(repo: BackupRepo, sites: dict[str, str], reads: dict[str, DeviceRead],
                 total: int, limit: str | None) -> str | None:
    """Write the running configs read into the backups and commit them (None: no change)."""
    repo.ensure()
    for host, read in sorted(reads.items()):
        repo.write(sites[host], host, read.running)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    where = f" (limit {limit})" if limit else ""
    return repo.commit(f"audit read {stamp}: {len(reads)} of {total} devices{where}")
