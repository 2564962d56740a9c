"""Risk and vulnerability analysis (ROS) of the estate, derived from the intent alone.

The council decided that a ROS precedes any outsourcing. This module reads what the intent
*says* -- circuits, redundancy, shared services, the zone policy matrix, port profiles,
authorisation groups, secrets -- and turns each structural risk into a finding with its
consequence and a suggested mitigation. It needs no device, no rendered config and no
clock, so ``docs/ros.md`` is as reproducible as the rest of the bundle.

Findings are ordered by severity, then by id; ids are stable names (``WAN-SINGLE-UPLINK``,
``CORE-LANDING-<host>``), not running numbers, so a risk register can refer to them across
bundles. Severity is this module's judgement of consequence x likelihood for a municipal
network (documented per finding), a starting point for the ROS workshop, not its result.

What the intent cannot tell (and the report says so): physical security of closets,
power and cooling, staff and processes, the operator's own systems, vendor support.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from nornir_tasks.handover.facts import rule_ports
from nornir_tasks.handover.markdown import GENERATED, md_table
from nornir_tasks.intent.checks import INTERNET
from nornir_tasks.intent.flows import end_zones, host_zones
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.intent.model import AuthMethod, Overlay, Role
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.policy import service_zone


class Severity(IntEnum):
    high = 0
    medium = 1
    low = 2


@dataclass(frozen=True)
class Finding:
    """One risk: what, where, so what, and what to do about it."""

    id: str
    category: str
    severity: Severity
    title: str
    consequence: str
    mitigation: str
    subjects: tuple[str, ...] = ()
    #: Markdown lines (usually a table) with the evidence from the intent
    detail: tuple[str, ...] = field(default=(), compare=False)

    def to_data(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "severity": self.severity.name,
                "title": self.title, "subjects": list(self.subjects),
                "consequence": self.consequence, "mitigation": self.mitigation}


CATEGORIES = ("single uplink", "single point of failure", "zone exposure", "accepted exposure",
              "ports without 802.1X", "circuit cannot carry zones natively", "secrets")


def _table(headers: list[str], rows: list[list[object]]) -> tuple[str, ...]:
    return tuple(md_table(headers, rows))


def _sites(intent: Intent) -> list[tuple[str, Any]]:
    return sorted(intent.sites.items(), key=lambda kv: (kv[1].index, kv[0]))


# --------------------------------------------------------------------------- WAN


def _wan(intent: Intent) -> list[Finding]:
    out: list[Finding] = []
    # a dual-homed site survives either circuit: verify proves it (docs/verify.md)
    single = [(slug, s) for slug, s in _sites(intent)
              if s.circuit is not None and s.backup_circuit is None]
    if single:
        users = sorted({s.kind.value for _, s in single})
        out.append(Finding(
            "WAN-SINGLE-UPLINK", "single uplink", Severity.high,
            f"{len(single)} sites hang off one WAN circuit each",
            "A cut fibre, a failed provider port or a provider outage takes the whole site "
            "off the network: no internal services, no internet, no 802.1X (RADIUS is at the "
            "town hall, so wired ports fall back to the critical VLAN and wireless 802.1X "
            "clients cannot join). Kinds affected: " + ", ".join(users) + ".",
            "Order a second circuit from a different provider (ideally a diverse path) for "
            "the largest schools first; until then a 4G/5G router with an IPsec tunnel as "
            "a backup path, a documented fault-report procedure with each provider, and "
            "agreed repair times in the circuit contracts.",
            tuple(slug for slug, _ in single),
            _table(["Site", "Kind", "Circuit", "Type", "Provider", "Mbit/s", "Lands on"],
                   [[slug, s.kind.value, s.circuit.circuit_id, s.circuit.type.value,
                     s.circuit.provider, s.circuit.bandwidth_mbps,
                     f"{s.circuit.core} {s.circuit.core_interface}"]
                    for slug, s in single if s.circuit is not None])))
    landing: dict[str, list[str]] = defaultdict(list)
    for slug, s in _sites(intent):
        cores = {c.core for c in (s.circuit, s.backup_circuit) if c is not None}
        if len(cores) == 1:  # two circuits on one core still share that core's fate
            landing[cores.pop()].append(slug)
    for core in sorted(landing):
        slugs = landing[core]
        out.append(Finding(
            f"CORE-LANDING-{core}", "single point of failure", Severity.high,
            f"{len(slugs)} sites' circuits all end on {core}",
            f"The core pair shares the gateway of the town hall's zones, but each of these "
            f"sites is patched to one core switch only: if {core} (or its line card, or "
            f"the NNI / underlay port) fails, these {len(slugs)} sites are cut off although "
            "the other core is up.",
            "Hand each circuit off to both core switches (the provider's NNI on two ports, "
            "or a small aggregation switch pair in front of the cores), or keep a cold "
            "spare and a tested procedure to move the NNI patch to the other core.",
            (core, *slugs),
            (f"Sites: {', '.join(slugs)}",)))
    return out


def _gre(intent: Intent) -> list[Finding]:
    gre = [(slug, s) for slug, s in _sites(intent)
           if s.circuit is not None and s.circuit.overlay is Overlay.gre]
    if not gre:
        return []
    schools = [slug for slug, s in gre if intent.site_kinds[s.kind].children]
    return [Finding(
        "CIRCUIT-GRE-OVER-L3VPN", "circuit cannot carry zones natively",
        Severity.high if schools else Severity.medium,
        f"{len(gre)} sites carry the zones as GRE tunnels over a provider L3VPN",
        "An L3VPN carries one routing table, so the zones ride in one unencrypted GRE "
        "tunnel each: separation depends on tunnel keys, not on the provider's network, and "
        "the provider (or anyone inside its network) can read and inject zone traffic, "
        "pupils' and administration's alike. GRE adds 24 bytes per packet (MTU/MSS), and "
        "every tunnel of these sites ends on one underlay port of one core switch.",
        "Protect the tunnels with IPsec (these switches cannot terminate it: a small "
        "router or firewall at the site, or order an L2 circuit with 802.1Q hand-off, "
        "which carries the zones as VRF-lite); meanwhile keep administration traffic "
        "TLS-encrypted end to end and restrict the underlay to the provider's gateway.",
        tuple(slug for slug, _ in gre),
        _table(["Site", "Kind", "Provider", "Circuit", "Mbit/s", "Underlay", "Core"],
               [[slug, s.kind.value, s.circuit.provider, s.circuit.circuit_id,
                 s.circuit.bandwidth_mbps, str(s.circuit.underlay_address),
                 s.circuit.core] for slug, s in gre if s.circuit is not None]))]


# --------------------------------------------------------------------------- single points


def _where(intent: Intent, addr: ipaddress.IPv4Address) -> str:
    # site prefixes do not overlap (the intent checks say so): at most one holds addr
    n = int(addr)
    for plen, by_start in _site_prefixes(intent):
        hit = by_start.get(n & (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF)
        if hit is not None:
            return hit
    return "outside the estate"


@per_intent
def _site_prefixes(intent: Intent) -> list[tuple[int, dict[int, str]]]:
    """``slug/zone`` of every site prefix by its first address, per prefix length."""
    by_len: dict[int, dict[int, str]] = defaultdict(dict)
    for slug, site in intent.sites.items():
        for zone, net in site.prefixes.items():
            by_len[net.prefixlen].setdefault(int(net.network_address), f"{slug}/{zone}")
    return sorted(by_len.items())


def _spof(intent: Intent) -> list[Finding]:
    out: list[Finding] = []
    m, aaa = intent.management, intent.aaa
    services: list[tuple[str, str, list[ipaddress.IPv4Address], str]] = [
        ("radius", "RADIUS servers", [s.address for s in aaa.radius.servers],
         "every wired port falls back to the critical VLAN (restricted zone) and no "
         "802.1X wireless client can join"),
        ("tacacs", "TACACS+ servers", [s.address for s in aaa.tacacs.servers],
         "operators log in only with the local break-glass user; commands are not "
         "accounted"),
        ("dhcp", "DHCP servers", list(m.dhcp_servers),
         "clients and APs get no address once their leases run out"),
        ("dns", "DNS resolvers", list(m.dns_servers),
         "name resolution fails for every zone"),
        ("ntp", "NTP servers", list(m.ntp_servers),
         "clocks drift; logs and certificates (802.1X EAP-TLS) become unreliable"),
        ("syslog", "syslog collectors", list(m.syslog_servers),
         "device logs are lost while it is down: no audit trail of what happened"),
        ("snmp", "SNMP collectors", list(m.snmp_collectors),
         "no monitoring: faults are noticed by users, not by the operator"),
    ]
    colocated: list[list[object]] = []
    for key, name, addrs, consequence in services:
        where = sorted({_where(intent, a) for a in addrs})
        subjects = tuple(str(a) for a in addrs)
        if len(addrs) < 2:
            out.append(Finding(
                f"SPOF-{key.upper()}", "single point of failure",
                Severity.medium if key in ("syslog", "snmp", "ntp") else Severity.high,
                f"One {name[:-1] if name.endswith('s') else name} "
                f"({', '.join(subjects) or 'none'})",
                f"If it fails, {consequence}.",
                f"Add a second {name[:-1]} (devices take a list) at another site or room.",
                subjects, (f"Located in: {', '.join(where)}",)))
        elif len(where) == 1:
            colocated.append([name, ", ".join(subjects), where[0], consequence])
    if colocated:
        out.append(Finding(
            "COLOCATED-SERVICES", "single point of failure", Severity.low,
            f"{len(colocated)} redundant central services stand in one data centre",
            "Each has two servers, so one server failing is covered; losing the data "
            "centre (or its network) loses both at once, with the consequences listed.",
            "Place one of each at a second site (e.g. a large school's distribution room) "
            "with its own power; the devices already list both.",
            tuple(str(row[0]) for row in colocated),
            _table(["Service", "Servers", "Where", "If both are lost"], colocated)))
    edge = intent.policy.internet_edge
    out.append(Finding(
        "SPOF-INTERNET-FIREWALL", "single point of failure", Severity.high,
        "One internet firewall, on one core port",
        f"Every zone's internet traffic leaves through {edge.core_interface} to one "
        "firewall address per zone (.6 of each /29): a firewall, cable or port failure "
        "takes the internet (and cloud services) away from every site and zone.",
        "A firewall cluster (active/standby) connected to both core switches, with the "
        "per-zone /29s already sized for it; test the failover in a window.",
        (edge.core_interface, str(edge.transit)), ()))
    wlcs = sorted(h for h, d in intent.devices.items() if d.role is Role.wlc)
    for h in wlcs:
        d = intent.devices[h]
        slug = intent.device_site[h]
        if d.standby_address is None:
            out.append(Finding(
                f"SPOF-WLC-{h}", "single point of failure", Severity.high,
                f"Wireless controller {h} has no standby chassis",
                "If it fails, APs go standalone: clients already on keep local switching, "
                "but no new 802.1X client joins and no AP can be re-provisioned.",
                "Add an SSO standby chassis (standby_address, rmi_address in the inventory).",
                (h,), ()))
        else:
            out.append(Finding(
                f"COLOCATED-WLC-{h}", "single point of failure", Severity.low,
                f"Controller pair {h} (SSO) stands in one site ({slug})",
                "Chassis failure is covered by SSO; losing the site (power, fire, both "
                "core switches) leaves every AP of the estate without a controller: "
                "FlexConnect keeps local switching for joined clients, new 802.1X clients "
                "cannot join.",
                "Place the standby chassis in another building (SSO over a dedicated RP "
                "link), or an N+1 controller elsewhere with the same tags.",
                (h,), ()))
    cores = sorted(h for h, d in intent.devices.items() if d.role is Role.core)
    core_sites = sorted({intent.device_site[h] for h in cores})
    if len(cores) < 2:
        out.append(Finding(
            "SPOF-CORE", "single point of failure", Severity.high,
            "One core switch", "It is the only policy point and the only WAN hub: its "
            "failure stops all traffic between sites, zones and the internet.",
            "Add the redundancy peer (redundancy_peer in the inventory).", tuple(cores), ()))
    if len(core_sites) == 1:
        slug = core_sites[0]
        n = len([s for s in intent.sites.values() if s.circuit is not None])
        out.append(Finding(
            f"SITE-{slug}", "single point of failure", Severity.high,
            f"Everything central is at one site: {intent.sites[slug].name} (`{slug}`)",
            f"The core pair (the one policy point between zones), every circuit's hand-off "
            f"({n} sites), the controller pair, the internet firewall and the data "
            "centre's shared services (RADIUS, DNS, DHCP, mail, files) are in one "
            "building: fire, water, a power outage beyond the UPS or a cut building entry "
            "stops the whole network.",
            "Decide the tolerated outage with the council; then split the core pair and "
            "the controller pair over two buildings (with two provider hand-offs), keep "
            "a second DNS/DHCP/RADIUS at the second building, and test a town-hall-down "
            "exercise yearly.",
            (slug, *cores), ()))
    one_switch = [slug for slug, s in _sites(intent) if s.circuit is not None and len(
        [h for h in intent.site_devices(slug)
         if intent.devices[h].role in (Role.distribution, Role.access)]) == 1]
    if one_switch:
        out.append(Finding(
            "SITE-ONE-SWITCH", "single point of failure", Severity.medium,
            f"{len(one_switch)} sites have one switch for gateway, access and APs",
            "A failed switch or power supply takes the whole site down until a "
            "replacement is configured and shipped.",
            "Keep pre-staged spares per model (the runbook's replace-a-switch procedure "
            "deploys the intended config to a new unit in minutes), and a UPS per closet.",
            tuple(one_switch), (f"Sites: {', '.join(one_switch)}",)))
    gateways = [slug for slug, s in _sites(intent) if s.circuit is not None
                and intent.devices[intent.gateway_of(slug)].role is Role.distribution]
    if gateways:
        out.append(Finding(
            "SITE-ONE-DISTRIBUTION", "single point of failure", Severity.medium,
            f"{len(gateways)} sites route every zone through one distribution switch",
            "It holds the site's SVIs, the WAN port and every access switch's only uplink: "
            "its failure takes the whole site down, although the access switches are fine.",
            "A second distribution switch (StackWise Virtual) with dual uplinks from each "
            "access switch at the largest sites; spares for the rest.",
            tuple(gateways), (f"Sites: {', '.join(gateways)}",)))
    return out


# --------------------------------------------------------------------------- zones


def _exposure(intent: Intent) -> list[Finding]:
    out: list[Finding] = []
    # who reaches each destination (a zone, or a service in a zone)
    reach: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for rule in intent.policy.rules:
        if rule.to == INTERNET:
            continue
        reach[rule.to][rule.from_].update(rule_ports(intent, rule))
    for flow in intent.policy.infrastructure:
        targets = [flow.to.service] if flow.to.service in intent.services else []
        for src in end_zones(intent, flow.from_):
            for dst in [*targets, *host_zones(intent, flow.to)]:
                if dst != src:
                    reach[dst][src].update(flow.ports)
    zone_to_zone = sorted((dst, src) for dst, srcs in reach.items() if dst in intent.zones
                          for src in srcs if src != dst)
    if zone_to_zone:
        out.append(Finding(
            "ZONE-TO-ZONE", "zone exposure", Severity.high,
            f"{len(zone_to_zone)} rule(s) open one client zone to another",
            "Hosts of the destination zone are reachable from the source zone on the listed "
            "ports: a compromised host in the source zone can attack them directly.",
            "Put the shared function on a service in the data centre instead of opening a "
            "zone; if it must stay, narrow the rule to single hosts and ports.",
            tuple(f"{src}->{dst}" for dst, src in zone_to_zone),
            _table(["From", "To", "Ports"],
                   [[src, dst, ", ".join(sorted(reach[dst][src]))]
                    for dst, src in zone_to_zone])))
    shared = []
    for svc in sorted(intent.services):
        srcs = sorted(reach.get(svc, {}), key=lambda z: intent.zones[z].id
                      if z in intent.zones else 99)
        if len(srcs) < 2:
            continue
        zone = service_zone(intent, svc)
        ports = sorted({p for s in srcs for p in reach[svc][s]})
        shared.append([svc, zone, ", ".join(srcs), ", ".join(ports)])
    if shared:
        # a service reached from two client zones joins them (pupils and staff, say)
        joins = [row for row in shared if len([z for z in row[2].split(", ")
                                               if z in intent.zones
                                               and intent.zones[z].client_zone]) >= 2]
        out.append(Finding(
            "ZONE-SHARED-SERVICES", "zone exposure",
            Severity.medium if joins else Severity.low,
            f"{len(shared)} shared services are reached from several zones",
            "Such a server sits between zones: a pupil or guest who compromises it (a "
            "print server, the learning platform, a resolver) gains a foothold that staff "
            "and administration hosts also talk to -- the matrix keeps the zones apart, "
            "not the services they share.",
            "Harden and patch these servers first; one instance per zone where cheap "
            "(print, DNS); log and monitor their access from the lower zones; keep "
            "administration-only services (admin_systems) out of this list.",
            tuple(row[0] for row in shared),
            _table(["Service", "Lives in zone", "Reached from", "Ports"],
                   [list(r) for r in shared])))
    out.append(Finding(
        "ZONE-STATELESS-POLICY", "zone exposure", Severity.medium,
        "The policy point is stateless: replies are let through by TCP flags and UDP "
        "source ports",
        "Each allowed flow has reply terms (TCP `established`, UDP from the service port, "
        "ICMP echo-reply). A host in the destination zone can therefore send packets with "
        "ACK set, or from port 53/123/67, into the source zones (scans, floods, "
        "UDP from a forged source port); it cannot open new TCP connections.",
        "A stateful firewall in front of the data centre (servers zone), or zone-based "
        "firewalling at the core when the hardware allows it; monitor the reply terms' "
        "hit counters.",
        (), ()))
    return out


# --------------------------------------------------------------------------- ports


def _accepted_exposures(intent: Intent) -> list[Finding]:
    """Every exposure the intent accepts: traffic the stateless ACLs let through beyond
    the declared flows, which `fellesnett verify` computes and would otherwise refuse."""
    out = []
    for i, acc in enumerate(intent.policy.accepted_exposures):
        ports = ", ".join(acc.ports or ["any"])
        sports = f" from {', '.join(acc.source_ports)}" if acc.source_ports else ""
        out.append(Finding(
            f"EXPOSURE-ACCEPTED-{i + 1}", "accepted exposure", Severity.low,
            f"{', '.join(acc.from_)} can reach {', '.join(acc.to)} on {ports}{sports} "
            "beyond the declared flows",
            "The ACL at the policy point lets this through although no flow of the matrix "
            "needs it; it was accepted in the intent: " + acc.reason,
            "Review at every change of the matrix; narrow the terms (or move the pair to "
            "a stateful firewall) when the ACL can afford it. The exact rows are in "
            "zone-matrix.md (Exposure).",
            (*acc.from_, *acc.to)))
    return out


def _ports(intent: Intent) -> list[Finding]:
    out: list[Finding] = []
    ap_ports: set[tuple[str, str]] = set()
    for d in intent.devices.values():
        if d.role is Role.ap and d.connected_to is not None:
            ap_ports.add((d.connected_to.switch, d.connected_to.port))
    per_profile: Counter[str] = Counter()
    sites: dict[str, set[str]] = defaultdict(set)
    ap_profiles: set[str] = set()
    for host, d in sorted(intent.devices.items()):
        for pa in d.ports:
            names = expand_interface_range(pa.range)
            per_profile[pa.profile] += len(names)
            sites[pa.profile].add(intent.device_site[host])
            if any((host, n) in ap_ports for n in names):
                ap_profiles.add(pa.profile)
    open_edge = sorted(p for p, prof in intent.port_profiles.items()
                       if prof.edge and not prof.dot1x and not prof.shutdown
                       and per_profile[p])
    if open_edge:
        rows: list[list[object]] = []
        for p in open_edge:
            prof = intent.port_profiles[p]
            auth = "MAB only (MAC address)" if prof.mab else "none"
            rows.append([p, prof.description, auth, prof.zone or "—", per_profile[p],
                         len(sites[p])])
        out.append(Finding(
            "PORTS-EDGE-NO-DOT1X", "ports without 802.1X",
            Severity.high if any(not intent.port_profiles[p].mab for p in open_edge)
            else Severity.medium,
            f"{sum(per_profile[p] for p in open_edge)} edge ports authenticate without "
            "802.1X",
            "A MAC address is no secret (printed on the label, visible on the wire): "
            "anyone who unplugs the device and copies its MAC gets the zone RADIUS gives "
            "that device; a port with no authentication at all gives its VLAN to anyone.",
            "Printers and other devices that support it: 802.1X with certificates "
            "(EAP-TLS); the rest: MAB with device profiling on the RADIUS server, one MAC "
            "per port (port-security / host-mode single-host) and alarms on link changes.",
            tuple(open_edge),
            _table(["Profile", "Description", "Authentication", "VLAN before auth", "Ports",
                    "Sites"], rows)))
    trunks = sorted(p for p in ap_profiles if not intent.port_profiles[p].dot1x)
    if trunks:
        rows = []
        for p in trunks:
            prof = intent.port_profiles[p]
            carried = prof.trunk_zones or ["every zone at the site"]
            rows.append([p, prof.native_zone or "—", ", ".join(carried), per_profile[p],
                         len(sites[p])])
        out.append(Finding(
            "PORTS-AP-TRUNK-NO-DOT1X", "ports without 802.1X", Severity.high,
            f"{sum(per_profile[p] for p in trunks)} access-point ports are open trunks",
            "AP ports sit in classrooms and corridors. Unplugging an AP gives whoever plugs "
            "in a laptop the management zone untagged and every carried zone tagged "
            "(staff, administration) without any authentication.",
            "802.1X on AP ports with the AP as supplicant (Catalyst APs support it), or at "
            "least MAB of the AP's MAC with one MAC per port and the native VLAN moved off "
            "the management zone; alarm on AP port link-down.",
            tuple(trunks),
            _table(["Profile", "Native (untagged)", "Tagged", "Ports", "Sites"], rows)))
    mab_groups = [g for g in intent.authorization.groups if g.method is AuthMethod.mab
                  and g.zone != intent.policy.restricted_zone]
    mab_ports = sum(n for p, n in per_profile.items() if intent.port_profiles[p].mab)
    if mab_groups and mab_ports:
        out.append(Finding(
            "PORTS-MAB-INTO-ZONES", "ports without 802.1X", Severity.medium,
            f"MAC addresses alone lead into {', '.join(sorted({g.zone for g in mab_groups}))}",
            f"{mab_ports} ports fall back to MAB; a device in no 802.1X conversation whose "
            "MAC is in one of these device groups gets that zone -- so a spoofed printer "
            "MAC on any client socket lands in "
            + ", ".join(sorted({g.zone for g in mab_groups if not g.voice})) + ".",
            "Move printers to their own zone (or the restricted one with a rule to the "
            "print service), profile MAB devices on the RADIUS server, and alarm on a MAC "
            "seen on two ports.",
            tuple(g.group for g in mab_groups),
            _table(["Group", "Zone", "Voice"], [[g.group, g.zone, "yes" if g.voice else "no"]
                                                 for g in mab_groups])))
    return out


# --------------------------------------------------------------------------- secrets


def _secrets(intent: Intent) -> list[Finding]:
    switches = sum(1 for d in intent.devices.values()
                   if d.role in (Role.core, Role.distribution, Role.access, Role.wlc))
    names = sorted({intent.aaa.enable_secret, intent.aaa.radius.key_secret,
                    intent.aaa.tacacs.key_secret, *(u.secret for u in intent.aaa.local_users)})
    out = [Finding(
        "SECRETS-ESTATE-WIDE", "secrets", Severity.medium,
        f"{len(names)} secrets are the same on all {switches} managed devices",
        "One leaked config backup, stolen switch or reversible type-7 key exposes the "
        "RADIUS and TACACS+ keys and the break-glass login of the whole estate.",
        "Rotate after every handover step and staff change (`fellesnett deploy --apply "
        "--rotate-secrets NAMES`, see the runbook); keep the break-glass password sealed "
        "and rotate it after each use; consider per-site RADIUS keys.",
        tuple(names), ())]
    psk = [s for s in intent.wireless.ssids if s.psk_secret is not None]
    for s in psk:
        out.append(Finding(
            f"SECRETS-PSK-{s.name}", "secrets", Severity.low,
            f"SSID `{s.ssid}` uses one pre-shared key everywhere",
            f"Everyone who ever got the key can join at every site (zone {s.zone}); it "
            "cannot be withdrawn from one person.",
            "Rotate it on a schedule (monthly) with `--rotate-secrets "
            f"{s.psk_secret}`, or move guests to a captive portal with per-visitor codes.",
            (s.name,), ()))
    return out


# --------------------------------------------------------------------------- report


def ros_findings(intent: Intent) -> list[Finding]:
    """Every finding, ordered by severity then id."""
    return list(_findings(intent))


@per_intent
def _findings(intent: Intent) -> tuple[Finding, ...]:
    # once per intent: the Markdown and the JSON report hold the same findings
    found = [*_wan(intent), *_spof(intent), *_exposure(intent), *_accepted_exposures(intent),
             *_ports(intent),
             *_gre(intent), *_secrets(intent)]
    return tuple(sorted(found, key=lambda f: (f.severity, CATEGORIES.index(f.category), f.id)))


def ros_markdown(intent: Intent) -> str:
    """``docs/ros.md``."""
    findings = ros_findings(intent)
    count = Counter(f.severity for f in findings)
    out = ["# Risk and vulnerability analysis (ROS)", "", GENERATED, "",
           "Derived from the intent alone (circuits, redundancy, shared services, the zone "
           "policy matrix, port profiles, authorisation groups, secrets), so it changes "
           "only when the intent does. Severity is a first judgement of consequence and "
           "likelihood to start the ROS workshop with: **high** -- an outage of many sites "
           "or a breach of zone separation is one fault or one unplugged cable away; "
           "**medium** -- it needs a second fault or a deliberate act; **low** -- limited "
           "reach or already mitigated in part.", "",
           "Not covered, because the intent does not describe it: physical security of "
           "closets and the data centre, power and cooling, people and processes, the "
           "operator's own systems, vendor support and spare-part stock.", "",
           f"**{len(findings)} findings:** {count[Severity.high]} high, "
           f"{count[Severity.medium]} medium, {count[Severity.low]} low.", "",
           "## Summary", ""]
    out += md_table(["ID", "Severity", "Category", "Finding", "Subjects"],
                    [[f"[{f.id}](#{f.id.lower()})", f.severity.name, f.category, f.title,
                      len(f.subjects)] for f in findings], right=[4])
    for f in findings:
        out += ["", f"## {f.id}", "", f"**{f.title}** — {f.severity.name}, {f.category}", "",
                f"- **Consequence:** {f.consequence}",
                f"- **Mitigation:** {f.mitigation}"]
        if f.detail:
            out += ["", *f.detail]
    return "\n".join(out).rstrip("\n") + "\n"


def ros_json(intent: Intent) -> str:
    """``docs/ros.json``: the same findings for a risk register."""
    return json.dumps({"findings": [f.to_data() for f in ros_findings(intent)]}, indent=2,
                      ensure_ascii=False) + "\n"
