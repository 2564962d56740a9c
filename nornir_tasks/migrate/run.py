"""``fellesnett migrate run``: one wave, phase by phase, with deploy's safety.

For every in-place device of the wave (threaded, the canary first):

1. read its running config; at the first phase it *is* the legacy config, kept in
   ``<state>/legacy/<host>.cfg`` (mode 0600, never in git: it holds the device's hashes)
   so that every later step can go back to it exactly;
2. compute the phases (:func:`nornir_tasks.migrate.phases.phases`) from the config *now*
   to the intended one, so a run is resumable and a phase already done has nothing left;
   asking for a phase while an earlier one still has work is refused, nothing sent;
3. pre-checks: which ports are up, which MAC addresses each port has;
4. send the phase (the move phase batch by batch, checking after each batch that the
   MAC addresses of its ports are seen there again);
5. post-checks: the phase has nothing left; every interface that was up and that the
   new design has and does not shut is up; every MAC address seen before is seen again on its port;
6. on any failure: the rollback to the legacy config (:meth:`PhasedChange.rollback`),
   proven by reading the config again and comparing it, line for line, to the legacy one;
7. ``write memory``; the state file records the phase done, per device and per site.

A dry run (the default) prints what each phase would send, secrets masked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir import InitNornir
from nornir.core.task import Result, Task

from nornir_tasks.build import render_host
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import Intent
from nornir_tasks.live import device
from nornir_tasks.live.backups import BackupRepo
from nornir_tasks.live.lock import device_locks
from nornir_tasks.live.outcome import HostOutcome, Status
from nornir_tasks.live.remediation import SecretLineSkipped, converged
from nornir_tasks.live.secrets import SecretStore
from nornir_tasks.migrate.phases import PhasedChange, phases
from nornir_tasks.survey.inventory import PLUGIN_NAME, Login, SurveyDevice, SurveyList

PHASES = ("prestage", "move", "cleanup")
STATE = "state.json"


@dataclass
class WaveJob:
    intent: Intent
    wave: int
    phases: tuple[str, ...]
    apply: bool
    state_dir: Path
    store: SecretStore
    legacy_of: dict[str, str]  # legacy (surveyed) host -> intended host
    batch_size: int = 8
    command_timeout: float = 60.0
    #: set by the run: configs before and after, for the backups
    pre: dict[str, str] = field(default_factory=dict)
    post: dict[str, str] = field(default_factory=dict)
    on_done: Callable[[str], None] | None = None


class PhaseFailed(Exception):
    """A check between steps failed; the message says which."""


def _parts(change: PhasedChange, phase: str) -> list[tuple[str, list[str], tuple[str, ...]]]:
    """(title, commands, ports) of each step of one phase."""
    if phase == "prestage":
        return [("pre-stage", change.prestage, ())]
    if phase == "cleanup":
        return [("clean-up", change.cleanup, ())]
    steps = change.steps()[1:-1]
    return [(title, cmds, b.ports) for (title, cmds), b in zip(steps, change.move, strict=True)]


def _pending(change: PhasedChange, phase: str) -> int:
    return sum(len(cmds) for _, cmds, _ in _parts(change, phase))


def _legacy_file(job: WaveJob, host: str) -> Path:
    return job.state_dir / "legacy" / f"{host}.cfg"


def _keep_legacy(job: WaveJob, host: str, text: str) -> None:
    path = _legacy_file(job, host)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(path.with_suffix(".tmp"), path)


def _checks(task: Task) -> tuple[set[str], dict[str, set[str]]]:
    conn = device.connection(task)
    up = {n for n, i in conn.get_interfaces().items() if i["is_up"]}
    macs: dict[str, set[str]] = {}
    for m in conn.get_mac_address_table():
        if not m["static"]:
            macs.setdefault(_long(m["interface"], up), set()).add(m["mac"].lower())
    return up, macs


def _long(name: str, known: set[str]) -> str:
    """The MAC table's short port name (``Gi1/0/5``) as the interface list spells it."""
    from nornir_tasks.legacy.importer import canon_port

    key = canon_port(name)
    return next((k for k in known if canon_port(k) == key), name)


def _open_in(intended: str) -> set[str]:
    """Interfaces the intended config has and does not shut down: those that were up must
    stay up (a legacy port-channel or SVI the design drops may go down)."""
    names, shut, current = set(), set(), ""
    for line in intended.splitlines():
        if line.startswith("interface "):
            current = line.split(" ", 1)[1]
            names.add(current)
        elif line.strip() == "shutdown" and current:
            shut.add(current)
        elif not line.startswith(" "):
            current = ""
    return names - shut


def migrate_task(task: Task, job: WaveJob) -> Result:
    legacy_host = task.host.name
    host = job.legacy_of[legacy_host]
    outcome = HostOutcome(host, Status.unchanged)
    try:
        _migrate(task, job, host, outcome)
    except (UsageError, SecretLineSkipped) as exc:
        outcome.status, outcome.error = Status.failed, str(exc)
    if job.on_done is not None:
        job.on_done(host)
    return Result(host=task.host, result=outcome, changed=outcome.status is Status.changed,
                  failed=outcome.status.bad)


def _migrate(task: Task, job: WaveJob, host: str, outcome: HostOutcome) -> None:
    try:
        current = device.read_running(task)
    except Exception as exc:  # noqa: BLE001 - the device's outcome, not the run's
        device.drop_connection(task)
        outcome.status, outcome.stage = Status.failed, "read"
        outcome.error = device.describe(exc)
        return
    job.pre[host] = current
    legacy_path = _legacy_file(job, host)
    if legacy_path.is_file():
        legacy = legacy_path.read_text()
    elif job.phases[0] != "prestage":
        raise UsageError(f"{host}: no legacy config kept ({legacy_path}): start with "
                         "--phase prestage, which keeps it")
    else:
        legacy = current
    intended = render_host(job.intent, host)
    change = phases(current, intended, job.store, job.batch_size)
    change = dataclasses.replace(change, legacy=legacy)
    first = PHASES.index(job.phases[0])
    for earlier in PHASES[:first]:
        if _pending(change, earlier):
            raise UsageError(f"{host}: phase {earlier} still has {_pending(change, earlier)} "
                             f"command(s) to send: run --phase {earlier} first")
    outcome.lines = [line for line in change.display()
                     if not line.startswith("! ") or any(
                         p.replace("prestage", "pre-stage").replace("cleanup", "clean-up")
                         in line for p in job.phases)]
    outcome.changes = sum(_pending(change, p) for p in job.phases)
    if not outcome.changes:
        return
    if not job.apply:
        outcome.status = Status.pending
        return
    if not legacy_path.is_file():
        _keep_legacy(job, host, legacy)
    stage = "pre-check"
    try:
        up, macs = _checks(task)
        expect_up = up & _open_in(intended)
        for phase in job.phases:
            for title, commands, ports in _parts(change, phase):
                if not commands:
                    continue
                stage = f"{phase}: {title}"
                device.push(task, commands, job.command_timeout)
                if ports:
                    _, seen = _checks(task)
                    _same_macs(macs, seen, set(ports), title)
            stage = f"{phase}: post-check"
            post = device.read_running(task)
            left = phases(post, intended, job.store, job.batch_size)
            if _pending(left, phase):
                raise PhaseFailed(f"{_pending(left, phase)} command(s) of the phase did not "
                                  "take")
            now_up, seen = _checks(task)
            down = sorted(expect_up - now_up)
            if down:
                raise PhaseFailed(f"port(s) down after the phase: {', '.join(down[:5])}")
            _same_macs(macs, seen, set(macs), "the phase")
        stage = "save"
        device.save(task)
        job.post[host] = device.read_running(task)
        outcome.status = Status.changed
    except Exception as exc:  # noqa: BLE001 - any failure rolls the device back
        outcome.stage = stage
        outcome.error = str(exc) if isinstance(exc, PhaseFailed) else device.describe(exc)
        outcome.status, outcome.rollback = _to_legacy(task, change, job.command_timeout)


def _same_macs(before: dict[str, set[str]], after: dict[str, set[str]], ports: set[str],
               what: str) -> None:
    missing = [(p, m) for p in sorted(ports & set(before))
               for m in sorted(before[p] - after.get(p, set()))]
    if missing:
        shown = ", ".join(f"{m} on {p}" for p, m in missing[:3])
        raise PhaseFailed(f"after {what}: {len(missing)} MAC address(es) seen before are "
                          f"gone: {shown}")


def _to_legacy(task: Task, change: PhasedChange, timeout: float) -> tuple[Status, str]:
    """Back to the legacy config over a fresh session, and prove it line for line."""
    device.drop_connection(task)
    try:
        current = device.read_running(task)
        commands = change.rollback(current)
        if commands:
            device.push(task, commands, timeout)
            current = device.read_running(task)
        residual = converged(current, change.legacy, masked=False)
        if not residual:
            device.save(task)
    except Exception as exc:  # noqa: BLE001
        device.drop_connection(task)
        return Status.failed, (f"ROLLBACK FAILED: {device.describe(exc)}; the device may be "
                               "half-migrated - check it by hand")
    if residual:
        return Status.failed, (f"ROLLBACK INCOMPLETE: {len(residual)} line(s) differ from the "
                               "legacy config - check the device by hand")
    return Status.rolled_back, (f"rolled back to the legacy config with {len(commands)} "
                                "command(s); verified identical to it")


def run_wave(job: WaveJob, logins: dict[str, Login], hosts: list[str], canary: int = 1,
             workers: int = 20, timeout: float = 10.0, backups: Path | None = None
             ) -> tuple[list[HostOutcome], list[str]]:
    """Migrate the legacy ``hosts`` (canaries first); returns outcomes and the canaries."""
    survey = SurveyList(devices=[SurveyDevice(host=h, platform="cisco_ios") for h in hosts])
    nr = InitNornir(runner={"plugin": "threaded", "options": {"num_workers": workers}},
                    inventory={"plugin": PLUGIN_NAME, "options": {
                        "survey": survey, "logins": logins, "timeout": timeout}},
                    logging={"enabled": False})
    first, rest = hosts[:canary], hosts[canary:]
    outcomes: list[HostOutcome] = []
    locked = [job.legacy_of[h] for h in hosts] if job.apply else []
    try:
        with device_locks(locked):
            outcomes += _run(nr, first, job)
            if any(o.status.bad for o in outcomes):
                outcomes += [HostOutcome(job.legacy_of[h], Status.skipped, stage="canary",
                                         error="not attempted: the canary failed")
                             for h in rest]
            elif rest:
                outcomes += _run(nr, rest, job)
    finally:
        nr.close_connections(on_failed=True)
    if job.apply:
        _record(job, outcomes, backups)
    return sorted(outcomes, key=lambda o: o.host), [job.legacy_of[h] for h in first]


def _run(nr: Any, hosts: list[str], job: WaveJob) -> list[HostOutcome]:
    result = nr.filter(filter_func=lambda h: h.name in hosts).run(
        task=migrate_task, job=job, on_failed=True)
    return [r[0].result if isinstance(r[0].result, HostOutcome)
            else HostOutcome(job.legacy_of[h], Status.failed, error=str(r[0].exception))
            for h, r in result.items()]


def read_state(state_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((state_dir / STATE).read_text())
    except FileNotFoundError:
        return {"devices": {}, "sites": {}}
    except ValueError as exc:
        raise UsageError(f"{state_dir / STATE}: not valid JSON: {exc}") from None
    return data if isinstance(data, dict) else {"devices": {}, "sites": {}}


def _record(job: WaveJob, outcomes: list[HostOutcome], backups: Path | None) -> None:
    state = read_state(job.state_dir)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    for o in outcomes:
        if o.status is Status.changed or (o.status is Status.unchanged and not o.error):
            entry = state["devices"].setdefault(o.host, {})
            entry["phase"] = job.phases[-1]
            entry["at"] = now
        elif o.status is Status.rolled_back:
            state["devices"][o.host] = {"phase": "legacy", "at": now,
                                        "rolled_back": o.error}
    sites = {job.intent.device_site[h] for h in state["devices"] if h in job.intent.device_site}
    for site in sorted(sites):
        switches = [h for h in job.intent.site_devices(site)
                    if job.intent.devices[h].role.value != "ap"]
        done = [state["devices"].get(h, {}).get("phase", "legacy") for h in switches]
        what = ("migrated" if all(p == "cleanup" for p in done)
                else "legacy" if all(p == "legacy" for p in done) else "mixed")
        state["sites"][site] = {"state": what, "wave": job.wave, "at": now}
    job.state_dir.mkdir(parents=True, exist_ok=True)
    tmp = job.state_dir / f".{STATE}.tmp"
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    tmp.replace(job.state_dir / STATE)
    if backups is not None:
        repo = BackupRepo(backups)
        repo.ensure()
        for host, text in sorted(job.pre.items()):
            repo.write(job.intent.device_site[host], host, text)
        repo.commit(f"migrate wave {job.wave} {'+'.join(job.phases)}: before")
        for host, text in sorted(job.post.items()):
            repo.write(job.intent.device_site[host], host, text)
        repo.commit(f"migrate wave {job.wave} {'+'.join(job.phases)}: after")
