"""Nornir tasks, one device each: backup, diff, deploy (with rollback) and restore.

Each task returns a :class:`HostOutcome` in ``Result.result`` and never raises for a device
problem: a device that is down, refuses the login, rejects a line or hangs is reported and
the run goes on with the others. A deploy that fails after sending anything puts the device
back at its pre-change config and proves it by reading the config again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from nornir.core.task import Result, Task

from nornir_tasks.errors import UsageError
from nornir_tasks.live import device
from nornir_tasks.live.outcome import HostOutcome, Status
from nornir_tasks.live.remediation import SecretLineSkipped, converged, plan, rollback_commands
from nornir_tasks.live.secrets import SecretStore

#: called with (host, running config) as soon as a device's config has been read
OnRead = Callable[[str, str], None]
#: called with the host name when a device is finished (progress bars)
OnDone = Callable[[str], None]


def _result(task: Task, outcome: HostOutcome, on_done: OnDone | None) -> Result:
    if on_done is not None:
        on_done(task.host.name)
    return Result(host=task.host, result=outcome, changed=outcome.status is Status.changed,
                  failed=outcome.status.bad)


def _read(task: Task, stage: str) -> tuple[str | None, HostOutcome | None]:
    try:
        return device.read_running(task), None
    except Exception as exc:  # noqa: BLE001 - any device failure is this device's outcome
        device.drop_connection(task)
        return None, HostOutcome(task.host.name, Status.failed, stage=stage,
                                 error=device.describe(exc))


def backup_task(task: Task, on_read: OnRead, on_done: OnDone | None = None) -> Result:
    running, failure = _read(task, "read")
    if failure is not None or running is None:
        return _result(task, failure or HostOutcome(task.host.name, Status.failed), on_done)
    on_read(task.host.name, running)
    return _result(task, HostOutcome(task.host.name, Status.unchanged), on_done)


@dataclass
class DeployJob:
    """Everything a deploy needs besides the device: shared by all hosts of a run."""

    intended: Mapping[str, str]
    store: SecretStore | None = None
    rotate: frozenset[str] = frozenset()
    command_timeout: float = 60.0
    on_read: OnRead | None = None
    on_done: OnDone | None = None
    #: restore from backups instead of deploying intent: secret lines cannot be restored
    restore: bool = False
    post_configs: dict[str, str] = field(default_factory=dict)


def deploy_task(task: Task, job: DeployJob) -> Result:
    host = task.host.name
    pre, failure = _read(task, "read")
    if failure is not None or pre is None:
        return _result(task, failure or HostOutcome(host, Status.failed), job.on_done)
    if job.on_read is not None:
        job.on_read(host, pre)
    the_plan = plan(pre, job.intended[host], job.rotate)
    outcome = HostOutcome(host, Status.unchanged, changes=the_plan.count(),
                          lines=the_plan.display())
    if the_plan.empty:
        return _result(task, outcome, job.on_done)
    try:
        if job.restore:
            commands = the_plan.push_commands(None, skipped=outcome.skipped_secret_lines)
        else:
            commands = the_plan.push_commands(job.store)
    except (UsageError, SecretLineSkipped) as exc:
        outcome.status, outcome.stage, outcome.error = Status.failed, "prepare", str(exc)
        return _result(task, outcome, job.on_done)  # nothing was sent

    stage = "push"
    try:
        if commands:
            device.push(task, commands, job.command_timeout)
        stage = "verify"
        post = device.read_running(task)
        residual = (converged(post, job.intended[host], masked=True)
                    if not job.restore else _restore_residual(post, job, host, outcome))
        if residual:
            raise _NotConverged(residual)
        stage = "save"
        device.save(task)
    except Exception as exc:  # noqa: BLE001
        outcome.stage, outcome.error = stage, device.describe(exc)
        outcome.status, outcome.rollback = _roll_back(task, pre, job.command_timeout)
        return _result(task, outcome, job.on_done)
    job.post_configs[host] = post
    outcome.status = Status.changed
    return _result(task, outcome, job.on_done)


def _restore_residual(post: str, job: DeployJob, host: str, outcome: HostOutcome) -> list[str]:
    """What still differs from the backup, apart from the secret lines that were skipped."""
    left = converged(post, job.intended[host], masked=True)
    skipped = {" ".join(s.split()) for s in outcome.skipped_secret_lines}
    return [line for line in left if " ".join(line.split()) not in skipped]


class _NotConverged(Exception):
    def __init__(self, residual: list[str]) -> None:
        shown = "; ".join(line.strip() for line in residual[:3])
        more = f" (+{len(residual) - 3} more)" if len(residual) > 3 else ""
        super().__init__(f"{len(residual)} line(s) still differ after the push: {shown}{more}")


def _roll_back(task: Task, pre: str, timeout: float) -> tuple[Status, str]:
    """Put the device back at ``pre`` over a fresh session and prove it."""
    device.drop_connection(task)
    try:
        current = device.read_running(task)
        commands = rollback_commands(current, pre)
        if commands:
            device.push(task, commands, timeout)
            current = device.read_running(task)
        residual = converged(current, pre, masked=False)
    except Exception as exc:  # noqa: BLE001
        device.drop_connection(task)
        return Status.failed, (f"ROLLBACK FAILED: {device.describe(exc)}; the device may be "
                               "half-configured - check it by hand")
    if residual:
        return Status.failed, (f"ROLLBACK INCOMPLETE: {len(residual)} line(s) differ from the "
                               "pre-change config - check the device by hand")
    return Status.rolled_back, (f"rolled back with {len(commands)} command(s); running config "
                                "verified identical to the pre-change config")
