"""A stateful pair (``stateful: true`` on a zone rule) routed through the town-hall
firewall: built, proven through the firewall's policy text, and every break of the hop is
found at its line. The reference estate has no stateful pair, so this one adds one:
admin manages the printers' web pages (tcp/443) through the firewall."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from nornir_tasks.cli import main
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.lab.plan import LabInputError, build_plan
from nornir_tasks.verify import load_configs, load_firewall, load_radius, verify

ROOT = Path(__file__).resolve().parents[2]
RULE = {"from": "admin", "to": "printers", "ports": ["tcp/443"], "stateful": True,
        "description": "Admin manages the printers' web pages through the firewall"}
NFT = "firewall/fellesnett.nft"


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("stateful")
    inv = root / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    policy = inv / "group_vars" / "all" / "policy.yml"
    data = yaml.safe_load(policy.read_text())
    data["zone_policy"]["rules"].append(RULE)
    policy.write_text(yaml.safe_dump(data, sort_keys=False))
    out = root / "build"
    assert main(["build", "--inventory", str(inv), "--out", str(out)]) == 0
    return inv, out


def _verify(inv: Path, out: Path) -> dict:
    report = verify(load_intent(inv), load_configs(out), load_radius(out), load_firewall(out))
    return json.loads(report.to_json())


def _broken(out: Path, tmp_path: Path, path: str, old: str, new: str) -> Path:
    copy = tmp_path / "build"
    shutil.copytree(out, copy)
    f = copy / path
    text = f.read_text()
    assert old in text, (path, old)
    f.write_text(text.replace(old, new, 1))
    return copy


def test_the_pair_is_proven_through_the_firewall(estate: tuple[Path, Path]) -> None:
    inv, out = estate
    r = _verify(inv, out)
    assert r["ok"], r["violations"][:3]
    cells = r["matrix"]["cells"]
    assert cells["admin"]["printers"]["status"] == "allowed"
    assert cells["printers"]["admin"]["status"] == "denied"
    assert any("stateful pair crosses the firewall" in n for n in r["notes"])
    # the routes the proof assumed are handed over to the firewall's administrator
    readme = (out / "firewall" / "README.md").read_text()
    assert "## Routes the stateful pairs need" in readme
    assert "| printers | 10.84.0.0/16 |" in readme
    # the core sends the pair to the firewall, never leaks it between the VRFs
    core = (out / "configs" / "radhuset" / "radhuset-core01.cfg").read_text()
    assert "ip route vrf ADMIN 10.84.0.0 255.255.0.0 10.254.0.38 name stateful-via-firewall" \
        in core


def _violations(r: dict) -> list[dict]:
    return [v for v in r["violations"] if v["check"] in ("matrix", "reply")]


def test_a_firewall_that_refuses_the_connection_blocks_the_pair(
        estate: tuple[Path, Path], tmp_path: Path) -> None:
    inv, out = estate
    broken = _broken(out, tmp_path, NFT, "ip daddr 10.84.0.0/16 tcp dport 443 ct state new "
                     "accept", "ip daddr 10.84.0.0/16 tcp dport 8443 ct state new accept")
    found = _violations(_verify(inv, broken))
    assert found and all(v["device"] == NFT for v in found), found
    assert any(v["pair"] == "admin -> printers" and "blocked although the matrix allows"
               in v["message"] for v in found)


def test_a_firewall_without_state_drops_the_replies(estate: tuple[Path, Path],
                                                   tmp_path: Path) -> None:
    inv, out = estate
    broken = _broken(out, tmp_path, NFT, "ct state established,related accept\n", "")
    found = _violations(_verify(inv, broken))
    assert found and {v["check"] for v in found} == {"reply"}, found
    assert all(v["device"] == NFT and v["pair"] == "admin -> printers" for v in found)


def test_a_missing_route_back_through_the_firewall_is_found(estate: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    inv, out = estate
    route = "ip route vrf PRINTERS 10.68.0.0 255.254.0.0 10.254.0.78 name stateful-via-firewall\n"
    broken = _broken(out, tmp_path, "configs/radhuset/radhuset-core01.cfg", route, "")
    core02 = broken / "configs" / "radhuset" / "radhuset-core02.cfg"
    core02.write_text(core02.read_text().replace(route, "", 1))
    r = _verify(inv, broken)
    assert not r["ok"]
    assert any(v["pair"] == "admin -> printers" and v["device"].startswith("radhuset-core")
               for v in r["violations"]), r["violations"][:3]


def test_the_lab_refuses_what_it_cannot_emulate(estate: tuple[Path, Path]) -> None:
    inv, _ = estate
    with pytest.raises(LabInputError, match="firewall hop of stateful pairs"):
        build_plan(load_intent(inv), ["radhuset"])


POLICY = """table ip filtering_policies {
    chain a {
        ip saddr 10.68.0.0/15 ip daddr 10.84.0.0/16 tcp dport 443 ct state new accept
    }
    chain root0 {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        ip saddr 10.68.0.0/15 tcp dport 443 drop
        jump a
    }
}
"""


def test_the_reader_follows_the_base_chain_in_order() -> None:
    from nornir_tasks.verify.firewall import read_firewall
    from nornir_tasks.verify.headerspace import Space

    fw = read_firewall(NFT, POLICY)
    assert fw.problems == [] and fw.stateful and fw.default == "drop"
    # the drop written in the base chain comes before the jump: nothing opens
    assert [r.lineno for r in fw.rules] == [8, 3]
    assert not fw.new()
    web = Space.of_flow("tcp", ["10.68.0.0/15"], ["10.84.0.0/16"], dport="443")
    fw2 = read_firewall(NFT, POLICY.replace("        ip saddr 10.68.0.0/15 tcp dport 443 "
                                            "drop\n", ""))
    back = Space.of_flow("tcp", ["10.84.0.0/16"], ["10.68.0.0/15"], sport="443")
    assert fw2.new() == web and fw2.forward() == web | back


@pytest.mark.parametrize("edit, problem", [
    (("jump a", "jump b"), "no chain 'b'"),
    (("        ct state established,related accept\n", ""), None),
    (("jump a", "jump a\n        ct state established,related accept"),
     "state accepted after other rules"),
    (("tcp dport 443 ct state new accept", "tcp dport 443 jump a"), "cannot read"),
])
def test_the_reader_names_what_it_cannot_place(edit: tuple[str, str],
                                               problem: str | None) -> None:
    from nornir_tasks.verify.firewall import read_firewall

    fw = read_firewall(NFT, POLICY.replace(*edit))
    if problem is None:
        assert fw.problems == [] and not fw.stateful
    else:
        assert any(problem in why for _, _, why in fw.problems), fw.problems
