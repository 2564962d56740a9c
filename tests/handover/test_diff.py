"""`fellesnett handover diff`: the change log between two builds of inventories that
differ (a site added, a policy rule added)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nornir_tasks.build import TARBALL, build
from nornir_tasks.cli import main

NEW_SITE = ["site", "add", "--name", "Nyby skole", "--kind", "school", "--circuit-type", "l2",
            "--provider", "Fiberoperatør AS", "--circuit-id", "FIB-00099", "--bandwidth",
            "1000", "--aps", "1"]


def diff(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = main(["handover", "diff", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_same_bundle_is_no_change(built: Path, tarball: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, report = diff(capsys, str(built), str(tarball))
    assert code == 0 and report["changed"] is False
    capsys.readouterr()
    assert main(["handover", "diff", str(built), str(tarball)]) == 0
    assert "No change" in capsys.readouterr().out


def test_a_new_site_shows_its_devices_and_the_core_lines(
        built: Path, inventory_copy: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*NEW_SITE, "--inventory", str(inventory_copy)]) == 0
    new = tmp_path / "new"
    build(inventory_copy, new)
    code, report = diff(capsys, str(built / TARBALL), str(new))
    assert code == 1 and report["changed"]
    devices = report["devices"]
    assert devices["added"] == ["nyby-skole-sw01"] and devices["removed"] == []
    changed = devices["changed"]
    # the core the circuit lands on gains the site's transit SVIs; both cores its routes
    assert {"radhuset-core01", "radhuset-core02", "radhuset-wlc01"} <= set(changed)
    core_lines = "\n".join(changed["radhuset-core01"]["added"]
                           + changed["radhuset-core02"]["added"])
    assert "Transit mgmt nyby_skole" in core_lines
    assert any(ln.startswith("ip route vrf STAFF ") for ln in
               changed["radhuset-core01"]["added"] + changed["radhuset-core02"]["added"])
    assert not changed["radhuset-core01"]["removed"] or all(
        "nyby" not in ln for ln in changed["radhuset-core01"]["removed"])
    assert any("nyby" in ln.lower() for ln in changed["radhuset-wlc01"]["added"])
    # adding a site changes no verdict of the proven matrix
    assert report["zone_matrix"]["changed"] is False
    files = {f["path"]: f["change"] for f in report["files"]}
    assert files["docs/sites/nyby_skole.md"] == "added"
    assert files["docs/topology/nyby_skole.svg"] == "added"
    assert files["docs/ip-plan.csv"] == "changed" and "MANIFEST.sha256" not in files

    capsys.readouterr()
    assert main(["handover", "diff", str(built), str(new)]) == 1
    md = capsys.readouterr().out
    assert "| `nyby-skole-sw01` | added |" in md
    assert "<code>radhuset-core01</code>" in md and "```diff" in md


def test_a_policy_change_shows_in_the_zone_matrix(
        built: Path, inventory_copy: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    policy = inventory_copy / "group_vars" / "all" / "policy.yml"
    text = policy.read_text()
    policy.write_text(text.replace("    - {from: guest, to: internet}\n",
                                   "    - {from: guest, to: internet}\n"
                                   "    - {from: guest, to: printing}\n"))
    new = tmp_path / "new"
    build(inventory_copy, new)
    code, report = diff(capsys, str(built), str(new))
    assert code == 1
    cells = report["zone_matrix"]["cells"]
    assert [(c["from"], c["to"]) for c in cells] == [("guest", "printing")]
    assert cells[0]["old"].startswith("denied") and cells[0]["new"].startswith("allowed")
    assert "ZONE-GUEST-IN" in "\n".join(
        report["devices"]["changed"]["radhuset-core01"]["diff"])


def test_bad_input_exits_2(built: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["handover", "diff", str(built), str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err
    assert main(["handover", "diff", str(built), str(built), "--context", "-1"]) == 2
