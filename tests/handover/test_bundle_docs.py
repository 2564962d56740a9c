"""The handover files beyond configs: ROS, topology, DHCP scopes, VLAN/VRF table, runbook."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from nornir_tasks.handover.documents import build_docs
from nornir_tasks.handover.ros import Severity, ros_findings
from nornir_tasks.handover.tables import RUNBOOK
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Overlay, Role

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def docs(intent: Intent) -> dict[str, str]:
    return build_docs(intent)


def test_bundle_holds_every_handover_document(built: Path) -> None:
    for rel in ("ros.md", "ros.json", "vlans-vrfs.md", "dhcp.md", "dhcp-scopes.csv",
                "topology.md", "topology.svg", "runbook.md", "secrets.md", "ssids.md",
                "ip-plan.csv", "zone-matrix.md", "zone-matrix.json", "zones.md"):
        assert (built / "docs" / rel).is_file(), rel
    assert (built / "radius" / "authorization.csv").is_file()


# --------------------------------------------------------------------------- ROS


def test_ros_names_the_single_uplink_sites_of_the_reference_estate(
        intent: Intent, docs: dict[str, str]) -> None:
    found = {f.id: f for f in ros_findings(intent)}
    wan = found["WAN-SINGLE-UPLINK"]
    assert wan.severity is Severity.high
    single = {s for s, site in intent.sites.items() if site.circuit is not None}
    assert set(wan.subjects) == single and "alta_skole" in wan.subjects
    section = docs["ros.md"].split("## WAN-SINGLE-UPLINK", 1)[1].split("\n## ", 1)[0]
    assert "| alta_skole | school | FIB-00009 |" in section
    assert "Consequence:" in section and "Mitigation:" in section


def test_ros_names_the_real_risks(intent: Intent) -> None:
    found = {f.id: f for f in ros_findings(intent)}
    gre = {s for s, site in intent.sites.items()
           if site.circuit is not None and site.circuit.overlay is Overlay.gre}
    assert set(found["CIRCUIT-GRE-OVER-L3VPN"].subjects) == gre and len(gre) == 10
    assert {"CORE-LANDING-radhuset-core01", "CORE-LANDING-radhuset-core02",
            "SPOF-INTERNET-FIREWALL", "SITE-radhuset", "SPOF-SYSLOG",
            "PORTS-EDGE-NO-DOT1X", "PORTS-MAB-INTO-ZONES",
            "ZONE-SHARED-SERVICES", "COLOCATED-WLC-radhuset-wlc01"} <= set(found)
    # access points authenticate on their trunks (802.1X): no open AP port finding
    assert "PORTS-AP-TRUNK-NO-DOT1X" not in found
    # every accepted exposure is a finding of its own, with the intent's reason
    accepted = [f for f in found.values() if f.category == "accepted exposure"]
    assert len(accepted) == len(intent.policy.accepted_exposures) > 0
    assert all(a.reason in f.consequence for a, f in zip(
        intent.policy.accepted_exposures, sorted(accepted, key=lambda f: int(
            f.id.rsplit("-", 1)[1])), strict=True))
    # the controller is an SSO pair and RADIUS has two servers: no single-box finding
    assert "SPOF-WLC-radhuset-wlc01" not in found and "SPOF-RADIUS" not in found
    assert found["PORTS-EDGE-NO-DOT1X"].subjects == ("printer",)
    assert "printing" in found["ZONE-SHARED-SERVICES"].subjects


def test_ros_is_ordered_and_machine_readable(intent: Intent, docs: dict[str, str]) -> None:
    findings = ros_findings(intent)
    assert [f.severity for f in findings] == sorted(f.severity for f in findings)
    data = json.loads(docs["ros.json"])["findings"]
    assert [d["id"] for d in data] == [f.id for f in findings]
    assert all(d["consequence"] and d["mitigation"] for d in data)


def test_ros_sees_a_second_radius_server_go(inventory_copy: Path) -> None:
    from nornir_tasks.intent.loader import load_intent

    aaa = inventory_copy / "group_vars" / "all" / "aaa.yml"
    aaa.write_text(aaa.read_text().replace("      - {name: radius02, address: 10.11.0.12}\n",
                                           ""))
    found = {f.id: f for f in ros_findings(load_intent(inventory_copy))}
    assert found["SPOF-RADIUS"].severity is Severity.high


# --------------------------------------------------------------------------- topology


def test_topology_svg_is_well_formed_and_names_every_site(intent: Intent,
                                                          docs: dict[str, str]) -> None:
    root = ET.fromstring(docs["topology.svg"].encode())
    assert root.tag == f"{SVG}svg"
    texts = {t.text for t in root.iter(f"{SVG}text")}
    for slug, site in intent.sites.items():
        if site.circuit is not None:
            assert any(t and (t == site.name or t.startswith(site.name[:20])) for t in texts), \
                slug
    for core in (h for h, d in intent.devices.items() if d.role is Role.core):
        assert core in texts


def test_each_site_has_a_picture_and_a_mermaid_diagram(intent: Intent,
                                                       docs: dict[str, str]) -> None:
    for slug in intent.sites:
        svg = ET.fromstring(docs[f"topology/{slug}.svg"].encode())
        texts = {t.text for t in svg.iter(f"{SVG}text")}
        for host in intent.site_devices(slug):
            assert host in texts or any(t and t.endswith("…") and host.startswith(t[:-1])
                                        for t in texts), (slug, host)
        sheet = docs[f"sites/{slug}.md"]
        assert "```mermaid\nflowchart TB" in sheet
    assert "```mermaid\nflowchart LR" in docs["topology.md"]
    sheet = docs["sites/alta_skole.md"]
    assert "n_alta_skole_dist01 ---|\"TenGigabitEthernet1/0/1\"| n_alta_skole_acc01" in sheet


def test_limit_keeps_estate_docs_and_cuts_site_pictures(intent: Intent) -> None:
    part = build_docs(intent, set(intent.site_devices("alta_skole")))
    assert [p for p in part if p.startswith("topology/")] == ["topology/alta_skole.svg"]
    assert part["ros.md"] == build_docs(intent)["ros.md"]


# --------------------------------------------------------------------------- DHCP, VLANs


def test_dhcp_scopes(intent: Intent, docs: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(docs["dhcp-scopes.csv"])))
    want = {(s, z) for s, site in intent.sites.items() for z in site.prefixes
            if intent.zones[z].dhcp}
    assert {(r["site"], r["zone"]) for r in rows} == want
    static = {d.ansible_host for d in intent.devices.values() if d.ansible_host}
    for r in rows:
        net = ipaddress.IPv4Network(f"{r['network']}/{r['netmask']}")
        lo, hi = ipaddress.IPv4Address(r["range_start"]), ipaddress.IPv4Address(r["range_end"])
        gw = ipaddress.IPv4Address(r["gateway"])
        assert lo in net and hi in net and lo <= hi
        assert net.network_address < lo and hi < net.broadcast_address
        assert not lo <= gw <= hi
        assert not any(lo <= a <= hi for a in static if a in net), r
        assert int(r["addresses"]) == int(hi) - int(lo) + 1
    aps = next(r for r in rows if r["site"] == "radhuset" and r["zone"] == "aps")
    assert aps["capwap_controller"] == "10.0.0.10"  # option 43 where the APs are
    mgmt = next(r for r in rows if r["site"] == "radhuset" and r["zone"] == "mgmt")
    assert mgmt["capwap_controller"] == ""
    assert "10.0.0.2" in mgmt["excluded"].split()  # core01's own SVI address


def test_vlan_vrf_table(intent: Intent, docs: dict[str, str]) -> None:
    text = docs["vlans-vrfs.md"]
    for z in intent.zones.values():
        assert f"| {z.vrf} |" in text and f"| {z.vlan} |" in text
    assert "| alta_skole | VLAN | radhuset-core02 | 2129 |" in text
    assert "| komagfjord_skole | GRE tunnel |" in text


def test_runbook_travels_with_the_bundle(docs: dict[str, str]) -> None:
    assert docs["runbook.md"].startswith(RUNBOOK.read_text().rstrip("\n") + "\n")
    assert "FELLESNETT_SECRET_TACACS_KEY" in docs["runbook.md"]
    for heading in ("## Deploy a change", "## Roll back", "## Add a site",
                    "## Replace a switch", "## Rotate a secret"):
        assert heading in docs["runbook.md"]
