"""``fellesnett lab``: the zone matrix, the required flows and the exposure, with real packets.

Two kinds of tests:

* pure ones (any machine): the nftables generator is stateless and faithful to the terms;
  the lab's plan (addresses, legs, probes) is sound; its reading of the matrix agrees with
  first-match evaluation of the compiled terms; the required flows and the crafted probes
  are planned at every site; the real clients' output is judged right;
* packet ones (root, iproute2, nftables, Open vSwitch, ethtool, tcpdump, dnsmasq, udhcpc,
  OpenSSH, FreeRADIUS): two sites with all their zones built in namespaces. Every allowed
  probe must connect and every forbidden one must not; every required flow must work with
  real daemons at every site; every crafted packet must pass or die exactly as
  ``verify``'s exposure model predicts from the rendered configs; injected faults must be
  caught, each by name. Without those tools they skip -- except under ``CI=true``, where
  ``.ci/run`` installs them, so a missing tool is a failure, never a silent skip.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import ipaddress
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nornir_tasks.acl_eval import Packet
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import Intent
from nornir_tasks.lab import register
from nornir_tasks.lab.adversarial import (
    BASE_DESTINATION_PORTS,
    EXTRA_SOURCE_PORTS,
    adversarial_plan,
    term_ports,
)
from nornir_tasks.lab.nft import ESTABLISHED, Chain, chains_to_nft, sink_nft, term_to_rules
from nornir_tasks.lab.plan import (
    INTERNET_ADDRESS,
    LabInputError,
    LabPlan,
    build_plan,
    choose_sites,
)
from nornir_tasks.lab.prediction import core_configs
from nornir_tasks.lab.probes import matrix_probes
from nornir_tasks.lab.required import flow_kind, lease_range, required_plan
from nornir_tasks.lab.runner import LabReport, run_lab
from nornir_tasks.lab.services import SSH_OK, judge
from nornir_tasks.policy import Term, zone_terms

Net = ipaddress.IPv4Network
Addr = ipaddress.IPv4Address
INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
FORBIDDEN_NET = Net("192.0.2.0/24")  # the machine's own uplink: never in the lab
LAB_BUDGET_S = 120


def _parse(argv: list[str]) -> argparse.Namespace:
    """The sub-command as the CLI wires it (``register`` on the sub-parsers)."""
    parser = argparse.ArgumentParser(prog="fellesnett")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args([*argv, "--inventory", str(INVENTORY)])


@pytest.fixture(scope="module")
def plan(intent: Intent) -> LabPlan:
    return build_plan(intent, choose_sites(intent, None))


# --------------------------------------------------------------------------- nft generator


def _t(**kw: Any) -> Term:
    return Term(**{"name": "t", "action": "accept", **kw})


@pytest.mark.parametrize(("term", "rule"), [
    (_t(protocols=("tcp",), source=(Net("10.10.40.10/32"),), destination=(Net("10.32.0.0/14"),),
        source_ports=("443",), established=True),
     'ip saddr 10.10.40.10/32 ip daddr 10.32.0.0/14 tcp sport 443 '
     'tcp flags & (ack | rst) != 0 accept comment "t"'),
    (_t(protocols=("udp",), destination_ports=("5060", "10000-20000")),
     'udp dport { 5060, 10000-20000 } accept comment "t"'),
    (_t(protocols=("udp",), source_ports=("68",), destination_ports=("67",)),
     'udp sport 68 udp dport 67 accept comment "t"'),
    (_t(protocols=("icmp",), icmp_types=("echo-reply",)),
     'icmp type echo-reply accept comment "t"'),
    (_t(protocols=("icmp",), icmp_types=("echo",)),  # the Cisco spelling
     'icmp type echo-request accept comment "t"'),
    (_t(protocols=("tcp",)), 'meta l4proto tcp accept comment "t"'),
    (_t(established=True), 'tcp flags & (ack | rst) != 0 accept comment "t"'),
    (_t(action="deny", source=(Net("10.0.0.0/16"), Net("10.1.0.0/16"))),
     'ip saddr 10.0.0.0/15 drop comment "t"'),  # collapsed: nft sets refuse overlaps
    (_t(comment='say "hi" på norsk'), 'accept comment "t: say ?hi? p? norsk"'),
])
def test_term_to_rule(term: Term, rule: str) -> None:
    assert term_to_rules(term) == [rule]


@pytest.mark.parametrize("term", [
    _t(protocols=("udp",), established=True),
    _t(protocols=("icmp",), destination_ports=("80",)),
    _t(destination_ports=("80",)),
    _t(protocols=("tcp",), destination_ports=("www",)),
    _t(protocols=("icmp",), icmp_types=("bogus",)),
    _t(action="reject"),
])
def test_term_to_rule_rejects_what_an_acl_cannot_say(term: Term) -> None:
    with pytest.raises(ValueError):
        term_to_rules(term)


def test_ruleset_of_the_reference_matrix_is_stateless(intent: Intent) -> None:
    terms = zone_terms(intent)
    chains = [Chain(f"zone_{z}", (f"v{intent.zones[z].vlan}",), tuple(ts))
              for z, ts in terms.items()]
    text = chains_to_nft(chains)
    assert not re.search(r"\bct\b", text), "no connection tracking anywhere"
    assert "policy drop;" in text
    established = [t for ts in terms.values() for t in ts if t.established]
    assert established, "the matrix has TCP replies"
    assert text.count(ESTABLISHED) == len(established)
    for zone in terms:
        assert f'iifname "v{intent.zones[zone].vlan}" jump zone_{zone}' in text
    # every term becomes at least one rule, in order, inside its zone's chain
    body = text.split("chain zone_pupils {", 1)[1].split("\n\t}", 1)[0]
    names = re.findall(r'comment "([^":]+)', body)
    assert names == [t.name for t in terms["pupils"]]


def test_the_gateways_own_traffic_goes_through_their_zones_chains(plan: LabPlan) -> None:
    """The relay's packets are local to the policy point: ``output`` sends what a zone's
    gateway sends off its own legs through the zone's chain, ``input`` sends what reaches
    a gateway through the chain of the leg it came in on (a server's answer: its zone's)."""
    text = chains_to_nft(plan.chains)
    output = text.split("chain output {", 1)[1].split("\n\t}", 1)[0]
    inbound = text.split("chain input {", 1)[1].split("\n\t}", 1)[0]
    assert not re.search(r"\bct\b", text)
    for chain in plan.chains:
        if chain.gateways:
            gws = sorted(str(g) for g in chain.gateways)
            line = next(ln for ln in output.splitlines() if f"jump {chain.name} " in ln)
            assert all(f"{g}/32" in line for g in gws) and "oifname !=" in line
        if chain.interfaces:
            assert any(f"jump {chain.name} " in ln for ln in inbound.splitlines())
    assert "policy accept;" in output and "policy accept;" in inbound


def test_the_sink_drops_only_marked_probes() -> None:
    text = sink_nft()
    assert "hook prerouting" in text and "ip dscp 0x3f counter drop" in text
    assert text.count("drop") == 1


def test_two_chains_cannot_share_an_interface() -> None:
    deny = (Term("d", "deny"),)
    with pytest.raises(ValueError, match="two chains"):
        chains_to_nft([Chain("a", ("v1",), deny), Chain("b", ("v1",), deny)])


def test_the_internet_is_behind_the_firewall(intent: Intent, plan: LabPlan) -> None:
    """No lab-made internet chain: the internet hangs off the firewall namespace, whose
    generated policy is all that lets its traffic in or out; the core sends a zone there
    by the config's default route, looked up after every internal route."""
    fw = plan.firewall
    assert fw is not None
    (inet,) = [d for d in plan.direct if d.name == "internet"]
    assert inet.behind == "fw" and inet.routes == (Net("0.0.0.0/0"),)
    assert all("inet" not in c.interfaces for c in plan.chains)
    # the default routes are the core configs' own lines, one per zone with an internet rule
    internet = sorted(r.from_ for r in intent.policy.rules if r.to == "internet")
    defaults = {r.zone: r for r in fw.core_routes if r.prefix.prefixlen == 0}
    assert sorted(defaults) == internet == sorted(fw.internet_tables)
    assert all(r.source.endswith("name internet-via-firewall") for r in defaults.values())
    # every site and data-centre leg of those zones falls back to it, and only they
    faces = {iface for iface, _ in plan.internet_rules}
    assert faces == {g.interface for g in plan.core_legs if g.zone in internet}
    # a default route never takes an internal address: other routes hold those
    staff = plan.endpoint(f"{plan.sites[0]}/staff")
    assert fw.via("pupils", INTERNET_ADDRESS)
    assert not fw.via("pupils", staff.address) and not fw.via("voice", INTERNET_ADDRESS)
    assert fw.via(None, staff.address, from_internet=True)


def test_servers_and_the_noc_sit_behind_their_zones_own_acl(
        intent: Intent, plan: LabPlan) -> None:
    """No lab-made chain for the data centre: what enters from it is filtered by the ACL
    the core has for the zone those addresses live in (infra, servers, mgmt for the
    controller, the NOC, monitoring and syslog)."""
    chains = {c.name: c for c in plan.chains}
    terms = zone_terms(intent)
    names = {d.name for d in plan.direct}
    assert {"dc-infra", "dc-servers", "dc-mgmt", "internet"} <= names
    for d in plan.direct:
        if d.behind == "core":
            zone = d.chain.removeprefix("zone_")
            assert chains[d.chain].terms == tuple(terms[zone])
            assert d.interface in chains[d.chain].interfaces
    noc = plan.endpoint("noc")
    assert noc.zone == "mgmt" and noc.namespace == "dc-mgmt"
    assert plan.endpoint("dhcp#1").namespace == "dc-infra"


# --------------------------------------------------------------------------- plan (pure)


def test_default_sites_are_a_school_and_a_municipal_site(intent: Intent) -> None:
    sites = choose_sites(intent, None)
    assert [intent.sites[s].kind.value for s in sites] == ["school", "municipal"]
    school = set(intent.zones_at(intent.sites[sites[0]]))
    assert {"mgmt", "aps", "pupils", "staff", "printers"} <= school


def test_limit_picks_the_sites_of_the_selected_hosts(intent: Intent) -> None:
    host = next(h for h in intent.devices if intent.device_site[h] == "radhuset")
    assert choose_sites(intent, host) == ["radhuset"]
    with pytest.raises(UsageError):
        choose_sites(intent, "no_such_group_anywhere")
    with pytest.raises(LabInputError, match="at most"):
        choose_sites(intent, "all")


def test_plan_addresses(intent: Intent, plan: LabPlan) -> None:
    assert INTERNET_ADDRESS in Net("198.51.100.0/24")
    for e in plan.endpoints:
        assert e.address not in FORBIDDEN_NET
    for h in plan.hosts:
        prefix = intent.sites[h.site].prefixes[h.zone]
        assert h.address.network == prefix
        assert h.gateway == prefix.network_address + intent.management.mgmt_gateway_host
    for sw in plan.switches:
        site = intent.sites[sw.site]
        assert sw.vlans == tuple(sorted(intent.zones[z].vlan for z in intent.zones_at(site)))
    # one core leg per site and zone, holding exactly that site's gateway
    assert len(plan.core_legs) == len(plan.hosts)
    for leg in plan.core_legs:
        host = plan.host(leg.site, leg.zone)
        assert host is not None and leg.gateway.ip == host.gateway
    names = [*(h.switch_port for h in plan.hosts), *(s.trunk_site for s in plan.switches),
             *(g.interface for g in plan.core_legs), *(g.switch_port for g in plan.core_legs)]
    assert all(len(n) <= 15 for n in names), "Linux interface names are at most 15 bytes"
    assert len(set(names)) == len(names)


def test_the_management_host_is_a_managed_device(intent: Intent, plan: LabPlan) -> None:
    """SSH from the NOC and RADIUS from a switch use a real device address."""
    for site in plan.sites:
        ep = plan.endpoint(f"{site}/mgmt")
        owners = [h for h, d in intent.devices.items() if d.ansible_host == ep.address]
        assert owners and intent.device_site[owners[0]] == site
        assert ep.roles


def test_the_matrix_and_the_compiled_terms_agree_on_every_probe(
        intent: Intent, plan: LabPlan) -> None:
    """The lab's own reading of the matrix vs first-match evaluation of the terms it
    loads: any disagreement here would show up as a packet mismatch in the lab."""
    probes = matrix_probes(intent, plan).probes
    assert probes
    disagree = [(p.source.key, p.destination.key, p.label, p.expected, p.reason)
                for p in probes if p.expected != p.model]
    assert disagree == []
    # both directions of every zone pair are probed, ping included
    zone_hosts = [e.key for e in plan.endpoints if e.kind == "zone"]
    pairs = {(p.source.key, p.destination.key) for p in probes if p.proto == "icmp"}
    assert all((a, b) in pairs for a in zone_hosts for b in zone_hosts if a != b)


def test_fixed_source_ports_and_one_way_flows_are_probed_as_written(
        intent: Intent, plan: LabPlan) -> None:
    probes = matrix_probes(intent, plan).probes
    school = plan.sites[0]

    def find(src: str, dst: str, proto: str, port: int) -> list[tuple[int | None, bool, bool]]:
        return sorted(((p.sport, p.oneway, p.expected) for p in probes
                       if p.source.key == src and p.destination.key == dst
                       and p.proto == proto and p.port == port), key=str)

    # DHCP renewal from 68 (the ephemeral probe of the service port stays closed)
    assert find(f"{school}/pupils", "dhcp#1", "udp", 67) == [(68, False, True),
                                                               (None, False, False)]
    # a device keeps time from 123 only; a client from 123 or an ephemeral port
    assert (123, False, True) in find(f"{school}/mgmt", "ntp#1", "udp", 123)
    assert (None, False, False) in find(f"{school}/mgmt", "ntp#1", "udp", 123)
    assert {s for s, _, ok in find(f"{school}/staff", "ntp#1", "udp", 123) if ok} == {123, None}
    # syslog from an access point is one-way: it must arrive, nothing comes back
    assert find(f"{school}/aps", "syslog", "udp", 514) == [(None, True, True)]


# --------------------------------------------------------------------------- required (pure)


def test_required_flows_are_planned_at_every_site(intent: Intent, plan: LabPlan) -> None:
    req = required_plan(intent, plan)
    kinds = {flow_kind(f) for f in intent.policy.infrastructure}
    assert {"dhcp", "dns", "radius", "capwap", "ssh"} <= kinds
    for site in plan.sites:
        mine = [p for p in req.probes if p.site == site]
        zones = [h.zone for h in plan.hosts if h.site == site]
        relayed = [z for z in zones if intent.zones[z].dhcp]
        assert sorted(p.params["zone"] for p in mine if p.kind == "dhcp") == sorted(relayed)
        dns = {(p.source.split()[0], p.probe) for p in mine if p.kind == "dns"}
        assert dns == {(f"{site}/{z}", proto) for z in zones for proto in ("udp/53", "tcp/53")}
        assert [p.probe for p in mine if p.kind == "radius"] == ["udp/1812"]
        assert sorted(p.probe for p in mine if p.kind == "capwap") == ["udp/5246", "udp/5247"]
        assert [p.params["source"] for p in mine if p.kind == "ssh"] == \
            [str(plan.endpoint("noc").address)]
    daemons = {d.name: d for d in req.daemons}
    assert daemons["dhcp-server"].address == "10.11.0.67"
    assert daemons["dhcp-relay"].namespace == "core"
    relays = [r.split(",")[0] for r in daemons["dhcp-relay"].params["relays"]]
    assert sorted(relays) == sorted(p.params["relay"] for p in req.probes if p.kind == "dhcp")
    assert daemons["radius"].address == "10.11.0.11"
    assert {d.namespace for d in req.daemons if d.kind == "sshd"} == \
        {f"h-{s}-mgmt" for s in plan.sites}


def test_lease_ranges_avoid_the_gateway_and_the_host() -> None:
    assert lease_range("10.32.0.0", 22, ["10.32.0.1", "10.32.0.10"]) == \
        ("10.32.0.11", "10.32.0.60", "255.255.252.0")
    first, last, _ = lease_range("10.0.1.0", 26, ["10.0.1.1", "10.0.1.2"])
    assert (first, last) == ("10.0.1.11", "10.0.1.60")


@pytest.mark.parametrize(("kind", "code", "output", "ok", "detail"), [
    ("dhcp", 0, "udhcpc: lease of 10.32.0.30 obtained from 169.254.16.2, lease time 3600",
     True, "lease 10.32.0.30 in 10.32.0.0/22"),
    ("dhcp", 0, "udhcpc: lease of 10.33.0.30 obtained from 169.254.16.2", False,
     "lease 10.33.0.30 is not in the site's prefix 10.32.0.0/22"),
    ("dhcp", 1, "udhcpc: broadcasting discover\nudhcpc: no lease, failing", False,
     "udhcpc: no lease, failing"),
    ("radius", 0, "Sent Access-Request Id 1\nReceived Access-Accept Id 1", True,
     "Access-Accept"),
    ("radius", 1, "Received Access-Reject Id 1", False, "Access-Reject"),
    ("ssh", 0, f"{SSH_OK}\n", True, "logged in, command ran"),
    ("ssh", 255, "ssh: connect to host 10.0.1.2 port 22: Connection timed out", False,
     "ssh: connect to host 10.0.1.2 port 22: Connection timed out"),
])
def test_the_real_clients_output_is_judged(kind: str, code: int, output: str, ok: bool,
                                           detail: str) -> None:
    from nornir_tasks.lab.required import RequiredProbe

    probe = RequiredProbe(1, "f", kind, "s", "ns", "a", "b", "udp/67",
                          {"prefix": "10.32.0.0/22"})
    assert judge(probe, code, output) == (ok, detail)


# --------------------------------------------------------------------------- adversarial (pure)


def test_the_adversarial_probe_set(intent: Intent, plan: LabPlan) -> None:
    terms = zone_terms(intent)
    adv = adversarial_plan(intent, plan, terms)
    assert set(term_ports(terms)) | set(EXTRA_SOURCE_PORTS) == set(adv.source_ports)
    assert {1024, 65535, 67, 68, 123, 53} <= set(adv.source_ports)
    for dports in adv.destination_ports.values():
        assert set(BASE_DESTINATION_PORTS) <= set(dports)
    assert 67 in adv.destination_ports[f"{plan.sites[0]}/pupils"]  # the DHCP servers' reach
    pairs = {(s, d) for s, d, *_ in adv.rows}
    for s, d in pairs:
        src, dst = adv.sources[s], adv.destinations[d]
        assert dst.kind == "internet" or src.zone != dst.zone
    assert {e.kind for e in adv.sources} == {"zone", "service"}
    assert all(e.primary for e in adv.sources)
    # an injected fault in the loaded terms never changes what is probed
    broken = {z: ts[1:] for z, ts in terms.items()}
    assert adversarial_plan(intent, build_plan(intent, plan.sites, broken), terms).rows == \
        adv.rows


@pytest.fixture(scope="module")
def configs(intent: Intent) -> dict[str, str]:
    """The core switches' rendered configs: what verify predicts from."""
    return core_configs(intent)


def test_verify_predicts_the_accepted_exposures(intent: Intent,
                                                configs: dict[str, str]) -> None:
    """The prediction is verify's, from the config text: the reference estate's accepted
    exposures pass, what is beyond them does not."""
    from nornir_tasks.verify.exposure import exposure_model

    model = exposure_model(intent, configs)

    def ok(zone: str, proto: str, src: str, dst: str, sport: int, dport: int) -> bool:
        return model.permits(zone, Packet(proto, Addr(src), Addr(dst), sport, dport,
                                          established=proto == "tcp"))

    assert ok("infra", "udp", "10.11.0.67", "10.32.0.10", 67, 67)  # accepted: any host's 67
    assert not ok("infra", "udp", "10.11.0.67", "10.32.0.10", 67, 22)
    assert ok("pupils", "udp", "10.32.0.10", "10.11.0.67", 67, 67)  # accepted: from 67
    assert ok("pupils", "udp", "10.32.0.10", "10.11.0.67", 68, 67)  # declared: renewal
    assert not ok("pupils", "udp", "10.32.0.10", "10.11.0.67", 50000, 67)
    assert not ok("infra", "udp", "10.11.0.53", "10.32.0.10", 25, 50000)  # replies: from 53
    assert ok("infra", "udp", "10.11.0.53", "10.32.0.10", 53, 50000)


def test_cli_exits_2_when_the_machine_cannot_run_the_lab(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from nornir_tasks.lab import runner

    monkeypatch.setattr(runner, "missing_prerequisites", lambda: ["needs root"])
    args = _parse(["lab"])
    assert args.func(args) == 2
    assert "needs root" in capsys.readouterr().err


# --------------------------------------------------------------------------- packets


@pytest.fixture(scope="module")
def two_sites(lab_machine: None) -> Iterator[tuple[int, dict[str, Any]]]:
    """The command itself, as a user runs it: ``fellesnett lab --json``."""
    args = _parse(["lab", "--json"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = args.func(args)
    yield code, json.loads(buf.getvalue())


def test_every_allowed_pair_open_and_every_forbidden_pair_closed(
        two_sites: tuple[int, dict[str, Any]], intent: Intent) -> None:
    code, out = two_sites
    assert out["mismatches"] == []
    assert len(out["sites"]) >= 2
    results = out["results"]
    opened = [r for r in results if r["expected"] == "open"]
    closed = [r for r in results if r["expected"] == "closed"]
    assert opened and closed
    assert all(r["observed"] == "open" for r in opened)
    assert all(r["observed"] == "closed" for r in closed)
    school = out["sites"][0]

    # the flows the matrix is about, by name
    def seen(src: str, dst: str, probe: str) -> set[str]:
        return {r["observed"] for r in results if r["source"].endswith(src)
                and r["destination"].split("#")[0] == dst and r["probe"] == probe}
    assert seen("/staff", "mail", "tcp/443") == {"open"}
    assert seen("/pupils", "learning_platform", "tcp/443") == {"open"}
    assert seen("/pupils", "admin_systems", "tcp/443") == {"closed"}
    assert seen("/admin", "admin_systems", "tcp/1433") == {"open"}
    assert seen("/guest", "internet", "tcp/443") == {"open"}
    assert seen("/guest", "mail", "tcp/443") == {"closed"}
    assert seen("/voice", "pbx", "udp/5060") == {"open"}
    assert seen("/pupils", "dns", "udp/53") == {"open"}
    assert seen("/pupils", "dhcp", "udp/67 from 68") == {"open"}
    assert seen("/pupils", "dhcp", "udp/67") == {"closed"}  # not from an ephemeral port
    assert seen("/aps", "wlc", "udp/5246") == {"open"}
    assert seen("/aps", "syslog", "udp/514 one-way") == {"open"}
    assert seen("/mgmt", "ntp", "udp/123 from 123") == {"open"}
    assert seen("printing", f"{school}/printers", "tcp/9100") == {"open"}
    assert seen("noc", f"{school}/pupils", "tcp/22") == {"closed"}
    assert seen("internet", f"{school}/staff", "tcp/443") == {"closed"}
    assert code == 0 and out["ok"], (out["problems"], out["warnings"])


def test_required_flows_work_with_real_daemons_at_every_site(
        two_sites: tuple[int, dict[str, Any]]) -> None:
    _, out = two_sites
    required = out["required"]
    assert [r for r in required if not r["ok"]] == []
    for site in out["sites"]:
        kinds = {r["kind"] for r in required if r["site"] == site}
        assert kinds == {"dhcp", "dns", "radius", "capwap", "ssh"}, site
    leases = [r for r in required if r["kind"] == "dhcp"]
    assert leases and all(r["detail"].startswith("lease ") for r in leases)
    assert {r["detail"] for r in required if r["kind"] == "radius"} == {"Access-Accept"}
    # the relayed requests left through the zones' chains, the answers came in through
    # the servers' zone's chain
    counters = out["counters"]
    for zone in {r["source"].split()[0].split("/")[1] for r in leases}:
        assert counters[f"output zone_{zone}"] > 0, zone
    assert counters["input zone_infra"] >= 2 * len(leases)


def test_crafted_packets_pass_exactly_as_verify_predicts(
        two_sites: tuple[int, dict[str, Any]]) -> None:
    _, out = two_sites
    adv = out["adversarial"]
    counts = adv["counts"]
    assert adv["disagreements"] == []
    assert counts["sent"] > 100_000 and counts["passed"] == counts["predicted"] > 0
    passing = {(p["from"], p["to"]) for p in adv["passing"]}
    # the reference estate's accepted exposures are seen passing, e.g. the DHCP servers
    # reaching port 67 of a host of every zone, any pupils host sending from port 67
    for zone in ("mgmt", "pupils", "staff", "guest", "printers", "aps"):
        assert ("infra", zone) in passing
    assert ("pupils", "dhcp") in passing
    # and nothing crosses where verify finds no permit at all
    assert ("guest", "mail") not in passing and ("pupils", "admin_systems") not in passing
    assert adv["exposure"], "verify's exposure table travels with the result"


def test_trunks_carry_real_802_1q_tags(two_sites: tuple[int, dict[str, Any]]) -> None:
    _, out = two_sites
    assert out["trunks"] and out["problems"] == []
    for trunk in out["trunks"]:
        assert trunk["vlans"] == trunk["site_vlans"], "exactly the site's zone VLANs"
        assert trunk["tags_seen"], f"tcpdump saw no 802.1Q tag on {trunk['interface']}"
        assert set(trunk["tags_seen"]) <= set(trunk["site_vlans"])
    assert out["trunks"][0]["tags_seen"] == out["trunks"][0]["site_vlans"]


def test_the_core_keeps_no_connection_state(two_sites: tuple[int, dict[str, Any]]) -> None:
    _, out = two_sites
    assert out["conntrack_entries"] in (0, None)


def test_lab_is_fast_and_leaves_nothing(two_sites: tuple[int, dict[str, Any]]) -> None:
    _, out = two_sites
    assert out["timings"]["build_s"] + out["timings"]["matrix_s"] + \
        out["timings"]["adversarial_s"] + out["timings"]["required_s"] < LAB_BUDGET_S
    assert out["warnings"] == []
    assert not list(Path("/run/netns").glob(f"{out['prefix']}-*"))
    assert not list(Path(tempfile.gettempdir()).glob(f"fellesnett-lab-{out['prefix']}-*"))


# --------------------------------------------------------------------------- faults


def _inject_permit(intent: Intent, terms: dict[str, list[Term]], zone: str,
                   service: str) -> None:
    """A rule compiled that the matrix does not have: the permit first in ``zone``'s
    ACL, and its stateless reply first in the ACL of the zone the service lives in."""
    src = (intent.pools.zones[zone].pool,)
    dst = tuple(intent.services[service].prefixes)
    terms[zone].insert(0, Term(f"injected-{service}", "accept", ("tcp",), src, dst,
                               destination_ports=("443",)))
    home = next(z for z, p in intent.pools.zones.items()
                if all(n.subnet_of(p.pool) for n in dst))
    terms[home].insert(0, Term("injected-reply", "accept", ("tcp",), dst, src,
                               source_ports=("443",), established=True))


def _faulty_terms(intent: Intent) -> dict[str, list[Term]]:
    """Three faults a compiler could make, each in another place:

    1. an extra rule pupils -> admin_systems tcp/443 (permit and reply);
    2. guest's DNS terms dropped;
    3. the DNS servers' UDP reply term towards staff widened to any source port.
    """
    terms = {z: list(ts) for z, ts in zone_terms(intent).items()}
    _inject_permit(intent, terms, "pupils", "admin_systems")
    terms["guest"] = [t for t in terms["guest"] if not t.name.startswith("infra-dns-")]
    staff = intent.pools.zones["staff"].pool
    widened = 0
    for i, t in enumerate(terms["infra"]):
        if t.name.startswith("reply-infra-dns-") and t.protocols == ("udp",) \
                and staff in t.destination:
            terms["infra"][i] = Term(t.name, t.action, t.protocols, t.source, t.destination,
                                     (), t.destination_ports, t.established, t.icmp_types,
                                     "widened: any source port")
            widened += 1
    assert widened == 1
    return terms


@pytest.fixture(scope="module")
def faulty(lab_machine: None, intent: Intent, configs: dict[str, str]) -> LabReport:
    school = choose_sites(intent, None)[0]
    return run_lab(intent, [school], terms=_faulty_terms(intent), configs=configs)


def test_lab_catches_an_injected_permit_by_name(faulty: LabReport) -> None:
    assert faulty.exit_code == 1
    permit = {(r.probe.source.zone, r.probe.destination.service, r.probe.label,
               r.probe.expected, r.observed, r.probe.model) for r in faulty.mismatches
              if r.probe.source.zone == "pupils"}
    assert permit == {("pupils", "admin_systems", "tcp/443", False, True, True)}
    # the crafted packets see both halves: the permit from pupils, the reply term from
    # admin_systems' zone (any ACK from port 443 now reaches pupils)
    assert faulty.adversarial is not None
    out = [d for d in faulty.adversarial.disagreements if d.source.zone == "pupils"]
    back = [d for d in faulty.adversarial.disagreements if d.source.zone == "servers"]
    assert out and {(d.destination.service, d.proto, d.dport) for d in out} == \
        {("admin_systems", "tcp", 443)}
    assert back and {(d.source.service, d.destination.zone, d.proto, d.sport)
                     for d in back} == {("admin_systems", "pupils", "tcp", 443)}


def test_lab_catches_a_dropped_dns_term_by_name(faulty: LabReport) -> None:
    dns = {(r.probe.destination.key, r.probe.label, r.probe.expected, r.observed)
           for r in faulty.mismatches if r.probe.source.zone == "guest"}
    assert dns == {(key, label, True, False) for key in ("dns#1", "dns#2")
                   for label in ("udp/53", "tcp/53")}
    failed = {(r.probe.source, r.probe.probe) for r in faulty.failed_required}
    school = faulty.sites[0]
    assert {(s.split()[0], p) for s, p in failed} == {(f"{school}/guest", "udp/53"),
                                                       (f"{school}/guest", "tcp/53")}
    assert faulty.adversarial is not None
    lost = [d for d in faulty.adversarial.disagreements if d.source.zone == "guest"]
    assert lost and all(d.destination.service == "dns" and d.dport == 53
                        and faulty.adversarial.predicted[d.id] for d in lost)


def test_lab_catches_a_widened_reply_term_with_crafted_packets(faulty: LabReport) -> None:
    """Invisible to every matrix probe (no real reply leaves port 25), caught by the
    crafted ones: the DNS server's packets from any port reach staff's ephemeral ports."""
    assert faulty.adversarial is not None
    widened = [d for d in faulty.adversarial.disagreements if d.source.zone == "infra"]
    assert widened
    for d in widened:
        assert (d.source.service, d.destination.zone, d.proto) == ("dns", "staff", "udp")
        assert d.sport != 53 and 1024 <= d.dport <= 65535
        assert not faulty.adversarial.predicted[d.id] and d.id in faulty.adversarial.seen
    assert "udp 10.11.0.53:25 -> " in " ".join(d.text() for d in widened)
    # every disagreement is one of the three faults, nothing else
    zones = {d.source.zone for d in faulty.adversarial.disagreements}
    assert zones == {"pupils", "servers", "guest", "infra"}
    assert not [r for r in faulty.mismatches if r.probe.source.zone == "infra"]
