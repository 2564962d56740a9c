"""Live runs over many devices: Nornir's threaded runner, canary first, one summary.

A run selects devices from the intent (``--limit``), logs in to the real devices or to the
simulators (``--sim``), runs one task per device on ``workers`` threads and collects a
:class:`HostOutcome` for every selected device, whatever happened to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir import InitNornir
from nornir.core import Nornir

from nornir_tasks.build import config_hosts, render_all
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.live import DEFAULT_WORKERS, device
from nornir_tasks.live.backups import BackupRepo
from nornir_tasks.live.inventory import (
    PLUGIN_NAME,
    Access,
    Timeouts,
    device_access,
    sim_access,
)
from nornir_tasks.live.lock import device_locks
from nornir_tasks.live.outcome import HostOutcome, Status
from nornir_tasks.live.provenance import message, trailers
from nornir_tasks.live.remediation import plan_summaries
from nornir_tasks.live.secrets import SecretStore
from nornir_tasks.live.tasks import DeployJob, backup_task, deploy_task

#: roles sent first as canaries, least blast radius first; core and controller never
CANARY_ROLES = ("access", "distribution")


@dataclass
class LiveOptions:
    inventory: Path = Path("inventory")
    limit: str | None = None
    sim: bool = False
    sim_dir: Path | None = None
    workers: int = DEFAULT_WORKERS
    timeouts: Timeouts = Timeouts()
    backups: Path = Path("backups")
    progress: Callable[[str, int], Callable[[str], None]] | None = None
    #: merge request / ticket the change implements (recorded in the backup commits)
    change_ref: str | None = None
    #: diff against this revision of the backups instead of reading the devices
    from_backups: str | None = None
    #: devices left out (sites not yet migrated: the audit reports them as legacy)
    exclude: frozenset[str] = frozenset()
    #: with --sim: a device simulated under another name (a migrated legacy switch keeps
    #: its surveyed name in the simulators)
    aliases: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Context:
    intent: Intent
    hosts: list[str]
    access: Access
    options: LiveOptions

    def site(self, host: str) -> str:
        return self.intent.device_site[host]


def context(options: LiveOptions) -> Context:
    intent = load_intent(options.inventory)
    hosts = [h for h in config_hosts(intent, options.limit) if h not in options.exclude]
    if not hosts:
        raise UsageError(f"--limit {options.limit!r} selects no device that has a config")
    if options.from_backups:
        access = Access("", "", {})  # nothing is contacted
    elif options.sim:
        access = sim_access(options.sim_dir)
        extra = {h: access.targets[legacy] for h, legacy in options.aliases.items()
                 if h not in access.targets and legacy in access.targets}
        if extra:
            access = Access(access.username, access.password, {**access.targets, **extra})
    else:
        access = device_access(intent, hosts)
    return Context(intent, hosts, access, options)


def _nornir(ctx: Context, hosts: list[str]) -> Nornir:
    return InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": ctx.options.workers}},
        inventory={"plugin": PLUGIN_NAME, "options": {
            "intent": ctx.intent, "hosts": hosts, "access": ctx.access,
            "timeouts": ctx.options.timeouts}},
        logging={"enabled": False},
    )


def _tick(ctx: Context, stage: str, total: int) -> Callable[[str], None] | None:
    return ctx.options.progress(stage, total) if ctx.options.progress else None


def run_tasks(ctx: Context, hosts: list[str], task: Callable[..., Any], **kwargs: Any
              ) -> list[HostOutcome]:
    """Run ``task`` on ``hosts`` (threaded); one :class:`HostOutcome` per host, whatever
    happened. A task returns ``Result(result=HostOutcome)``; an exception it lets out
    becomes a failed outcome of that host only."""
    if not hosts:
        return []
    nr = _nornir(ctx, hosts)
    results = nr.run(task=_closing(task), **kwargs)
    outcomes = []
    for host in hosts:
        multi = results.get(host)
        first = multi[0] if multi else None
        if first is not None and isinstance(first.result, HostOutcome):
            outcomes.append(first.result)
        else:  # the task itself broke: still this device's outcome, not the run's
            exc = first.exception if first is not None else None
            outcomes.append(HostOutcome(host, Status.failed, stage="internal",
                                        error=device.describe(exc) if exc else "no result"))
    return outcomes


def _closing(task: Callable[..., Any]) -> Callable[..., Any]:
    def run(t: Any, **kwargs: Any) -> Any:
        try:
            return task(t, **kwargs)
        finally:
            device.drop_connection(t)  # in the worker thread: 300 logouts in parallel
    run.__name__ = task.__name__
    return run


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _writer(ctx: Context, repo: BackupRepo) -> Callable[[str, str], None]:
    def write(host: str, running: str) -> None:
        repo.write(ctx.site(host), host, running)
    return write


# ---------------------------------------------------------------------------- commands


def run_backup(ctx: Context) -> tuple[list[HostOutcome], str | None]:
    repo = BackupRepo(ctx.options.backups)
    repo.ensure()
    outcomes = run_tasks(ctx, ctx.hosts, backup_task, on_read=_writer(ctx, repo),
                         on_done=_tick(ctx, "backup", len(ctx.hosts)))
    ok = sum(1 for o in outcomes if not o.status.bad)
    commit = repo.commit(f"backup {_stamp()}: {ok} of {len(outcomes)} devices"
                         f"{' (limit ' + ctx.options.limit + ')' if ctx.options.limit else ''}")
    return outcomes, commit


def intended_configs(ctx: Context) -> dict[str, str]:
    return render_all(ctx.intent, ctx.hosts)


def run_diff(ctx: Context, backup: bool = False) -> tuple[list[HostOutcome], str | None]:
    """Read every device, then compute the remediations on all CPUs.

    Reading is I/O (threads); hier_config is CPU (processes): doing them apart keeps the
    drift check of hundreds of devices within seconds. With ``backup`` the configs read
    are also committed to ``backups/``: a drift check in one pass.
    """
    repo = BackupRepo(ctx.options.backups) if backup else None
    if repo is not None:
        repo.ensure()
    store = _writer(ctx, repo) if repo is not None else None
    running: dict[str, str] = {}

    def on_read(host: str, text: str) -> None:
        running[host] = text
        if store is not None:
            store(host, text)

    if ctx.options.from_backups:
        outcomes = _read_backups(ctx, ctx.options.from_backups, on_read)
    else:
        outcomes = run_tasks(ctx, ctx.hosts, backup_task, on_read=on_read,
                             on_done=_tick(ctx, "read", len(ctx.hosts)))
    intended = intended_configs(ctx)
    plans = plan_summaries({h: (running[h], intended[h]) for h in sorted(running)})
    for outcome in outcomes:
        if outcome.host in plans:
            outcome.changes, outcome.lines = plans[outcome.host]
            outcome.status = Status.pending if outcome.changes else Status.unchanged
    commit = None
    if repo is not None:
        ok = sum(1 for o in outcomes if not o.status.bad)
        commit = repo.commit(f"backup {_stamp()} (drift check): {ok} of {len(outcomes)} devices")
    return outcomes, commit


def _read_backups(ctx: Context, rev: str, on_read: Callable[[str, str], None]
                  ) -> list[HostOutcome]:
    """Running configs as the backups hold them at ``rev`` (no device is contacted)."""
    repo = BackupRepo(ctx.options.backups)
    commit = repo.resolve(rev)  # a bad revision is the run's error, not each device's
    outcomes = []
    for host in ctx.hosts:
        try:
            on_read(host, repo.read(commit, ctx.site(host), host, resolved=True))
            outcomes.append(HostOutcome(host, Status.unchanged))
        except UsageError as exc:
            outcomes.append(HostOutcome(host, Status.failed, stage="backup", error=str(exc)))
    return outcomes


def canaries(intent: Intent, hosts: list[str], size: int) -> list[str]:
    """The first devices to change: access switches first, never core or controller."""
    def rank(host: str) -> tuple[int, str]:
        role = intent.devices[host].role.value
        return (CANARY_ROLES.index(role) if role in CANARY_ROLES else 99, host)
    eligible = [h for h in sorted(hosts, key=rank)
                if intent.devices[h].role.value in CANARY_ROLES]
    return eligible[:size]


@dataclass
class DeployReport:
    outcomes: list[HostOutcome]
    canary: list[str]
    backups: dict[str, str | None]


def run_deploy(ctx: Context, apply: bool, canary: int = 1,
               rotate: frozenset[str] = frozenset(), store: SecretStore | None = None,
               method: str = "remediation") -> DeployReport:
    if not apply:
        return DeployReport(run_diff(ctx)[0], [], {})
    intended = intended_configs(ctx)
    task = deploy_task
    if method == "napalm-replace":
        from nornir_tasks.live.replace import replace_task
        task = replace_task
    with device_locks(ctx.hosts):
        return _apply(ctx, intended, canary, rotate, store or SecretStore(), restore=False,
                      task=task)


def run_restore(ctx: Context, rev: str) -> DeployReport:
    """Put devices back at the (scrubbed) configs of a backup revision."""
    repo = BackupRepo(ctx.options.backups)
    commit = repo.resolve(rev)
    targets = {h: repo.read(commit, ctx.site(h), h, resolved=True) for h in ctx.hosts}
    with device_locks(ctx.hosts):
        return _apply(ctx, targets, 0, frozenset(), None, restore=True)


def _apply(ctx: Context, intended: Mapping[str, str], canary: int, rotate: frozenset[str],
           store: SecretStore | None, restore: bool,
           task: Callable[..., Any] = deploy_task) -> DeployReport:
    repo = BackupRepo(ctx.options.backups)
    repo.ensure()
    first = canaries(ctx.intent, ctx.hosts, canary)
    rest = [h for h in ctx.hosts if h not in first]
    tick = _tick(ctx, "rollback" if restore else "deploy", len(ctx.hosts))
    job = DeployJob(intended=intended, store=store, rotate=rotate, restore=restore,
                    command_timeout=ctx.options.timeouts.command,
                    on_read=_writer(ctx, repo), on_done=tick)
    what = "rollback" if restore else "deploy"
    outcomes = run_tasks(ctx, first, task, job=job)
    if any(o.status.bad for o in outcomes):
        outcomes += [HostOutcome(h, Status.skipped, stage="canary",
                                 error="not attempted: the canary batch failed") for h in rest]
    else:
        outcomes += run_tasks(ctx, rest, task, job=job)
    fields = trailers(ctx.options.inventory, ctx.options.change_ref)
    pre = repo.commit(message(f"pre-change {_stamp()}: before {what} of {len(ctx.hosts)} "
                              "devices", fields))
    for host, post in sorted(job.post_configs.items()):
        repo.write(ctx.site(host), host, post)
    post_rev = repo.commit(message(f"post-change {_stamp()}: {what} changed "
                                   f"{len(job.post_configs)} devices", fields))
    outcomes.sort(key=lambda o: o.host)
    return DeployReport(outcomes, first, {"pre": pre, "post": post_rev})
