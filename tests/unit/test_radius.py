"""The RADIUS authorisation policy tells the truth about the inventory.

Expectations are read straight from the inventory YAML (not from the loaded ``Intent``
that ``build_radius`` uses), and the FreeRADIUS policy is checked by reading its TEXT, so
a bug in the loader, the structured policy or the template cannot hide behind another.
tests/integration/test_freeradius.py proves the same files in a real FreeRADIUS.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.radius import (
    CSV_FIELDS,
    CSV_PATH,
    PATHS,
    UNKNOWN_GROUP,
    build_radius,
    freeradius_policy_to_replies,
)

INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
POLICY = PATHS["policy.j2"]
CLIENTS = PATHS["clients.j2"]
PLACEHOLDER = re.compile(r"<<secret:([a-z][a-z0-9_]*)>>")
#: group -> VLAN as the policy text sets it, read without the module's own parser.
GROUP_BLOCK = re.compile(
    r'Fellesnett-Group\[\*\] == "(?P<group>[^"]+)"\) \{(?P<body>.*?)\n\t\t\t\}', re.DOTALL)


def _global(root: Path, section: str) -> Any:
    for path in sorted((root / "group_vars" / "all").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if section in data:
            return data[section]
    raise KeyError(section)


def _groups(root: Path = INVENTORY) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = _global(root, "authorization")["groups"]
    return groups


def _zone_vlan(zone: str, root: Path = INVENTORY) -> int:
    return int(_global(root, "zones")[zone]["vlan"])


def _restricted_vlan(root: Path = INVENTORY) -> int:
    return _zone_vlan(_global(root, "zone_policy")["restricted_zone"], root)


@pytest.fixture(scope="module")
def intent() -> Intent:
    return load_intent(INVENTORY)


@pytest.fixture(scope="module")
def bundle(intent: Intent) -> dict[str, str]:
    return build_radius(intent)


def _csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == CSV_FIELDS
    return list(reader)


def _policy_vlans(text: str) -> dict[str, str]:
    """Group -> the VLAN its block sets ("" for a block that removes it: a group of
    devices on trunk ports, which must get no VLAN)."""
    out = {}
    for m in GROUP_BLOCK.finditer(text):
        vlan = re.search(r'&Tunnel-Private-Group-Id := "(\d+)"', m.group("body"))
        if vlan is None:
            assert "&Tunnel-Private-Group-Id !* ANY" in m.group("body"), m.group(0)
            out[m.group("group")] = ""
            continue
        out[m.group("group")] = vlan.group(1)
    return out


def _group_vlan(g: dict[str, Any]) -> str:
    return str(_zone_vlan(g["zone"])) if g.get("assign_vlan", True) else ""


# --------------------------------------------------------------------------- the policy


def test_every_group_gets_its_zone_vlan_in_the_freeradius_policy(bundle: dict[str, str]
                                                                  ) -> None:
    want = {g["group"]: _group_vlan(g) for g in _groups()}
    assert "" in want.values(), "the reference has a group without a VLAN (access points)"
    assert _policy_vlans(bundle[POLICY]) == want


def test_every_group_sits_in_its_method_branch_with_the_full_tunnel_reply(
        bundle: dict[str, str]) -> None:
    replies = freeradius_policy_to_replies(bundle[POLICY])
    want: dict[tuple[str, str], dict[str, list[str]]] = {}
    for g in _groups():
        vlan = _group_vlan(g)
        # a group without a VLAN removes the catch-all's tunnel attributes
        reply = {"Tunnel-Medium-Type": ["IEEE-802"] if vlan else [],
                 "Tunnel-Private-Group-Id": [vlan] if vlan else [],
                 "Tunnel-Type": ["VLAN"] if vlan else []}
        if g.get("voice"):
            reply["Cisco-AVPair"] = ["device-traffic-class=voice"]
        want[(g["method"], g["group"])] = dict(sorted(reply.items()))
    want[("any", UNKNOWN_GROUP)] = {"Tunnel-Medium-Type": ["IEEE-802"],
                                    "Tunnel-Private-Group-Id": [str(_restricted_vlan())],
                                    "Tunnel-Type": ["VLAN"]}
    assert replies == want


def test_the_voice_domain_goes_to_voice_groups_only(bundle: dict[str, str]) -> None:
    voice = {g["group"] for g in _groups() if g.get("voice")}
    assert voice, "the reference inventory has a voice group (IP phones)"
    blocks = {m.group("group"): m.group("body") for m in GROUP_BLOCK.finditer(bundle[POLICY])}
    for group, body in blocks.items():
        assert ("device-traffic-class=voice" in body) == (group in voice), group
    assert bundle[POLICY].count("device-traffic-class=voice") == len(voice)


def test_first_listed_group_wins(bundle: dict[str, str]) -> None:
    """The policy tests groups in authorization.yml order (documented priority)."""
    for method in ("dot1x", "mab"):
        listed = [g["group"] for g in _groups() if g["method"] == method]
        printed = [k[1] for k in freeradius_policy_to_replies(bundle[POLICY]) if k[0] == method]
        assert printed == listed


def test_policy_parser_rejects_unbalanced_text() -> None:
    with pytest.raises(ValueError, match="unclosed"):
        freeradius_policy_to_replies("fellesnett_authorization {\n")
    with pytest.raises(ValueError, match="without an open section"):
        freeradius_policy_to_replies("}\n")


# --------------------------------------------------------------------------- the CSV


def test_csv_lists_every_group_in_order_then_unknown(bundle: dict[str, str]) -> None:
    rows = _csv_rows(bundle[CSV_PATH])
    want = [{"group": g["group"], "method": g["method"], "zone": g["zone"],
             "vlan": _group_vlan(g), "voice": "yes" if g.get("voice") else "no",
             "description": g.get("description", "")} for g in _groups()]
    assert rows[:-1] == want
    last = rows[-1]
    restricted = _global(INVENTORY, "zone_policy")["restricted_zone"]
    assert (last["group"], last["method"], last["zone"], last["vlan"], last["voice"]) == (
        UNKNOWN_GROUP, "any", restricted, str(_restricted_vlan()), "no")


def test_csv_and_freeradius_policy_agree(bundle: dict[str, str]) -> None:
    rows = {r["group"]: r["vlan"] for r in _csv_rows(bundle[CSV_PATH])}
    replies = freeradius_policy_to_replies(bundle[POLICY])
    assert rows == {group: (reply["Tunnel-Private-Group-Id"] or [""])[0]
                    for (_, group), reply in replies.items()}


# --------------------------------------------------------------------------- the bundle


def test_bundle_files_live_under_radius(bundle: dict[str, str]) -> None:
    assert set(bundle) == {*PATHS.values(), CSV_PATH}
    assert all(p.startswith("radius/") for p in bundle)
    assert list(bundle) == sorted(bundle)
    for path, text in bundle.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), path


def test_deterministic(intent: Intent, bundle: dict[str, str]) -> None:
    assert build_radius(load_intent(INVENTORY)) == bundle
    text = "".join(bundle.values())
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), "no dates in generated files"
    assert str(INVENTORY.parent) not in text, "no absolute paths"


def test_no_secret_values_only_placeholders(bundle: dict[str, str]) -> None:
    key = _global(INVENTORY, "aaa")["radius"]["key_secret"]
    secrets_lines = [line for line in bundle[CLIENTS].splitlines()
                     if line.strip().startswith("secret")]
    assert secrets_lines == [f"\tsecret = <<secret:{key}>>"]
    for path, text in bundle.items():
        for line in text.splitlines():
            if re.search(r"secret\s*=", line):
                assert PLACEHOLDER.search(line), f"{path}: {line}"
        assert "testing123" not in text, path


def test_clients_cover_the_management_zone_pool(bundle: dict[str, str]) -> None:
    mgmt = _global(INVENTORY, "zone_policy")["management_zone"]
    pool = _global(INVENTORY, "address_pools")["zones"][mgmt]["pool"]
    assert f"\tipaddr = {pool}\n" in bundle[CLIENTS]


def test_users_example_is_all_comments(bundle: dict[str, str]) -> None:
    """It ships next to the real users file; appending it must change nothing."""
    example = bundle[PATHS["users.j2"]]
    assert all(line.startswith("#") for line in example.splitlines())
    for g in _groups():
        assert f'Fellesnett-Group := "{g["group"]}"' in example


# --------------------------------------------------------------------------- data-driven


def test_new_zone_and_group_show_up_without_code_changes(inventory_copy: Path) -> None:
    """Building automation as a new zone with a MAB group: only YAML changes."""
    gv = inventory_copy / "group_vars" / "all"

    def edit(name: str, change: Any) -> None:
        path = gv / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    zones = _global(inventory_copy, "zones")
    zone_id = max(z["id"] for z in zones.values()) + 1
    vlan = max(z["vlan"] for z in zones.values()) + 7
    edit("zones.yml", lambda d: d["zones"].update(
        bygg={"id": zone_id, "vlan": vlan, "vrf": "BYGG", "description": "Building automation"}))
    # A pool no site kind uses yet: the zone exists before any site has it.
    edit("addressing.yml", lambda d: d["address_pools"]["zones"].update(
        bygg={"pool": "172.30.0.0/16", "prefix_length": {}}))
    edit("authorization.yml", lambda d: d["authorization"]["groups"].append(
        {"group": "byggautomasjon", "zone": "bygg", "method": "mab",
         "description": "Building controllers"}))

    bundle = build_radius(load_intent(inventory_copy))
    assert _policy_vlans(bundle[POLICY])["byggautomasjon"] == str(vlan)
    rows = {r["group"]: r for r in _csv_rows(bundle[CSV_PATH])}
    assert (rows["byggautomasjon"]["zone"], rows["byggautomasjon"]["vlan"]) == ("bygg", str(vlan))
    assert ("mab", "byggautomasjon") in freeradius_policy_to_replies(bundle[POLICY])


def test_restricted_zone_vlan_follows_the_zone(inventory_copy: Path) -> None:
    """Renumbering the restricted zone's VLAN moves the catch-all with it."""
    path = inventory_copy / "group_vars" / "all" / "zones.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    restricted = _global(inventory_copy, "zone_policy")["restricted_zone"]
    used = {z["vlan"] for z in data["zones"].values()}
    new = next(v for v in range(1000, 1100) if v not in used)
    data["zones"][restricted]["vlan"] = new
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    bundle = build_radius(load_intent(inventory_copy))
    assert freeradius_policy_to_replies(bundle[POLICY])[("any", UNKNOWN_GROUP)][
        "Tunnel-Private-Group-Id"] == [str(new)]
    assert _csv_rows(bundle[CSV_PATH])[-1]["vlan"] == str(new)
