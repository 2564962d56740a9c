"""`fellesnett zone add`: a zone described after the first build reaches every existing
site that should have it, once, as one added line per site file; all or nothing."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from test_site_add import l2, only_added, tree

from nornir_tasks.build import build
from nornir_tasks.cli import main
from nornir_tasks.errors import IntentError, UsageError
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.intent.model import SiteKind
from nornir_tasks.site_add import add_site
from nornir_tasks.zone_add import add_zone, insert_prefix

CCTV_ZONE = """  cctv:
    id: 11
    vlan: 170
    vrf: CCTV
    description: Video surveillance cameras
    client_zone: false
"""
PRINTERS_POOL = ("      prefix_length: {core: 27, school: 27, education_unit: 28, "
                 "municipal: 28}\n")
CCTV_POOL = """    cctv:
      pool: 10.86.0.0/16
      prefix_length: {core: 27, school: 27, municipal: 28}
"""


def describe_cctv(inv: Path, *, pool: str = CCTV_POOL) -> None:
    """What the engineer writes by hand before `zone add`: the zone and its pool."""
    zones = inv / "group_vars/all/zones.yml"
    zones.write_text(zones.read_text() + CCTV_ZONE)
    pools = inv / "group_vars/all/addressing.yml"
    text = pools.read_text()
    assert PRINTERS_POOL in text
    pools.write_text(text.replace(PRINTERS_POOL, PRINTERS_POOL + pool))


def test_a_described_zone_is_refused_until_it_is_allocated(inventory_copy: Path) -> None:
    describe_cctv(inventory_copy)
    with pytest.raises(IntentError) as exc:
        load_intent(inventory_copy)
    assert all("zone 'cctv' has no prefix" in p.message and "fellesnett zone add cctv"
               in p.message for p in exc.value.problems)


def test_zone_add_allocates_once_at_every_site_of_the_kinds(inventory_copy: Path) -> None:
    before = {p: p.read_text() for p in (inventory_copy / "group_vars").glob("site_*.yml")}
    describe_cctv(inventory_copy)
    result = add_zone(inventory_copy, "cctv")

    intent = load_intent(inventory_copy)
    kinds = {SiteKind.core, SiteKind.school, SiteKind.municipal}
    due = {s for s, site in intent.sites.items() if site.kind in kinds}
    assert set(result.prefixes) == due
    pool = ipaddress.ip_network("10.86.0.0/16")
    nets = [intent.sites[s].prefixes["cctv"] for s in due]
    assert all(n.subnet_of(pool) for n in nets)
    for a in nets:  # never two sites on one block
        assert sum(a.overlaps(b) for b in nets) == 1
    for slug in due:
        site = intent.sites[slug]
        assert site.prefixes["cctv"].prefixlen == {SiteKind.core: 27, SiteKind.school: 27,
                                                   SiteKind.municipal: 28}[site.kind]
    # the other kinds are untouched, and each changed file gained exactly one line
    for path, old in before.items():
        new = path.read_text()
        slug = path.stem.removeprefix("site_")
        if slug in due:
            assert only_added(old, new) == [f"    cctv: {intent.sites[slug].prefixes['cctv']}\n"]
        else:
            assert new == old
    # prefixes already committed elsewhere are never renumbered
    assert {s: {z: n for z, n in site.prefixes.items() if z != "cctv"}
            for s, site in intent.sites.items()} == {
        s: dict(site.prefixes) for s, site in load_intent(
            Path(__file__).resolve().parents[2] / "inventory").sites.items()}


def test_zone_add_then_build_proves_the_new_zone(inventory_copy: Path, tmp_path: Path) -> None:
    describe_cctv(inventory_copy)
    add_zone(inventory_copy, "cctv")
    result = build(inventory_copy, tmp_path / "build")
    assert result.verified == "proven"
    dist = (tmp_path / "build" / result.configs["alta-skole-dist01"]).read_text()
    assert "vrf definition CCTV" in dist and "interface Vlan170" in dist
    kg = next(h for h in result.configs if "barnehage" in h)
    assert "CCTV" not in (tmp_path / "build" / result.configs[kg]).read_text()


def test_a_second_run_has_nothing_to_do_and_changes_nothing(inventory_copy: Path) -> None:
    describe_cctv(inventory_copy)
    add_zone(inventory_copy, "cctv")
    before = tree(inventory_copy)
    with pytest.raises(UsageError, match="no site lacks a prefix for zone 'cctv'"):
        add_zone(inventory_copy, "cctv")
    assert tree(inventory_copy) == before


def test_a_site_added_later_gets_the_zone_from_site_add(inventory_copy: Path) -> None:
    describe_cctv(inventory_copy)
    add_zone(inventory_copy, "cctv")
    r = add_site(inventory_copy, "Nordlys skole", SiteKind.school, l2())
    assert "cctv" in r.allocation.prefixes
    assert load_intent(inventory_copy).sites["nordlys_skole"].prefixes["cctv"].prefixlen == 27


@pytest.mark.parametrize(("prepare", "message"), [
    (lambda inv: None, "no zone 'cctv' in group_vars/all/zones.yml"),
    (lambda inv: (inv / "group_vars/all/zones.yml").write_text(
        (inv / "group_vars/all/zones.yml").read_text() + CCTV_ZONE), "has no pool"),
    (lambda inv: describe_cctv(inv, pool=CCTV_POOL.replace("10.86.0.0/16", "10.86.0.0/24")),
     r"cannot allocate zone .cctv.: pool 10.86.0.0/24 has no free /2[78] left"),
])
def test_refusals_name_the_missing_piece_and_change_nothing(
        inventory_copy: Path, prepare: object, message: str) -> None:
    prepare(inventory_copy)  # type: ignore[operator]
    before = tree(inventory_copy)
    with pytest.raises((UsageError, IntentError), match=message):
        add_zone(inventory_copy, "cctv")
    assert tree(inventory_copy) == before


def test_a_zone_whose_vlan_clashes_is_refused_by_the_loader(inventory_copy: Path) -> None:
    (inventory_copy / "group_vars/all/zones.yml").write_text(
        (inventory_copy / "group_vars/all/zones.yml").read_text()
        + CCTV_ZONE.replace("vlan: 170", "vlan: 120"))
    before = tree(inventory_copy)
    with pytest.raises(IntentError) as exc:
        add_zone(inventory_copy, "cctv")
    assert any("zones.yml" in p.file and "vlan" in p.path for p in exc.value.problems)
    assert tree(inventory_copy) == before


def test_a_site_listing_its_own_zones_gets_the_new_zone_only_if_it_names_it(
        inventory_copy: Path) -> None:
    r = add_site(inventory_copy, "Nordlys skole", SiteKind.school, l2(),
                 zones=["mgmt", "aps", "pupils", "staff", "admin", "guest"])
    describe_cctv(inventory_copy)
    result = add_zone(inventory_copy, "cctv")
    assert r.slug not in result.prefixes
    assert "cctv" not in load_intent(inventory_copy).sites[r.slug].prefixes


def test_insert_prefix_keeps_crlf_and_appends_after_the_last_zone() -> None:
    text = "site:\r\n  prefixes:\r\n    admin: 10.0.0.0/26\r\n  transit: 10.255.0.0/27\r\n"
    out = insert_prefix(text, "voice", "10.1.0.0/26")
    assert out == ("site:\r\n  prefixes:\r\n    admin: 10.0.0.0/26\r\n"
                   "    voice: 10.1.0.0/26\r\n  transit: 10.255.0.0/27\r\n")


def test_insert_prefix_refuses_a_flow_mapping() -> None:
    with pytest.raises(UsageError, match="add `cctv: 10.9.0.0/27` by hand"):
        insert_prefix("site:\n  prefixes: {admin: 10.0.0.0/26}\n", "cctv", "10.9.0.0/27")


def test_cli_zone_add_json_and_exit_codes(inventory_copy: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zone", "add", "cctv", "-i", str(inventory_copy)]) == 2
    assert "no zone 'cctv'" in capsys.readouterr().err
    describe_cctv(inventory_copy)
    assert main(["zone", "add", "cctv", "-i", str(inventory_copy), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["zone"] == "cctv" and out["lines_added"] == len(out["prefixes"]) > 0
