"""verify scales with sites, not with sites squared, and proves exactly what it proved.

The zone matrix is proven by classes (docs/verify.md, "How the proof scales"): sources
whose own part of the path (gateway, default route, core ingress ACL) is alike share the
core-level verdicts towards destinations whose rest of the path is alike. Two things are
tested here, on estates the generator writes and the build renders:

* equivalence: the factored proof reports exactly what walking every source towards every
  destination on its own reports (``Proof.PAIR_BY_PAIR``, the definition): the same
  findings (device, line, zone pair, sites, destinations, probes, message), matrix and
  checks, on a clean estate and on faults of every kind the factoring treats on its own
  (class-wide ACL lines, one site's SVI, one site's route, an undefined ACL, a gateway
  with its own routes or ACL or no way out, a party split by an ACL prefix, replies, a
  routing loop through a gateway, a VRF crossing);
* scaling: doubling the sites of an estate about quadruples its zone pairs but leaves the
  number of core-level evaluations (blocks, reply blocks) where it was; the walks grow
  with the destinations, and the pairs evaluated one by one at most with the sites.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from verify_faults import apply_patch

from nornir_tasks.build import build
from nornir_tasks.estate import SYNTHETIC_POOLS, reference_specs, synthetic_specs, write_estate
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.verify import Report, load_configs, load_radius, verify
from nornir_tasks.verify.zoneproof import Proof

INVENTORY = Path(__file__).resolve().parents[2] / "inventory"


def _estate(root: Path, specs: list[Any], pools: dict[str, Any] | None = None) -> Path:
    """Write an inventory for ``specs`` under ``root`` and build it (no proof): the
    build output."""
    gv = root / "group_vars_all"
    shutil.copytree(INVENTORY / "group_vars" / "all", gv)
    write_estate(root / "inventory", specs, gv, pools)
    out = root / "build"
    build(root / "inventory", out, run_verify=False)
    return out


def _data(report: Report) -> dict[str, Any]:
    data = report.to_data()
    del data["timings_s"], data["work"]
    return data


@contextlib.contextmanager
def pair_by_pair() -> Iterator[None]:
    """Prove pair by pair: every source walked towards every destination on its own."""
    Proof.PAIR_BY_PAIR = True
    try:
        yield
    finally:
        Proof.PAIR_BY_PAIR = False


# --------------------------------------------------------------------------- equivalence


@pytest.fixture(scope="module")
def schools(tmp_path_factory: pytest.TempPathFactory) -> tuple[Intent, Path]:
    """The town hall and the first eight schools of the reference (Alta skole last):
    their configs are those of the reference estate."""
    root = tmp_path_factory.mktemp("schools")
    out = _estate(root, reference_specs()[:9])
    return load_intent(root / "inventory"), out


ACL_PUPILS = '^ip access-list extended ZONE-PUPILS-IN$'
#: core02's route to Alta skole's staff prefix
STAFF_ROUTE = "ip route vrf STAFF 10.64.11.0 255.255.255.0 10.255.1.7 name alta_skole"
FAULTS: dict[str, list[dict[str, Any]]] = {
    "clean": [],
    "class-wide ACL line": [
        {"host": "radhuset-core01", "after": ACL_PUPILS, "insert": [" 5 permit ip any any"]}],
    "ACL blocks an allowed flow on one core": [
        {"host": "radhuset-core02", "after": "^ip access-list extended ZONE-STAFF-IN$",
         "insert": [" 5 deny tcp any host 10.10.30.10 eq 443"]}],
    "one site's transit SVI without ACL": [
        {"host": "radhuset-core01", "within": "^interface Vlan2018$",
         "delete": "^ ip access-group ZONE-PUPILS-IN in$"}],
    "an undefined ACL on one SVI": [
        {"host": "radhuset-core02", "within": "^interface Vlan2134$",
         "replace": {"old": " ip access-group ZONE-GUEST-IN in",
                     "new": " ip access-group ZONE-GUST-IN in"}}],
    "the town hall's SVI without ACL": [
        {"host": "radhuset-core01", "within": "^interface Vlan120$",
         "delete": "^ ip access-group ZONE-STAFF-IN in$"}],
    "a gateway routes services itself": [
        {"host": "alta-skole-dist01", "after": "^ip route vrf ADMIN 0.0.0.0",
         "insert": ["ip route vrf STAFF 10.10.30.0 255.255.255.0 10.255.1.6 name direct"]}],
    "a gateway's default route to Null0": [
        {"host": "alta-skole-dist01",
         "replace": {"old": "ip route vrf GUEST 0.0.0.0 0.0.0.0 10.255.1.12 name default-via-core",
                     "new": "ip route vrf GUEST 0.0.0.0 0.0.0.0 Null0"}}],
    "a gateway's default route out of the estate": [
        {"host": "alta-skole-dist01",
         "replace": {"old": "ip route vrf MGMT 0.0.0.0 0.0.0.0 10.255.1.2 name default-via-core",
                     "new": "ip route vrf MGMT 0.0.0.0 0.0.0.0 10.0.2.200 name elsewhere"}}],
    "a gateway's own ACL": [
        {"host": "alta-skole-dist01", "within": "^interface Vlan120$",
         "after": "^ vrf forwarding STAFF$", "insert": [" ip access-group GW-STAFF in"]},
        {"host": "alta-skole-dist01", "after": "^hostname ",
         "insert": ["!", "ip access-list extended GW-STAFF", " 10 deny tcp any any eq 445",
                    " 20 permit ip any any", "!"]}],
    "a host of one site split off by an ACL": [
        {"host": "radhuset-core02", "after": ACL_PUPILS,
         "insert": [" 5 permit ip host 10.32.28.5 any"]}],
    "replies denied at the servers": [
        {"host": "radhuset-core01", "after": "^ip access-list extended ZONE-SERVERS-IN$",
         "insert": [" 5 deny tcp host 10.10.30.10 eq 443 any established"]}],
    "a core without the route to one site": [
        {"host": "radhuset-core02", "delete": f"^{STAFF_ROUTE}$"}],
    "a routing loop through another site's gateway": [  # via bossekop_ungdomsskole
        {"host": "radhuset-core02",
         "replace": {"old": STAFF_ROUTE, "new": STAFF_ROUTE.replace("10.255.1.7", "10.255.0.71")}}],
    "a VRF crossing at a gateway": [
        {"host": "alta-skole-dist01", "within": "^interface Vlan2131$",
         "replace": {"old": " vrf forwarding STAFF", "new": " vrf forwarding PUPILS"}}],
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_factored_proof_reports_what_pair_by_pair_walks_report(
        fault: str, schools: tuple[Intent, Path], tmp_path: Path) -> None:
    intent, out = schools
    work = tmp_path / "build"
    shutil.copytree(out / "configs", work / "configs")
    shutil.copytree(out / "radius", work / "radius")
    for patch in FAULTS[fault]:
        apply_patch(work, patch)
    configs, radius = load_configs(work), load_radius(work)
    factored = verify(intent, configs, radius)
    assert factored.work["blocks"] > 0
    assert factored.ok or fault != "clean"
    with pair_by_pair():
        pairwise = verify(intent, configs, radius)
    assert "blocks" not in pairwise.work
    assert _data(factored) == _data(pairwise)


def test_reference_estate_factored_equals_pair_by_pair(intent: Intent, built: Path) -> None:
    configs, radius = load_configs(built), load_radius(built)
    with pair_by_pair():
        pairwise = verify(intent, configs, radius)
    assert _data(verify(intent, configs, radius)) == _data(pairwise)


# --------------------------------------------------------------------------- scaling


@pytest.fixture(scope="module")
def doubled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Report]:
    """Synthetic estates of one and two copies of the reference's sites (kinds in the
    same proportions), verified."""
    reports = []
    for devices in (460, 920):
        root = tmp_path_factory.mktemp(f"estate{devices}")
        out = _estate(root, synthetic_specs(devices), SYNTHETIC_POOLS)
        reports.append(verify(load_intent(root / "inventory"), load_configs(out),
                              load_radius(out)))
    return reports[0], reports[1]


def test_core_level_evaluations_do_not_grow_with_sites(doubled: tuple[Report, Report]
                                                       ) -> None:
    small, large = doubled
    assert small.ok and large.ok
    assert large.work["members"] >= 1.8 * small.work["members"]  # twice the sources
    # sites x sites: the pairs proven grow about fourfold ...
    assert large.stats["zone_pairs"] >= 3.5 * small.stats["zone_pairs"]
    # ... the core-level evaluations do not grow at all
    for what in ("blocks", "reply_blocks", "source_classes", "destination_classes"):
        assert large.work[what] <= small.work[what] * 1.05, (what, small.work, large.work)


def test_per_site_work_is_constant(doubled: tuple[Report, Report]) -> None:
    small, large = doubled
    # routing walks: one per destination and hand-over point (core x VRF): linear
    assert large.work["walks"] <= 2.2 * small.work["walks"]
    # pairs walked one by one (gateways' own routes, violated blocks' rows and columns):
    # at most linear, and none of the quadratic pairs
    assert large.work["pairs"] <= 2.2 * small.work["pairs"] + 10
    assert large.work["pairs"] < large.stats["zone_pairs"] / 1000
