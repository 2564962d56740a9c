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
import gc
import ipaddress
import sys
import time
from pathlib import Path

from nornir_tasks.errors import IntentError
from nornir_tasks.intent.loader import Intent
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
from nornir_tasks.verify.firewall import read_firewall
from nornir_tasks.verify.flows import RequiredFlows
from nornir_tasks.verify.l2 import L2Paths
from nornir_tasks.verify.matrix import INTERNET_PROBE, Matrix
from nornir_tasks.verify.model import DeviceText, InterfaceLineCache, read_device
from nornir_tasks.verify.parse import ConfigTextError, LineCache, parse_config
from nornir_tasks.verify.report import NOTE, VIOLATION, Finding, Report
from nornir_tasks.verify.routing import Network
from nornir_tasks.verify.zoneproof import Proof

__all__ = ["Report", "VerifyInputError", "load_configs", "load_firewall", "load_radius",
           "register", "verify"]

EXIT_PROVEN, EXIT_VIOLATION, EXIT_UNREADABLE = 0, 1, 2
CONFIG_ROLES = ("core", "distribution", "access", "wlc")
FIREWALL_FILE = "firewall/fellesnett.nft"

ASSUMPTIONS = [
    "Adjacency between devices is read from addresses (a next hop belongs to the "
    "interface holding it); the L2 path between them is proven by check b, not traced.",
    "ACL entries with options the probes cannot represent (dscp, ttl, time-range, TCP "
    "flags other than ack/rst) are read at their worst: such a permit as if it always "
    "matched, such a deny as if absent; `fragments` entries never match a probe.",
    "Each site prefix is probed from one representative host, plus one host inside every "
    "ACL prefix that splits it; routing is proven for the representative host.",
    "Probe ports are those the matrix names, both ends of port ranges, and sentinels "
    "(tcp/22, tcp/80, tcp/3389, udp/69, udp/161).",
    "A packet for an internal address that leaves the estate (to the internet firewall) "
    "counts as reaching a forbidden destination: what lies beyond is not in the text.",
]


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


def _read_all(intent: Intent, configs: dict[str, str]) -> tuple[dict[str, DeviceText],
                                                                list[Finding]]:
    wanted = sorted(h for h, d in intent.devices.items() if d.role.value in CONFIG_ROLES)
    missing = [h for h in wanted if h not in configs]
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise VerifyInputError(f"no config for {', '.join(missing[:5])}{more} "
                               f"({len(missing)} of {len(wanted)} devices)")
    notes = [Finding("input", NOTE, f"config for {h} ignored: not a device of the intent",
                     h) for h in sorted(set(configs) - set(wanted))]
    devices: dict[str, DeviceText] = {}
    cache: InterfaceLineCache = {}
    lines: LineCache = {}
    for host in wanted:
        text = configs[host]
        if not text.strip():
            raise VerifyInputError(f"{host}: the config is empty")
        try:
            tree = parse_config(text, host, lines)
        except ConfigTextError as exc:
            raise VerifyInputError(str(exc)) from None
        dev = read_device(host, tree, cache)
        if dev.hostname is None:
            raise VerifyInputError(f"{host}: no `hostname` line: not a device config")
        if dev.hostname != host:
            raise VerifyInputError(f"{host}: the config is of {dev.hostname} (line "
                                   f"{dev.hostname_line.lineno if dev.hostname_line else '?'})")
        devices[host] = dev
    return devices, notes


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
    ``nornir_tasks.radius`` when that module exists.

    Raises:
        VerifyInputError: a config is missing, empty, or not a device config.
    """
    # verify builds millions of long-lived objects (a line per config line) and no cycles
    # that need collecting while it runs: the cyclic collector would walk them again and
    # again (on a 10,000-device estate it took most of the parse time)
    enabled = gc.isenabled()
    gc.disable()
    devices: dict[str, DeviceText] = {}
    try:
        return _verify(intent, configs, radius, devices, firewall)
    finally:
        for dev in devices.values():  # no cycles left: freed on return, not by the
            dev.tree.release()        # collector walking every line of the estate
        devices.clear()
        if enabled:
            gc.enable()


def _verify(intent: Intent, configs: dict[str, str], radius: dict[str, str] | None,
            devices: dict[str, DeviceText], firewall: str | None = None) -> Report:
    report = Report()
    t0 = time.perf_counter()
    read, notes = _read_all(intent, configs)
    devices.update(read)
    report.findings += notes
    t1 = time.perf_counter()
    net = Network(devices)
    spec = Spec(intent)
    matrix = Matrix(intent)
    t2 = time.perf_counter()
    for found, results in (check_input(devices), check_vrfs(intent, spec, devices, net),
                           check_l2(intent, spec, devices), check_wireless(intent, devices)):
        report.findings += found
        report.checks += results
    l2 = L2Paths(intent, devices)
    l2.run()
    report.findings += l2.findings
    report.checks += l2.checks
    required = RequiredFlows(intent, devices, net, l2)
    required.run()
    report.findings += required.findings
    report.checks += required.checks
    report.required = required.table()
    fw = read_firewall(FIREWALL_FILE, firewall) if firewall is not None else None
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
    files, origin = radius_files(intent, radius)
    found, results = check_radius(intent, files, origin)
    report.findings += found
    report.checks += results
    t3 = time.perf_counter()
    proof = Proof(intent, matrix, devices, net)
    proof.run()
    report.findings += proof.findings
    report.checks += proof.checks
    report.rows = [r for r in matrix.rows() if any(k[0] == r for k in proof.cells)]
    report.columns = matrix.columns()
    report.cells = proof.cells_out()
    t4 = time.perf_counter()
    report.notes = list(ASSUMPTIONS)
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
    report.timings = {"parse": t1 - t0, "network": t2 - t1, "checks_abce": t3 - t2,
                      "matrix": t4 - t3, "total": t4 - t0}
    return report


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
