"""`fellesnett import`: the four legacy test sites (tests/fixtures/legacy) and their mapping
file become a proposed inventory that validates, builds and proves; every legacy port's
users land in the zone their VLAN was mapped to, read back from the built config text and
the built RADIUS policy; every legacy line is carried or reported; bad mappings are
refused by key, with nothing written."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hier_config import Platform, get_hconfig

from nornir_tasks.build import build
from nornir_tasks.estate_init import init_estate

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "fixtures" / "legacy"
MAPPING = LEGACY / "import" / "mapping.yml"
SOURCES = [LEGACY / "cisco_ios", LEGACY / "aruba_os_switch"]
FELLESNETT = Path(sys.executable).with_name("fellesnett")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("estate") / "inventory"
    init_estate(path, "Nordby kommune")
    return path


def _import(base: Path, out: Path, *extra: str, mapping: Path = MAPPING,
            sources: list[Path] = SOURCES) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FELLESNETT), "import", *map(str, sources), "-m", str(mapping),
                           "-i", str(base), "-o", str(out), *extra],
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def imported(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("import")
    done = _import(base, work / "proposed", "--json")
    assert done.returncode == 0, done.stderr
    build(work / "proposed", work / "build")
    return {"inventory": work / "proposed", "report": work / "proposed-report",
            "build": work / "build"}


def _built(build_dir: Path, host: str) -> Any:
    (path,) = build_dir.glob(f"configs/*/{host}.cfg")
    return get_hconfig(Platform.CISCO_IOS, path.read_text())


def test_the_proposal_validates_builds_and_is_proven(imported: dict[str, Path]) -> None:
    hosts = yaml.safe_load((imported["inventory"] / "hosts.yml").read_text())
    text = json.dumps(hosts)
    for host in ("alta-skole-sw01", "bossekop-barnehage-sw01", "helsestasjonen-sw01",
                 "servicetorget-sw01"):
        assert host in text
        assert list(imported["build"].glob(f"configs/*/{host}.cfg"))
    matrix = json.loads((imported["build"] / "docs" / "zone-matrix.json").read_text())
    assert matrix["ok"] is True and not matrix["violations"]


def test_every_legacy_line_is_carried_reported_or_framing(imported: dict[str, Path]) -> None:
    rows = json.loads((imported["report"] / "import.json").read_text())["devices"]
    assert set(rows) == {"ALTA-SKOLE-SW01", "BOSSEKOP-BHG-SW01", "HELSESTASJON-SW01",
                         "SERVICETORGET-SW01"}
    files = {"ALTA-SKOLE-SW01": "cisco_ios/alta-skole-sw01.cfg",
             "BOSSEKOP-BHG-SW01": "cisco_ios/bossekop-barnehage-sw01.cfg",
             "HELSESTASJON-SW01": "aruba_os_switch/helsestasjonen-sw01.cfg",
             "SERVICETORGET-SW01": "aruba_os_switch/servicetorget-sw01.cfg"}
    for host, row in rows.items():
        src = LEGACY / files[host]
        assert row["lines_read"] == len(src.read_text().splitlines()), host
        assert row["carried"] + row["not_carried"] + row["framing"] == row["lines_read"], host
        assert row["not_carried"] == sum(row["not_carried_by_feature"].values()), host


def _legacy_access_ports(path: Path) -> dict[str, tuple[int, int | None]]:
    """Cisco legacy ports in use (not shut down): access VLAN and voice VLAN, read from
    the config text with hier_config alone (not the importer's reader)."""
    cfg = get_hconfig(Platform.CISCO_IOS, path.read_text())
    out = {}
    for child in cfg.children:
        m = re.match(r"^interface ((?:Fast|Gigabit)Ethernet[\d/]+)$", child.text)
        if not m or child.get_child(equals="shutdown"):
            continue
        lines = {c.text for c in child.children}
        access = next((int(t.split()[-1]) for t in lines
                       if t.startswith("switchport access vlan ")), None)
        voice = next((int(t.split()[-1]) for t in lines
                      if t.startswith("switchport voice vlan ")), None)
        if access is not None and "switchport mode trunk" not in lines:
            out[m[1]] = (access, voice)
    return out


def test_round_trip_every_port_s_users_land_in_their_zone(imported: dict[str, Path]) -> None:
    """Legacy port in VLAN V -> the mapping's zone for V -> after the move, on the new port
    of the built config: a static port's VLAN, or (authenticating) the VLAN the built
    RADIUS policy gives a group of that zone for a method the port runs, is that zone's."""
    mapping = yaml.safe_load(MAPPING.read_text())
    zones = yaml.safe_load((imported["inventory"] / "group_vars" / "all" / "zones.yml")
                           .read_text())["zones"]
    with (imported["build"] / "radius" / "authorization.csv").open() as fh:
        policy = list(csv.DictReader(fh))
    rows = json.loads((imported["report"] / "import.json").read_text())["devices"]
    checked = 0
    for cfg, host, network in (("alta-skole-sw01.cfg", "ALTA-SKOLE-SW01", "skolenett"),
                               ("bossekop-barnehage-sw01.cfg", "BOSSEKOP-BHG-SW01",
                                "skolenett")):
        legacy = _legacy_access_ports(LEGACY / "cisco_ios" / cfg)
        row = rows[host]
        new_of = {p["legacy"]: p["new"] for p in row["ports"]}
        built = _built(imported["build"], row["host"])
        vlans_here = {int(c.text.split()[1]) for c in built.children
                      if re.match(r"^vlan \d+$", c.text)}
        for port, (access, voice) in legacy.items():
            zone = mapping["networks"][network]["vlans"][access]["zone"]
            want = zones[zone]["vlan"]
            section = built.get_child(equals=f"interface {new_of[port]}")
            assert section is not None, (host, port, new_of[port])
            lines = {c.text for c in section.children}
            if zone == "aps":
                assert f"switchport trunk native vlan {want}" in lines, (host, port)
            elif "access-session port-control auto" in lines:
                methods = {m for m, line in (("dot1x", "dot1x pae authenticator"),
                                             ("mab", "mab")) if line in lines}
                lands = {int(r["vlan"]) for r in policy
                         if r["method"] in methods and r["vlan"] and r["zone"] == zone}
                assert lands == {want}, (host, port, zone, methods)
                assert want in vlans_here, (host, port, want)
            else:
                assert f"switchport access vlan {want}" in lines, (host, port)
            if voice is not None:
                assert f"switchport voice vlan {zones['voice']['vlan']}" in lines
            checked += 1
    assert checked >= 60


def test_the_report_tells_each_port_and_ap_the_way_the_inventory_has_it(
        imported: dict[str, Path]) -> None:
    row = json.loads((imported["report"] / "import.json").read_text())["devices"][
        "ALTA-SKOLE-SW01"]
    ports = {p["legacy"]: p for p in row["ports"]}
    assert ports["GigabitEthernet1/0/1"]["groups"] == ["elever"]
    assert ports["GigabitEthernet1/0/25"]["profile"] == "phone"
    assert ports["GigabitEthernet1/0/45"]["profile"] is None  # shut down
    site = yaml.safe_load((imported["inventory"] / "group_vars" / "site_alta_skole.yml")
                          .read_text())["site"]
    # the circuit lands on the legacy uplink's port (Po1's first member, renamed)
    assert site["circuit"]["site_interface"] == ports["GigabitEthernet1/0/49"]["new"]
    page = (imported["report"] / "ALTA-SKOLE-SW01.md").read_text()
    assert "## Not carried, by feature" in page and "port-security" in page


def _broken_mapping(tmp_path: Path, edit: Any) -> Path:
    data = yaml.safe_load(MAPPING.read_text())
    edit(data)
    path = tmp_path / "mapping.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["networks"]["skolenett"]["vlans"].pop(10),
     "networks.skolenett.vlans: no entry for VLAN 10, used on ALTA-SKOLE-SW01"),
    (lambda d: d["networks"]["skolenett"]["vlans"][20].update(zone="staf"),
     "networks.skolenett.vlans[20].zone: zone 'staf' is not in zones.yml"),
    (lambda d: d["networks"]["skolenett"]["vlans"][50].update(zone="mgmt", profile="client"),
     "no authorisation group puts dot1x/mab users of profile 'client' in zone 'mgmt'"),
    (lambda d: d["networks"]["kommunenett"]["vlans"][120].update(zone="staff"),
     "networks.kommunenett.vlans[120].zone: VLAN 120 is a voice VLAN"),
    (lambda d: d["sites"].pop("Servicetorget"),
     "the surveyed device 'SERVICETORGET-SW01' is placed at no site"),
    (lambda d: d["sites"]["Alta skole"].update(network="skole"),
     "sites.Alta skole.network: no network 'skole'"),
    (lambda d: d["sites"]["Alta skole"].update(colour="red"),
     "sites.Alta skole.colour: unknown key"),
    (lambda d: d["sites"]["Alta skole"]["devices"]["ALTA-SKOLE-SW01"].update(model="WS-C2960X"),
     "model 'WS-C2960X' is not in device_models"),
    (lambda d: d["sites"]["Bossekop barnehage"].update(kind="barnehage"),
     "sites.Bossekop barnehage.kind: 'barnehage' is not an edge site kind"),
])
def test_a_bad_mapping_is_refused_by_key_and_nothing_is_written(
        base: Path, tmp_path: Path, edit: Any, message: str) -> None:
    mapping = _broken_mapping(tmp_path, edit)
    done = _import(base, tmp_path / "out", mapping=mapping)
    assert done.returncode == 2
    assert message in done.stderr, done.stderr
    assert str(mapping) in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "out-report").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_an_existing_output_is_never_overwritten(base: Path, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep").write_text("x")
    done = _import(base, tmp_path / "out")
    assert done.returncode == 2 and "exists: give a new directory" in done.stderr
    assert (tmp_path / "out" / "keep").read_text() == "x"


def test_the_same_input_gives_the_same_bytes(base: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert _import(base, tmp_path / name).returncode == 0
    for rel in ("hosts.yml", "host_vars/alta-skole-sw01.yml",
                "group_vars/site_servicetorget.yml"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    assert ((tmp_path / "a-report" / "import.json").read_bytes()
            == (tmp_path / "b-report" / "import.json").read_bytes())
    shutil.rmtree(tmp_path / "b")
