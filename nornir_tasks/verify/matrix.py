"""The zone matrix as the intent states it: parties, probe packets, and what is allowed.

Read from the intent's matrix only (``zone_policy`` rules and infrastructure flows,
``services``, ``zones``, the sites' committed prefixes, ``management`` and the RADIUS
change-of-authorisation switch): never from the compiled ACL terms. The semantics,
documented in ``docs/verify.md``:

* inside one zone everything is allowed (the zone's own VRF, between its sites);
* a rule towards a service allows the service's ports (or the rule's) plus ICMP echo;
* a rule towards a zone allows the rule's ports (and so everything inside that zone);
* a rule towards ``internet`` allows its ports (default: any) to non-internal addresses;
* an infrastructure flow allows exactly its ports;
* the operator: the NOC prefixes may open SSH and ping, the SNMP collectors SNMP polls,
  the RADIUS servers change of authorisation (udp/1700, when CoA is on), towards the
  management zone;
* everything else is denied.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cached_property

from nornir_tasks.acl_eval import Packet
from nornir_tasks.intent.loader import Intent
from nornir_tasks.verify.model import Net, int_ip

INTERNET = "internet"
#: A documentation address (RFC 5737) standing for "somewhere on the internet".
INTERNET_PROBE = "198.51.100.10"
EPHEMERAL_PORT = 50000
COA_PORT = 1700  # Cisco's default port for RADIUS change of authorisation
#: Ports no flow of the reference matrix allows: a probe on each catches broad permits.
SENTINELS = ("tcp/22", "tcp/80", "tcp/3389", "udp/69", "udp/161")


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe packet shape: protocol and destination port (ICMP: echo)."""

    proto: str  # tcp | udp | icmp
    port: int | None = None

    @property
    def label(self) -> str:
        return self.proto if self.port is None else f"{self.proto}/{self.port}"

    def packet(self, src: int, dst: int) -> Packet:
        """The opening packet from ``src`` to ``dst``."""
        s, d = ipaddress.IPv4Address(src), ipaddress.IPv4Address(dst)
        if self.proto == "icmp":
            return Packet("icmp", s, d, icmp_type="echo-request")
        return Packet(self.proto, s, d, EPHEMERAL_PORT, self.port)

    def reply(self, src: int, dst: int) -> Packet:
        """The stateless reply, from ``dst`` back to ``src``."""
        s, d = ipaddress.IPv4Address(dst), ipaddress.IPv4Address(src)
        if self.proto == "icmp":
            return Packet("icmp", s, d, icmp_type="echo-reply")
        return Packet(self.proto, s, d, self.port, EPHEMERAL_PORT,
                      established=self.proto == "tcp")


@dataclass(frozen=True, slots=True)
class Party:
    """A source or destination of probes: a zone at a site, a service, the internet."""

    key: str
    kind: str  # zone | service | operator | internet
    label: str  # its matrix row/column: the zone, service or operator name, or internet
    zone: str | None  # the zone whose site prefix holds it (None: in no site prefix)
    site: str | None
    net: Net | None
    rep: int  # the probe address

    def describe(self) -> str:
        where = f"@{self.site}" if self.site and self.kind == "zone" else ""
        return f"{self.label}{where} ({int_ip(self.rep)})"


def port_specs_to_mask(specs: list[str] | tuple[str, ...], probes: list[Probe]) -> int:
    """Bit i set when probe i is inside one of the port specs.

    >>> ps = [Probe("tcp", 443), Probe("udp", 53), Probe("icmp")]
    >>> bin(port_specs_to_mask(["tcp/443", "icmp"], ps))
    '0b101'
    """
    mask = 0
    for spec in specs:
        for i, p in enumerate(probes):
            if spec == "any":
                mask |= 1 << i
            elif spec == "icmp":
                if p.proto == "icmp":
                    mask |= 1 << i
            else:
                proto, _, ports = spec.partition("/")
                lo, _, hi = ports.partition("-")
                if p.proto == proto and p.port is not None and \
                        int(lo) <= p.port <= int(hi or lo):
                    mask |= 1 << i
    return mask


def mask_labels(mask: int, probes: list[Probe]) -> list[str]:
    return [p.label for i, p in enumerate(probes) if mask >> i & 1]


class Matrix:
    """Parties, probes and the allowed probes of every (source, destination) kind."""

    def __init__(self, intent: Intent) -> None:
        self.intent = intent
        self.zones = sorted(intent.zones, key=lambda z: (intent.zones[z].id, z))
        self.mgmt = intent.policy.management_zone
        self.restricted = intent.policy.restricted_zone
        self.probes = self._probes()
        self.all = (1 << len(self.probes)) - 1
        self._expect: dict[tuple[str, str, str | None, str, str, str | None],
                           tuple[int, tuple[str, ...]]] = {}
        self._site_nets = [(slug, zone, Net.of(p)) for slug, s in sorted(intent.sites.items())
                           for zone, p in sorted(s.prefixes.items())]

    # ----------------------------------------------------------------- probes

    def _specs(self) -> list[str]:
        pol = self.intent.policy
        specs: list[str] = [*SENTINELS, "tcp/22", "udp/161", f"udp/{COA_PORT}"]
        for s in self.intent.services.values():
            specs += s.ports
        for r in pol.rules:
            specs += r.ports or []
        for f in pol.infrastructure:
            specs += f.ports
        return specs

    def _probes(self) -> list[Probe]:
        seen: set[tuple[str, int | None]] = {("icmp", None)}
        for spec in self._specs():
            if spec in ("any", "icmp"):
                continue
            proto, _, ports = spec.partition("/")
            lo, _, hi = ports.partition("-")
            for port in {int(lo), int(hi or lo)}:
                seen.add((proto, port))
        return [Probe(p, n) for p, n in sorted(seen, key=lambda t: (t[0], t[1] or 0))]

    # ----------------------------------------------------------------- parties

    def zone_of(self, net: Net) -> tuple[str, str] | tuple[None, None]:
        """(site, zone) of the committed site prefix holding ``net``."""
        for slug, zone, prefix in self._site_nets:
            if net.within(prefix):
                return slug, zone
        return None, None

    @cached_property
    def named_nets(self) -> list[Net]:
        """Addresses the matrix names inside zone prefixes (services, operator hosts)."""
        nets = [Net.of(n) for s in self.intent.services.values() for n in s.prefixes]
        nets += [n for _, _, n in self._operators()]
        return nets

    def _operators(self) -> list[tuple[str, tuple[str, ...], Net]]:
        m = self.intent.management
        out: list[tuple[str, tuple[str, ...], Net]] = [
            ("noc", ("tcp/22", "icmp"), Net.of(n)) for n in m.noc_prefixes]
        out += [("monitoring", ("udp/161",), Net(int(a), 32)) for a in m.snmp_collectors]
        if self.intent.aaa.radius.coa:
            out += [("radius", (f"udp/{COA_PORT}",), Net(int(s.address), 32))
                    for s in self.intent.aaa.radius.servers]
        return out

    def operator_ports(self, name: str) -> tuple[str, ...]:
        for n, ports, _ in self._operators():
            if n == name:
                return ports
        return ()

    def _representative(self, net: Net) -> int:
        """A host address in ``net`` outside every named sub-prefix (from the top)."""
        inner = [n for n in self.named_nets if n.within(net) and n != net]
        candidate = net.last - 1 if net.plen < 31 else net.addr
        while candidate > net.addr:
            hit = next((n for n in inner if candidate in n), None)
            if hit is None:
                return candidate
            candidate = hit.addr - 1
        return net.addr + 1 if net.plen < 31 else net.addr

    def sources(self) -> list[Party]:
        """Every zone at every site, and the operator's hosts."""
        out: list[Party] = []
        for slug, site in sorted(self.intent.sites.items()):
            for zone in sorted(site.prefixes, key=self.zones.index):
                net = Net.of(site.prefixes[zone])
                out.append(Party(f"{slug}/{zone}", "zone", zone, zone, slug, net,
                                 self._representative(net)))
        for name, _, net in self._operators():
            where, in_zone = self.zone_of(net)
            out.append(Party(f"{name}/{net}", "operator", name, in_zone, where, net,
                             net.addr if net.plen >= 31 else net.addr + 1))
        return out

    def destinations(self) -> list[Party]:
        """Every zone at every site, every service address, the NOC, the internet."""
        out = [p for p in self.sources() if p.kind == "zone"]
        for name, svc in sorted(self.intent.services.items()):
            for n in svc.prefixes:
                net = Net.of(n)
                site, in_zone = self.zone_of(net)
                out.append(Party(f"service:{name}/{net}", "service", name, in_zone, site, net,
                                 net.addr if net.plen >= 31 else net.addr + 1))
        for name, _, net in self._operators():
            if name == "noc":
                site, in_zone = self.zone_of(net)
                out.append(Party(f"noc/{net}", "operator", name, in_zone, site, net,
                                 net.addr + 1 if net.plen < 31 else net.addr))
        out.append(Party(INTERNET, "internet", INTERNET, None, None, None,
                         int(ipaddress.IPv4Address(INTERNET_PROBE))))
        return out

    def columns(self) -> list[str]:
        services = sorted(self.intent.services)
        return [*self.zones, *services, "noc", INTERNET]

    def rows(self) -> list[str]:
        return [*self.zones, *dict.fromkeys(n for n, _, _ in self._operators())]

    # ----------------------------------------------------------------- expectations

    def expected(self, src: Party, dst: Party) -> tuple[int, tuple[str, ...]]:
        """(mask of allowed probes, the matrix entries that allow them)."""
        key = (src.kind, src.label, src.zone, dst.kind, dst.label, dst.zone)
        hit = self._expect.get(key)
        if hit is None:
            hit = self._expect[key] = self._compute(src, dst)
        return hit

    def _compute(self, src: Party, dst: Party) -> tuple[int, tuple[str, ...]]:
        pol = self.intent.policy
        mask = 0
        why: list[str] = []

        def allow(specs: list[str] | tuple[str, ...], reason: str) -> None:
            nonlocal mask
            m = port_specs_to_mask(specs, self.probes)
            if m:
                mask |= m
                why.append(reason)

        z = src.zone
        if dst.kind != "internet" and z is not None and z == dst.zone:
            return self.all, ("same zone",)
        for r in pol.rules:
            if r.from_ != z:
                continue
            if r.to == INTERNET:
                if dst.kind == "internet":
                    allow(r.ports or ["any"], f"rule {r.from_} -> internet")
            elif r.to in self.intent.services:
                if dst.kind == "service" and dst.label == r.to:
                    allow([*(r.ports or self.intent.services[r.to].ports), "icmp"],
                          f"rule {r.from_} -> {r.to}")
            elif dst.kind != "internet" and dst.zone == r.to:
                allow(r.ports or [], f"rule {r.from_} -> {r.to}")
        for f in pol.infrastructure:
            if z is None or z not in f.from_:
                continue
            if f.to in self.intent.services:
                if dst.kind == "service" and dst.label == f.to:
                    allow(f.ports, f"infrastructure {f.name}")
            elif dst.kind != "internet" and dst.zone == f.to:
                allow(f.ports, f"infrastructure {f.name}")
        if src.kind == "operator" and dst.kind != "internet" and dst.zone == self.mgmt:
            allow(self.operator_ports(src.label), f"operator {src.label} -> {self.mgmt}")
        return mask, tuple(why)

    def _column_zone(self, column: str) -> str | None:
        if column in self.intent.zones:
            return column
        svc = self.intent.services.get(column)
        if svc is None or not svc.prefixes:
            return None
        return self.zone_of(Net.of(svc.prefixes[0]))[1]

    def expected_specs(self, row: str, column: str) -> list[str]:
        """The matrix's own words for a cell (for the Markdown table)."""
        pol = self.intent.policy
        specs: list[str] = []
        zone = row if row in self.intent.zones else None
        for r in pol.rules:
            if r.from_ == zone and r.to == column:
                if column in self.intent.services:
                    specs += [*(r.ports or self.intent.services[column].ports), "icmp"]
                else:
                    specs += r.ports or ["any"]
        for f in pol.infrastructure:
            if zone in f.from_ and f.to == column:
                specs += f.ports
        if zone is None and self._column_zone(column) == self.mgmt:
            specs += self.operator_ports(row)
        return list(dict.fromkeys(specs))
