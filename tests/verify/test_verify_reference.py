"""The clean reference build verifies: 0 violations, the matrix the inventory states.

One build per session (the shared ``built`` fixture); verify runs once on it here and the
tests read that one report.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

import pytest

from nornir_tasks.intent.flows import host_zones, zone_holding
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import FlowEnd
from nornir_tasks.verify import Report, load_configs, register, verify

INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
#: the brief: the reference estate verifies in well under 10 s
BUDGET_S = 10.0


@pytest.fixture(scope="session")
def configs(built: Path) -> dict[str, str]:
    return load_configs(built)


@pytest.fixture(scope="session")
def report(intent: Intent, configs: dict[str, str]) -> Report:
    return verify(intent, configs)


def test_reference_estate_is_proven(report: Report) -> None:
    assert report.violations == [], "\n".join(f.text() for f in report.violations[:20])
    assert report.ok
    assert report.stats["devices"] >= 200


def test_reference_estate_verifies_fast(intent: Intent, configs: dict[str, str]) -> None:
    start = time.perf_counter()
    verify(intent, configs)
    assert time.perf_counter() - start < BUDGET_S


def test_every_zone_and_service_is_a_column(report: Report, intent: Intent) -> None:
    for name in [*intent.zones, *intent.services, "internet"]:
        assert name in report.columns
    for zone in intent.zones:
        assert zone in report.rows


@pytest.mark.parametrize(("row", "column", "status", "text"), [
    # pupils: internet and school services only
    ("pupils", "internet", "allowed", "allowed ✓ (any)"),
    ("pupils", "learning_platform", "allowed", "allowed ✓ (tcp/443, icmp)"),
    ("pupils", "printing", "allowed", "allowed ✓ (tcp/443, tcp/631, tcp/9100, icmp)"),
    ("pupils", "admin_systems", "denied", "denied ✓"),
    ("pupils", "files", "denied", "denied ✓"),
    ("pupils", "admin", "denied", "denied ✓"),
    ("pupils", "mgmt", "denied", "denied ✓"),
    ("pupils", "pupils", "same zone", "same zone ✓"),
    # staff: shared municipal services and school services
    ("staff", "mail", "allowed", "allowed ✓ (tcp/25, tcp/443, tcp/587, tcp/993, icmp)"),
    ("staff", "files", "allowed", "allowed ✓ (tcp/445, icmp)"),
    ("staff", "admin_systems", "denied", "denied ✓"),
    # admin: everything staff has, plus the admin systems
    ("admin", "admin_systems", "allowed", "allowed ✓ (tcp/443, tcp/1433, icmp)"),
    # voice: the PBX only; guest: the internet only
    ("voice", "pbx", "allowed", "allowed ✓ (udp/5060, tcp/5061, udp/10000-20000, icmp)"),
    ("voice", "internet", "denied", "denied ✓"),
    ("guest", "internet", "allowed", "allowed ✓ (any)"),
    ("guest", "dns", "allowed", "allowed ✓ (udp/53, tcp/53)"),
    ("guest", "ntp", "denied", "denied ✓"),
    ("guest", "staff", "denied", "denied ✓"),
    # nobody but the operator reaches device management: the NOC and the monitoring
    # system sit in the management zone itself; RADIUS reaches it for CoA only
    ("staff", "mgmt", "denied", "denied ✓"),
    ("pupils", "mgmt", "denied", "denied ✓"),
    ("aps", "mgmt", "denied", "denied ✓"),
    ("noc", "mgmt", "same zone", "same zone ✓"),
    ("snmp_monitoring", "mgmt", "same zone", "same zone ✓"),
    ("radius", "mgmt", "allowed", "allowed ✓ (udp/1700)"),
    ("mgmt", "radius", "allowed", "allowed ✓ (udp/1812, udp/1813)"),
    # access points reach the controller's CAPWAP, and nothing else of management
    ("aps", "wlc", "allowed", "allowed ✓ (udp/5246, udp/5247)"),
    # infrastructure services apart from user-facing ones: pupils get DHCP and DNS, never
    # RADIUS or TACACS+
    ("pupils", "dhcp", "allowed", "allowed ✓ (udp/67)"),
    ("pupils", "dns", "allowed", "allowed ✓ (udp/53, tcp/53)"),
    ("pupils", "radius", "denied", "denied ✓"),
    ("pupils", "tacacs", "denied", "denied ✓"),
    # a spoofed printer MAC gets a printer's zone: nothing but DHCP and DNS
    ("printers", "files", "denied", "denied ✓"),
    ("printers", "staff", "denied", "denied ✓"),
])
def test_pair_matches_the_matrix(report: Report, row: str, column: str, status: str,
                                 text: str) -> None:
    if row not in report.rows:
        pytest.skip(f"{row} is not placed at a site in this intent")
    cell = report.cells[(row, column)]
    assert (cell.status, cell.text.rstrip(" †")) == (status, text)
    assert cell.pairs > 0 and cell.violations == 0


def test_every_cell_agrees_with_the_intent(report: Report, intent: Intent) -> None:
    """A cell is allowed exactly when a rule or infrastructure flow names the pair."""
    pol = intent.policy
    for zone in intent.zones:
        for column in report.columns:
            cell = report.cells.get((zone, column))
            if cell is None or cell.status in ("same zone",):
                continue
            named = any(r.from_ == zone and r.to == column for r in pol.rules) or any(
                zone in host_zones(intent, f.from_) and _answers(intent, f.to, column)
                for f in pol.infrastructure)
            assert (cell.status == "allowed") == named, (zone, column, cell)


def _answers(intent: Intent, end: FlowEnd, column: str) -> bool:
    """Is the matrix column (a zone or a service) the answering end of a flow?"""
    if column == end.service:
        return True
    zones = host_zones(intent, end)
    if column in intent.services:
        return zone_holding(intent, list(intent.services[column].prefixes)) in zones
    return column in zones


def test_radius_policy_is_checked_when_the_module_exists(report: Report) -> None:
    import importlib.util

    radius = [c for c in report.checks if c.check == "radius"]
    if importlib.util.find_spec("nornir_tasks.radius") is None:
        assert all(c.result == "skipped" for c in radius)
    else:
        assert radius and all(c.result == "pass" for c in radius), radius


def test_json_and_markdown_outputs(report: Report) -> None:
    data = json.loads(report.to_json())
    assert data["ok"] is True and data["summary"]["violations"] == 0
    assert {"matrix", "checks", "violations", "notes", "timings_s"} <= set(data)
    assert data["matrix"]["cells"]["pupils"]["admin_systems"]["status"] == "denied"
    assert {c["check"] for c in data["checks"]} >= {"vrf", "l2", "wireless", "matrix",
                                                     "policy-point"}
    md = report.to_markdown()
    assert "**Result: PROVEN**" in md
    assert "| **pupils** |" in md


def _cli(argv: list[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="fellesnett")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", *argv])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = int(args.func(args))
    return code, out.getvalue(), err.getvalue()


def test_cli_proves_the_build_and_writes_markdown(built: Path, tmp_path: Path) -> None:
    md = tmp_path / "docs" / "zone-proof.md"
    code, out, err = _cli(["--configs", str(built), "--inventory", str(INVENTORY),
                           "--markdown", str(md)])
    assert code == 0, out + err
    assert "PROVEN" in out
    assert "| from \\ to |" in md.read_text(encoding="utf-8")


def test_cli_accepts_the_configs_directory_itself(built: Path) -> None:
    code, out, _ = _cli(["--configs", str(built / "configs"), "--inventory", str(INVENTORY),
                         "--json"])
    assert code == 0
    assert json.loads(out)["ok"] is True


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_cli_unreadable_input_exits_2(tmp_path: Path, where: str) -> None:
    target = tmp_path / "nothing"
    if where == "empty":
        target.mkdir()
    code, out, err = _cli(["--configs", str(target), "--inventory", str(INVENTORY)])
    assert code == 2
    assert "Traceback" not in err and "cannot read the configs" in err


def test_cli_invalid_inventory_exits_2(built: Path, tmp_path: Path) -> None:
    code, _, err = _cli(["--configs", str(built), "--inventory", str(tmp_path)])
    assert code == 2
    assert "intent is invalid" in err
