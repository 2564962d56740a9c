"""The audit: read (or take the backups' head), compare per feature, prove, trace history.

Steps, in order:

1. **read** (unless ``offline``): every selected device's running and startup config and
   ``show version`` over the live runner; the running configs are committed to
   ``backups/`` (scrubbed; no commit when nothing changed). A device that cannot be read is
   audited from its last backup and flagged.
2. **compare** the intended config (rendered from the intent) with the head of
   ``backups/``, per feature, after the inventory's ignore rules; running vs startup
   (unsaved changes) and the software version vs ``device_models`` for devices read now.
3. **zone proof** (:func:`nornir_tasks.verify.verify`) on the backed-up running configs;
   devices outside ``--limit`` (or never backed up) stand in with their intended config,
   and the report says how many.
4. **history** with ``since``: intent commits, backups commits and their trailers.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir_tasks.audit.compliance import (
    DeviceAudit,
    IgnoreRules,
    SoftwareCheck,
    compare_paths,
    masked_paths,
    show_version_to_facts,
    unsaved_paths,
)
from nornir_tasks.audit.features import display
from nornir_tasks.audit.history import (
    Change,
    Commit,
    History,
    backups_history,
    feeds,
    intended_at,
    intent_history,
    project_root,
    resolve,
)
from nornir_tasks.audit.render import render_many
from nornir_tasks.build import config_hosts
from nornir_tasks.errors import IntentError, UsageError
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.live.backups import BackupRepo, scrub
from nornir_tasks.live.provenance import intent_commit


@dataclass
class AuditOptions:
    inventory: Path = Path("inventory")
    limit: str | None = None
    backups: Path = Path("backups")
    #: compare with the backups' head only; contact no device
    offline: bool = False
    since: str | None = None
    until: str | None = None
    zone_proof: bool = True
    #: where a migration stands (``fellesnett migrate``): sites not yet migrated are
    #: reported as legacy, not compared with the intent
    migration: Path | None = None


@dataclass
class ZoneProof:
    verdict: str  # "proven", "violations", "not run"
    basis: str
    violations: list[str] = field(default_factory=list)
    warnings: int = 0
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class AuditReport:
    options: AuditOptions
    mode: str
    intent_commit: str
    backups_head: str | None
    read_commit: str | None
    rules: list[dict[str, Any]]
    devices: list[DeviceAudit]
    zone_proof: ZoneProof | None
    history: History | None
    seconds: dict[str, float] = field(default_factory=dict)
    #: devices of the migration plan not yet migrated (host -> DeviceState)
    legacy: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """2: a device could not be audited at all; 1: any finding; 0: compliant."""
        if any(not d.audited for d in self.devices):
            return 2
        if any(not d.compliant for d in self.devices):
            return 1
        if self.zone_proof is not None and self.zone_proof.verdict == "violations":
            return 1
        return 0


def _git_show(repo: Path, rev: str, path: str) -> str | None:
    done = subprocess.run(["git", "-C", str(repo), "show", f"{rev}:{path}"],
                          capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def run_audit(options: AuditOptions, live: Any = None, mode: str = "offline") -> AuditReport:
    """Run the audit. ``live`` is a :class:`nornir_tasks.live.run.Context` (devices or
    simulators) unless ``options.offline``."""
    t0 = time.perf_counter()
    seconds: dict[str, float] = {}
    legacy = not_migrated(options.migration)
    if live is not None:
        intent: Intent = live.intent
        hosts: list[str] = live.hosts
    else:
        intent = load_intent(options.inventory)
        hosts = [h for h in config_hosts(intent, options.limit) if h not in legacy]
        if not hosts:
            raise UsageError(f"--limit {options.limit!r} selects no device that has a config")
    repo = BackupRepo(options.backups)
    sites = {h: intent.device_site[h] for h in hosts}
    reads: dict[str, Any] = {}
    errors: dict[str, str] = {}
    read_commit = None
    if live is not None:
        from nornir_tasks.audit.collect import commit_reads, read_devices

        reads, errors = read_devices(live)
        read_commit = commit_reads(repo, sites, reads, len(hosts), options.limit)
        seconds["read"] = time.perf_counter() - t0
    elif not (options.backups / ".git").is_dir():
        raise UsageError(f"{options.backups}: no backup history; run `fellesnett backup` "
                         "or audit with --sim / against the devices")
    head = repo.head()
    t1 = time.perf_counter()
    intended = render_many(intent, hosts)
    seconds["render"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    devices: list[DeviceAudit] = []
    running_now: dict[str, str] = {}
    for host in hosts:
        dev = intent.devices[host]
        platform = intent.device_models[dev.model].platform.value
        rules = IgnoreRules.of(intent.audit.ignore, platform)
        audit = DeviceAudit(host, sites[host], dev.role.value, dev.model, platform)
        audit.read_error = errors.get(host, "")
        read = reads.get(host)
        if read is not None and read_commit in (None, head):
            text: str | None = scrub(read.running)  # what this run committed at the head
        else:
            text = _git_show(options.backups, head, repo.path_of(sites[host], host)) \
                if head else None
        if text is None:
            audit.read_error = audit.read_error or f"no backup of {host} in {options.backups}"
            devices.append(audit)
            continue
        audit.source = "read" if host in reads else "backup"
        audit.backup_rev = head
        running_now[host] = text
        have = masked_paths(text)
        audit.features, audit.ignored = compare_paths(masked_paths(intended[host]), have, rules)
        expected = intent.device_models[dev.model].software
        if read is not None:
            facts = show_version_to_facts(read.version_text)
            audit.software = SoftwareCheck(expected, facts.get("version"))
            audit.serial = facts.get("serial")
            audit.unsaved = unsaved_paths(have, masked_paths(read.startup), rules)
        else:
            audit.software = SoftwareCheck(expected, None)
        devices.append(audit)
    seconds["compare"] = time.perf_counter() - t2

    proof = None
    if options.zone_proof:
        t3 = time.perf_counter()
        proof = _zone_proof(intent, hosts, intended, running_now)
        seconds["zone_proof"] = time.perf_counter() - t3
    history = None
    if options.since:
        t4 = time.perf_counter()
        history = _history(options, intent, hosts, sites, intended)
        seconds["history"] = time.perf_counter() - t4
    seconds["total"] = time.perf_counter() - t0
    return AuditReport(
        options=options, mode=mode, intent_commit=intent_commit(options.inventory),
        backups_head=head, read_commit=read_commit,
        rules=[{"match": r.match, "section": r.section,
                "platforms": [p.value for p in r.platforms], "reason": r.reason}
               for r in intent.audit.ignore],
        devices=devices, zone_proof=proof, history=history, seconds=seconds,
        legacy={h: legacy[h] for h in sorted(legacy) if h in intent.devices
                and (options.limit is None or h in config_hosts(intent, options.limit))})


def not_migrated(directory: Path | None) -> dict[str, Any]:
    """Devices of the migration plan that are not migrated yet (empty: no migration)."""
    if directory is None:
        return {}
    from nornir_tasks.migrate.status import migration_status

    return {h: s for h, s in migration_status(directory).items() if s.state != "migrated"}


def migrated_aliases(directory: Path | None) -> dict[str, str]:
    """Migrated devices and the names the simulators know them by (their survey names)."""
    if directory is None:
        return {}
    from nornir_tasks.migrate.status import migration_status

    return {h: s.legacy for h, s in migration_status(directory).items()
            if s.state == "migrated"}


def _zone_proof(intent: Intent, hosts: list[str], intended: dict[str, str],
                running: dict[str, str]) -> ZoneProof:
    from nornir_tasks.verify import VerifyInputError, verify

    everyone = config_hosts(intent, None)
    others = [h for h in everyone if h not in running]
    stand_in = {**intended}
    missing = [h for h in others if h not in stand_in]
    if missing:
        stand_in.update(render_many(intent, missing))
    configs = {h: running.get(h) or stand_in[h] for h in everyone}
    basis = (f"running configs of {len(running)} device(s)"
             + (f"; {len(others)} other device(s) at their intended config"
                if others else ""))
    try:
        report = verify(intent, configs)
    except VerifyInputError as exc:
        return ZoneProof("not run", f"{basis}: cannot read the configs: {exc}")
    return ZoneProof("proven" if report.ok else "violations", basis,
                     [f.text() for f in report.violations], len(report.warnings),
                     {k: int(v) for k, v in report.stats.items()})


def _history(options: AuditOptions, intent: Intent, hosts: list[str], sites: dict[str, str],
             intended: dict[str, str]) -> History:
    assert options.since is not None
    history = History(options.since, options.until)
    found = project_root(options.inventory)
    if found is None:
        raise UsageError(f"--since: {options.inventory} is not inside a git checkout, so the "
                         "intent has no history to read")
    project, inv = found
    since_i = resolve(options.since, project, options.backups)
    until_i = resolve(options.until, project, options.backups) if options.until else None
    since_b = resolve(options.since, options.backups, project)
    until_b = resolve(options.until, options.backups, project) if options.until else None
    history.intent_range = f"{since_i.text()} .. {until_i.text() if until_i else 'now'}"
    history.backups_range = f"{since_b.text()} .. {until_b.text() if until_b else 'now'}"
    history.intent_commits = intent_history(project, since_i, until_i, inv)
    for change in history.intent_commits:
        for host in hosts:
            role = intent.devices[host].role.value
            if any(feeds(f, host, sites[host], role) for f in change.files):
                history.intent_by_device.setdefault(host, []).append(change)
    repo = BackupRepo(options.backups)
    history.backups_by_device = backups_history(
        options.backups, since_b, until_b, {h: repo.path_of(sites[h], h) for h in hosts})
    if since_i.commit is None:
        history.notes.append("the intended-config comparison needs --since to be a commit "
                             "of the project (a date gives the commit lists only)")
        return history
    if until_i is not None:
        history.notes.append("the intended-config comparison runs from --since to now; "
                             "--until limits the commit lists")
    try:
        before = intended_at(project, since_i.commit, hosts, inv)
    except (IntentError, UsageError) as exc:
        history.notes.append(f"the intended configs at {since_i.text()} cannot be rendered "
                             f"with the current code: {_first_line(exc)}")
        return history
    marker = Commit(since_i.commit, "", "", f"intended config at {since_i.text()} -> now")
    for host in hosts:
        old, new = before.get(host, ""), intended[host]
        if old == new:
            continue
        o, n = masked_paths(old), masked_paths(new)
        o_set, n_set = set(o), set(n)
        history.intended_diff[host] = Change(
            marker, tuple(display(p) for p in n if p not in o_set),
            tuple(display(p) for p in o if p not in n_set))
    return history


def _first_line(exc: Exception) -> str:
    if isinstance(exc, IntentError):
        return f"{len(exc.problems)} problem(s), first: {exc.problems[0]}"
    return str(exc).splitlines()[0]
