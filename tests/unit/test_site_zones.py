"""Zones per site: a site may list fewer zones than its kind (``site.zones``); nothing is
allocated or rendered for the zones it leaves out, and no other site changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_site_add import l2, tree

from nornir_tasks.build import build
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.intent.model import SiteKind
from nornir_tasks.site_add import add_site, wireless_zones

WIRELESS_ONLY = ["mgmt", "aps", "pupils", "staff", "admin", "guest"]  # no voice


def drop_voice(inv: Path, slug: str) -> None:
    """What an engineer writes for a kindergarten without phones: its zone list, and the
    voice prefix deleted."""
    f = inv / f"group_vars/site_{slug}.yml"
    lines = f.read_text().splitlines(keepends=True)
    voice = [i for i, line in enumerate(lines) if line.strip().startswith("voice:")]
    assert len(voice) == 1
    del lines[voice[0]]
    kind = next(i for i, line in enumerate(lines) if line.strip().startswith("kind:"))
    lines.insert(kind + 1, f"  zones: [{', '.join(WIRELESS_ONLY)}]\n")
    f.write_text("".join(lines))


def split_trunks(lines: list[str]) -> tuple[list[str], dict[str, set[int]]]:
    """A config as its top-level blocks (a line and its indented lines) without the
    `switchport trunk allowed vlan` lines, and the VLANs each interface allows: the lines
    re-flow when one VLAN leaves a long list."""
    blocks: list[list[str]] = []
    allowed: dict[str, set[int]] = {}
    for line in lines:
        if not line.startswith(" ") or not blocks:
            blocks.append([line])
        words = line.split()
        if words[:4] == ["switchport", "trunk", "allowed", "vlan"]:
            for part in words[-1].split(","):
                lo, _, hi = part.partition("-")
                if lo.isdigit():
                    allowed.setdefault(blocks[-1][0], set()).update(
                        range(int(lo), int(hi or lo) + 1))
        elif line.startswith(" "):
            blocks[-1].append(line)
    return ["\n".join(b) for b in blocks], allowed


def test_a_kindergarten_without_voice_builds_and_nothing_else_changes(
        inventory_copy: Path, tmp_path: Path) -> None:
    ref = build(Path(__file__).resolve().parents[2] / "inventory", tmp_path / "ref")
    intent = load_intent(inventory_copy)
    site = intent.sites["saga_barnehage"]
    voice = str(site.prefixes["voice"].network_address)
    assert site.wan_vlan_base is not None
    wan = site.wan_vlan_base + intent.zones["voice"].id
    drop_voice(inventory_copy, "saga_barnehage")
    got = build(inventory_copy, tmp_path / "new")
    assert got.verified == "proven"
    saga = [h for h in got.configs if h.startswith("saga-barnehage-")]
    assert saga
    for host in saga:
        text = (tmp_path / "new" / got.configs[host]).read_text()
        assert "VOICE" not in text and "vlan 140\n" not in text
        assert "vrf definition STAFF" in text or host.endswith("-acc01")
    cores = 0
    for host, rel in ref.configs.items():
        if host in saga:
            continue
        old = (tmp_path / "ref" / rel).read_text().splitlines()
        new = (tmp_path / "new" / rel).read_text().splitlines()
        if "-core0" in host:
            # the cores lose the site's voice route and WAN VLAN, and nothing else
            (old_lines, old_vlans), (new_lines, new_vlans) = split_trunks(old), split_trunks(new)
            gone = [line for line in old_lines if line not in set(new_lines)]
            assert [line for line in new_lines if line not in set(old_lines)] == [], host
            assert gone, host
            for block in gone:
                assert (f"Vlan{wan}" in block or f"vlan {wan}" in block
                        or "VOICE" in block and voice in block), (host, block)
            assert set(new_vlans) == set(old_vlans)
            for port, vlans in old_vlans.items():
                assert vlans - new_vlans[port] <= {wan} and new_vlans[port] <= vlans
            cores += 1
        else:
            # the controller's flex profile is shared: a kindergarten's APs never carried
            # voice, so its zone set is the other kindergartens' and schools'
            assert new == old, host
    assert cores == 2


def test_site_add_allocates_only_the_listed_zones(inventory_copy: Path) -> None:
    r = add_site(inventory_copy, "Lille Tue barnehage", SiteKind.kindergarten, l2(), aps=2,
                 zones=WIRELESS_ONLY)
    site = load_intent(inventory_copy).sites[r.slug]
    assert sorted(site.prefixes) == sorted(WIRELESS_ONLY)
    assert site.zones == sorted(WIRELESS_ONLY)


def test_sites_with_their_own_zone_set_get_a_flex_profile_named_after_their_index(
        inventory_copy: Path, tmp_path: Path) -> None:
    r = add_site(inventory_copy, "Ugla barnehage", SiteKind.kindergarten, l2(), aps=1,
                 zones=["mgmt", "aps", "staff", "guest"])
    got = build(inventory_copy, tmp_path / "b")
    wlc = next(h for h in got.configs if "wlc" in h)
    text = (tmp_path / "b" / got.configs[wlc]).read_text()
    name = f"FP-KINDERGARTEN-{r.allocation.index}"
    profiles = [line.split()[-1] for line in text.splitlines()
                if line.startswith("wireless profile flex ")]
    assert profiles == sorted(["FP-MUNICIPAL", "FP-SCHOOL", name])
    body = text.split(f"wireless profile flex {name}\n")[1].split("!")[0]
    assert "PUPILS" not in body and "STAFF" in body and "GUEST" in body
    assert f" flex-profile {name}\n" in text


@pytest.mark.parametrize(("zones", "message"), [
    (["mgmt", "aps", "cctv"], "--zones: no such zone 'cctv'"),
    (["mgmt", "aps", "printers"], "'printers' has no prefix length for kindergarten sites"),
    (["aps", "staff", "guest"], "the management zone 'mgmt' is needed"),
])
def test_site_add_refuses_bad_zone_lists(inventory_copy: Path, zones: list[str],
                                         message: str) -> None:
    before = tree(inventory_copy)
    with pytest.raises(UsageError, match=message):
        add_site(inventory_copy, "Ugla barnehage", SiteKind.kindergarten, l2(), zones=zones)
    assert tree(inventory_copy) == before


def test_the_wireless_zones_are_those_a_wireless_client_can_land_in(
        inventory_copy: Path) -> None:
    intent = load_intent(inventory_copy)
    # the SSIDs' zone (guest) and, with AAA override, the 802.1X groups' zones; never the
    # MAB groups' (phones, printers: wired devices)
    assert wireless_zones(intent, SiteKind.kindergarten) == sorted(WIRELESS_ONLY)
    assert "printers" not in wireless_zones(intent, SiteKind.school)


def test_a_wireless_only_site_has_ap_ports_and_only_the_wireless_zones(
        inventory_copy: Path) -> None:
    r = add_site(inventory_copy, "Lille Tue barnehage", SiteKind.kindergarten, l2(), aps=2,
                 wireless_only=True)
    intent = load_intent(inventory_copy)
    site = intent.sites[r.slug]
    assert sorted(site.prefixes) == sorted(WIRELESS_ONLY) == site.zones
    (switch,) = [h for h in r.hosts if intent.devices[h].role.value != "ap"]
    ports = intent.devices[switch].ports
    assert [pa.profile for pa in ports] == ["ap"]  # nothing wired to plug into
    aps = [h for h in r.hosts if intent.devices[h].role.value == "ap"]
    assert len(aps) == 2 and all(intent.devices[h].connected_to is not None for h in aps)


@pytest.mark.parametrize(("args", "message"), [
    ({"aps": 2, "phones": 1}, "a site without wired ports has no phones"),
    ({}, "--wireless-only needs --aps"),
])
def test_site_add_refuses_a_wireless_only_site_that_is_not(
        inventory_copy: Path, args: dict[str, int], message: str) -> None:
    before = tree(inventory_copy)
    with pytest.raises(UsageError, match=message):
        add_site(inventory_copy, "Ugla barnehage", SiteKind.kindergarten, l2(),
                 wireless_only=True, **args)
    assert tree(inventory_copy) == before
