"""The alternative deploy path for real hardware: napalm config replace with commit-confirm.

``fellesnett deploy --apply --method napalm-replace`` uploads the *whole* intended config
(secrets filled in at run time) with SCP, runs ``configure replace ... revert timer N`` so the
device itself reverts unless confirmed, re-reads and checks the running config, then confirms
(``configure confirm``) and saves. If the check fails it asks napalm to roll back at once.

Why it is not the default: it needs the IOS ``archive`` feature, SCP enabled
(``ip scp server enable``) and room on flash on every device, and the whole config — every
secret — must be resolvable for every push. It cannot run against the simulators (napalm's
config methods need SCP and a flash file system, which no simulator here offers), so it is
not covered by the test suite. The remediation path sends only the changed lines, needs
nothing on the device beyond SSH, never sends a secret that did not change, and is what the
tests prove on every commit. Use the replace path when a device's drift is too wide for a
line-by-line remediation to be trusted, and only with a maintenance window.
"""

from __future__ import annotations

from nornir.core.task import Result, Task

from nornir_tasks.live import device
from nornir_tasks.live.outcome import HostOutcome, Status
from nornir_tasks.live.remediation import converged, plan
from nornir_tasks.live.secrets import PLACEHOLDER, fill_secrets
from nornir_tasks.live.tasks import DeployJob

#: seconds before the device reverts by itself if the change is never confirmed
REVERT_IN = 300


def filled_config(intended: str, job: DeployJob) -> str:
    """The whole intended config with every placeholder replaced by its plaintext."""
    if job.store is None:
        raise ValueError("a secret store is required for a full config replace")
    store = job.store
    return "\n".join(fill_secrets(line, store) if PLACEHOLDER.search(line) else line
                     for line in intended.splitlines()) + "\n"


def replace_task(task: Task, job: DeployJob) -> Result:
    host = task.host.name
    outcome = HostOutcome(host, Status.failed, stage="read")
    try:
        conn = device.connection(task)
        pre = device.read_running(task)
        the_plan = plan(pre, job.intended[host], job.rotate)
        outcome.changes, outcome.lines = the_plan.count(), the_plan.display()
        if the_plan.empty:
            outcome.status = Status.unchanged
            return Result(host=task.host, result=outcome)
        outcome.stage = "load"
        conn.load_replace_candidate(config=filled_config(job.intended[host], job))
        outcome.stage = "commit"
        conn.commit_config(revert_in=REVERT_IN)
        outcome.stage = "verify"
        residual = converged(device.read_running(task), job.intended[host], masked=True)
        if residual:
            conn.rollback()
            outcome.status, outcome.error = Status.rolled_back, (
                f"{len(residual)} line(s) differ after the replace; napalm rolled back")
            return Result(host=task.host, result=outcome, failed=True)
        conn.confirm_commit()
        outcome.status, outcome.stage = Status.changed, ""
        return Result(host=task.host, result=outcome, changed=True)
    except Exception as exc:  # noqa: BLE001 - the device's outcome, not the run's
        outcome.error = (f"{device.describe(exc)}; an unconfirmed replace reverts by itself "
                         f"within {REVERT_IN // 60} minutes")
        return Result(host=task.host, result=outcome, failed=True)
