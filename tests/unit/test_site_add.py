"""`fellesnett site add`: allocate once, write a diff of added lines, all or nothing."""

from __future__ import annotations

import argparse
import difflib
import hashlib
import ipaddress
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from nornir_tasks import site_add as sa
from nornir_tasks.errors import IntentError, UsageError
from nornir_tasks.estate import reference_specs, write_estate
from nornir_tasks.intent.loader import HOSTS_FILE, SITE_GROUP_PREFIX, Intent, load_intent
from nornir_tasks.intent.model import Overlay, Role, SiteKind
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.site_add import AddResult, add_site, insert_site

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory"


def tree(root: Path) -> dict[str, str]:
    """Every file (hidden ones too: a leftover temp file is a failure) by content hash."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def only_added(old: str, new: str) -> list[str]:
    """The lines ``new`` adds to ``old``; fails if any old line was changed or removed."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    added: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        assert op in ("equal", "insert"), f"{op} of old lines {i1}-{i2}: {a[i1:i2]!r}"
        if op == "insert":
            added += b[j1:j2]
    return added


def l2(**extra: Any) -> dict[str, Any]:
    return {"type": "l2", "provider": "Fiberoperatør AS", "circuit_id": "FIB-90001",
            "bandwidth_mbps": 1000, **extra}


def l3vpn(**extra: Any) -> dict[str, Any]:
    return {"type": "l3vpn", "provider": "Nasjonal telco ASA", "circuit_id": "TEL-90002",
            "bandwidth_mbps": 200, "underlay_address": "172.21.9.2/30",
            "underlay_gateway": "172.21.9.1", **extra}


def all_prefixes(intent: Intent) -> list[tuple[str, ipaddress.IPv4Network]]:
    out = []
    for slug, site in intent.sites.items():
        out += [(f"{slug}.{z}", n) for z, n in site.prefixes.items()]
        if site.transit is not None:
            out.append((f"{slug}.transit", site.transit))
    return out


# --------------------------------------------------------------------------- the happy path


def test_adds_a_school_a_kindergarten_and_an_l3vpn_municipal_site(inventory_copy: Path) -> None:
    before_intent = load_intent(inventory_copy)
    before = tree(inventory_copy)
    old_hosts = (inventory_copy / HOSTS_FILE).read_text(encoding="utf-8")

    results = [
        add_site(inventory_copy, "Nordlys skole", SiteKind.school, l2(), access_switches=2,
                 aps=5, phones=3),
        add_site(inventory_copy, "Solsikken barnehage", SiteKind.kindergarten, l2(), aps=2),
        add_site(inventory_copy, "Talvik helsestasjon", SiteKind.municipal, l3vpn(), aps=1),
    ]

    after = load_intent(inventory_copy)  # the result is a valid inventory
    new = tree(inventory_copy)
    created = {p for r in results for p in r.created}
    # no existing file changed byte-wise except hosts.yml; nothing but the listed files added
    assert {p: h for p, h in new.items() if p in before and p != HOSTS_FILE} == \
        {p: h for p, h in before.items() if p != HOSTS_FILE}
    assert set(new) - set(before) == created
    assert all(r.changed == (HOSTS_FILE,) for r in results)
    added = only_added(old_hosts, (inventory_copy / HOSTS_FILE).read_text(encoding="utf-8"))
    assert len(added) == sum(r.lines_added for r in results)

    # committed allocations of the existing sites are untouched
    for slug, site in before_intent.sites.items():
        assert after.sites[slug] == site

    # new blocks lie in their pools, have the kind's length, and overlap nothing
    nets = all_prefixes(after)
    for r in results:
        site = after.sites[r.slug]
        assert site.kind == r.kind and site.index == r.allocation.index
        assert dict(site.prefixes) == r.allocation.prefixes
        for zone, net in site.prefixes.items():
            pool = after.pools.zones[zone]
            assert net.subnet_of(pool.pool)
            assert net.prefixlen == pool.prefix_length[r.kind]
        assert site.transit is not None and site.transit.subnet_of(after.pools.transit.pool)
        assert site.wan_vlan_base not in {s.wan_vlan_base for s in before_intent.sites.values()}
        mine = [(n, net) for n, net in nets if n.startswith(f"{r.slug}.")]
        for name, net in mine:
            clash = [o for o, other in nets if o != name and other.overlaps(net)]
            assert not clash, f"{name} {net} overlaps {clash}"
        assert sorted(after.site_devices(r.slug)) == sorted(r.hosts)

    school, kg, muni = (after.sites[r.slug] for r in results)
    assert [h for h in results[0].hosts if after.devices[h].role is Role.ap] == \
        [f"nordlys-skole-ap{i:02d}" for i in range(1, 6)]
    assert after.gateway_of(results[0].slug) == "nordlys-skole-dist01"
    assert after.gateway_of(results[1].slug) == "solsikken-barnehage-sw01"
    # the only switch routes the site's zones: a model with VRF-lite (not the C9200L)
    assert after.devices["solsikken-barnehage-sw01"].model == "C9300-24P"
    mgmt = school.prefixes["mgmt"]
    assert after.devices["nordlys-skole-dist01"].ansible_host == mgmt.network_address + 1
    assert after.devices["nordlys-skole-acc02"].ansible_host == mgmt.network_address + 3
    # defaults: l2 lands on the NNI, l3vpn on the underlay port with a GRE overlay
    assert school.circuit is not None and school.circuit.core_interface == "HundredGigE1/0/25"
    assert kg.circuit is not None and kg.circuit.site_interface == "TenGigabitEthernet1/1/1"
    assert muni.circuit is not None and muni.circuit.overlay is Overlay.gre
    assert muni.circuit.core_interface == "HundredGigE1/0/26"
    cores = sorted(h for h, d in after.devices.items() if d.role is Role.core)
    for site in (school, kg, muni):
        assert site.circuit is not None and site.circuit.core == cores[site.index % 2]


def test_new_site_group_lands_under_its_kind_group(inventory_copy: Path) -> None:
    r = add_site(inventory_copy, "Solsikken barnehage", SiteKind.kindergarten, l2(), aps=2)
    data = yaml.safe_load((inventory_copy / HOSTS_FILE).read_text(encoding="utf-8"))
    kindergartens = data["all"]["children"]["kindergarten"]["children"]
    assert list(kindergartens)[-1] == SITE_GROUP_PREFIX + r.slug
    assert list(kindergartens[SITE_GROUP_PREFIX + r.slug]["hosts"]) == list(r.hosts)


def test_site_files_read_like_the_committed_ones() -> None:
    for path in sorted((INVENTORY / "group_vars").glob(f"{SITE_GROUP_PREFIX}*.yml")):
        assert path.read_text(encoding="utf-8").startswith(sa.SITE_HEADER + "site:\n"), path


# --------------------------------------------------------------------------- generated == added


def _remove_last_site(root: Path) -> dict[str, Any]:
    """Delete the most recently allocated site; return the arguments that re-add it.

    Allocation is first-free in index order, so without the last site the allocator is
    in the state it was in just before that site was allocated.
    """
    intent = load_intent(root)
    slug, _ = max(intent.sites.items(), key=lambda kv: kv[1].index)
    args = readd_args(intent, slug)
    hosts = intent.site_devices(slug)
    (root / f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml").unlink()
    for h in hosts:
        (root / f"host_vars/{h}.yml").unlink(missing_ok=True)
    lines = (root / HOSTS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{SITE_GROUP_PREFIX}{slug}:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = next((i for i in range(start + 1, len(lines))
                if len(lines[i]) - len(lines[i].lstrip()) <= indent), len(lines))
    (root / HOSTS_FILE).write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")
    return args


def readd_args(intent: Intent, slug: str) -> dict[str, Any]:
    """The ``add_site`` arguments that re-create site ``slug`` as it is committed."""
    site = intent.sites[slug]
    assert site.circuit is not None
    hosts = intent.site_devices(slug)
    devs = {h: intent.devices[h] for h in hosts}
    switches = [h for h, d in devs.items() if d.role in (Role.access, Role.distribution)]
    has_dist = any(d.role is Role.distribution for d in devs.values())
    phones = sum(len(expand_interface_range(p.range)) for d in devs.values() for p in d.ports
                 if p.profile == "phone")
    c = site.circuit
    circuit: dict[str, Any] = {"type": c.type.value, "provider": c.provider,
                               "circuit_id": c.circuit_id, "bandwidth_mbps": c.bandwidth_mbps}
    if c.underlay_address is not None:
        circuit |= {"underlay_address": str(c.underlay_address),
                    "underlay_gateway": str(c.underlay_gateway)}
    return {"name": site.name, "kind": site.kind, "circuit": circuit,
            "access_switches": len(switches) - 1 if has_dist else 0,
            "aps": sum(d.role is Role.ap for d in devs.values()), "phones": phones}


def test_re_adding_the_last_committed_site_reproduces_its_files(inventory_copy: Path) -> None:
    """site add with defaults writes exactly what the generator committed: same bytes."""
    before = tree(inventory_copy)
    args = _remove_last_site(inventory_copy)
    add_site(inventory_copy, **args)
    assert tree(inventory_copy) == before


def test_re_adding_a_generated_l3vpn_distribution_site_reproduces_it(tmp_path: Path) -> None:
    """Same for a site with a distribution switch, access switches, phones and GRE:
    the reference estate cut after Kviby skole (the last school, on the telco L3VPN)."""
    gv = tmp_path / "all"
    shutil.copytree(INVENTORY / "group_vars" / "all", gv)
    root = tmp_path / "inventory"
    specs = reference_specs()
    write_estate(root, specs[: 1 + [s.kind for s in specs].count(SiteKind.school)], gv)
    before = tree(root)
    args = _remove_last_site(root)
    assert args["access_switches"] > 0 and args["phones"] > 0
    assert args["circuit"]["type"] == "l3vpn"
    add_site(root, **args)
    assert tree(root) == before


# --------------------------------------------------------------------------- refusals


def test_adding_the_same_site_twice_is_refused_and_changes_nothing(inventory_copy: Path) -> None:
    add_site(inventory_copy, "Nordlys skole", SiteKind.school, l2())
    before = tree(inventory_copy)
    for name in ("Nordlys skole", "NORDLYS  skole", "Alta skole"):
        with pytest.raises(UsageError, match="already exists"):
            add_site(inventory_copy, name, SiteKind.school, l2())
    assert tree(inventory_copy) == before


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": SiteKind.core}, "exactly one core site"),
    ({"name": "   "}, "empty"),
    ({"name": "7 skole"}, "must start with a letter"),
    ({"name": "Skole " + "x" * 60}, "not valid"),
    ({"circuit": {**l2(), "provider": None}}, "provider"),
    ({"circuit": {**l2(), "bandwith_mbps": 10}}, "unknown key"),
    ({"circuit": l2(core="nowhere-core01")}, "is not a core switch"),
    ({"circuit": {**l2(), "type": "dark_fibre"}}, "is not one of"),
    ({"circuit": {k: v for k, v in l3vpn().items() if k != "underlay_gateway"}},
     "underlay_gateway"),
    ({"aps": -1}, "0 or more"),
    ({"aps": 20}, "do not fit"),
    ({"access_switches": 70}, "do not fit the management prefix"),
    ({"switch_model": "C9500-16X"}, "ports; an edge switch"),
])
def test_bad_arguments_are_refused_and_change_nothing(
        inventory_copy: Path, kwargs: dict[str, Any], message: str) -> None:
    before = tree(inventory_copy)
    args: dict[str, Any] = {"name": "Nordlys skole", "kind": SiteKind.school, "circuit": l2()}
    with pytest.raises(UsageError, match=message):
        add_site(inventory_copy, **(args | kwargs))
    assert tree(inventory_copy) == before


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"switch_model": "C9999-48X"}, "unknown model 'C9999-48X'"),
    ({"circuit": l2(type="internet")}, "IPsec"),
    ({"circuit": l3vpn(overlay="vrf_lite")}, "set `overlay: gre`"),
    ({"circuit": l2(site_interface="GigabitEthernet1/0/1")}, "remove it from the port map"),
    ({"access_switches": 17}, "TenGigabitEthernet1/0/17 does not exist"),
])
def test_a_site_that_fails_validation_leaves_the_inventory_byte_identical(
        inventory_copy: Path, kwargs: dict[str, Any], message: str) -> None:
    before = tree(inventory_copy)
    args: dict[str, Any] = {"name": "Nordlys skole", "kind": SiteKind.school, "circuit": l2()}
    with pytest.raises(IntentError, match=message):
        add_site(inventory_copy, **(args | kwargs))
    assert tree(inventory_copy) == before


def test_an_invalid_inventory_is_refused(inventory_copy: Path) -> None:
    (inventory_copy / "host_vars" / "stray-sw01.yml").write_text("ports: []\n")
    before = tree(inventory_copy)
    with pytest.raises(IntentError, match="stray-sw01"):
        add_site(inventory_copy, "Nordlys skole", SiteKind.school, l2())
    assert tree(inventory_copy) == before


def test_a_failed_replace_is_rolled_back(inventory_copy: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """If swapping in hosts.yml fails, the new files already swapped in are removed."""
    before = tree(inventory_copy)
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == HOSTS_FILE:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="No space"):
        add_site(inventory_copy, "Nordlys skole", SiteKind.school, l2(), access_switches=1)
    assert tree(inventory_copy) == before


# --------------------------------------------------------------------------- determinism


def test_the_same_addition_on_two_copies_gives_identical_files(tmp_path: Path) -> None:
    trees = []
    for copy in ("a", "b"):
        root = tmp_path / copy
        shutil.copytree(INVENTORY, root)
        add_site(root, "Nordlys skole", SiteKind.school, l2(), access_switches=3, aps=7,
                 phones=2)
        add_site(root, "Talvik helsestasjon", SiteKind.municipal, l3vpn(), aps=1)
        trees.append(tree(root))
    assert trees[0] == trees[1]


# --------------------------------------------------------------------------- hosts.yml as text

HOSTS = """\
# Devices by site kind.
all:
  children:
    school:
      children:
        site_a:
          hosts:
            a-sw01: {role: access}   # keep me
    # municipal sites follow
    municipal:
      children:
        site_m:
          hosts:
            m-sw01: {role: access}
    core_site:
      children:
        site_c:
          hosts:
            c-core01: {role: core}
"""


#: the kind groups in the order of the reference estate's site_kinds.yml
KIND_GROUPS = ["school", "kindergarten", "education_unit", "municipal", "core_site"]


@pytest.mark.parametrize(("group", "parent_order"), [
    ("school", ["school", "municipal", "core_site"]),
    ("municipal", ["school", "municipal", "core_site"]),
    ("kindergarten", ["school", "kindergarten", "municipal", "core_site"]),
    ("education_unit", ["school", "education_unit", "municipal", "core_site"]),
])
def test_insert_site_only_adds_lines_in_the_right_place(
        group: str, parent_order: list[str]) -> None:
    new = insert_site(HOSTS, group, "site_new", {"new-sw01": {"role": "access", "x": 1}},
                      KIND_GROUPS)
    added = only_added(HOSTS, new)
    assert added[-1] == "            new-sw01: {role: access, x: 1}\n"
    data = yaml.safe_load(new)["all"]["children"]
    assert list(data) == parent_order
    assert list(data[group]["children"])[-1] == "site_new"
    # the comment that introduces the municipal group still sits right above it
    lines = new.splitlines()
    assert lines[lines.index("    municipal:") - 1] == "    # municipal sites follow"


def test_insert_site_puts_a_new_kind_where_site_kinds_puts_it() -> None:
    # a kind appended to site_kinds goes last; one the order does not know, too
    for order in ([*KIND_GROUPS, "library"], []):
        new = insert_site(HOSTS, "library", "site_new", {"new-sw01": {"role": "access"}},
                          order)
        only_added(HOSTS, new)
        assert list(yaml.safe_load(new)["all"]["children"])[-1] == "library"
    # one defined before the municipal sites goes before them, the comment kept with them
    new = insert_site(HOSTS, "library", "site_new", {"new-sw01": {"role": "access"}},
                      ["school", "library", "municipal", "core_site"])
    assert list(yaml.safe_load(new)["all"]["children"]) == ["school", "library", "municipal",
                                                            "core_site"]
    lines = new.splitlines()
    assert lines[lines.index("    municipal:") - 1] == "    # municipal sites follow"


def test_insert_site_fills_an_empty_kind_group_and_keeps_crlf() -> None:
    text = "all:\r\n  children:\r\n    core_site:\r\n      children: {}\r\n    school:"
    new = insert_site(text, "school", "site_new", {"new-sw01": {"role": "access"}})
    # the unterminated last line gains its line end, nothing else of the old text changes
    only_added(text + "\r\n", new)
    assert "\n" not in new.replace("\r\n", "")
    assert yaml.safe_load(new)["all"]["children"]["school"] == {
        "children": {"site_new": {"hosts": {"new-sw01": {"role": "access"}}}}}


@pytest.mark.parametrize("school", [
    "    school:\n      children:\n",  # children: with nothing under it
    "    school:\n      hosts: {}\n",  # a kind group without children
])
def test_insert_site_completes_a_partial_kind_group(school: str) -> None:
    text = f"all:\n  children:\n{school}    core_site:\n      children: {{}}\n"
    new = insert_site(text, "school", "site_new", {"new-sw01": {"role": "access"}})
    only_added(text, new)
    assert yaml.safe_load(new)["all"]["children"]["school"]["children"] == {
        "site_new": {"hosts": {"new-sw01": {"role": "access"}}}}


def test_insert_site_refuses_a_flow_style_group() -> None:
    with pytest.raises(UsageError, match="not a block mapping"):
        insert_site("all:\n  children: {school: {}}\n", "school", "site_new", {})


def test_a_missing_kind_group_is_created_in_the_inventory(inventory_copy: Path) -> None:
    """Remove every education unit, then add one: the group block comes back in order."""
    intent = load_intent(inventory_copy)
    for slug, site in intent.sites.items():
        if site.kind == SiteKind.education_unit:
            (inventory_copy / f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml").unlink()
            for h in intent.site_devices(slug):
                (inventory_copy / f"host_vars/{h}.yml").unlink(missing_ok=True)
    lines = (inventory_copy / HOSTS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    start, end = lines.index("    education_unit:\n"), lines.index("    municipal:\n")
    stripped = "".join(lines[:start] + lines[end:])
    (inventory_copy / HOSTS_FILE).write_text(stripped, encoding="utf-8")

    r = add_site(inventory_copy, "Kveldsskolen", SiteKind.education_unit, l2(),
                 access_switches=1, aps=2)
    text = (inventory_copy / HOSTS_FILE).read_text(encoding="utf-8")
    added = only_added(stripped, text)
    assert added[:3] == ["    education_unit:\n", "      children:\n",
                         f"        {SITE_GROUP_PREFIX}{r.slug}:\n"]
    assert list(yaml.safe_load(text)["all"]["children"]) == [
        "school", "kindergarten", "education_unit", "municipal", "core_site"]
    assert load_intent(inventory_copy).sites[r.slug].kind == SiteKind.education_unit


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fellesnett")
    sa.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_site_add_prints_what_it_wrote(inventory_copy: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args([
        "site", "add", "--inventory", str(inventory_copy), "--name", "Talvik helsestasjon",
        "--kind", "municipal", "--circuit-type", "l3vpn", "--provider", "Nasjonal telco ASA",
        "--circuit-id", "TEL-90002", "--bandwidth", "200", "--underlay-address",
        "172.21.9.2/30", "--underlay-gateway", "172.21.9.1", "--access-switches", "1",
        "--aps", "2", "--phones", "1", "--json"])
    assert args.func is sa.run
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    site = load_intent(inventory_copy).sites[summary["slug"]]
    assert summary["group"] == "site_talvik_helsestasjon"
    assert summary["prefixes"] == {z: str(n) for z, n in site.prefixes.items()}
    assert summary["transit"] == str(site.transit)
    assert summary["wan_vlan_base"] == site.wan_vlan_base
    assert summary["changed"] == [HOSTS_FILE]
    assert all((inventory_copy / p).is_file() for p in summary["created"])


def test_cli_text_output_lists_files_and_prefixes(inventory_copy: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args([
        "site", "add", "-i", str(inventory_copy), "--name", "Nordlys skole", "--kind", "school",
        "--circuit-type", "l2", "--provider", "Fiberoperatør AS", "--circuit-id", "FIB-1",
        "--bandwidth", "1000"])
    assert sa.run(args) == 0
    out = capsys.readouterr().out
    site = load_intent(inventory_copy).sites["nordlys_skole"]
    assert "group_vars/site_nordlys_skole.yml" in out and "hosts.yml" in out
    for net in site.prefixes.values():
        assert str(net) in out


def test_the_fellesnett_command_exits_2_on_a_refusal(inventory_copy: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from nornir_tasks.cli import main

    before = tree(inventory_copy)
    rc = main(["site", "add", "-i", str(inventory_copy), "--name", "Alta skole", "--kind",
               "school", "--circuit-type", "l2", "--provider", "P", "--circuit-id", "X",
               "--bandwidth", "100"])
    assert rc == 2
    assert "already exists" in capsys.readouterr().err
    assert tree(inventory_copy) == before


def test_add_result_summary_is_json(inventory_copy: Path) -> None:
    r: AddResult = add_site(inventory_copy, "Nordlys skole", SiteKind.school, l2())
    assert json.loads(json.dumps(r.summary()))["index"] == r.allocation.index
