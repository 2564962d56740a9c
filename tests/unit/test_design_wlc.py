"""The 9800 controller pair: design and rendered config tell the truth about the inventory.

Expectations come from the inventory YAML itself (not from the loaded ``Intent`` the design
step reads) and are checked against the rendered TEXT, so a design bug, a template bug
and a loader bug cannot cancel out.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from nornir_tasks.design.wlc import WlcConfig, build_wlc
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.render import render_config

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "inventory"
PLACEHOLDER = re.compile(r"^<<secret:[a-z][a-z0-9_]*>>$")


# --------------------------------------------------------------------------- helpers


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _global(root: Path, key: str) -> Any:
    for path in sorted((root / "group_vars" / "all").glob("*.yml")):
        data = _yaml(path) or {}
        if key in data:
            return data[key]
    raise KeyError(key)


def _hosts(root: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """host -> (site slug, facts), walking hosts.yml by hand."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}

    def walk(name: str, node: dict[str, Any]) -> None:
        for host, facts in (node.get("hosts") or {}).items():
            out[host] = (name.removeprefix("site_"), facts or {})
        for child, cnode in (node.get("children") or {}).items():
            walk(child, cnode or {})

    walk("all", _yaml(root / "hosts.yml")["all"])
    return out


def _site(root: Path, slug: str) -> dict[str, Any]:
    site: dict[str, Any] = _yaml(root / "group_vars" / f"site_{slug}.yml")["site"]
    return site


def _wlc_host(root: Path) -> str:
    hosts = [h for h, (_, f) in _hosts(root).items() if f.get("role") == "wlc"]
    assert len(hosts) == 1, hosts
    return hosts[0]


def blocks(text: str) -> dict[str, list[str]]:
    """Top-level line -> its indented child lines (sub-sub-modes keep their indent)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line or line == "!":
            current = None
        elif line.startswith(" "):
            assert current is not None, f"orphan child line {line!r}"
            current.append(line[1:])
        else:
            assert line not in out or not line.startswith(("wireless ", "wlan ", "ap ")), \
                f"block printed twice: {line}"
            current = out.setdefault(line, [])
    return out


def render(intent: Intent) -> tuple[WlcConfig, str]:
    host = next(h for h, d in intent.devices.items() if d.role.value == "wlc")
    cfg = build_wlc(intent, host)
    return cfg, render_config("c9800", cfg)


def flex_vlans(b: dict[str, list[str]], profile: str) -> dict[str, int]:
    lines = b[f"wireless profile flex {profile}"]
    out = {}
    for i, line in enumerate(lines):
        if line.startswith("vlan-name "):
            vid = lines[i + 1]
            assert vid.startswith(" vlan-id "), (profile, line, vid)
            out[line.split()[1]] = int(vid.split()[1])
    return out


def child(lines: list[str], keyword: str) -> str:
    hits = [line for line in lines if line.startswith(keyword + " ")]
    assert len(hits) == 1, (keyword, lines)
    return hits[0][len(keyword) + 1:]


@pytest.fixture(scope="module")
def rendered(intent: Intent) -> tuple[WlcConfig, str]:
    return render(intent)


@pytest.fixture(scope="module")
def text(rendered: tuple[WlcConfig, str]) -> str:
    return rendered[1]


@pytest.fixture(scope="module")
def b(text: str) -> dict[str, list[str]]:
    return blocks(text)


# --------------------------------------------------------------------------- APs and tags


def test_every_ap_is_tagged_with_its_mac_and_its_own_site(text: str,
                                                          b: dict[str, list[str]]) -> None:
    aps = {f["mac"]: (h, slug) for h, (slug, f) in _hosts(INVENTORY).items()
           if f.get("role") == "ap"}
    assert len(aps) > 100  # the reference estate, not an empty walk
    tagged = {line.split()[1]: b[line] for line in b if re.fullmatch(r"ap [0-9a-f.]{14}", line)}
    assert set(tagged) == set(aps)
    for mac, (host, slug) in aps.items():
        lines = tagged[mac]
        assert child(lines, "site-tag") == slug, host
        assert f"wireless tag site {slug}" in b, host
        assert f"wireless tag policy {child(lines, 'policy-tag')}" in b, host
        assert f"wireless tag rf {child(lines, 'rf-tag')}" in b, host
    # printed sorted by MAC
    order = [m.group(1) for m in re.finditer(r"^ap ([0-9a-f.]{14})$", text, re.M)]
    assert order == sorted(order)


def test_every_site_has_a_flexconnect_site_tag(b: dict[str, list[str]]) -> None:
    slugs = {slug for slug, _ in _hosts(INVENTORY).values()}
    assert len(slugs) > 50
    site_tags = {line.split()[3] for line in b if line.startswith("wireless tag site ")}
    assert site_tags == slugs
    for slug in slugs:
        lines = b[f"wireless tag site {slug}"]
        assert "no local-site" in lines
        assert f"wireless profile flex {child(lines, 'flex-profile')}" in b
        assert f"ap profile {child(lines, 'ap-profile')}" in b


def test_policy_tags_broadcast_exactly_the_ssids_of_their_site_kind(
        b: dict[str, list[str]]) -> None:
    ssids = _global(INVENTORY, "wireless")["ssids"]
    for mac_line in [line for line in b if re.fullmatch(r"ap [0-9a-f.]{14}", line)]:
        slug = child(b[mac_line], "site-tag")
        kind = _site(INVENTORY, slug)["kind"]
        tag = b[f"wireless tag policy {child(b[mac_line], 'policy-tag')}"]
        wlans = {line.split()[1] for line in tag if line.startswith("wlan ")}
        assert wlans == {s["name"] for s in ssids if kind in s["site_kinds"]}, slug


# --------------------------------------------------------------------------- WLANs


def _radius_group(b: dict[str, list[str]]) -> str:
    """The RADIUS server group holding exactly the inventory's RADIUS servers."""
    servers = {s["name"] for s in _global(INVENTORY, "aaa")["radius"]["servers"]}
    groups = [line.split()[4] for line in b if line.startswith("aaa group server radius ")
              and {c.split()[2] for c in b[line] if c.startswith("server name ")} == servers]
    assert len(groups) == 1, groups
    return groups[0]


def test_dot1x_wlan_lands_in_the_restricted_zone_with_aaa_override(
        b: dict[str, list[str]]) -> None:
    zones = _global(INVENTORY, "zones")
    restricted = _global(INVENTORY, "zone_policy")["restricted_zone"]
    group = _radius_group(b)
    policies = {line.split()[1]: line.split()[3]
                for tag, lines in b.items() if tag.startswith("wireless tag policy ")
                for line in lines if line.startswith("wlan ")}
    dot1x = [s for s in _global(INVENTORY, "wireless")["ssids"] if s["security"] == "dot1x"]
    assert dot1x
    for ssid in dot1x:
        wlan = b[f"wlan {ssid['name']} {ssid['wlan_id']} {ssid['ssid']}"]
        assert "no security wpa akm dot1x" not in wlan  # 802.1X AKM stays on
        assert "security wpa wpa3" in wlan and "security wpa akm dot1x-sha256" in wlan
        assert wlan[-1] == "no shutdown"
        authn = child(wlan, "security dot1x authentication-list")
        assert f"aaa authentication dot1x {authn} group {group}" in b
        profile = b[f"wireless profile policy {policies[ssid['name']]}"]
        assert int(child(profile, "vlan")) == zones[restricted]["vlan"]
        assert "aaa-override" in profile
        assert {"no central switching", "no central dhcp"} <= set(profile)
        assert profile[-1] == "no shutdown"
        acct = child(profile, "accounting-list")
        assert f"aaa accounting identity {acct} start-stop group {group}" in b
    # 802.1X with AAA override authorizes through the default network list (ios_xe/aaa.j2)
    assert f"aaa authorization network default group {group}" in b
    coa = b["aaa server radius dynamic-author"]
    for s in _global(INVENTORY, "aaa")["radius"]["servers"]:
        assert any(line.startswith(f"client {s['address']} ") for line in coa)


def test_psk_wlan_uses_a_placeholder_key(b: dict[str, list[str]]) -> None:
    psk = [s for s in _global(INVENTORY, "wireless")["ssids"] if s["security"] == "psk"]
    assert psk
    for ssid in psk:
        wlan = b[f"wlan {ssid['name']} {ssid['wlan_id']} {ssid['ssid']}"]
        assert child(wlan, "security wpa psk set-key ascii 0") == \
            f"<<secret:{ssid['psk_secret']}>>"
        assert "no security wpa akm dot1x" in wlan and "security wpa akm psk" in wlan
        assert not any("authentication-list" in line for line in wlan)


# --------------------------------------------------------------------------- flex profiles


def test_flex_profiles_carry_only_zones_the_site_has(b: dict[str, list[str]]) -> None:
    zones = _global(INVENTORY, "zones")
    ap_zone = _global(INVENTORY, "wireless")["ap_zone"]
    by_vlan = {z["vlan"]: name for name, z in zones.items()}
    seen_kinds: set[str] = set()
    for slug in {slug for slug, _ in _hosts(INVENTORY).values()}:
        site = _site(INVENTORY, slug)
        profile = child(b[f"wireless tag site {slug}"], "flex-profile")
        lines = b[f"wireless profile flex {profile}"]
        assert int(child(lines, "native-vlan-id")) == zones[ap_zone]["vlan"]
        vlans = flex_vlans(b, profile)
        assert vlans, profile
        for name, vid in vlans.items():
            zone = by_vlan[vid]
            assert name == zone.upper()
            assert zone in site["prefixes"], (slug, zone)
            assert zones[zone].get("client_zone", True), (slug, zone)
        seen_kinds.add(site["kind"])
    # the estate has kinds with and without pupils; a municipal AP must not offer them
    assert {"school", "municipal"} <= seen_kinds


def test_one_flex_profile_per_distinct_zone_set(b: dict[str, list[str]]) -> None:
    names = [line.split()[3] for line in b if line.startswith("wireless profile flex ")]
    sets = [frozenset(flex_vlans(b, n).items()) for n in names]
    assert len(set(sets)) == len(sets) == len(names) >= 2


def _add_zone(root: Path, kind: str, carried_by_aps: bool) -> None:
    """A new client zone at one site kind, allocated for every site of that kind."""
    zpath = root / "group_vars" / "all" / "zones.yml"
    data = _yaml(zpath)
    data["zones"]["building"] = {"id": 11, "vlan": 170, "vrf": "BUILDING",
                                 "description": "Building automation"}
    zpath.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    apath = root / "group_vars" / "all" / "addressing.yml"
    data = _yaml(apath)
    pool = ipaddress.IPv4Network("10.90.0.0/16")
    data["address_pools"]["zones"]["building"] = {"pool": str(pool),
                                                  "prefix_length": {kind: 27}}
    apath.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    subnets = pool.subnets(new_prefix=27)
    for path in sorted((root / "group_vars").glob("site_*.yml")):
        site = _yaml(path)
        if site["site"]["kind"] == kind:
            site["site"]["prefixes"]["building"] = str(next(subnets))
            path.write_text(yaml.safe_dump(site, sort_keys=False, allow_unicode=True),
                            encoding="utf-8")
    if carried_by_aps:
        ppath = root / "group_vars" / "all" / "port_profiles.yml"
        data = _yaml(ppath)
        data["port_profiles"]["ap"]["trunk_zones"].append("building")
        ppath.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_a_new_zone_shows_up_in_flex_profiles_without_code_changes(
        inventory_copy: Path, b: dict[str, list[str]]) -> None:
    _add_zone(inventory_copy, "kindergarten", carried_by_aps=True)
    _, text = render(load_intent(inventory_copy))
    nb = blocks(text)
    hosts = _hosts(inventory_copy)
    kinds = {slug: _site(inventory_copy, slug)["kind"] for slug, _ in hosts.values()}
    for slug, kind in kinds.items():
        profile = child(nb[f"wireless tag site {slug}"], "flex-profile")
        vlans = flex_vlans(nb, profile)
        if kind == "kindergarten":
            assert vlans.get("BUILDING") == 170, slug
        else:
            assert "BUILDING" not in vlans, slug
            # the other kinds keep their profile, unchanged: no re-tagging of their APs
            assert profile == child(b[f"wireless tag site {slug}"], "flex-profile")
            assert vlans == flex_vlans(b, profile)


def test_a_zone_the_ap_ports_do_not_carry_stays_out(inventory_copy: Path) -> None:
    _add_zone(inventory_copy, "kindergarten", carried_by_aps=False)
    _, text = render(load_intent(inventory_copy))
    assert "vlan-name BUILDING" not in text


# --------------------------------------------------------------------------- HA and management


def test_sso_pair_management_and_rmi(b: dict[str, list[str]]) -> None:
    host = _wlc_host(INVENTORY)
    slug, facts = _hosts(INVENTORY)[host]
    zones = _global(INVENTORY, "zones")
    mz = _global(INVENTORY, "zone_policy")["management_zone"]
    mgmt = ipaddress.IPv4Network(_site(INVENTORY, slug)["prefixes"][mz])
    gw_host = _global(INVENTORY, "management").get("mgmt_gateway_host", 1)
    gateway = mgmt.network_address + gw_host
    vlan = zones[mz]["vlan"]
    assert b["redundancy"] == ["mode sso"]
    rmi = [line for line in b if line.startswith("redun-management interface ")]
    assert len(rmi) == 1
    m = re.fullmatch(rf"redun-management interface Vlan{vlan} chassis 1 address (\S+) "
                     r"chassis 2 address (\S+)", rmi[0])
    assert m, rmi
    active, standby = (ipaddress.IPv4Address(a) for a in m.groups())
    assert str(standby) == facts["standby_address"]
    # the active RMI is added as a secondary on the SVI: never the management address
    assert active != ipaddress.IPv4Address(facts["ansible_host"])
    assert active in mgmt and standby in mgmt
    used = {ipaddress.IPv4Address(f["ansible_host"]) for _, f in _hosts(INVENTORY).values()
            if "ansible_host" in f}
    assert active not in used and active != gateway
    assert "management gateway-failover enable" in b
    assert f"wireless management interface Vlan{vlan}" in b
    svi = b[f"interface Vlan{vlan}"]
    # the 9800 has a management VRF only on its service port: the wireless management
    # interface (and the RMI on it) lives in the global table, with a global default
    assert not [line for line in svi if line.startswith("vrf forwarding")]
    assert f"ip address {facts['ansible_host']} {mgmt.netmask}" in svi
    assert f"ip route 0.0.0.0 0.0.0.0 {gateway} name default-via-core" in b
    assert not [line for line in b if line.startswith(f"vrf definition {zones[mz]['vrf']}")]
    assert b["interface GigabitEthernet0"] == ["vrf forwarding Mgmt-intf", "no ip address",
                                               "negotiation auto"]
    assert f"wireless country {_global(INVENTORY, 'wireless')['country']}" in b


def test_ports_follow_the_port_map(b: dict[str, list[str]]) -> None:
    host = _wlc_host(INVENTORY)
    zones = _global(INVENTORY, "zones")
    profiles = _global(INVENTORY, "port_profiles")
    port_map = _yaml(INVENTORY / "host_vars" / f"{host}.yml")["ports"]
    assert port_map
    for pa in port_map:
        prof = profiles[pa["profile"]]
        # one LACP bundle per chassis (each chassis' members go to its core): the bundle
        # and every member carry the same trunk, the management VLAN tagged
        names = [f"Port-channel{pa['channel_group']}",
                 *expand_interface_range(pa["range"])]
        for name in names:
            lines = b[f"interface {name}"]
            assert "switchport mode trunk" in lines
            assert not [ln for ln in lines if ln.startswith("switchport trunk native")]
            allowed = {zones[z]["vlan"] for z in prof["trunk_zones"]}
            assert child(lines, "switchport trunk allowed vlan") == ",".join(
                str(v) for v in sorted(allowed))
            member = name != names[0]
            assert (f"channel-group {pa['channel_group']} mode active" in lines) == member


def test_ap_join_profile_points_at_the_shared_services(b: dict[str, list[str]]) -> None:
    m = _global(INVENTORY, "management")
    profiles = [line for line in b if line.startswith("ap profile ")]
    assert len(profiles) == 1
    lines = b[profiles[0]]
    assert "ssh" in lines
    assert child(lines, "syslog host") in m["syslog_servers"]
    assert child(lines, "ntp ip") in m["ntp_servers"]
    user = child(lines, "mgmtuser username").split()
    assert user[1:3] == ["password", "0"] and user[4:6] == ["secret", "0"]
    assert PLACEHOLDER.match(user[3]) and PLACEHOLDER.match(user[6])


# --------------------------------------------------------------------------- secrets


SECRET_LINE = re.compile(r"(?:set-key ascii \d|password \d|secret \d|key \d|server-key \d)"
                         r" (\S+)")


def test_no_secret_value_appears(intent: Intent, monkeypatch: pytest.MonkeyPatch) -> None:
    names = set(re.findall(r"(?:secret|key_secret|psk_secret|auth_secret|priv_secret):"
                           r"\s*([a-z][a-z0-9_]*)",
                           "\n".join(p.read_text() for p in
                                     (INVENTORY / "group_vars" / "all").glob("*.yml"))))
    assert {"guest_psk", "radius_key"} <= names
    # values a resolver could find: none may leak into an intended config
    for n in names:
        monkeypatch.setenv(n, f"LEAKED-{n}")
        monkeypatch.setenv(n.upper(), f"LEAKED-{n}")
    _, text = render(intent)
    assert "LEAKED-" not in text
    tokens = SECRET_LINE.findall(text)
    assert len(tokens) >= 5
    for token in tokens:
        assert PLACEHOLDER.match(token), token
    assert {t[len("<<secret:"):-2] for t in tokens} <= names


# --------------------------------------------------------------------------- rendering


def test_render_is_deterministic_across_processes(text: str, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from nornir_tasks.intent.loader import load_intent\n"
        "from nornir_tasks.design.wlc import build_wlc\n"
        "from nornir_tasks.render import render_config\n"
        "i = load_intent(sys.argv[1])\n"
        "h = next(h for h, d in i.devices.items() if d.role.value == 'wlc')\n"
        "sys.stdout.write(render_config('c9800', build_wlc(i, h)))\n"
    )
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", script, str(INVENTORY)], env=env,
                             capture_output=True, text=True, check=True, cwd=tmp_path)
        outs.append(run.stdout)
    assert outs[0] == outs[1] == text


def test_every_feature_block_opens_with_a_bang(text: str) -> None:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("wireless profile ", "wireless tag ", "wlan ", "ap profile ")) or \
                re.fullmatch(r"ap [0-9a-f.]{14}", line):
            assert lines[i - 1] == "!", line
    assert lines[-1] == "end"


def test_strict_undefined_refuses_a_missing_key(rendered: tuple[WlcConfig, str]) -> None:
    cfg = rendered[0]

    class Missing:
        """The config with one key gone, as a stale template or design would see it."""

        def __init__(self, hidden: str) -> None:
            self.hidden = hidden

        def __getattr__(self, name: str) -> Any:
            if name == self.hidden:
                raise AttributeError(name)
            return getattr(cfg, name)

    for hidden in ("wlans", "country", "redundancy", "ap_tags"):
        with pytest.raises(jinja2.UndefinedError):
            render_config("c9800", Missing(hidden))


# --------------------------------------------------------------------------- refusals


def test_aaa_override_outside_the_restricted_zone_is_refused(intent: Intent) -> None:
    ssids = [s.model_copy(update={"zone": "staff"}) if s.aaa_override else s
             for s in intent.wireless.ssids]
    bad = dataclasses.replace(intent, wireless=intent.wireless.model_copy(
        update={"ssids": ssids}))
    with pytest.raises(ValueError, match="restricted zone"):
        render(bad)


def test_rmi_addresses_are_checked_in_the_intent(inventory_copy: Path) -> None:
    """The RMI of chassis 1 is a second address on the management SVI: reusing the
    management address (or any other) is refused before anything is rendered."""
    from nornir_tasks.errors import IntentError

    hosts = inventory_copy / "hosts.yml"
    hosts.write_text(hosts.read_text().replace("rmi_address: 10.0.0.12", "rmi_address: 10.0.0.10"))
    with pytest.raises(IntentError) as err:
        load_intent(inventory_copy)
    assert [(p.file, p.path) for p in err.value.problems] == [
        ("hosts.yml", "radhuset-wlc01.rmi_address")]
    assert "already used" in err.value.problems[0].message


def test_rmi_addresses_are_rendered(intent: Intent) -> None:
    host = next(h for h, d in intent.devices.items() if d.role.value == "wlc")
    dev = intent.devices[host]
    _, text = render(intent)
    assert (f"redun-management interface Vlan100 chassis 1 address {dev.rmi_address} "
            f"chassis 2 address {dev.standby_address}") in text
