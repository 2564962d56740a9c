"""`fellesnett init`: a new estate from nothing, all or nothing, validating and building."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nornir_tasks.build import build
from nornir_tasks.cli import main
from nornir_tasks.errors import UsageError
from nornir_tasks.estate_init import init_estate
from nornir_tasks.intent.loader import load_intent

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory"


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_reference_core_site_comes_out_of_init_byte_for_byte(tmp_path: Path) -> None:
    """Alta's own facts give Alta's own shared settings and core site: init is the
    reference estate's generator, not a second description of it."""
    init_estate(tmp_path / "alta", "Alta kommune", core_site="Rådhuset", access_switches=6,
                aps=8)
    got, ref = files(tmp_path / "alta"), files(INVENTORY)
    core = load_intent(INVENTORY).site_devices("radhuset")
    expected = {rel for rel in ref if rel.startswith("group_vars/all/")
                or rel in ("zz_roles.yml", "group_vars/site_radhuset.yml")
                or rel.removeprefix("host_vars/").removesuffix(".yml") in core}
    assert set(got) == expected | {"hosts.yml"}
    assert {rel: got[rel] for rel in expected} == {rel: ref[rel] for rel in expected}


def test_a_new_municipality_validates_builds_and_is_deterministic(tmp_path: Path) -> None:
    a = init_estate(tmp_path / "a", "Nordre Fjord kommune", core_site="Fjordtunet")
    init_estate(tmp_path / "b", "Nordre Fjord kommune", core_site="Fjordtunet")
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert a.hosts == ("fjordtunet-core01", "fjordtunet-core02", "fjordtunet-wlc01")
    mgmt = (tmp_path / "a/group_vars/all/management.yml").read_text()
    assert "domain_name: fellesnett.nordre-fjord.kommune.no" in mgmt
    assert "Nordre Fjord kommune IKT, nettdrift@nordre-fjord.kommune.no" in mgmt
    assert "Alta" not in mgmt
    assert "ssid: Nordre-Fjord-Gjest" in (tmp_path / "a/group_vars/all/wireless.yml").read_text()
    result = build(tmp_path / "a", tmp_path / "build")
    assert result.verified == "proven"
    assert sorted(result.configs) == ["fjordtunet-core01", "fjordtunet-core02",
                                      "fjordtunet-dc01", "fjordtunet-dc02", "fjordtunet-wlc01"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"domain": "not a domain"}, "is not a DNS domain name"),
    ({"guest_ssid": "Gjest nett"}, "1-32 bytes without blanks"),
    ({"core_site": "1. etasje"}, "must start with a letter"),
    ({"access_switches": -1}, "must be 0 or more"),
])
def test_bad_facts_are_refused_and_nothing_is_written(tmp_path: Path, kwargs: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(UsageError, match=message):
        init_estate(tmp_path / "x", "Nordby kommune", **kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not an empty directory"):
        init_estate(tmp_path / "x", "Nordby kommune")
    assert [p.name for p in tmp_path.iterdir()] == ["x"]
    assert (tmp_path / "x" / "notes.txt").read_text() == "mine"
    (tmp_path / "f").write_text("a file")
    with pytest.raises(UsageError, match="not an empty directory"):
        init_estate(tmp_path / "f", "Nordby kommune")


def test_an_empty_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    init_estate(tmp_path / "x", "Nordby kommune")
    assert (tmp_path / "x" / "hosts.yml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]  # no scratch left behind


def test_cli_without_a_terminal_needs_the_municipality(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["init", str(tmp_path / "x")]) == 2
    assert "municipality is required: pass it as a flag" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["init", str(tmp_path / "x"), "--municipality", "Nordby kommune",
                 "--json"]) == 0
    assert '"core_site": "Rådhuset"' in capsys.readouterr().out
