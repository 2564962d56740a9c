"""The zone matrix compiled by Aerleon into stateless ingress ACLs at the core.

Expectations are written from the matrix in inventory/group_vars/all/policy.yml, read
here as YAML, and checked by first-match evaluation of the generated entries.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from nornir_tasks.acl_eval import Packet, evaluate
from nornir_tasks.design.structured import AclEntry
from nornir_tasks.design.switch import build_switch
from nornir_tasks.intent.loader import Intent
from nornir_tasks.policy import acl_name, zone_acls

ALL = Path(__file__).resolve().parents[2] / "inventory" / "group_vars" / "all"
POLICY = yaml.safe_load((ALL / "policy.yml").read_text())["zone_policy"]
SERVICES = yaml.safe_load((ALL / "services.yml").read_text())["services"]
INTERNET_HOST = ipaddress.ip_address("203.0.113.10")  # TEST-NET-3: evaluated, never sent
ip = ipaddress.ip_address


@pytest.fixture(scope="module")
def acls(intent: Intent) -> dict[str, list[AclEntry]]:
    return {a.name: a.entries for a in zone_acls(intent)}


def host_in(intent: Intent, zone: str) -> ipaddress.IPv4Address:
    site = next(s for s in intent.sites.values() if zone in s.prefixes
                and s.kind.value != "core")
    return site.prefixes[zone].network_address + 10


def allowed(zone: str, service: str) -> bool:
    return any(r["from"] == zone and r["to"] == service for r in POLICY["rules"])


def first_port(spec: str) -> tuple[str, int | None]:
    proto, _, port = spec.partition("/")
    return proto, int(port.split("-")[0]) if port else None


@pytest.mark.parametrize("zone", ["pupils", "staff", "admin", "voice", "guest", "mgmt"])
def test_every_service_pair_matches_the_matrix(zone: str, intent: Intent,
                                               acls: dict[str, list[AclEntry]]) -> None:
    src = host_in(intent, zone)
    infra = {f["to"]: f["ports"] for f in POLICY["infrastructure"] if zone in f["from"]}
    for name, svc in SERVICES.items():
        dst = ipaddress.ip_network(svc["prefixes"][0]).network_address
        for spec in svc["ports"]:
            proto, port = first_port(spec)
            verdict, entry = evaluate(acls[acl_name(zone)],
                                      Packet(proto, src, dst, 40000, port))
            want = allowed(zone, name) or spec in infra.get(name, [])
            assert (verdict == "permit") == want, (zone, name, spec, entry)


@pytest.mark.parametrize("zone", ["pupils", "staff", "admin", "voice", "guest", "mgmt"])
def test_internet_only_where_the_matrix_says(zone: str, intent: Intent,
                                             acls: dict[str, list[AclEntry]]) -> None:
    verdict, _ = evaluate(acls[acl_name(zone)],
                          Packet("tcp", host_in(intent, zone), INTERNET_HOST, 40000, 443))
    assert (verdict == "permit") == allowed(zone, "internet")


@pytest.mark.parametrize("src_zone, dst_zone", [
    ("pupils", "admin"), ("pupils", "staff"), ("pupils", "mgmt"), ("guest", "staff"),
    ("guest", "mgmt"), ("staff", "pupils"), ("voice", "staff"), ("admin", "mgmt"),
])
def test_no_zone_reaches_another_zone(src_zone: str, dst_zone: str, intent: Intent,
                                      acls: dict[str, list[AclEntry]]) -> None:
    for proto, port in (("tcp", 22), ("tcp", 443), ("udp", 53)):
        verdict, entry = evaluate(acls[acl_name(src_zone)],
                                  Packet(proto, host_in(intent, src_zone),
                                         host_in(intent, dst_zone), 40000, port))
        assert verdict == "deny", (src_zone, dst_zone, entry)


def test_zone_traffic_between_its_own_sites_passes(intent: Intent,
                                                   acls: dict[str, list[AclEntry]]) -> None:
    sites = [s for s in intent.sites.values() if "pupils" in s.prefixes]
    a, b = sites[0].prefixes["pupils"], sites[1].prefixes["pupils"]
    verdict, _ = evaluate(acls["ZONE-PUPILS-IN"],
                          Packet("tcp", a.network_address + 5, b.network_address + 5, 1, 80))
    assert verdict == "permit"


def test_stateless_replies_are_explicit(intent: Intent,
                                        acls: dict[str, list[AclEntry]]) -> None:
    mgmt = acls["ZONE-MGMT-IN"]
    switch = host_in(intent, "mgmt")
    noc = ip("10.10.0.20")
    # the switch answers an operator's SSH session ...
    assert evaluate(mgmt, Packet("tcp", switch, noc, 22, 51000, established=True))[0] == "permit"
    # ... but cannot open a connection to the NOC
    assert evaluate(mgmt, Packet("tcp", switch, noc, 51000, 22))[0] == "deny"
    assert evaluate(mgmt, Packet("icmp", switch, noc, icmp_type="echo-reply"))[0] == "permit"
    assert evaluate(mgmt, Packet("icmp", switch, noc, icmp_type="echo-request"))[0] == "deny"
    # SNMP answers go to the monitoring system only, from port 161
    mon = ip("10.10.20.16")
    assert evaluate(mgmt, Packet("udp", switch, mon, 161, 40000))[0] == "permit"
    assert evaluate(mgmt, Packet("udp", switch, noc, 161, 40000))[0] == "deny"


def test_every_acl_ends_in_an_explicit_deny(acls: dict[str, list[AclEntry]]) -> None:
    for name, entries in acls.items():
        last = [e for e in entries if e.action != "remark"][-1]
        assert (last.action, last.protocol, last.source, last.destination) == (
            "deny", "ip", None, None), name
        seqs = [e.seq for e in entries if e.action != "remark"]
        assert seqs == sorted(set(seqs)), name


def test_core_filters_every_zone_facing_interface(intent: Intent) -> None:
    vrf_zone = {z.vrf: name for name, z in intent.zones.items()}
    for core in ("radhuset-core01", "radhuset-core02"):
        cfg = build_switch(intent, core)
        peer_link = {s.vlan for s in cfg.svis if s.description.startswith("Transit")
                     and "radhuset-core0" in s.description}
        edge = intent.policy.internet_edge.vlan_base
        internet = {edge + intent.zones[z].id for z in intent.zones}
        for svi in cfg.svis:
            if svi.vlan in peer_link or svi.vlan in internet:
                # the link between the cores carries replies too, and the internet leg's
                # returns are the NAT firewall's to judge: neither is filtered here
                assert svi.acl_in is None
            else:
                assert svi.acl_in == acl_name(vrf_zone[svi.vrf]), (core, svi)
        for t in cfg.tunnels:
            assert t.acl_in == acl_name(vrf_zone[t.vrf])
        assert {a.name for a in cfg.acls} >= {acl_name(z) for z in intent.zones}


def test_sites_never_filter_or_route_between_zones(intent: Intent) -> None:
    cfg = build_switch(intent, intent.gateway_of("alta_skole"))
    assert all(s.acl_in is None for s in cfg.svis)
    assert not [a for a in cfg.acls if a.name.startswith("ZONE-")]


def test_rendered_acl_uses_device_print_form(built: Path) -> None:
    text = (built / "configs" / "radhuset" / "radhuset-core01.cfg").read_text()
    block = text.split("ip access-list extended ZONE-GUEST-IN\n", 1)[1].split("!", 1)[0]
    lines = block.splitlines()
    assert lines[-1] == " " + lines[-1].split()[0] + " deny ip any any"
    assert any(" permit udp 10.80.0.0 0.3.255.255 host 10.10.20.53 eq domain" in ln
               for ln in lines)
    assert " ip access-group ZONE-GUEST-IN in" in text


def test_route_leaking_follows_the_matrix(intent: Intent) -> None:
    """A zone's VRF imports only the routes of zones it has a flow with: pupils, guests
    and phones never even have a route to admin or to one another."""
    cfg = build_switch(intent, "radhuset-core01")
    rt = {v.name: v for v in cfg.vrfs}
    asn = intent.policy.bgp_asn

    def imports(vrf: str) -> set[str]:
        return set(rt[vrf].rt_import)

    servers = f"{asn}:{intent.zones['servers'].id}"
    for vrf in ("PUPILS", "GUEST", "VOICE"):
        assert imports(vrf) == {servers}, vrf
    for z in intent.zones.values():
        assert rt[z.vrf].rt_export == [f"{asn}:{z.id}"]
    assert f"{asn}:{intent.zones['admin'].id}" not in imports("PUPILS")
    # the servers VRF takes every zone's routes back, for the replies
    assert imports("SERVERS") == {f"{asn}:{z.id}" for n, z in intent.zones.items()
                                  if n != "servers"}
    # internet default routes exist only where the matrix allows the internet, and are
    # kept out of the other VRFs
    defaults = {r.vrf for r in cfg.routes if str(r.prefix) == "0.0.0.0/0"}
    assert defaults == {"PUPILS", "STAFF", "ADMIN", "GUEST"}
    assert cfg.bgp is not None and cfg.bgp.static_route_map == "RM-NO-DEFAULT"


def test_sites_have_no_route_targets(intent: Intent) -> None:
    cfg = build_switch(intent, intent.gateway_of("alta_skole"))
    assert all(v.rd is None and not v.rt_import for v in cfg.vrfs)
    assert cfg.bgp is None
