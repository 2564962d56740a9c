"""The switch design step, on its own: structured data, no CLI text."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml

from nornir_tasks.design.common import vlan_ids
from nornir_tasks.design.switch import build_switch, transit_links
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.intent.model import Overlay, Role, SiteKind


def _gateways(intent: Intent) -> list[str]:
    return [intent.gateway_of(s) for s, site in sorted(intent.sites.items())
            if site.kind != SiteKind.core]


def test_gateway_has_one_vrf_and_svi_per_site_zone(intent: Intent) -> None:
    for host in _gateways(intent):
        site = intent.site_of(host)
        cfg = build_switch(intent, host)
        assert {v.name for v in cfg.vrfs} == {intent.zones[z].vrf for z in site.prefixes}
        zone_svis = {s.vlan: s for s in cfg.svis if s.vlan < 1000}
        for zone, net in site.prefixes.items():
            z = intent.zones[zone]
            svi = zone_svis[z.vlan]
            assert svi.vrf == z.vrf
            assert svi.address == ipaddress.IPv4Interface(f"{net.network_address + 1}/"
                                                          f"{net.prefixlen}")


def test_no_svi_of_a_zone_in_another_zones_vrf(intent: Intent) -> None:
    vrf_of_vlan = {z.vlan: z.vrf for z in intent.zones.values()}
    for host, dev in intent.devices.items():
        if dev.role in (Role.ap, Role.wlc):
            continue
        for svi in build_switch(intent, host).svis:
            if svi.vlan in vrf_of_vlan:
                assert svi.vrf == vrf_of_vlan[svi.vlan], (host, svi)


def test_access_switch_is_layer2_with_a_management_svi_only(intent: Intent) -> None:
    host = "alta-ungdomsskole-acc03"
    cfg = build_switch(intent, host)
    assert [s.vrf for s in cfg.svis] == ["MGMT"]
    assert cfg.svis[0].address.ip == intent.devices[host].ansible_host
    assert [(r.vrf, str(r.prefix), str(r.next_hop)) for r in cfg.routes] == [
        ("MGMT", "0.0.0.0/0", str(intent.site_of(host).prefixes["mgmt"].network_address + 1))]
    assert [v.name for v in cfg.vrfs] == ["MGMT"]


def test_transit_links_are_per_zone_31s_inside_the_site_block(intent: Intent) -> None:
    for slug, site in intent.sites.items():
        links = list(transit_links(intent, slug))
        assert site.transit is not None
        for link in links:
            assert link.core_addr.network == link.site_addr.network
            assert link.core_addr.network.prefixlen == 31
            assert link.core_addr.network.subnet_of(site.transit)
        assert len({link.number for link in links}) == len(links)


def test_core_routes_every_site_prefix_back_in_its_own_vrf(intent: Intent) -> None:
    for core in ("radhuset-core01", "radhuset-core02"):
        routes = {(r.vrf, r.prefix) for r in build_switch(intent, core).routes}
        for site in intent.sites.values():
            if site.kind == SiteKind.core:
                continue
            for zone, net in site.prefixes.items():
                assert (intent.zones[zone].vrf, net) in routes, (core, zone, net)


def test_gre_site_uses_a_tunnel_per_zone_and_no_vrf_lite(intent: Intent) -> None:
    slug = "komagfjord_skole"
    site = intent.sites[slug]
    assert site.circuit is not None and site.circuit.overlay is Overlay.gre
    cfg = build_switch(intent, intent.gateway_of(slug))
    assert {t.vrf for t in cfg.tunnels} == {intent.zones[z].vrf for z in site.prefixes}
    wan = site.circuit.site_interface
    assert [r.name for r in cfg.routed_ports] == [wan]
    # printed in its place among the ports, as a routed port: never a VRF-lite trunk
    assert [p.mode for p in cfg.ports if p.name == wan] == ["routed"]
    assert not [v for v in cfg.vlans if v.id >= 2000]


def test_l2_site_wan_trunk_carries_only_its_own_transit_vlans(intent: Intent) -> None:
    slug = "alta_skole"
    site = intent.sites[slug]
    cfg = build_switch(intent, intent.gateway_of(slug))
    wan = next(p for p in cfg.ports if site.circuit and p.name == site.circuit.site_interface)
    numbers = sorted(link.number for link in transit_links(intent, slug))
    assert wan.mode == "trunk"
    assert vlan_ids(wan.allowed_vlans or "") == numbers
    assert numbers == [site.wan_vlan_base + intent.zones[z].id for z in
                       sorted(site.prefixes, key=lambda z: intent.zones[z].id)]


def test_ap_ports_trunk_only_site_zones_with_ap_zone_native(intent: Intent) -> None:
    cfg = build_switch(intent, "alta-bibliotek-dist01")  # municipal site: no pupils zone
    # municipal site with a distribution switch: AP ports sit on the access switch
    acc = build_switch(intent, "alta-bibliotek-acc01")
    ap_ports = [p for p in acc.ports if p.profile == "ap"]
    assert ap_ports
    for p in ap_ports:
        # the AP zone native, never the switches' own management (100)
        assert p.native_vlan == intent.zones[intent.wireless.ap_zone].vlan != 100
        assert p.allowed_vlans == "105,120,130,150"  # no pupils (110), no voice (140)
        # the AP authenticates (802.1X, multi-host: its clients pass after it), the port
        # is untrusted for DHCP snooping and ARP inspection, with a limit for many clients
        assert (p.dot1x, p.host_mode, p.trusted, p.ra_guard) == (True, "multi-host", False,
                                                                 True)
        assert p.rate_limit == 100
    assert cfg.hostname == "alta-bibliotek-dist01"


def test_unlisted_ports_are_shut_and_edge_ports_hardened(intent: Intent) -> None:
    cfg = build_switch(intent, "bossekop-barnehage-sw01")
    by_name = {p.name: p for p in cfg.ports}
    unused = by_name["GigabitEthernet1/0/24"]
    assert unused.shutdown and unused.profile == "unused"
    client = by_name["GigabitEthernet1/0/1"]
    assert client.dot1x and client.mab and client.edge and client.ra_guard
    assert client.access_vlan == intent.zones[intent.policy.restricted_zone].vlan
    assert cfg.dot1x is not None
    assert cfg.dot1x.critical_vlan == intent.zones[intent.policy.restricted_zone].vlan
    phone = next(p for p in build_switch(intent, "alta-skole-acc01").ports
                 if p.profile == "phone")
    assert phone.voice_vlan == intent.zones["voice"].vlan and phone.host_mode == "multi-domain"


def _add_zone(inv: Path, kinds: dict[str, int]) -> None:
    zones = inv / "group_vars" / "all" / "zones.yml"
    data = yaml.safe_load(zones.read_text())
    data["zones"]["building"] = {"id": 11, "vlan": 170, "vrf": "BUILDING",
                                 "description": "Building automation", "client_zone": False}
    zones.write_text(yaml.safe_dump(data))
    pools = inv / "group_vars" / "all" / "addressing.yml"
    pdata = yaml.safe_load(pools.read_text())
    pdata["address_pools"]["zones"]["building"] = {"pool": "10.90.0.0/16",
                                                   "prefix_length": kinds}
    pools.write_text(yaml.safe_dump(pdata))


def _give_prefix(inv: Path, slug: str, prefix: str) -> None:
    site = inv / "group_vars" / f"site_{slug}.yml"
    sdata = yaml.safe_load(site.read_text())
    sdata["site"]["prefixes"]["building"] = prefix
    site.write_text(yaml.safe_dump(sdata, allow_unicode=True))


def test_a_new_zone_without_prefixes_is_reported_per_site(inventory_copy: Path) -> None:
    from nornir_tasks.errors import IntentError

    _add_zone(inventory_copy, {"municipal": 27})
    _give_prefix(inventory_copy, "brannstasjonen", "10.90.0.0/27")
    try:
        load_intent(inventory_copy)
    except IntentError as exc:
        files = {p.file for p in exc.problems if "'building' has no prefix" in p.message}
        assert "group_vars/site_barnevernet.yml" in files
        assert "group_vars/site_brannstasjonen.yml" not in files
    else:
        raise AssertionError("sites without the new zone's prefix must be reported")


def test_a_new_zone_is_data_not_code(inventory_copy: Path) -> None:
    _add_zone(inventory_copy, {"core": 24})
    _give_prefix(inventory_copy, "radhuset", "10.90.0.0/24")
    profiles = inventory_copy / "group_vars" / "all" / "port_profiles.yml"
    pdata = yaml.safe_load(profiles.read_text())
    pdata["port_profiles"]["uplink"]["trunk_zones"].append("building")
    profiles.write_text(yaml.safe_dump(pdata))
    intent = load_intent(inventory_copy)
    cfg = build_switch(intent, "radhuset-core01")
    assert "BUILDING" in {v.name for v in cfg.vrfs}
    assert any(s.vlan == 170 and s.vrf == "BUILDING" and s.hsrp for s in cfg.svis)
    acc = build_switch(intent, "radhuset-acc01")
    assert 170 in {v.id for v in acc.vlans}
    uplink = next(p for p in acc.ports if p.profile == "uplink")
    assert uplink.allowed_vlans is not None and "170" in uplink.allowed_vlans
    # a school gateway does not get a zone its kind has no prefix for
    school = build_switch(intent, intent.gateway_of("alta_skole"))
    assert "BUILDING" not in {v.name for v in school.vrfs}
