"""One lab run: plan -> build -> matrix probes -> daemons and required flows ->
adversarial probes -> evidence -> teardown (always).

``run_lab`` is the API (the tests call it, also with injected terms); ``run_cli`` is the
``fellesnett lab`` command. Exit codes: 0 every probe as the matrix says, every required
flow working and every crafted packet as ``verify`` predicts; 1 anything else (or a trunk
carrying a VLAN it must not); 2 bad input or a machine that cannot run it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.lab import phases, services
from nornir_tasks.lab.adversarial import (
    ADVERSARIAL_SITES,
    AdversarialResult,
    adversarial_plan,
    firewall_first,
)
from nornir_tasks.lab.firewall import NAMESPACE as FIREWALL_NS
from nornir_tasks.lab.firewall import POLICY_PATH, README_PATH
from nornir_tasks.lab.plan import (
    LabInputError,
    LabPlan,
    build_plan,
    choose_sites,
    lab_firewall,
)
from nornir_tasks.lab.prediction import Background, core_configs
from nornir_tasks.lab.probes import MatrixProbes, Probe, Skipped, matrix_probes
from nornir_tasks.lab.required import required_plan
from nornir_tasks.lab.topology import Lab, LabEnvironmentError, missing_prerequisites
from nornir_tasks.policy import Term, stateful_pairs, zone_terms

EXIT_OK, EXIT_MISMATCH, EXIT_ENV = 0, 1, 2


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    observed: bool
    detail: str
    ms: float

    @property
    def ok(self) -> bool:
        return self.probe.as_expected(self.observed)

    def to_json(self) -> dict[str, Any]:
        p = self.probe
        return {"id": p.id, "source": p.source.key, "source_address": str(p.source.address),
                "destination": p.destination.key,
                "destination_address": str(p.destination.address), "probe": p.label,
                "expected": "open" if p.expected else
                ("closed or open" if p.tolerated else "closed"),
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
    required: list[phases.RequiredResult] = field(default_factory=list)
    matrix_only: list[str] = field(default_factory=list)  # required flows without a client
    required_skipped: list[str] = field(default_factory=list)  # with the reason
    adversarial: AdversarialResult | None = None
    counters: dict[str, int] = field(default_factory=dict)  # the core's local hooks
    firewall: dict[str, Any] | None = None  # the town-hall firewall, as built
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kept: str | None = None  # teardown script when --keep left the lab up

    @property
    def mismatches(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.ok]

    @property
    def failed_required(self) -> list[phases.RequiredResult]:
        return [r for r in self.required if not r.ok]

    @property
    def problems(self) -> list[str]:
        out = [p for t in self.trunks for p in t.problems]
        # a lease proves the relay works; the counter proves its packets went through the
        # zone's chain (the gateway's traffic crosses the policy point as in production)
        for zone in sorted({r.probe.params.get("zone", "") for r in self.required
                            if r.probe.kind == "dhcp" and r.ok}):
            if zone and not self.counters.get(f"output zone_{zone}"):
                out.append(f"the relay's packets for {zone} did not pass zone_{zone}")
        return out

    @property
    def exit_code(self) -> int:
        bad = (self.mismatches or self.problems or self.failed_required
               or (self.adversarial is not None and self.adversarial.disagreements))
        return EXIT_MISMATCH if bad else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == EXIT_OK, "exit_code": self.exit_code, "sites": self.sites,
            "prefix": self.prefix, "timings": self.timings,
            "counts": {"probes": len(self.results),
                       "open": sum(r.observed for r in self.results),
                       "closed": sum(not r.observed for r in self.results),
                       "mismatches": len(self.mismatches), "skipped": len(self.skipped),
                       "required": len(self.required),
                       "required_failed": len(self.failed_required)},
            "trunks": [{"site": t.site, "interface": t.interface, "vlans": t.vlans,
                        "site_vlans": t.site_vlans, "tags_seen": t.tags_seen}
                       for t in self.trunks],
            "problems": self.problems, "conntrack_entries": self.conntrack_entries,
            "firewall": self.firewall,
            "nft_rules": self.nft_rules, "counters": self.counters,
            "mismatches": [r.to_json() for r in self.mismatches],
            "results": [r.to_json() for r in self.results],
            "required": [r.to_json() for r in self.required],
            "matrix_only": self.matrix_only, "required_skipped": self.required_skipped,
            "adversarial": self.adversarial.to_json() if self.adversarial else None,
            "skipped": [{"source": s.source, "destination": s.destination, "probe": s.probe,
                         "reason": s.reason} for s in self.skipped],
            "warnings": self.warnings, "kept": self.kept}


def run_lab(intent: Intent, sites: Sequence[str],
            terms: Mapping[str, Sequence[Term]] | None = None, keep: bool = False,
            progress: Callable[[str], None] | None = None,
            configs: dict[str, str] | None = None,
            adversarial_sites: int = ADVERSARIAL_SITES,
            firewall_files: Mapping[str, str] | None = None) -> LabReport:
    """Build the lab for ``sites``, probe, tear down (also on Ctrl-C).

    ``terms`` replaces the compiled terms loaded into the lab (tests inject faults);
    ``configs`` (host -> rendered text) are what ``verify`` predicts the crafted probes
    from, rendered from the intent when not given. ``firewall_files`` are a build's
    ``firewall/`` files by relative path (the town-hall firewall loads that policy
    and takes its routes from that README); by default what the build generates.
    """
    hop = None
    if stateful_pairs(intent):
        if configs is None:
            configs = core_configs(intent)  # the core's routes into the firewall, too
        hop = lab_firewall(intent, firewall_files, configs)
    plan = build_plan(intent, sites, terms, hop)
    matrix = matrix_probes(intent, plan)
    req = required_plan(intent, plan)
    adv = adversarial_plan(intent, plan, zone_terms(intent), adversarial_sites)
    say = progress or (lambda _msg: None)
    background = Background(intent, adv, configs, hop) if len(adv) else None
    lab = Lab(plan)
    creds = services.Credentials.new(lab.workdir)
    timings: dict[str, float] = {}
    report: LabReport | None = None
    t0 = time.monotonic()
    try:
        say(f"building {len(plan.namespaces)} namespaces for {', '.join(sites)} "
            f"({lab.prefix})")
        lab.build()
        lab.start_agents(matrix.listeners)
        lab.start_captures()
        lab.poll()
        timings["build_s"] = _lap(t0)
        say(f"probing {len(matrix.probes)} matrix flows")
        t = time.monotonic()
        raw = phases.matrix(lab, matrix.probes)
        # every VLAN has carried probes by now; the crafted probes would only load tcpdump
        tags = lab.stop_captures()
        timings["matrix_s"] = _lap(t)
        say(f"running {len(req.probes)} required-flow clients")
        t = time.monotonic()
        phases.start_daemons(lab, intent, req, creds)
        phases.wait_daemons(lab, req)
        required = phases.required(lab, req, creds)
        timings["required_s"] = _lap(t)
        # last: the prediction has had the build, the matrix and the required flows to
        # finish in its own process; waiting for it leaves the CPU to the crafted probes
        adversarial: AdversarialResult | None = None
        if background is not None:
            prediction = background.result()
            say(f"sending {len(adv)} crafted probes")
            adversarial = phases.adversarial(lab, adv, prediction.bits,
                                             firewall_first(adv, plan.firewall))
            adversarial.exposure = prediction.exposure
            adversarial.held = prediction.held
            timings["adversarial_s"] = adversarial.seconds
            timings["prediction_s"] = prediction.seconds
        report = _report(plan, matrix, lab, raw, tags)
        report.required, report.matrix_only = required, req.matrix_only
        report.required_skipped = req.skipped
        report.adversarial = adversarial
        report.counters = lab.counters()
        report.firewall = _firewall_report(plan, lab)
        report.warnings += lab.warnings
    finally:
        t2 = time.monotonic()
        if background is not None:
            background.stop()
        # a second Ctrl-C must not cut the teardown short (it takes about a second)
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
        timings["teardown_s"] = _lap(t2)
    assert report is not None  # an exception above has left through the finally
    report.timings = timings
    return report


def _lap(t: float) -> float:
    return round(time.monotonic() - t, 2)


def _ignore_sigint() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _report(plan: LabPlan, matrix: MatrixProbes, lab: Lab,
            raw: Mapping[int, Mapping[str, Any]], seen: Mapping[str, list[int]]) -> LabReport:
    results = []
    for p in matrix.probes:
        r = raw.get(p.id)
        results.append(ProbeResult(p, bool(r and r["reached"]),
                                   str(r["detail"]) if r else "no result",
                                   float(r["ms"]) if r else 0.0))
    configured = lab.trunk_config()
    trunks = [Trunk(sw.site, sw.trunk_site, configured[sw.trunk_site], list(sw.vlans),
                    seen.get(sw.trunk_site, [])) for sw in plan.switches]
    warnings = [f"no 802.1Q tag seen on trunk {t.interface} ({t.site})"
                for t in trunks if not t.tags_seen]
    rules = sum(1 for line in lab.nft_text.splitlines()
                if line.startswith("\t\t") and "comment" in line)
    return LabReport(list(plan.sites), lab.prefix, results, list(matrix.skipped), trunks,
                     lab.conntrack_entries(), rules, warnings=warnings)


def _firewall_report(plan: LabPlan, lab: Lab) -> dict[str, Any] | None:
    """What the town-hall firewall was built from, and the connections it tracked."""
    fw = plan.firewall
    if fw is None:
        return None
    return {"policy": fw.path, "sha256": hashlib.sha256(fw.text.encode()).hexdigest(),
            "pairs": [f"{a} <-> {b}" for a, b in fw.pairs],
            "legs": [{"zone": g.zone, "vlan": g.vlan, "core": str(g.core_address),
                      "firewall": str(g.address)} for g in fw.legs],
            "routes": [f"{r.prefix} via {r.next_hop}" for r in fw.routes],
            "core_routes": [r.source for r in fw.core_routes],
            "conntrack_entries": lab.conntrack_entries(FIREWALL_NS)}


def _sigterm(_signum: int, _frame: FrameType | None) -> None:
    # a CI timeout or `kill` must still tear the lab down: unwind through the finally
    raise KeyboardInterrupt


def _configs(path: Path) -> dict[str, str]:
    """A build output's configs (``fellesnett build``), for the prediction."""
    from nornir_tasks.verify import VerifyInputError, load_configs

    try:
        return load_configs(path)
    except VerifyInputError as exc:
        raise LabInputError(f"--configs: {exc}") from None


def _firewall_files(path: Path) -> dict[str, str] | None:
    """A build output's ``firewall/`` files by relative path (None: it has none)."""
    root = path if (path / "firewall").is_dir() else path.parent
    files = {}
    for rel in (POLICY_PATH, README_PATH):
        f = root / rel
        if f.is_file():
            try:
                files[rel] = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise LabInputError(f"--configs: {f}: cannot read: {exc}") from None
    return files or None


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
        configs = _configs(args.configs) if args.configs else None
        files = _firewall_files(args.configs) if args.configs else None
        if args.configs and stateful_pairs(intent) and files is None:
            raise LabInputError(f"--configs {args.configs}: the intent has stateful pairs "
                                f"but the build has no {POLICY_PATH}")
        report = run_lab(intent, sites, keep=args.keep,
                         progress=None if quiet else out.progress_printer(), configs=configs,
                         adversarial_sites=args.adversarial_sites, firewall_files=files)
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
