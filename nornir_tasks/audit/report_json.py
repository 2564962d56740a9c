"""The audit report as data: the one structure the JSON, Markdown and HTML reports share.

Deterministic: the same audit gives the same bytes (sorted keys, hosts and features in a
fixed order, no clock time). Every config line in it is masked (``<<secret>>``).
"""

from __future__ import annotations

import json
from typing import Any

from nornir_tasks.audit.compliance import DeviceAudit, FeatureResult
from nornir_tasks.audit.features import FEATURES, OTHER, Path
from nornir_tasks.audit.history import Change, History
from nornir_tasks.audit.run import AuditReport

SCHEMA = "fellesnett-audit/1"


def _line(path: Path, host: str, history: History | None, added: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"path": list(path)}
    if history is not None:
        seen = history.first_seen(host, path[-1], added)
        if seen is not None:
            out["seen_in"] = {"commit": seen.sha, "date": seen.date, "author": seen.author,
                              "message": seen.subject}
    return out


def _feature(res: FeatureResult, host: str, history: History | None) -> dict[str, Any]:
    return {"status": res.status, "intended_lines": res.intended,
            # extra on the device: the backup commit that added it; missing: that removed it
            "missing": [_line(p, host, history, added=False) for p in res.missing],
            "extra": [_line(p, host, history, added=True) for p in res.extra]}


def _device(d: DeviceAudit, history: History | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "host": d.host, "site": d.site, "role": d.role, "model": d.model,
        "platform": d.platform, "serial": d.serial, "source": d.source,
        "backup_commit": d.backup_rev, "read_error": d.read_error,
        "compliant": d.compliant, "findings": d.findings, "drift_lines": d.drift_lines,
        "ignored_lines": d.ignored,
        "software": {"expected": d.software.expected, "running": d.software.running,
                     "status": d.software.status},
        "unsaved": None if d.unsaved is None else {
            "clean": d.unsaved.clean,
            "not_saved": [list(p) for p in d.unsaved.not_saved],
            "lost_on_save": [list(p) for p in d.unsaved.lost_on_save]},
        "features": {f: _feature(r, d.host, history) for f, r in d.features.items()},
    }
    return out


def _change(c: Change) -> dict[str, Any]:
    out: dict[str, Any] = c.commit.to_data()
    if c.files:
        out["files"] = list(c.files)
    if c.added or c.removed:
        out["added"], out["removed"] = list(c.added), list(c.removed)
    return out


def _history(h: History, hosts: list[str]) -> dict[str, Any]:
    return {
        "since": h.since, "until": h.until, "intent_range": h.intent_range,
        "backups_range": h.backups_range, "notes": h.notes,
        "intent_commits": [_change(c) for c in h.intent_commits],
        "devices": {host: {
            "intent_commits": [c.commit.sha for c in h.intent_by_device.get(host, [])],
            "intended_changes": (None if host not in h.intended_diff else
                                 {"added": list(h.intended_diff[host].added),
                                  "removed": list(h.intended_diff[host].removed)}),
            "backup_commits": [_change(c) for c in h.backups_by_device.get(host, [])],
        } for host in hosts if host in h.intent_by_device or host in h.intended_diff
            or host in h.backups_by_device},
    }


def fleet_counts(report: AuditReport) -> dict[str, dict[str, int]]:
    """Per feature: how many devices are compliant, drifted, or do not use it."""
    names = [f.name for f in FEATURES]
    if any(OTHER in d.features for d in report.devices):
        names.append(OTHER)
    out = {n: {"compliant": 0, "drift": 0, "n/a": 0} for n in names}
    for d in report.devices:
        for n, r in d.features.items():
            out[n][r.status] += 1
    return out


def to_data(report: AuditReport) -> dict[str, Any]:
    devices = report.devices
    summary = {
        "devices": len(devices),
        "compliant": sum(1 for d in devices if d.compliant),
        "with_drift": sum(1 for d in devices if d.audited and d.drift_lines),
        "drift_lines": sum(d.drift_lines for d in devices),
        "unsaved": sum(1 for d in devices if d.unsaved is not None and not d.unsaved.clean),
        "software_mismatch": sum(1 for d in devices if d.software.status == "mismatch"),
        "not_read": sum(1 for d in devices if d.audited and d.read_error),
        "not_audited": sum(1 for d in devices if not d.audited),
        "legacy": len(report.legacy),
        "zone_proof": report.zone_proof.verdict if report.zone_proof else "skipped",
        "exit_code": report.exit_code,
        "verdict": {0: "compliant", 1: "findings", 2: "incomplete"}[report.exit_code],
    }
    proof = report.zone_proof
    return {
        "schema": SCHEMA,
        "summary": summary,
        "sources": {"mode": report.mode, "limit": report.options.limit,
                    "intent_commit": report.intent_commit,
                    "backups_head": report.backups_head, "read_commit": report.read_commit},
        "features": [{"name": f.name, "title": f.title} for f in FEATURES],
        "fleet": fleet_counts(report),
        "ignore_rules": report.rules,
        "zone_proof": None if proof is None else {
            "verdict": proof.verdict, "basis": proof.basis, "violations": proof.violations,
            "warnings": proof.warnings, "stats": proof.stats},
        "devices": [_device(d, report.history) for d in devices],
        "legacy": [{"host": s.host, "site": s.site, "state": s.state, "wave": s.wave,
                    "legacy_name": s.legacy, "phase": s.phase, "surveyed": s.surveyed,
                    "method": s.method, "rolled_back": s.rolled_back}
                   for s in report.legacy.values()],
        "history": (None if report.history is None else
                    _history(report.history, [d.host for d in devices])),
    }


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
