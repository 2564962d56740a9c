"""Dual-homed sites (tests/fixtures/nordby): a second circuit allocated with `site
add-circuit`, tracked static routes with a floating backup, and verify proving the
network with each circuit removed in turn; the ROS report names only single-homed sites."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from test_site_add import only_added, tree

from nornir_tasks.build import build
from nornir_tasks.circuit_add import add_circuit
from nornir_tasks.errors import IntentError, UsageError
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.verify import load_configs, verify

NORDBY = Path(__file__).resolve().parents[1] / "fixtures" / "nordby"
DUAL = {"nordby_skole", "nordby_helsestasjon", "solsikken_barnehage"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nordby-dual") / "build"
    assert build(NORDBY, out).verified == "proven"
    return out


@pytest.fixture()
def nordby(tmp_path: Path) -> Path:
    dst = tmp_path / "nordby"
    shutil.copytree(NORDBY, dst)
    return dst


def test_every_circuit_of_every_dual_homed_site_is_proven_removed(built: Path) -> None:
    data = json.loads((built / "docs" / "zone-matrix.json").read_text())
    rows = [c for c in data["checks"] if c["check"] == "failover"]
    intent = load_intent(NORDBY)
    want = {f"{s} without its {which} circuit {c.circuit_id}"
            for s in DUAL for which, c in (("first", intent.sites[s].circuit),
                                           ("second", intent.sites[s].backup_circuit))
            if c is not None}
    assert {r["subject"] for r in rows} == want and len(want) == 6
    assert all(r["result"] == "pass" and r["detail"]["interfaces_dark"] > 0
               and r["count"] > 0 for r in rows)


def test_the_gateway_tracks_its_first_circuit_and_floats_the_second(built: Path) -> None:
    intent = load_intent(NORDBY)
    text = (built / "configs" / "nordby_skole" / "nordby-skole-dist01.cfg").read_text()
    zones = intent.zones_at(intent.sites["nordby_skole"])
    tracked = re.findall(r"^ip route vrf (\S+) 0\.0\.0\.0 0\.0\.0\.0 (\S+) name "
                         r"default-via-core track 1$", text, re.M)
    floating = re.findall(r"^ip route vrf (\S+) 0\.0\.0\.0 0\.0\.0\.0 (\S+) 250 name "
                          r"default-via-backup$", text, re.M)
    vrfs = sorted(intent.zones[z].vrf for z in zones)
    assert sorted(v for v, _ in tracked) == vrfs == sorted(v for v, _ in floating)
    probe = re.search(r"^ip sla 1\n icmp-echo (\S+) source-interface (Vlan\d+)\n vrf MGMT\n"
                      r" frequency 5\nip sla schedule 1 life forever start-time now$", text, re.M)
    assert probe is not None
    assert probe.group(1) == dict(tracked)["MGMT"]  # the core's end of the MGMT link
    assert re.search(r"^track 1 ip sla 1 reachability\n delay down 10 up 30$", text, re.M)


@pytest.mark.parametrize(("host", "old", "new"), [
    # the site's default routes lose their track: they keep sending into the dead circuit
    ("nordby-skole-dist01", " name default-via-core track 1", " name default-via-core"),
    # no floating default route: nothing takes over
    ("nordby-skole-dist01", None, "default-via-backup"),
    # the core's route to the site loses its track
    ("nordby-radhus-core01", " name nordby_skole track ", " name nordby_skole tag "),
])
def test_a_broken_failover_is_caught_with_the_circuit_and_the_line(
        built: Path, host: str, old: str | None, new: str) -> None:
    intent = load_intent(NORDBY)
    configs = load_configs(built)
    text = configs[host]
    if old is None:
        text = "\n".join(line for line in text.splitlines() if new not in line) + "\n"
    else:
        assert old in text
        text = text.replace(old, new)
    configs[host] = text
    report = verify(intent, configs)
    bad = [f for f in report.violations if f.check == "failover"]
    assert bad, "verify missed the broken failover"
    assert all("nordby_skole without its first circuit NF-0001" in f.message for f in bad)
    assert not [f for f in report.violations if f.check != "failover"]  # normal day: fine
    rows = {c.subject: c.result for c in report.checks if c.check == "failover"}
    assert rows["nordby_skole without its first circuit NF-0001"] == "fail"
    assert rows["nordby_skole without its second circuit BN-0101"] == "pass"


def test_the_ros_report_names_only_the_single_homed_site(built: Path) -> None:
    ros = json.loads((built / "docs" / "ros.json").read_text())
    findings = ros["findings"] if isinstance(ros, dict) else ros
    single = [f for f in findings if f["id"] == "WAN-SINGLE-UPLINK"]
    assert len(single) == 1
    assert [s for s in single[0]["subjects"]] == ["nordby_sykehjem"]


def test_site_add_circuit_adds_lines_only_and_allocates_free_blocks(nordby: Path) -> None:
    rel = "group_vars/site_nordby_sykehjem.yml"
    old = (nordby / rel).read_text()
    before = load_intent(nordby)
    r = add_circuit(nordby, "site_nordby_sykehjem", {
        "type": "l2", "provider": "Backbone Nord AS", "circuit_id": "BN-0104",
        "bandwidth_mbps": 500})
    added = only_added(old, (nordby / rel).read_text())
    assert added[0] == "  backup_circuit:\n" and len(added) == r.lines_added == 10
    site = load_intent(nordby).sites["nordby_sykehjem"]
    assert site.backup_circuit is not None and site.circuit is not None
    assert site.backup_circuit.core != site.circuit.core  # the other core by default
    used = [s.transit for s in before.sites.values()] + [
        s.backup_transit for s in before.sites.values() if s.backup_transit]
    assert site.backup_transit is not None and not any(
        site.backup_transit.overlaps(u) for u in used if u is not None)
    assert site.backup_wan_vlan_base not in {s.wan_vlan_base for s in before.sites.values()}


@pytest.mark.parametrize(("slug", "message"), [
    ("nordby_skole", "has two circuits already"),
    ("nordby_radhus", "is the core site"),
    ("nowhere", "no site 'nowhere'"),
])
def test_site_add_circuit_refusals_change_nothing(nordby: Path, slug: str,
                                                  message: str) -> None:
    before = tree(nordby)
    with pytest.raises(UsageError, match=message):
        add_circuit(nordby, slug, {"type": "l2", "provider": "P", "circuit_id": "X",
                                   "bandwidth_mbps": 100})
    assert tree(nordby) == before


def _edit(inv: Path, slug: str, old: str, new: str) -> None:
    f = inv / f"group_vars/site_{slug}.yml"
    text = f.read_text()
    assert old in text
    f.write_text(text.replace(old, new))


@pytest.mark.parametrize(("old", "new", "path", "message"), [
    ("site_interface: TenGigabitEthernet1/1/2", "site_interface: TenGigabitEthernet1/1/1",
     "site.backup_circuit.site_interface", "the first circuit's port"),
    ("circuit_id: BN-0101", "circuit_id: NF-0001", "site.backup_circuit.circuit_id",
     "the first circuit's id too"),
    ("  backup_wan_vlan_base: 2080\n", "", "site.backup_wan_vlan_base",
     "required with a backup_circuit"),
    ("  index: 2\n", "  index: 1001\n", "site.index", "IOS-XE numbers 1-1000"),
])
def test_bad_second_circuits_are_refused(nordby: Path, old: str, new: str, path: str,
                                         message: str) -> None:
    _edit(nordby, "nordby_skole", old, new)
    with pytest.raises(IntentError) as exc:
        load_intent(nordby)
    assert any(p.path == path and message in p.message for p in exc.value.problems), \
        exc.value.problems
