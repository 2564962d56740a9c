"""One lab run: plan -> build -> poll -> probe -> evidence -> teardown (always).

``run_lab`` is the API (the tests call it, also with injected terms); ``run_cli`` is the
``fellesnett lab`` command. Exit codes: 0 every probe as the matrix says, 1 a mismatch
(or a trunk carrying a VLAN it must not), 2 bad input or a machine that cannot run it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.lab.plan import LabPlan, Probe, Skipped, build_plan, choose_sites
from nornir_tasks.lab.topology import Lab, LabEnvironmentError, missing_prerequisites
from nornir_tasks.policy import Term

EXIT_OK, EXIT_MISMATCH, EXIT_ENV = 0, 1, 2


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    observed: bool
    detail: str
    ms: float

    @property
    def ok(self) -> bool:
        return self.observed == self.probe.expected

    def to_json(self) -> dict[str, Any]:
        p = self.probe
        return {"id": p.id, "source": p.source.key, "source_address": str(p.source.address),
                "destination": p.destination.key,
                "destination_address": str(p.destination.address), "probe": p.label,
                "expected": "open" if p.expected else "closed",
                "observed": "open" if self.observed else "closed",
                "terms": "open" if p.model else "closed", "ok": self.ok,
                "reason": p.reason, "detail": self.detail, "ms": self.ms}


@dataclass(frozen=True)
class Trunk:
    site: str
    interface: str
    vlans: list[int]  # what OVS says the trunk carries
    site_vlans: list[int]  # what the site has
    tags_seen: list[int]  # 802.1Q tags tcpdump saw on it

    @property
    def problems(self) -> list[str]:
        out = []
        if self.vlans != self.site_vlans:
            out.append(f"trunk {self.interface} ({self.site}) carries VLANs {self.vlans}, "
                       f"the site has {self.site_vlans}")
        foreign = sorted(set(self.tags_seen) - set(self.site_vlans))
        if foreign:
            out.append(f"trunk {self.interface} ({self.site}) carried foreign VLANs {foreign}")
        return out


@dataclass
class LabReport:
    sites: list[str]
    prefix: str
    results: list[ProbeResult]
    skipped: list[Skipped]
    trunks: list[Trunk]
    conntrack_entries: int | None
    nft_rules: int
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kept: str | None = None  # teardown script when --keep left the lab up

    @property
    def mismatches(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.ok]

    @property
    def problems(self) -> list[str]:
        return [p for t in self.trunks for p in t.problems]

    @property
    def exit_code(self) -> int:
        return EXIT_MISMATCH if self.mismatches or self.problems else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == EXIT_OK, "exit_code": self.exit_code, "sites": self.sites,
            "prefix": self.prefix, "timings": self.timings,
            "counts": {"probes": len(self.results),
                       "open": sum(r.observed for r in self.results),
                       "closed": sum(not r.observed for r in self.results),
                       "mismatches": len(self.mismatches), "skipped": len(self.skipped)},
            "trunks": [{"site": t.site, "interface": t.interface, "vlans": t.vlans,
                        "site_vlans": t.site_vlans, "tags_seen": t.tags_seen}
                       for t in self.trunks],
            "problems": self.problems, "conntrack_entries": self.conntrack_entries,
            "nft_rules": self.nft_rules,
            "mismatches": [r.to_json() for r in self.mismatches],
            "results": [r.to_json() for r in self.results],
            "skipped": [{"source": s.source, "destination": s.destination, "probe": s.probe,
                         "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings, "kept": self.kept}


def run_lab(intent: Intent, sites: Sequence[str],
            terms: Mapping[str, Sequence[Term]] | None = None, keep: bool = False,
            progress: Callable[[str], None] | None = None) -> LabReport:
    """Build the lab for ``sites``, probe every pair, tear down (also on Ctrl-C)."""
    plan = build_plan(intent, sites, terms)
    say = progress or (lambda _msg: None)
    lab = Lab(plan)
    timings: dict[str, float] = {}
    report: LabReport | None = None
    t0 = time.monotonic()
    try:
        say(f"building {len(plan.namespaces)} namespaces for {', '.join(sites)} "
            f"({lab.prefix})")
        lab.build()
        lab.start_agents()
        lab.start_captures()
        lab.poll()
        timings["build_s"] = round(time.monotonic() - t0, 2)
        say(f"probing {len(plan.probes)} flows")
        t1 = time.monotonic()
        raw = lab.probe(plan.probes)
        timings["probe_s"] = round(time.monotonic() - t1, 2)
        report = _report(plan, lab, raw)
    finally:
        t2 = time.monotonic()
        # a second Ctrl-C must not cut the teardown short (it takes well under a second)
        previous = _ignore_sigint()
        try:
            if keep:
                kept = str(lab.keep())
                if report is not None:
                    report.kept = kept
            else:
                problems = lab.teardown()
                if report is not None:
                    report.warnings += problems
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        timings["teardown_s"] = round(time.monotonic() - t2, 2)
    assert report is not None  # an exception above has left through the finally
    report.timings = timings
    return report


def _ignore_sigint() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _report(plan: LabPlan, lab: Lab, raw: Mapping[int, Mapping[str, Any]]) -> LabReport:
    results = []
    for p in plan.probes:
        r = raw.get(p.id)
        results.append(ProbeResult(p, bool(r and r["reached"]),
                                   str(r["detail"]) if r else "no result",
                                   float(r["ms"]) if r else 0.0))
    seen = lab.stop_captures()
    configured = lab.trunk_config()
    trunks = [Trunk(sw.site, sw.trunk_site, configured[sw.trunk_site], list(sw.vlans),
                    seen.get(sw.trunk_site, [])) for sw in plan.switches]
    warnings = [f"no 802.1Q tag seen on trunk {t.interface} ({t.site})"
                for t in trunks if not t.tags_seen]
    rules = sum(1 for line in lab.nft_text.splitlines()
                if line.startswith("\t\t") and "comment" in line)
    return LabReport(list(plan.sites), lab.prefix, results, list(plan.skipped), trunks,
                     lab.conntrack_entries(), rules, warnings=warnings)


def _sigterm(_signum: int, _frame: FrameType | None) -> None:
    # a CI timeout or `kill` must still tear the lab down: unwind through the finally
    raise KeyboardInterrupt


def run_cli(args: argparse.Namespace) -> int:
    """``fellesnett lab``: returns the exit code; prints the table or JSON."""
    from nornir_tasks.lab import report as out

    intent = load_intent(args.inventory)  # IntentError/UsageError: the CLI prints, exit 2
    sites = choose_sites(intent, args.limit)
    missing = missing_prerequisites()
    if missing:
        print(f"fellesnett lab: this machine cannot run the lab: {'; '.join(missing)}",
              file=sys.stderr)
        return EXIT_ENV
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _sigterm)
    try:
        quiet = args.json or not sys.stderr.isatty()
        report = run_lab(intent, sites, keep=args.keep,
                         progress=None if quiet else out.progress_printer())
    except LabEnvironmentError as exc:
        print(f"fellesnett lab: {exc}", file=sys.stderr)
        return EXIT_ENV
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        out.print_report(report)
    return report.exit_code
