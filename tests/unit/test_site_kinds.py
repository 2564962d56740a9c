"""Site kinds are data (``group_vars/all/site_kinds.yml``): an estate defines its own, and
a kind added there gets sites, zones, SSIDs and controller profiles without a line of
code. The checks hold every use of a kind to that definition (tests/intent_cases/
site_kind*, pool_prefix_length_unknown_kind, ssid_unknown_site_kind)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_site_add import l2

from nornir_tasks.build import build
from nornir_tasks.errors import UsageError
from nornir_tasks.handover.ros import ros_findings
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.site_add import add_site

ROOT = Path(__file__).resolve().parents[2]
NORDBY = ROOT / "tests" / "fixtures" / "nordby"
FELLESNETT = Path(sys.executable).with_name("fellesnett")
#: the zones a public library has: no pupils, no admin, no phones
LIBRARY_ZONES = {"mgmt": 27, "aps": 28, "staff": 26, "guest": 25, "printers": 28}


def _edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def add_library_kind(inv: Path, printer_port: bool = True) -> None:
    """What the engineer writes for a new kind: its definition, its zones' prefix
    lengths and its SSIDs. No code."""
    gv = inv / "group_vars" / "all"
    with (gv / "site_kinds.yml").open("a") as f:
        f.write("  library:\n    description: Public libraries (folkebibliotek)\n"
                f"    printer_port: {str(printer_port).lower()}\n")

    def pools(d: dict[str, Any]) -> None:
        for zone, length in LIBRARY_ZONES.items():
            d["address_pools"]["zones"][zone]["prefix_length"]["library"] = length

    def ssids(d: dict[str, Any]) -> None:
        for ssid in d["wireless"]["ssids"]:
            ssid["site_kinds"].append("library")

    _edit(gv / "addressing.yml", pools)
    _edit(gv / "wireless.yml", ssids)


@pytest.fixture
def nordby(tmp_path: Path) -> Path:
    inv = tmp_path / "nordby"
    shutil.copytree(NORDBY, inv)
    return inv


def test_a_kind_defined_in_the_inventory_gets_a_site_that_builds_and_is_proven(
        nordby: Path, tmp_path: Path) -> None:
    add_library_kind(nordby)
    r = add_site(nordby, "Nordby bibliotek", "library", l2(), aps=2)
    intent = load_intent(nordby)
    site = intent.sites[r.slug]
    assert site.kind == "library"
    # the kind's zones, nothing else: no pupils, admin or voice prefix was allocated
    assert {z: n.prefixlen for z, n in site.prefixes.items()} == LIBRARY_ZONES
    # its hosts.yml group follows the order of site_kinds: after the core site's
    groups = list(yaml.safe_load((nordby / "hosts.yml").read_text())["all"]["children"])
    assert groups == ["school", "kindergarten", "health", "core_site", "library"]

    result = build(nordby, tmp_path / "build")
    assert result.verified == "proven"
    wlc = next((tmp_path / "build" / "configs").rglob("*-wlc01.cfg")).read_text()
    # the library's APs may put clients only in its own client zones that its AP ports
    # carry (printers are wired): a profile of its own, named after the kind
    profile = wlc.split("wireless profile flex FP-LIBRARY\n", 1)[1].split("!", 1)[0]
    vlans = {line.split()[-1] for line in profile.splitlines()
             if line.strip().startswith("vlan-name")}
    assert vlans == {"STAFF", "GUEST"}, profile
    zones_md = (tmp_path / "build" / "docs" / "zones.md").read_text()
    assert "| library | Public libraries (folkebibliotek) | 1 | 0 |" in zones_md


@pytest.mark.parametrize("printer_port", [True, False])
def test_the_kind_decides_the_printer_port_of_site_add(nordby: Path,
                                                       printer_port: bool) -> None:
    add_library_kind(nordby, printer_port=printer_port)
    r = add_site(nordby, "Nordby bibliotek", "library", l2(), access_switches=1, aps=1)
    intent = load_intent(nordby)
    printers = [i for h in r.hosts if h in intent.devices
                for pa in intent.devices[h].ports if pa.profile == "printer"
                for i in expand_interface_range(pa.range)]
    assert len(printers) == (1 if printer_port else 0)


def test_site_add_names_the_kinds_of_this_estate(nordby: Path) -> None:
    before = sorted(p.relative_to(nordby) for p in nordby.rglob("*"))
    # Nordby has no education units: a kind of the reference estate is not one of its own
    with pytest.raises(UsageError, match=r"unknown site kind 'education_unit'; the kinds "
                       r"of this estate \(site_kinds\): school, kindergarten, health$"):
        add_site(nordby, "Nordby kulturskole", "education_unit", l2())
    proc = subprocess.run([str(FELLESNETT), "site", "add", "-i", str(nordby), "--name",
                           "Nordby bibliotek", "--kind", "library", "--circuit-type", "l2",
                           "--provider", "Fiber AS", "--circuit-id", "F-1", "--bandwidth", "100"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "unknown site kind 'library'" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.relative_to(nordby) for p in nordby.rglob("*")) == before


def test_the_risk_report_rates_by_the_kinds_children_flag(inventory_copy: Path) -> None:
    def gre_severity(inv: Path) -> str:
        (f,) = [f for f in ros_findings(load_intent(inv)) if f.id == "CIRCUIT-GRE-OVER-L3VPN"]
        return f.severity.name

    # Kåfjord barnehage rides GRE: children are exposed, so the finding is high
    assert gre_severity(inventory_copy) == "high"

    def no_children(d: dict[str, Any]) -> None:
        for kind in d["site_kinds"].values():
            kind.pop("children", None)

    _edit(inventory_copy / "group_vars" / "all" / "site_kinds.yml", no_children)
    assert gre_severity(inventory_copy) == "medium"


def test_the_lab_picks_its_default_sites_by_the_kinds_not_their_names() -> None:
    from nornir_tasks.lab.plan import choose_sites

    # Nordby has no `municipal` kind: a site of its first kind without children stands in
    intent = load_intent(NORDBY)
    sites = choose_sites(intent, None)
    assert sites == ["nordby_skole", "nordby_helsestasjon"]
    assert [intent.site_kinds[intent.sites[s].kind].children for s in sites] == [True, False]
