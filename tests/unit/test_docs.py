"""The handover docs tell the truth about the committed inventory.

Expectations are read straight from the inventory YAML (not from the loaded ``Intent``
that ``build_docs`` itself uses), so a docs bug and a loader bug cannot cancel out.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nornir_tasks.handover.documents import build_docs
from nornir_tasks.handover.ipplan import IP_PLAN_FIELDS, ip_plan_csv, ip_plan_rows
from nornir_tasks.handover.markdown import NONE
from nornir_tasks.handover.sites import port_map, site_sheet_path
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.interfaces import expand_interface_range

INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
PLACEHOLDER = re.compile(r"<<secret:([a-z][a-z0-9_]*)>>")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def intent() -> Intent:
    return load_intent(INVENTORY)


@pytest.fixture(scope="module")
def docs(intent: Intent) -> dict[str, str]:
    return build_docs(intent)


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _global(section: str) -> Any:
    for path in sorted((INVENTORY / "group_vars" / "all").glob("*.yml")):
        data = _yaml(path) or {}
        if section in data:
            return data[section]
    raise KeyError(section)


def _committed_sites() -> dict[str, dict[str, Any]]:
    """Site facts as committed in group_vars/site_<slug>.yml."""
    return {p.stem.removeprefix("site_"): _yaml(p)["site"]
            for p in sorted((INVENTORY / "group_vars").glob("site_*.yml"))}


def _committed_prefixes() -> dict[tuple[str, str], str]:
    return {(slug, zone): str(prefix) for slug, site in _committed_sites().items()
            for zone, prefix in site["prefixes"].items()}


def _cells(line: str) -> list[str]:
    """Cells of a Markdown table row; ``\\|`` is an escaped pipe inside a cell."""
    parts = re.split(r"(?<!\\)\|", line.strip())
    assert parts[0] == "" and parts[-1] == "", f"not a table row: {line!r}"
    return [c.strip().replace("\\|", "|") for c in parts[1:-1]]


def _tables(text: str) -> Iterator[tuple[str, list[str], list[list[str]]]]:
    """(heading above, header cells, body rows) of every table in a Markdown text."""
    heading = ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("#"):
            heading = lines[i].lstrip("#").strip()
        if lines[i].startswith("|"):
            header = _cells(lines[i])
            body = []
            i += 2  # skip the alignment row
            while i < len(lines) and lines[i].startswith("|"):
                body.append(_cells(lines[i]))
                i += 1
            yield heading, header, body
            continue
        i += 1


def _table(text: str, heading: str) -> tuple[list[str], list[list[str]]]:
    for head, header, body in _tables(text):
        if head == heading:
            return header, body
    raise AssertionError(f"no table under heading {heading!r}")


# --------------------------------------------------------------------------- the bundle


def test_file_set(docs: dict[str, str]) -> None:
    estate = {"README.md", "ip-plan.csv", "ip-plan.md", "zones.md", "ssids.md", "secrets.md",
              # the handover additions (nornir_tasks/handover, tests/handover)
              "ros.md", "ros.json", "vlans-vrfs.md", "dhcp.md", "dhcp-scopes.csv",
              "topology.md", "topology.svg", "runbook.md"}
    assert estate <= set(docs)
    assert all(p in estate or re.fullmatch(r"sites/[a-z0-9_]+\.md", p)
               or re.fullmatch(r"topology/[a-z0-9_]+\.svg", p) for p in docs)


def test_every_site_has_a_sheet(docs: dict[str, str]) -> None:
    sheets = {p for p in docs if p.startswith("sites/")}
    assert sheets == {site_sheet_path(slug) for slug in _committed_sites()}
    for slug, site in _committed_sites().items():
        assert docs[site_sheet_path(slug)].startswith(f"# {site['name']} (`{slug}`)\n")


def test_deterministic(intent: Intent, docs: dict[str, str]) -> None:
    assert build_docs(intent) == docs
    assert build_docs(load_intent(INVENTORY)) == docs
    assert list(docs) == sorted(docs)


@pytest.mark.parametrize("marker", [str(INVENTORY), str(INVENTORY.parent), "/home/", "/tmp/"])
def test_no_absolute_paths(docs: dict[str, str], marker: str) -> None:
    assert not [p for p, text in docs.items() if marker in text]


def test_text_form(docs: dict[str, str]) -> None:
    for path, text in docs.items():
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert "\r" not in text, path
        text.encode("utf-8")


def test_markdown_tables_are_rectangular(docs: dict[str, str]) -> None:
    for path, text in docs.items():
        if not path.endswith(".md"):
            continue
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):
                # a table starts: header, then an alignment row of the same width
                width = len(_cells(line))
                assert re.fullmatch(r"\|(-{3}:?\|)+", lines[i + 1]), (path, i)
                assert lines[i + 1].count("|") == width + 1, (path, i)
            elif line.startswith("|"):
                assert len(_cells(line)) == width, (path, i, line)


# --------------------------------------------------------------------------- IP plan


def test_ip_plan_md_has_every_committed_prefix(docs: dict[str, str]) -> None:
    header, body = _table(docs["ip-plan.md"], "Zone prefixes")
    site, zone, prefix = (header.index(h) for h in ("Site", "Zone", "Prefix"))
    got = [(r[site], r[zone], r[prefix]) for r in body]
    assert len(got) == len(set(got)), "a site x zone row appears twice"
    assert {(s, z): p for s, z, p in got} == _committed_prefixes()


def test_ip_plan_csv_matches_committed_prefixes(docs: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(docs["ip-plan.csv"], newline="")))
    assert tuple(rows[0]) == IP_PLAN_FIELDS
    got = {(r["site"], r["zone"]): r["prefix"] for r in rows}
    assert len(got) == len(rows), "a site x zone row appears twice"
    assert got == _committed_prefixes()


def test_ip_plan_csv_gateways_and_site_facts(docs: dict[str, str]) -> None:
    host = int(_global("management").get("mgmt_gateway_host", 1))
    zones = _global("zones")
    sites = _committed_sites()
    wan_block = int(_global("address_pools").get("wan_vlans", {}).get("block_size", 16))
    for r in csv.DictReader(io.StringIO(docs["ip-plan.csv"], newline="")):
        net = ipaddress.IPv4Network(r["prefix"])
        site = sites[r["site"]]
        zone = zones[r["zone"]]
        assert r["gateway"] == str(net.network_address + host)
        assert int(r["usable_hosts"]) == net.num_addresses - 2
        assert (r["vlan"], r["vrf"]) == (str(zone["vlan"]), zone["vrf"])
        assert r["dhcp"] == ("yes" if zone.get("dhcp", True) else "no")
        assert (r["site_name"], r["kind"]) == (site["name"], site["kind"])
        assert r["transit_block"] == site["transit"]
        assert int(r["wan_number"]) == site["wan_vlan_base"] + zone["id"]
        assert 0 <= zone["id"] < wan_block
        link = ipaddress.IPv4Network(r["transit_link"])
        assert link.prefixlen == 31 and link.subnet_of(ipaddress.IPv4Network(site["transit"]))
        assert int(link.network_address) - int(ipaddress.IPv4Network(
            site["transit"]).network_address) == 2 * zone["id"]
        circuit = site.get("circuit") or {}
        assert r["circuit_id"] == circuit.get("circuit_id", "")
        assert r["core"] == circuit.get("core", "")


def test_csv_quotes_per_rfc4180(intent: Intent) -> None:
    # names with commas and quotes survive the round trip through the csv module
    row = ip_plan_rows(intent)[0]
    tricky = type(row)(**{**{f: getattr(row, f) for f in IP_PLAN_FIELDS},
                          "site_name": 'Skole "Nord", avd. 2'})
    text = ip_plan_csv([tricky])
    assert '"Skole ""Nord"", avd. 2"' in text
    assert next(csv.DictReader(io.StringIO(text)))["site_name"] == 'Skole "Nord", avd. 2'


# --------------------------------------------------------------------------- zones and policy


def _matrix(docs: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    header, body = _table(docs["zones.md"], "Zone policy matrix")
    out = {}
    for row in body:
        src = row[0].strip("*")
        for dst, cell in zip(header[1:], row[1:], strict=True):
            out[src, dst] = cell.split("<br>")
    return out


def _rule_ports(rule: dict[str, Any]) -> str:
    services = _global("services")
    if rule.get("ports") is not None:
        return ", ".join(rule["ports"])
    if rule["to"] in services:
        return ", ".join(services[rule["to"]]["ports"])
    return "any"


def test_matrix_has_every_zone_and_destination(docs: dict[str, str]) -> None:
    m = _matrix(docs)
    zones = set(_global("zones"))
    dests = zones | set(_global("services")) | {"internet"}
    assert {s for s, _ in m} == zones
    assert {d for _, d in m} == dests


@pytest.mark.parametrize("rule", _global("zone_policy")["rules"],
                         ids=lambda r: f"{r['from']}->{r['to']}")
def test_matrix_shows_each_rule(docs: dict[str, str], rule: dict[str, Any]) -> None:
    assert _rule_ports(rule) in _matrix(docs)[rule["from"], rule["to"]]


def _flow_cells(intent: Intent, flow: dict[str, Any]) -> set[tuple[str, str]]:
    """The (row, column) cells a required flow opens, read from the raw YAML: rows are
    the zones of its opening end (a named service's or the NOC's zone), columns the
    service it goes to or the zones of its answering end (devices live in mgmt, access
    points in the AP zone, relay agents in the zone they relay for)."""

    def zones(end: Any) -> set[str]:
        if isinstance(end, list):
            return set(end)
        if isinstance(end, str):
            nets = (intent.management.noc_prefixes if end == "noc"
                    else intent.services[end].prefixes)
            return {z for s in intent.sites.values() for z, p in s.prefixes.items()
                    if all(n.subnet_of(p) for n in nets)}
        out = set(end.get("zones", [])) | set(end.get("relay", []))
        out |= {intent.wireless.ap_zone if r == "ap" else intent.policy.management_zone
                for r in end.get("devices", [])}
        return out

    to = flow["to"]
    columns = {to} if isinstance(to, str) and to in intent.services else zones(to)
    return {(s, d) for s in zones(flow["from"]) for d in columns if s != d}


@pytest.mark.parametrize("flow", _global("zone_policy").get("infrastructure", []),
                         ids=lambda f: f["name"])
def test_matrix_shows_each_infrastructure_flow(docs: dict[str, str], intent: Intent,
                                               flow: dict[str, Any]) -> None:
    m = _matrix(docs)
    cells = _flow_cells(intent, flow)
    # a flow inside one zone (the NOC managing devices, both in mgmt) opens no cell
    for cell in cells:
        assert f"{', '.join(flow['ports'])} ({flow['name']})" in m[cell], cell


def test_matrix_denies_every_unlisted_pair(docs: dict[str, str], intent: Intent) -> None:
    policy = _global("zone_policy")
    allowed = {(r["from"], r["to"]) for r in policy["rules"]}
    allowed |= {c for f in policy.get("infrastructure", []) for c in _flow_cells(intent, f)}
    denied = [(s, d) for (s, d), cell in _matrix(docs).items()
              if s != d and (s, d) not in allowed]
    assert denied, "the reference policy has denied pairs; the test must see some"
    m = _matrix(docs)
    for pair in denied:
        assert m[pair] == [NONE], pair
    # the example the brief names: pupils may not reach the admin zone
    assert m["pupils", "admin"] == [NONE]


def test_zones_table(docs: dict[str, str]) -> None:
    header, body = _table(docs["zones.md"], "Zones")
    by_zone = {r[0]: dict(zip(header, r, strict=True)) for r in body}
    pools = _global("address_pools")["zones"]
    for name, zone in _global("zones").items():
        row = by_zone[name]
        assert (row["VLAN"], row["VRF"], row["ID"]) == (str(zone["vlan"]), zone["vrf"],
                                                       str(zone["id"]))
        assert row["Pool"] == pools[name]["pool"]
        for kind, length in pools[name]["prefix_length"].items():
            assert f"{kind} /{length}" in row["Site kinds (prefix length)"]
    assert "Default deny" in docs["zones.md"]


def test_ssids_table(docs: dict[str, str]) -> None:
    header, body = _table(docs["ssids.md"], "SSIDs")
    rows = {r[header.index("SSID")]: dict(zip(header, r, strict=True)) for r in body}
    zones = _global("zones")
    for s in _global("wireless")["ssids"]:
        row = rows[s["ssid"]]
        assert row["Profile"] == s["name"] and row["WLAN ID"] == str(s["wlan_id"])
        assert row["Default zone"] == f"{s['zone']} (VLAN {zones[s['zone']]['vlan']})"
        assert row["AAA override"] == ("yes" if s.get("aaa_override") else "no")
        for kind in s["site_kinds"]:
            assert kind in row["Site kinds (sites)"]


# --------------------------------------------------------------------------- secrets


def _secret_refs(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(key path, secret name) of every secret reference in raw inventory YAML."""
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{path}.{k}" if path else str(k)
            if (k == "secret" or str(k).endswith("_secret")) and isinstance(v, str):
                yield key, v
            else:
                yield from _secret_refs(v, key)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _secret_refs(v, f"{path}[{i}]")


def _all_inventory_secret_refs() -> list[tuple[str, str]]:
    refs: list[tuple[str, str]] = []
    for path in sorted(INVENTORY.rglob("*.yml")):
        refs.extend(_secret_refs(_yaml(path)))
    return refs


def test_secrets_lists_every_secret_ref(docs: dict[str, str]) -> None:
    refs = _all_inventory_secret_refs()
    assert refs, "the reference inventory has secrets; the test must see them"
    text = docs["secrets.md"]
    listed = set(PLACEHOLDER.findall(text))
    assert {name for _, name in refs} == listed
    for key, name in refs:
        # every use is a row naming both the placeholder and where the name is set
        assert f"| `<<secret:{name}>>` | `{key}` |" in text, key
        assert f"- [ ] `<<secret:{name}>>`" in text


def test_docs_use_no_secret_the_intent_lacks(docs: dict[str, str]) -> None:
    names = {name for _, name in _all_inventory_secret_refs()}
    for path, text in docs.items():
        assert set(PLACEHOLDER.findall(text)) <= names, path


# --------------------------------------------------------------------------- site sheets


def test_site_sheet_zone_table(docs: dict[str, str]) -> None:
    host = int(_global("management").get("mgmt_gateway_host", 1))
    for slug, site in _committed_sites().items():
        header, body = _table(docs[site_sheet_path(slug)], "Zones")
        got = {r[0]: (r[header.index("Prefix")], r[header.index("Gateway")].split()[0])
               for r in body}
        want = {z: (p, str(ipaddress.IPv4Network(p).network_address + host))
                for z, p in site["prefixes"].items()}
        assert got == want, slug


def test_site_sheet_lists_every_host_of_the_site(intent: Intent, docs: dict[str, str]) -> None:
    for slug in intent.sites:
        _, body = _table(docs[site_sheet_path(slug)], "Devices")
        assert sorted(r[0] for r in body) == intent.site_devices(slug)


def test_port_map_covers_each_interface_once(intent: Intent) -> None:
    checked = 0
    for host, dev in sorted(intent.devices.items()):
        if dev.role.value == "ap":
            continue
        rows, unused = port_map(intent, host)
        seen = [n for r in rows for n in expand_interface_range(r.ports)]
        seen += [n for rng in unused for n in expand_interface_range(rng)]
        model = intent.device_models[dev.model]
        want = [n for spec in model.interfaces for n in expand_interface_range(spec)]
        assert sorted(seen) == sorted(want), host
        for pa in dev.ports:
            profiles = {r.profile for r in rows
                        for n in expand_interface_range(r.ports)
                        if n in expand_interface_range(pa.range)}
            assert profiles == {pa.profile}, (host, pa.range)
        checked += 1
    assert checked


def test_wan_port_shown_on_site_gateway(intent: Intent) -> None:
    for slug, site in sorted(intent.sites.items()):
        if site.circuit is None:
            continue
        rows, _ = port_map(intent, intent.gateway_of(slug))
        wan = [r for r in rows if r.ports == site.circuit.site_interface]
        assert len(wan) == 1 and wan[0].profile in ("wan", "wan-underlay"), slug
        assert site.circuit.circuit_id in wan[0].description


def test_ap_table(intent: Intent, docs: dict[str, str]) -> None:
    for slug in intent.sites:
        aps = [h for h in intent.site_devices(slug) if intent.devices[h].role.value == "ap"]
        text = docs[site_sheet_path(slug)]
        if not aps:
            assert "## Access points" not in text
            continue
        header, body = _table(text, "Access points")
        for row in body:
            dev = intent.devices[row[0]]
            assert dev.connected_to is not None
            assert row[1:] == [dev.model, dev.mac, dev.connected_to.switch,
                               dev.connected_to.port]
        assert sorted(r[0] for r in body) == aps


# --------------------------------------------------------------------------- README and --limit


def test_readme_counts(intent: Intent, docs: dict[str, str]) -> None:
    hosts = _yaml(INVENTORY / "hosts.yml")

    def leaves(node: Any) -> Iterator[dict[str, Any]]:
        yield from (node.get("hosts") or {}).values()
        for child in (node.get("children") or {}).values():
            yield from leaves(child)

    roles = [f["role"] for f in leaves(hosts["all"])]
    _, body = _table(docs["README.md"], "Estate in numbers")
    counts = {r[0]: r[1] for r in body}
    assert counts["Access points"] == str(roles.count("ap"))
    assert counts["Sites"] == str(len(_committed_sites()))
    assert counts["Switches"].startswith(
        str(sum(roles.count(r) for r in ("core", "distribution", "access"))) + " ")
    phone_profiles = {n for n, p in _global("port_profiles").items() if p.get("voice_zone")}
    phones = sum(len(expand_interface_range(pa.range)) for d in intent.devices.values()
                 for pa in d.ports if pa.profile in phone_profiles)
    assert counts["Phone ports"] == str(phones)
    assert phones > 0


def _one_host_per_site(intent: Intent, slugs: list[str]) -> set[str]:
    return {intent.site_devices(s)[0] for s in slugs}


def test_limit_selects_site_sheets(intent: Intent, docs: dict[str, str]) -> None:
    slugs = sorted(intent.sites)[:2]
    limited = build_docs(intent, _one_host_per_site(intent, slugs))
    assert sorted(p for p in limited if p.startswith("sites/")) == \
        sorted(site_sheet_path(s) for s in slugs)
    for path in ("ip-plan.csv", "ip-plan.md", "zones.md", "ssids.md", "secrets.md"):
        assert limited[path] == docs[path], path
    for slug in slugs:
        assert limited[site_sheet_path(slug)] == docs[site_sheet_path(slug)]
    # the index still names every site, but links only the sheets that are in the bundle
    readme = limited["README.md"]
    for slug in intent.sites:
        assert f"| {slug} |" in readme or f"[{slug}]({site_sheet_path(slug)})" in readme
    links = re.findall(r"\]\((sites/[^)]+)\)", readme)
    assert sorted(links) == sorted(site_sheet_path(s) for s in slugs)


def test_limit_with_empty_selection_keeps_estate_docs(intent: Intent,
                                                      docs: dict[str, str]) -> None:
    limited = build_docs(intent, set())
    assert not [p for p in limited if p.startswith("sites/")]
    assert limited["ip-plan.csv"] == docs["ip-plan.csv"]


def test_limit_rejects_unknown_host(intent: Intent) -> None:
    with pytest.raises(ValueError, match="no-such-host"):
        build_docs(intent, {"no-such-host"})
