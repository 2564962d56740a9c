"""A school on two buildings (tests/fixtures/nordby): one routed gateway, a distribution
switch per building, an LACP building link, and every zone carried to every building."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from nornir_tasks.build import build
from nornir_tasks.errors import IntentError
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.verify import load_configs, verify

NORDBY = Path(__file__).resolve().parents[1] / "fixtures" / "nordby"
SCHOOL = "nordby_skole"


@pytest.fixture()
def nordby(tmp_path: Path) -> Path:
    dst = tmp_path / "nordby"
    shutil.copytree(NORDBY, dst)
    return dst


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nordby") / "build"
    assert build(NORDBY, out).verified == "proven"
    return out


def cfg(built: Path, host: str) -> str:
    return (built / "configs" / SCHOOL / f"{host}.cfg").read_text()


def block(text: str, header: str) -> str:
    return text.split(f"\n{header}\n", 1)[1].split("\n!", 1)[0]


def test_the_gateway_routes_and_the_other_building_switches(built: Path) -> None:
    intent = load_intent(NORDBY)
    assert intent.gateway_of(SCHOOL) == "nordby-skole-dist01"
    gw, b = cfg(built, "nordby-skole-dist01"), cfg(built, "nordby-skole-dist02")
    zones = intent.zones_at(intent.sites[SCHOOL])
    vlans = sorted(intent.zones[z].vlan for z in zones)
    for v in vlans:
        assert f"\ninterface Vlan{v}\n" in gw
    # the gym's distribution switch has only its management SVI and a default route
    assert re.findall(r"^interface Vlan(\d+)$", b, re.M) == ["1", "100"]
    assert "ip route vrf MGMT 0.0.0.0 0.0.0.0 10.0.1.1 name default-via-gateway" in b
    assert "spanning-tree vlan 1-4094 priority 24576" in gw
    assert "spanning-tree vlan 1-4094 priority 28672" in b
    # the building link: one LACP bundle of two ports at each end, every zone of the site
    for text in (gw, b):
        pc = block(text, "interface Port-channel10")
        assert f"switchport trunk allowed vlan {','.join(map(str, vlans))}" in pc
        assert len(re.findall(r"^ channel-group 10 mode active$", text, re.M)) == 2


def test_the_site_sheet_shows_the_buildings(built: Path) -> None:
    sheet = (built / "docs" / "sites" / f"{SCHOOL}.md").read_text()
    assert "| nordby-skole-dist01 | distribution | Hovedbygget |" in sheet
    assert ("| nordby-skole-dist02 | distribution | Gymsalen |" in sheet
            and "building link to nordby-skole-dist01" in sheet)


def test_a_zone_cut_on_the_building_link_is_caught_by_verify(built: Path,
                                                             tmp_path: Path) -> None:
    configs = load_configs(built)
    text = configs["nordby-skole-dist02"]
    pc = block(text, "interface Port-channel10")
    configs["nordby-skole-dist02"] = text.replace(pc, pc.replace(",120,", ","))
    report = verify(load_intent(NORDBY), configs)
    l2 = [f for f in report.violations if f.check == "l2-path"]
    assert l2 and all(f.device == "nordby-skole-dist02" and "VLAN 120 (staff)" in f.message
                      for f in l2)
    assert {"nordby-skole-acc03", "nordby-skole-acc04"} <= {
        m for f in l2 for m in re.findall(r"nordby-skole-acc0\d", f.message)}


def _site_file(inv: Path) -> Path:
    return inv / "group_vars" / f"site_{SCHOOL}.yml"


@pytest.mark.parametrize(("edit", "where", "message"), [
    (lambda inv: _site_file(inv).write_text(
        _site_file(inv).read_text().replace("  gateway: nordby-skole-dist01\n", "")),
     "site.gateway", "required: the site has 2 distribution switches"),
    (lambda inv: _site_file(inv).write_text(
        _site_file(inv).read_text().replace("gateway: nordby-skole-dist01",
                                            "gateway: nordby-skole-acc01")),
     "site.gateway", "nordby-skole-acc01 is not a distribution switch"),
    (lambda inv: [(inv / "host_vars" / f"nordby-skole-dist0{n}.yml").write_text(
        (inv / "host_vars" / f"nordby-skole-dist0{n}.yml").read_text().replace(
            "TenGigabitEthernet1/0/15-16", "TenGigabitEthernet1/0/15")) for n in (1, 2)],
     "ports[2].channel_group", "must be an LACP port-channel of two or more ports"),
    (lambda inv: (inv / "group_vars/all/port_profiles.yml").write_text(
        (inv / "group_vars/all/port_profiles.yml").read_text().replace(
            "    trusted: true           # every zone of the site (trunk_zones unset)",
            "    trusted: true\n    trunk_zones: [mgmt, aps, pupils, admin, voice, guest]")),
     "ports[0].profile", "zone 'staff' is used on nordby-skole-acc03 but does not reach the "
     "site gateway nordby-skole-dist01: the link nordby-skole-dist02 - nordby-skole-dist01 "
     "does not carry it"),
])
def test_bad_building_designs_are_refused(nordby: Path, edit: object, where: str,
                                          message: str) -> None:
    edit(nordby)  # type: ignore[operator]
    with pytest.raises(IntentError) as exc:
        load_intent(nordby)
    assert any(p.path == where and message in p.message for p in exc.value.problems), \
        exc.value.problems
