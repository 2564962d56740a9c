"""docs/own-municipality.md, followed command by command: every ``sh`` block of the page
runs, in order, in an empty directory, and the estate it describes comes out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from nornir_tasks.intent.loader import load_intent

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "own-municipality.md"


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def test_the_page_has_the_walk_through() -> None:
    joined = "\n".join(shell_blocks(PAGE.read_text()))
    for command in ("fellesnett init", "fellesnett build", "fellesnett site add",
                    "fellesnett zone add"):
        assert command in joined


def test_following_the_page_from_an_empty_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for n, block in enumerate(shell_blocks(PAGE.read_text()), 1):
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"block {n}:\n{block}\n{proc.stdout}\n{proc.stderr}"
    intent = load_intent(tmp_path / "nordby")
    sites = intent.sites
    assert set(sites) == {"nordby_radhus", "nordby_skole", "nordby_helsestasjon",
                          "solsikken_barnehage", "nordby_bibliotek"}
    # a kind the page defined, with only the zones the page gave it
    library = sites["nordby_bibliotek"]
    assert library.kind == "library" and list(intent.site_kinds)[-1] == "library"
    assert set(library.prefixes) == {"mgmt", "aps", "staff", "guest", "printers"}
    assert sorted(intent.site_devices("nordby_skole")) == sorted(
        ["nordby-skole-dist01", "nordby-skole-acc01", "nordby-skole-acc02",
         *(f"nordby-skole-ap{i:02d}" for i in range(1, 7))])
    skole = sites["nordby_skole"]
    assert skole.backup_circuit is not None and skole.backup_circuit.circuit_id == "BN-0101"
    assert skole.circuit is not None and skole.backup_circuit.core != skole.circuit.core
    kg = sites["solsikken_barnehage"]
    assert "voice" not in kg.prefixes and "cctv" not in kg.prefixes
    assert kg.zones is not None and set(kg.prefixes) == set(kg.zones) == {
        "mgmt", "aps", "pupils", "staff", "admin", "guest"}
    # wireless only: the switch has its AP ports and nothing else to plug into
    (sw,) = [h for h in intent.site_devices("solsikken_barnehage")
             if intent.devices[h].role.value != "ap"]
    assert {pa.profile for pa in intent.devices[sw].ports} == {"ap"}
    assert all("cctv" in sites[s].prefixes for s in ("nordby_radhus", "nordby_skole",
                                                     "nordby_helsestasjon"))
    # the last build is of the final estate, proven, and names the municipality
    build = tmp_path / "nordby-build"
    gw = (build / "configs" / "nordby_skole" / "nordby-skole-dist01.cfg").read_text()
    assert "vrf definition CCTV" in gw and "Nordby kommune - fellesnett" in gw
    assert "CCTV" not in (build / "configs" / "solsikken_barnehage" /
                          "solsikken-barnehage-sw01.cfg").read_text()
    matrix = (build / "docs" / "zone-matrix.json").read_text()
    assert '"ok": true' in matrix[:200]
    assert '"subject": "nordby_skole without its first circuit NF-0001", "result": "pass"' \
        in matrix
