"""A stateful pair (``stateful: true`` on a zone rule) routed through the town-hall
firewall: built, proven through the firewall's policy text, and every break of the hop is
found at its line; and proven with real packets by the lab, whose firewall namespace
loads the build's own policy file (the packet tests need root and the lab's tools: they
skip without them, and fail under ``CI=true``). The reference estate has no stateful
pair, so this one adds one: admin manages the printers' web pages (tcp/443) through the
firewall."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from nornir_tasks.cli import main
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.lab.adversarial import adversarial_plan, firewall_first
from nornir_tasks.lab.plan import build_plan, choose_sites, lab_firewall
from nornir_tasks.lab.probes import matrix_probes
from nornir_tasks.lab.runner import run_lab
from nornir_tasks.policy import zone_terms
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


def _verify(inv: Path, out: Path) -> dict[str, Any]:
    report = verify(load_intent(inv), load_configs(out), load_radius(out), load_firewall(out))
    data: dict[str, Any] = json.loads(report.to_json())
    return data


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
    assert "## Routes the firewall needs" in readme
    assert "| printers | 10.84.0.0/16 |" in readme
    # the core sends the pair to the firewall, never leaks it between the VRFs
    core = (out / "configs" / "radhuset" / "radhuset-core01.cfg").read_text()
    assert "ip route vrf ADMIN 10.84.0.0 255.255.0.0 10.254.0.38 name stateful-via-firewall" \
        in core


def _violations(r: dict[str, Any]) -> list[dict[str, Any]]:
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


# --------------------------------------------------------------------------- the lab


README = "firewall/README.md"


def _files(out: Path, **edits: tuple[str, str]) -> dict[str, str]:
    files = {rel: (out / rel).read_text() for rel in (NFT, README)}
    for rel, (old, new) in ((NFT if k == "nft" else README, v) for k, v in edits.items()):
        assert old in files[rel], (rel, old)
        files[rel] = files[rel].replace(old, new, 1)
    return files


def test_the_lab_builds_the_firewall_from_the_shipped_texts(
        estate: tuple[Path, Path]) -> None:
    """The firewall namespace loads the build's policy file byte for byte; its legs and
    routes are the README's, the core's routes into it the config text's; the lab's model
    of every probe (the loaded terms and that policy) agrees with the matrix."""
    inv, out = estate
    intent = load_intent(inv)
    configs = load_configs(out)
    hop = lab_firewall(intent, _files(out), configs)
    assert hop is not None and hop.text == (out / NFT).read_text()
    # what the build writes is what the lab generates when no build is given
    default = lab_firewall(intent, configs=configs)
    assert default is not None and default.text == hop.text
    # a leg per zone of the pair, and per zone with an internet rule (the internet is
    # behind the firewall too)
    assert {(g.zone, str(g.core_address), str(g.address)) for g in hop.legs} == {
        ("pupils", "10.254.0.17/29", "10.254.0.22/29"),
        ("staff", "10.254.0.25/29", "10.254.0.30/29"),
        ("admin", "10.254.0.33/29", "10.254.0.38/29"),
        ("guest", "10.254.0.49/29", "10.254.0.54/29"),
        ("printers", "10.254.0.73/29", "10.254.0.78/29")}
    assert {(r.zone, str(r.prefix), str(r.next_hop)) for r in hop.routes} >= {
        ("admin", "10.68.0.0/15", "10.254.0.33"), ("printers", "10.84.0.0/16", "10.254.0.73")}
    pair_routes = [r for r in hop.core_routes if r.prefix.prefixlen]
    assert {(r.zone, str(r.prefix), str(r.next_hop)) for r in pair_routes} == {
        ("admin", "10.84.0.0/16", "10.254.0.38"), ("printers", "10.68.0.0/15", "10.254.0.78")}
    assert all("name stateful-via-firewall" in r.source for r in pair_routes)
    assert {r.zone for r in hop.core_routes if not r.prefix.prefixlen} == {
        "pupils", "staff", "admin", "guest"}
    plan = build_plan(intent, choose_sites(intent, None), firewall=hop)
    assert "fw" in plan.namespaces
    # every leg of the pair's zones (sites, firewall) looks up its VRF's firewall routes
    faces = {iface for iface, _ in plan.firewall_rules}
    assert {g.interface for g in plan.core_legs if g.zone in ("admin", "printers")} | \
        {"f904", "f909"} == faces
    probes = matrix_probes(intent, plan).probes
    assert [p for p in probes if p.expected != p.model] == []
    pair = {(p.source.zone, p.destination.zone, p.label): p.expected for p in probes
            if {p.source.zone, p.destination.zone} == {"admin", "printers"}}
    assert pair[("admin", "printers", "tcp/443")] and not pair[("printers", "admin", "tcp/443")]
    assert not pair[("admin", "printers", "tcp/22")] and not pair[("admin", "printers", "icmp")]
    # the crafted probes the firewall's policy opens no connection for (sent first, to a
    # firewall without state): everything back from the printers, and what admin sends
    # the printers beyond tcp/443
    adv = adversarial_plan(intent, plan, zone_terms(intent))
    first = [adv.probe(i) for i in firewall_first(adv, hop)]
    assert {(p.source.zone, p.destination.zone) for p in first} == {
        ("printers", "admin"), ("admin", "printers")}
    assert all(p.source.zone == "printers" or (p.proto, p.dport) != ("tcp", 443)
               for p in first)
    # a policy without state: the model sees the handshake's reply dropped
    broken = lab_firewall(intent, _files(out, nft=("ct state established,related accept\n",
                                                   "")), configs)
    plan2 = build_plan(intent, choose_sites(intent, None), firewall=broken)
    bad = {(p.source.zone, p.destination.zone, p.label) for p in
           matrix_probes(intent, plan2).probes if p.expected != p.model}
    # ... and every answer from the internet (destination zone None), which is behind it
    assert bad == {("admin", "printers", "tcp/443"),
                   *((z, None, probe) for z in ("pupils", "staff", "admin", "guest")
                     for probe in ("icmp", "tcp/443"))}


@pytest.fixture(scope="module")
def stateful_lab(lab_machine: None, estate: tuple[Path, Path]) -> tuple[int, dict[str, Any]]:
    """``fellesnett lab --configs <the build> --json`` on the default sites (both have
    admin and printers hosts): the lab loads the build's own firewall policy."""
    inv, out = estate
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["lab", "--inventory", str(inv), "--configs", str(out), "--json"])
    return code, json.loads(buf.getvalue())


def test_the_lab_proves_the_pair_through_the_firewall(
        stateful_lab: tuple[int, dict[str, Any]], estate: tuple[Path, Path]) -> None:
    code, out = stateful_lab
    assert code == 0 and out["ok"], (out["mismatches"][:3], out["problems"], out["warnings"])
    fw = out["firewall"]
    assert fw["policy"] == NFT and fw["pairs"] == ["admin <-> printers"]
    assert fw["sha256"] == hashlib.sha256((estate[1] / NFT).read_bytes()).hexdigest()
    assert fw["conntrack_entries"] > 0, "the pair's connections crossed the firewall"
    assert out["conntrack_entries"] in (0, None), "the core stays stateless"

    def seen(src: str, dst: str, probe: str) -> set[str]:
        return {r["observed"] for r in out["results"] if r["source"].endswith(f"/{src}")
                and r["destination"].endswith(f"/{dst}") and r["probe"] == probe}
    # the opener's connection opens (a TCP handshake and the echoed data), at every site
    # and across the sites; the other way nothing opens; the pair's other ports are shut
    assert seen("admin", "printers", "tcp/443") == {"open"}
    assert len([r for r in out["results"] if r["source"].endswith("/admin")
                and r["destination"].endswith("/printers") and r["probe"] == "tcp/443"]) == 4
    assert seen("printers", "admin", "tcp/443") == {"closed"}
    assert seen("admin", "printers", "tcp/22") == {"closed"}
    assert seen("admin", "printers", "icmp") == {"closed"}
    adv = out["adversarial"]
    assert adv["disagreements"] == []
    # a lone ACK from the printers' port 443 into an admin host's ephemeral port: the
    # stateless reply term lets it through the core, the firewall's state stops it
    held = adv["firewall_held"]
    assert held["count"] > 0 and held["passed"] == 0, held
    assert all(e.startswith("tcp ACK 10.84.") and ":443 -> 10.68." in e
               for e in held["examples"])
    passing = {(p["from"], p["to"]) for p in adv["passing"]}
    assert ("admin", "printers") in passing and ("printers", "admin") not in passing
    assert not list(Path("/run/netns").glob(f"{out['prefix']}-*"))


def test_the_lab_catches_a_firewall_without_state(lab_machine: None,
                                                 estate: tuple[Path, Path]) -> None:
    """The lab loads what ships: a policy that lost its state line drops the handshake's
    reply, and the pair's probe fails by name (the loaded policy, read back, says so); so
    does every answer from the internet, which is behind the same firewall."""
    inv, out = estate
    intent = load_intent(inv)
    school = choose_sites(intent, None)[0]
    report = run_lab(intent, [school], configs=load_configs(out), adversarial_sites=0,
                     firewall_files=_files(out, nft=("ct state established,related accept\n",
                                                     "")))
    assert report.exit_code == 1
    assert {(r.probe.source.zone, r.probe.destination.zone, r.probe.label, r.probe.expected,
             r.observed, r.probe.model) for r in report.mismatches} == \
        {("admin", "printers", "tcp/443", True, False, False),
         *((z, None, probe, True, False, False) for z in ("pupils", "staff", "admin", "guest")
           for probe in ("icmp", "tcp/443"))}


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
