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
from nornir_tasks.policy import acl_name, service_zone, zone_acls

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


def opens_from(end: object, zone: str) -> bool:
    """Does a flow end (as written in policy.yml) cover hosts of ``zone``? Devices are
    managed in mgmt, access points in aps, relay agents live in their zone."""
    if isinstance(end, list):
        return zone in end
    if isinstance(end, dict):
        devices = {"aps" if r == "ap" else "mgmt" for r in end.get("devices", [])}
        return zone in (*end.get("zones", []), *end.get("relay", []), *devices)
    return False


def in_ports(port: int, specs: list[str], proto: str) -> bool:
    for spec in specs:
        p, _, rng = spec.partition("/")
        lo, _, hi = rng.partition("-")
        if p == proto and int(lo) <= port <= int(hi or lo):
            return True
    return False


@pytest.mark.parametrize("zone", ["pupils", "staff", "admin", "voice", "guest", "mgmt"])
def test_every_service_pair_matches_the_matrix(zone: str, intent: Intent,
                                               acls: dict[str, list[AclEntry]]) -> None:
    """From an ephemeral port (40000) every service port is open exactly where a rule or
    a required flow opens it; a flow that fixes its source ports (DHCP relay 67, renewal
    68) does not open from 40000."""
    src = host_in(intent, zone)
    for name, svc in SERVICES.items():
        dst = ipaddress.ip_network(svc["prefixes"][0]).network_address
        for spec in svc["ports"]:
            proto, port = first_port(spec)
            assert port is not None
            verdict, entry = evaluate(acls[acl_name(zone)],
                                      Packet(proto, src, dst, 40000, port))
            want = allowed(zone, name) or service_zone(intent, name) == zone or any(
                opens_from(f["from"], zone) and f["to"] == name and spec in f["ports"]
                and (not f.get("source_ports") or in_ports(40000, f["source_ports"], proto))
                for f in POLICY["infrastructure"])
            assert (verdict == "permit") == want, (zone, name, spec, entry)


@pytest.mark.parametrize("zone", ["pupils", "mgmt", "printers"])
def test_fixed_source_ports_are_kept(zone: str, intent: Intent,
                                     acls: dict[str, list[AclEntry]]) -> None:
    """DHCP leaves the zone from port 67 (the relay) or 68 (a renewal), never from
    another port; the servers answer to 67 or 68 only."""
    src = host_in(intent, zone)
    dhcp = ip(SERVICES["dhcp"]["prefixes"][0].split("/")[0])
    ok = [evaluate(acls[acl_name(zone)], Packet("udp", src, dhcp, s, 67))[0] for s in (67, 68)]
    assert ok == ["permit", "permit"]
    assert evaluate(acls[acl_name(zone)], Packet("udp", src, dhcp, 5000, 67))[0] == "deny"
    infra = acls["ZONE-INFRA-IN"]
    assert evaluate(infra, Packet("udp", dhcp, src, 67, 68))[0] == "permit"
    assert evaluate(infra, Packet("udp", dhcp, src, 67, 5000))[0] == "deny"


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
    """Replies need their own terms, scoped to the service port they leave and to the
    opener's port they go back to: no reply term opens a port the opener did not use."""
    mgmt, infra = acls["ZONE-MGMT-IN"], acls["ZONE-INFRA-IN"]
    switch = host_in(intent, "mgmt")
    radius = ip(SERVICES["radius"]["prefixes"][0].split("/")[0])
    tacacs = ip(SERVICES["tacacs"]["prefixes"][0].split("/")[0])
    dns = ip(SERVICES["dns"]["prefixes"][0].split("/")[0])
    pupil = host_in(intent, "pupils")
    # a switch answers RADIUS change of authorisation, to the server's ephemeral port ...
    assert evaluate(mgmt, Packet("udp", switch, radius, 1700, 40000))[0] == "permit"
    # ... but not to a low port of it, and it cannot open anything else there
    assert evaluate(mgmt, Packet("udp", switch, radius, 1700, 80))[0] == "deny"
    assert evaluate(mgmt, Packet("tcp", switch, radius, 40000, 22))[0] == "deny"
    # TACACS+ answers the switch with ACK segments from port 49, to its ephemeral port
    assert evaluate(infra, Packet("tcp", tacacs, switch, 49, 40000,
                                  established=True))[0] == "permit"
    assert evaluate(infra, Packet("tcp", tacacs, switch, 49, 22, established=True))[0] == "deny"
    assert evaluate(infra, Packet("tcp", tacacs, switch, 49, 40000))[0] == "deny"  # a SYN
    # DNS answers pupils from port 53 only, to their ephemeral ports only
    assert evaluate(infra, Packet("udp", dns, pupil, 53, 40000))[0] == "permit"
    assert evaluate(infra, Packet("udp", dns, pupil, 53, 137))[0] == "deny"
    assert evaluate(infra, Packet("udp", dns, pupil, 5353, 40000))[0] == "deny"
    assert evaluate(infra, Packet("icmp", dns, pupil, icmp_type="echo-request"))[0] == "deny"


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
    assert any(" permit udp 10.80.0.0 0.3.255.255 host 10.11.0.53 eq domain" in ln
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

    data_centre = {f"{asn}:{intent.zones[z].id}" for z in ("servers", "infra")}
    for vrf in ("PUPILS", "GUEST", "VOICE", "PRINTERS"):
        # their flows all go to the data centre: nothing else is even routed
        assert imports(vrf) and imports(vrf) <= data_centre, vrf
    for z in intent.zones.values():
        assert rt[z.vrf].rt_export == [f"{asn}:{z.id}"]
    assert f"{asn}:{intent.zones['admin'].id}" not in imports("PUPILS")
    assert f"{asn}:{intent.zones['staff'].id}" not in imports("GUEST")
    # the data centre takes back the routes of the zones that use it, for the replies
    assert f"{asn}:{intent.zones['pupils'].id}" in imports("SERVERS")
    assert f"{asn}:{intent.zones['guest'].id}" not in imports("SERVERS")
    assert f"{asn}:{intent.zones['guest'].id}" in imports("INFRA")
    # internet default routes exist only where the matrix allows the internet, and are
    # kept out of the other VRFs
    defaults = {r.vrf for r in cfg.routes if str(r.prefix) == "0.0.0.0/0"}
    assert defaults == {"PUPILS", "STAFF", "ADMIN", "GUEST"}
    assert cfg.bgp is not None and cfg.bgp.static_route_map == "RM-NO-DEFAULT"


def test_sites_have_no_route_targets(intent: Intent) -> None:
    cfg = build_switch(intent, intent.gateway_of("alta_skole"))
    assert all(v.rd is None and not v.rt_import for v in cfg.vrfs)
    assert cfg.bgp is None
