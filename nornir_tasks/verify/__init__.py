"""``fellesnett verify``: prove the zone matrix from the rendered config TEXT.

Reads every device's config text (never the structured data it was rendered from) and
proves, against the intent's matrix:

a. VRF separation — every zone interface in its zone's VRF, no routes or route targets
   between VRFs at sites, each zone's default route to the core transit of that zone;
b. layer 2 — no zone VLAN on a port or trunk its port profile (or WAN role) does not allow
   at that site;
c. wireless — every WLAN's default VLAN the restricted zone, FlexConnect VLANs only of
   the AP's site zones;
d. the zone matrix at the policy point — probe packets from every zone at every site to
   every zone, service and the internet, through the ACLs and routing the texts describe,
   with the stateless replies of every allowed flow;
e. the RADIUS policy — each group's VLAN its zone's, unknown -> the restricted zone.

Public API: :func:`verify` (intent + texts -> :class:`Report`), :func:`load_configs`
(a build directory -> texts), :func:`register` (the CLI sub-command). Exit codes of the
command: 0 proven, 1 violations, 2 unreadable or missing input.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import ipaddress
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from nornir_tasks.errors import IntentError
from nornir_tasks.intent.loader import Intent
from nornir_tasks.policy import stateful_pairs
from nornir_tasks.verify.aside import run_aside
from nornir_tasks.verify.checks import (
    Spec,
    check_input,
    check_l2,
    check_radius,
    check_vrfs,
    check_wireless,
    radius_files,
)
from nornir_tasks.verify.exposure import Exposure, policy_point_interfaces
from nornir_tasks.verify.failover import prove_failover
from nornir_tasks.verify.firewall import read_firewall
from nornir_tasks.verify.firewall_hop import firewall_device
from nornir_tasks.verify.flows import RequiredFlows
from nornir_tasks.verify.l2 import L2Paths
from nornir_tasks.verify.matrix import INTERNET_PROBE, Matrix
from nornir_tasks.verify.model import DeviceText, InterfaceLineCache, read_device
from nornir_tasks.verify.parse import ConfigTextError, LineCache, parse_config
from nornir_tasks.verify.report import NOTE, VIOLATION, CheckResult, Finding, Report
from nornir_tasks.verify.routing import Network
from nornir_tasks.verify.zoneproof import Proof

__all__ = ["ConfigReader", "Report", "VerifyInputError", "load_configs", "load_firewall",
           "load_radius", "quiet_gc", "register", "release", "verify", "verify_devices"]

EXIT_PROVEN, EXIT_VIOLATION, EXIT_UNREADABLE = 0, 1, 2
CONFIG_ROLES = ("core", "distribution", "access", "wlc")
FIREWALL_FILE = "firewall/fellesnett.nft"

ASSUMPTIONS = [
    "Adjacency between devices is read from addresses (a next hop belongs to the "
    "interface holding it); the L2 path of every used zone VLAN is traced over the "
    "cabling the intent declares (check l2-path), not over what is really plugged in.",
    "ACL entries with options the model cannot represent (dscp, ttl, time-range, "
    "`fragments`, TCP flags other than `established`, an ICMP code) are read at their "
    "worst: such a permit as if it always matched, such a deny as if absent.",
    "Each site prefix is probed from one representative host, plus one host inside every "
    "ACL prefix that splits it; routing is proven for the representative host.",
    "Probe ports are those the matrix names, both ends of port ranges, and sentinels "
    "(tcp/22, tcp/80, tcp/3389, udp/69, udp/161).",
    "A packet for an internal address that leaves the estate (to the internet firewall) "
    "counts as reaching a forbidden destination: what lies beyond is not in the text.",
]

#: said only where the intent has stateful pairs
FIREWALL_ASSUMPTION = (
    "A stateful pair crosses the firewall, whose policy is read from its text: it routes "
    "each zone's pool back into the zone's own leg, to the core pair's HSRP address "
    "there (a requirement handed over in firewall/README.md), and forwards a probe, "
    "which carries no connection state, if a rule accepts it as a new connection or it "
    "is the reverse of one.")


class VerifyInputError(Exception):
    """The configs cannot be read (missing, unreadable, not config text): exit 2."""


# --------------------------------------------------------------------------- input


def _config_dir(path: Path) -> Path:
    if not path.exists():
        raise VerifyInputError(f"{path}: no such directory (build first: fellesnett build)")
    if not path.is_dir():
        raise VerifyInputError(f"{path}: not a directory")
    if (path / "configs").is_dir():
        return path / "configs"
    return path


def load_configs(path: Path) -> dict[str, str]:
    """Every ``*.cfg`` below a build output (or its ``configs/``), by host name.

    Raises:
        VerifyInputError: no configs, a file that is not UTF-8 text, a duplicate host.
    """
    root = _config_dir(path)
    files = sorted(root.rglob("*.cfg"))
    if not files:
        raise VerifyInputError(f"{root}: no *.cfg files")
    out: dict[str, str] = {}
    where: dict[str, Path] = {}
    for f in files:
        host = f.stem
        if host in out:
            raise VerifyInputError(f"{f}: a second config for {host} (also {where[host]})")
        try:
            out[host] = f.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise VerifyInputError(f"{f}: not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise VerifyInputError(f"{f}: cannot read: {exc.strerror or exc}") from None
        where[host] = f
    return out


def load_radius(path: Path) -> dict[str, str] | None:
    """The ``radius/`` files of a build output, if the output has them."""
    if not path.is_dir():
        return None
    root = path if (path / "radius").is_dir() else path.parent
    base = root / "radius"
    if not base.is_dir():
        return None
    out: dict[str, str] = {}
    for f in sorted(base.rglob("*")):
        if f.is_file():
            try:
                out[f.relative_to(root).as_posix()] = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise VerifyInputError(f"{f}: cannot read: {exc}") from None
    return out or None


# --------------------------------------------------------------------------- the proof


class ConfigReader:
    """Reads the device configs of an intent one by one, as they arrive: ``fellesnett
    build`` parses each chunk while its workers render the next.

    The estate's configs repeat the same lines and port sections thousands of times: the
    caches of line texts and interface meanings are shared by every config read here.
    """

    def __init__(self, intent: Intent) -> None:
        self.wanted = sorted(h for h, d in intent.devices.items()
                             if d.role.value in CONFIG_ROLES)
        self._wanted = set(self.wanted)
        self.devices: dict[str, DeviceText] = {}
        self._ignored: list[str] = []
        self._lines: LineCache = {}
        self._meanings = InterfaceLineCache()

    def require(self, hosts: Iterable[str]) -> None:
        """Fail unless ``hosts`` covers every device of the intent that has a config."""
        have = set(hosts)
        missing = [h for h in self.wanted if h not in have]
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise VerifyInputError(f"no config for {', '.join(missing[:5])}{more} "
                                   f"({len(missing)} of {len(self.wanted)} devices)")

    def add(self, host: str, text: str) -> None:
        if host not in self._wanted:
            self._ignored.append(host)
            return
        if not text.strip():
            raise VerifyInputError(f"{host}: the config is empty")
        try:
            tree = parse_config(text, host, self._lines)
        except ConfigTextError as exc:
            raise VerifyInputError(str(exc)) from None
        dev = read_device(host, tree, self._meanings)
        if dev.hostname is None:
            raise VerifyInputError(f"{host}: no `hostname` line: not a device config")
        if dev.hostname != host:
            raise VerifyInputError(f"{host}: the config is of {dev.hostname} (line "
                                   f"{dev.hostname_line.lineno if dev.hostname_line else '?'})")
        self.devices[host] = dev

    def finish(self) -> tuple[dict[str, DeviceText], list[Finding]]:
        """Every device in host order (as the proof walks them), and the notes."""
        self.require(self.devices)
        notes = [Finding("input", NOTE, f"config for {h} ignored: not a device of the intent",
                         h) for h in sorted(self._ignored)]
        return {h: self.devices[h] for h in self.wanted}, notes


def load_firewall(path: Path) -> str | None:
    """The firewall policy of a build output (``firewall/fellesnett.nft``), if present."""
    if not path.is_dir():
        return None
    root = path if (path / "firewall").is_dir() else path.parent
    f = root / "firewall" / "fellesnett.nft"
    if not f.is_file():
        return None
    try:
        return f.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VerifyInputError(f"{f}: cannot read: {exc}") from None


def verify(intent: Intent, configs: dict[str, str],
           radius: dict[str, str] | None = None, firewall: str | None = None) -> Report:
    """Prove the intent's zone matrix on the config texts of every device.

    ``configs`` maps host name -> config text (every core, distribution, access switch
    and controller of the intent). ``radius`` optionally gives the ``radius/`` files of
    a build by relative path; without it the RADIUS policy is generated by
    ``nornir_tasks.radius`` when that module exists. ``firewall`` is the firewall
    policy of a build (``firewall/fellesnett.nft``), if any.

    Raises:
        VerifyInputError: a config is missing, empty, or not a device config.
    """
    with quiet_gc():
        reader = ConfigReader(intent)
        reader.require(configs)
        t0 = time.perf_counter()
        for host in sorted(configs):
            reader.add(host, configs[host])
        devices, notes = reader.finish()
        try:
            report = verify_devices(intent, devices, notes, radius, firewall)
        finally:
            release(devices)
        report.timings["parse"] = time.perf_counter() - t0 - report.timings["total"]
        report.timings["total"] += report.timings["parse"]
        return report


@contextlib.contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection while configs are read and proven.

    Verify builds millions of long-lived objects (a line per config line) and no cycles
    that need collecting while it runs: the cyclic collector would walk them again and
    again (on a 10,000-device estate it took most of the parse time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def release(devices: dict[str, DeviceText]) -> None:
    """Drop the parsed configs without leaving work for the cyclic collector: no cycles
    are left, so they are freed on return, not by the collector walking every line."""
    for dev in devices.values():
        dev.tree.release()
    devices.clear()


def verify_devices(intent: Intent, devices: dict[str, DeviceText], notes: list[Finding],
                   radius: dict[str, str] | None = None, firewall: str | None = None
                   ) -> Report:
    """The proof on configs already read (:class:`ConfigReader`), in host order.

    Two halves run side by side on a POSIX machine: layer 2 and the required flows in a
    forked process (it inherits the parsed configs, and returns its findings), the
    exposure and the zone matrix here.
    """
    report = Report()
    report.findings += notes
    t1 = time.perf_counter()
    fw = read_firewall(FIREWALL_FILE, firewall) if firewall is not None else None
    # a stateful pair crosses the firewall: it is a hop of the routing model then
    hop = firewall_device(intent, fw) if fw is not None and stateful_pairs(intent) else None
    net = Network(devices, hop)
    spec = Spec(intent)
    t2 = time.perf_counter()
    plumbing = run_aside(lambda: _plumbing(intent, spec, devices, net, radius))
    if fw is not None:
        for n, text, why in fw.problems:
            report.findings.append(Finding("exposure", VIOLATION, f"firewall policy: {why}",
                                           FIREWALL_FILE, n or None, text or None))
    exposure = Exposure(intent, devices, policy_point_interfaces(intent, spec, devices),
                        fw, net)
    exposure.run()
    report.findings += exposure.findings
    report.checks += exposure.checks
    report.exposure = exposure.to_data()
    t3 = time.perf_counter()
    matrix = Matrix(intent)
    proof = Proof(intent, matrix, net.devices, net)  # with the firewall hop, if any
    proof.run()
    t4 = time.perf_counter()
    found, checks, required, radius_checks = plumbing.result()
    report.findings += found
    report.checks = checks + report.checks + radius_checks
    report.required = required
    report.findings += proof.findings
    report.checks += proof.checks
    # dual-homed sites: everything again with each circuit removed (docs/verify.md)
    found, checks = prove_failover(intent, devices, hop)
    report.findings += found
    report.checks += checks
    report.rows = [r for r in matrix.rows() if any(k[0] == r for k in proof.cells)]
    report.columns = matrix.columns()
    report.cells = proof.cells_out()
    t5 = time.perf_counter()
    report.notes = list(ASSUMPTIONS) + ([FIREWALL_ASSUMPTION] if hop is not None else [])
    if not net.exits_somewhere(int(ipaddress.IPv4Address(INTERNET_PROBE))):
        report.notes.append("No internet egress is in the config text: the internet is "
                            "treated as routable wherever an ACL permits it (cells †).")
    unplaced = sorted({s for s in intent.services for p in intent.services[s].prefixes
                       if not net.located(int(p.network_address))})
    if unplaced:
        report.notes.append(
            "Services not on any connected subnet of the configs (routing to them is not in "
            "the text, so the ACL alone decides; cells †): " + ", ".join(unplaced) + ". "
            "Once the servers VRF and its route-target leaking land, they are routed "
            "from the text like every other destination.")
    report.findings.sort(key=lambda f: (f.severity != "violation", f.check, f.device or "",
                                        f.lineno or 0))
    report.stats = {"devices": len(devices), "config_lines": sum(d.tree.lines
                                                                  for d in devices.values()),
                    "zone_pairs": proof.pairs, "probe_outcomes": proof.probe_count,
                    "probe_kinds": len(matrix.probes)}
    report.work = dict(sorted(proof.work.items()))
    report.timings = {"network": t2 - t1, "exposure": t3 - t2, "matrix": t4 - t3,
                      "plumbing_wait": t5 - t4, "total": t5 - t1}
    return report


def _plumbing(intent: Intent, spec: Spec, devices: dict[str, DeviceText], net: Network,
              radius: dict[str, str] | None
              ) -> tuple[list[Finding], list[CheckResult], list[dict[str, object]],
                         list[CheckResult]]:
    """Checks a-c and e, layer-2 paths and the required flows: their findings, check
    rows, the required-flow table, and the RADIUS check rows (they follow exposure's)."""
    findings: list[Finding] = []
    checks: list[CheckResult] = []
    for found, results in (check_input(devices), check_vrfs(intent, spec, devices, net),
                           check_l2(intent, spec, devices), check_wireless(intent, devices)):
        findings += found
        checks += results
    l2 = L2Paths(intent, devices)
    l2.run()
    findings += l2.findings
    checks += l2.checks
    required = RequiredFlows(intent, devices, net, l2)
    required.run()
    findings += required.findings
    checks += required.checks
    files, origin = radius_files(intent, radius)
    found, radius_checks = check_radius(intent, files, origin)
    findings += found
    return findings, checks, required.table(), radius_checks


# --------------------------------------------------------------------------- command


def _cmd_verify(args: argparse.Namespace) -> int:
    from nornir_tasks.intent.loader import load_intent

    try:
        intent = load_intent(args.inventory)
    except IntentError as exc:
        print(f"fellesnett verify: the intent is invalid ({len(exc.problems)} problem(s)):",
              file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_UNREADABLE
    try:
        configs = load_configs(args.configs)
        radius = load_radius(args.configs)
        report = verify(intent, configs, radius, load_firewall(args.configs))
    except VerifyInputError as exc:
        print(f"fellesnett verify: cannot read the configs: {exc}", file=sys.stderr)
        return EXIT_UNREADABLE
    if args.markdown is not None:
        try:
            args.markdown.parent.mkdir(parents=True, exist_ok=True)
            args.markdown.write_text(report.to_markdown(), encoding="utf-8")
        except OSError as exc:
            print(f"fellesnett verify: cannot write {args.markdown}: {exc.strerror or exc}",
                  file=sys.stderr)
            return EXIT_UNREADABLE
    if args.json:
        print(report.to_json())
    else:
        _print_human(report, args.markdown)
    return EXIT_PROVEN if report.ok else EXIT_VIOLATION


def _print_human(report: Report, markdown: Path | None) -> None:
    v = report.violations
    s = report.stats
    print(f"verify: {s['devices']} devices, {s['config_lines']} lines, {s['zone_pairs']} "
          f"zone pairs x {s['probe_kinds']} probes in {report.timings['total']:.2f} s")
    for f in v:
        print(f"VIOLATION {f.text()}")
    for f in report.warnings:
        print(f"warning {f.text()}")
    if markdown is not None:
        print(f"proven matrix and report: {markdown}")
    if report.ok:
        print("zone matrix PROVEN: 0 violations")
    else:
        print(f"{len(v)} violation(s)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``verify`` to the ``fellesnett`` command line."""
    p = sub.add_parser(
        "verify", help="prove the zone matrix from the rendered config text (exit 1 on a "
        "violation, 2 on unreadable input)")
    p.add_argument("--configs", type=Path, default=Path("build"), metavar="DIR",
                   help="build output or its configs/ directory (default: %(default)s)")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    p.add_argument("--json", action="store_true",
                   help="print every check and finding as JSON")
    p.add_argument("--markdown", type=Path, metavar="FILE",
                   help="write the proven zone matrix and the findings as Markdown")
    p.set_defaults(func=_cmd_verify)
