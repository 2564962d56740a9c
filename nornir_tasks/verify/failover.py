"""Dual-homed sites: the zone matrix and the required flows proven again with each of a
site's circuits removed in turn.

A circuit is removed the hard way: its provider fails in the middle while every
interface on it stays up (the per-zone VLAN interfaces or GRE tunnels at the site gateway
and at the core keep their connected routes). Nothing reaches an address of the
circuit's transit block any more: a route through it drops its packets, and a tracked
route whose probe targets the far end of the circuit is withdrawn
(:meth:`~nornir_tasks.verify.routing.Network._track_down`), so a floating route takes
over if the configs have one. (A fibre cut that takes the interfaces down is the easier
case: their connected routes go too, and the same floating routes take over.) The whole
matrix and every required flow are proven again on that network; any violation is
reported with the circuit it happened without.

The scenario comes from the intent (which block belongs to which circuit); everything it
concludes comes from the config text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from nornir_tasks.intent.loader import Intent
from nornir_tasks.verify.flows import RequiredFlows
from nornir_tasks.verify.l2 import L2Paths
from nornir_tasks.verify.matrix import Matrix
from nornir_tasks.verify.model import DeviceText, Interface
from nornir_tasks.verify.report import VIOLATION, CheckResult, Finding
from nornir_tasks.verify.routing import Network
from nornir_tasks.verify.zoneproof import Proof

CHECK = "failover"


@dataclass(frozen=True)
class Cut:
    """One circuit of a dual-homed site, removed."""

    site: str
    which: str  # first | second
    circuit_id: str
    low: int  # the circuit's transit block, as integers
    high: int

    @property
    def label(self) -> str:
        return f"{self.site} without its {self.which} circuit {self.circuit_id}"


def cuts(intent: Intent) -> list[Cut]:
    out = []
    for slug, site in sorted(intent.sites.items()):
        if site.backup_circuit is None or site.circuit is None:
            continue
        for which, circuit, block in (("first", site.circuit, site.transit),
                                      ("second", site.backup_circuit, site.backup_transit)):
            if block is not None:
                out.append(Cut(slug, which, circuit.circuit_id, int(block.network_address),
                               int(block.broadcast_address)))
    return out


def prove_failover(intent: Intent, devices: dict[str, DeviceText],
                   hop: DeviceText | None) -> tuple[list[Finding], list[CheckResult]]:
    """Every dual-homed site's circuits, each removed in turn: the violations found
    without it, and one check row per removal."""
    todo = cuts(intent)
    if not todo:
        return [], []
    l2 = L2Paths(intent, devices)  # layer 2 does not change when a routed link goes down
    l2.run()
    findings: list[Finding] = []
    checks: list[CheckResult] = []
    for cut in todo:
        down = _interfaces_of(cut, devices)
        net = Network(devices, hop, dark=(cut.low, cut.high))
        proof = Proof(intent, Matrix(intent), net.devices, net)
        proof.run()
        flows = RequiredFlows(intent, devices, net, l2)
        flows.run()
        bad = [f for f in (*proof.findings, *flows.findings) if f.severity == VIOLATION]
        findings += [dataclasses.replace(f, check=CHECK, message=f"{cut.label} "
                                         f"({f.check}): {f.message}") for f in bad]
        if not down:
            findings.append(Finding(CHECK, VIOLATION, f"{cut.label}: no interface of the "
                                    "configs has an address in its transit block, so the "
                                    "circuit is not in the configs", site=cut.site))
        checks.append(CheckResult(CHECK, cut.label, "fail" if bad or not down else "pass",
                                  proof.probe_count,
                                  {"interfaces_dark": len(down), "violations": len(bad),
                                   "required_flows": len(flows.table())}))
    return findings, checks


def _interfaces_of(cut: Cut, devices: dict[str, DeviceText]) -> list[Interface]:
    """The circuit's interfaces in the configs (the site's and the core's ends)."""
    return [intf for dev in devices.values() for intf in dev.interfaces.values()
            if intf.routed and intf.up
            and any(cut.low <= a.ip <= cut.high for a in intf.addresses)]
