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

import bisect
import ipaddress
from dataclasses import dataclass
from functools import cached_property

from nornir_tasks.acl_eval import Packet
from nornir_tasks.intent.flows import NOC, host_zones
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import FlowEnd
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
    """One probe packet shape: protocol, destination port (ICMP: echo) and, for the flows
    whose protocol fixes it (DHCP relay 67, renewal 68, NTP 123), the source port."""

    proto: str  # tcp | udp | icmp
    port: int | None = None
    sport: int | None = None  # None: an ephemeral port (EPHEMERAL_PORT)

    @property
    def label(self) -> str:
        base = self.proto if self.port is None else f"{self.proto}/{self.port}"
        return base if self.sport is None else f"{base} from {self.sport}"

    @property
    def source_port(self) -> int:
        return EPHEMERAL_PORT if self.sport is None else self.sport

    def packet(self, src: int, dst: int) -> Packet:
        """The opening packet from ``src`` to ``dst``."""
        s, d = ipaddress.IPv4Address(src), ipaddress.IPv4Address(dst)
        if self.proto == "icmp":
            return Packet("icmp", s, d, icmp_type="echo-request")
        return Packet(self.proto, s, d, self.source_port, self.port)

    def reply(self, src: int, dst: int) -> Packet:
        """The stateless reply, from ``dst`` back to ``src``."""
        s, d = ipaddress.IPv4Address(dst), ipaddress.IPv4Address(src)
        if self.proto == "icmp":
            return Packet("icmp", s, d, icmp_type="echo-reply")
        return Packet(self.proto, s, d, self.port, self.source_port,
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


def _in_specs(port: int, specs: list[str] | tuple[str, ...], proto: str) -> bool:
    for spec in specs:
        sproto, _, ports = spec.partition("/")
        lo, _, hi = ports.partition("-")
        if sproto == proto and int(lo) <= port <= int(hi or lo):
            return True
    return False


def port_specs_to_mask(specs: list[str] | tuple[str, ...], probes: list[Probe],
                       source_ports: list[str] | tuple[str, ...] | None = None) -> int:
    """Bit i set when probe i is inside one of the port specs (and, when the flow fixes
    its source ports, sent from one of them).

    >>> ps = [Probe("tcp", 443), Probe("udp", 53), Probe("icmp"), Probe("udp", 67, 68)]
    >>> bin(port_specs_to_mask(["tcp/443", "icmp"], ps))
    '0b101'
    >>> bin(port_specs_to_mask(["udp/67"], ps, ["udp/68"]))
    '0b1000'
    """
    mask = 0
    for spec in specs:
        for i, p in enumerate(probes):
            if source_ports and p.proto in ("tcp", "udp") and not _in_specs(
                    p.source_port, source_ports, p.proto):
                continue
            if spec == "any":
                mask |= 1 << i
            elif spec == "icmp":
                if p.proto == "icmp":
                    mask |= 1 << i
            elif p.port is not None and _in_specs(p.port, [spec], p.proto):
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
                           tuple[int, int, tuple[str, ...]]] = {}
        self._site_nets = [(slug, zone, Net.of(p)) for slug, s in sorted(intent.sites.items())
                           for zone, p in sorted(s.prefixes.items())]
        self._sources: list[Party] | None = None

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
        """Every port the matrix names (both ends of ranges), from an ephemeral port; and
        for a flow that fixes its source ports, from each end of those too."""
        seen: set[tuple[str, int | None, int | None]] = {("icmp", None, None)}
        for spec in self._specs():
            if spec in ("any", "icmp"):
                continue
            proto, _, ports = spec.partition("/")
            lo, _, hi = ports.partition("-")
            for port in {int(lo), int(hi or lo)}:
                seen.add((proto, port, None))
        for f in self.intent.policy.infrastructure:
            for sp in f.source_ports or []:
                sproto, _, sports = sp.partition("/")
                slo, _, shi = sports.partition("-")
                for spec in f.ports:
                    proto, _, ports = spec.partition("/")
                    if proto != sproto:
                        continue
                    lo, _, hi = ports.partition("-")
                    for port in {int(lo), int(hi or lo)}:
                        for sport in {int(slo), int(shi or slo)}:
                            if sport != EPHEMERAL_PORT:
                                seen.add((proto, port, sport))
        return [Probe(p, n, sp) for p, n, sp in sorted(
            seen, key=lambda t: (t[0], t[1] or 0, -1 if t[2] is None else t[2]))]

    def _end_zones(self, end: FlowEnd) -> set[str]:
        """The zones whose hosts a flow end covers (services and the NOC aside)."""
        return set(host_zones(self.intent, end))

    def matches(self, end: FlowEnd, party: Party) -> bool:
        """Does a flow end cover the party? Zones, relay agents and devices at zone
        granularity (the probes stand for a whole site prefix); services and the NOC by
        name."""
        if party.kind == "internet":
            return False
        if party.kind in ("service", "operator") and end.service == party.label:
            return True
        return party.zone is not None and party.zone in self._end_zones(end)

    # ----------------------------------------------------------------- parties

    def zone_of(self, net: Net) -> tuple[str, str] | tuple[None, None]:
        """(site, zone) of the committed site prefix holding ``net`` (the first in site
        and zone order, when prefixes overlap)."""
        best = None
        for plen, mask, at in self._site_index:
            if plen > net.plen:
                break
            i = at.get(net.addr & mask)
            if i is not None and (best is None or i < best):
                best = i
        if best is None:
            return None, None
        slug, zone, _ = self._site_nets[best]
        return slug, zone

    @cached_property
    def _site_index(self) -> list[tuple[int, int, dict[int, int]]]:
        """The site prefixes by length (shortest first): address -> first index."""
        by_len: dict[int, dict[int, int]] = {}
        for i, (_, _, prefix) in enumerate(self._site_nets):
            by_len.setdefault(prefix.plen, {}).setdefault(prefix.addr, i)
        return [(plen, Net(0, plen).mask, at) for plen, at in sorted(by_len.items())]

    @cached_property
    def named_nets(self) -> list[Net]:
        """Addresses the matrix names inside zone prefixes (services, operator hosts)."""
        nets = [Net.of(n) for s in self.intent.services.values() for n in s.prefixes]
        nets += [n for _, n in self._operators()]
        return nets

    @cached_property
    def _named_by_addr(self) -> tuple[list[int], list[tuple[int, Net]]]:
        ordered = sorted(enumerate(self.named_nets), key=lambda t: (t[1].addr, t[0]))
        return [n.addr for _, n in ordered], ordered

    def named_within(self, net: Net) -> list[Net]:
        """The named addresses strictly inside ``net``, in :attr:`named_nets` order.

        >>> m = Matrix.__new__(Matrix)
        >>> m.named_nets = [Net(0x0A000010, 28), Net(0x0A000000, 24), Net(0x0A000005, 32)]
        >>> [str(n) for n in m.named_within(Net(0x0A000000, 24))]
        ['10.0.0.16/28', '10.0.0.5/32']
        """
        addrs, ordered = self._named_by_addr
        lo = bisect.bisect_left(addrs, net.addr)
        hi = bisect.bisect_right(addrs, net.last)
        inside = sorted((i, n) for i, n in ordered[lo:hi] if n.within(net) and n != net)
        return [n for _, n in inside]

    def _operators(self) -> list[tuple[str, Net]]:
        """Hosts that open infrastructure flows by name (the NOC, the monitoring system,
        the RADIUS servers for change of authorisation): sources of their own."""
        out: list[tuple[str, Net]] = []
        for f in self.intent.policy.infrastructure:
            name = f.from_.service
            if name is None or any(n == name for n, _ in out):
                continue
            if name == NOC:
                out += [(NOC, Net.of(n)) for n in self.intent.management.noc_prefixes]
            elif name in self.intent.services:
                out += [(name, Net.of(n)) for n in self.intent.services[name].prefixes]
        return out

    def _representative(self, net: Net) -> int:
        """A host address in ``net`` outside every named sub-prefix (from the top)."""
        inner = self.named_within(net)
        candidate = net.last - 1 if net.plen < 31 else net.addr
        while candidate > net.addr:
            hit = next((n for n in inner if candidate in n), None)
            if hit is None:
                return candidate
            candidate = hit.addr - 1
        return net.addr + 1 if net.plen < 31 else net.addr

    def sources(self) -> list[Party]:
        """Every zone at every site, and the operator's hosts."""
        if self._sources is None:
            self._sources = self._list_sources()
        return list(self._sources)

    def _list_sources(self) -> list[Party]:
        out: list[Party] = []
        for slug, site in sorted(self.intent.sites.items()):
            for zone in sorted(site.prefixes, key=self.zones.index):
                net = Net.of(site.prefixes[zone])
                out.append(Party(f"{slug}/{zone}", "zone", zone, zone, slug, net,
                                 self._representative(net)))
        for name, net in self._operators():
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
        for name, net in self._operators():
            if name == NOC:
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
        return [*self.zones, *dict.fromkeys(n for n, _ in self._operators())]

    # ----------------------------------------------------------------- expectations

    def expected(self, src: Party, dst: Party) -> tuple[int, tuple[str, ...]]:
        """(mask of allowed probes, the matrix entries that allow them)."""
        mask, _, why = self._decide(src, dst)
        return mask, why

    def replied(self, src: Party, dst: Party) -> int:
        """The allowed probes that expect a stateless reply: all but those that only
        one-way flows allow (syslog, SNMP traps)."""
        return self._decide(src, dst)[1]

    def _decide(self, src: Party, dst: Party) -> tuple[int, int, tuple[str, ...]]:
        key = (src.kind, src.label, src.zone, dst.kind, dst.label, dst.zone)
        hit = self._expect.get(key)
        if hit is None:
            hit = self._expect[key] = self._compute(src, dst)
        return hit

    def _compute(self, src: Party, dst: Party) -> tuple[int, int, tuple[str, ...]]:
        """(allowed probes, those of them with a reply, the entries that allow them)."""
        pol = self.intent.policy
        mask = replied = 0
        why: list[str] = []

        def allow(specs: list[str] | tuple[str, ...], reason: str,
                  sources: list[str] | None = None, reply: bool = True) -> None:
            nonlocal mask, replied
            m = port_specs_to_mask(specs, self.probes, sources)
            if m:
                mask |= m
                replied |= m if reply else 0
                why.append(reason)

        z = src.zone
        if dst.kind != "internet" and z is not None and z == dst.zone:
            return self.all, self.all, ("same zone",)
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
            if self.matches(f.from_, src) and self.matches(f.to, dst):
                allow(f.ports, f"infrastructure {f.name}", f.source_ports, f.reply)
        return mask, replied, tuple(why)

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
            src_ok = (zone is not None and zone in self._end_zones(f.from_)) or (
                zone is None and f.from_.service == row)
            col_zone = self._column_zone(column)
            dst_ok = f.to.service == column or (column in self.intent.zones and column in
                                                self._end_zones(f.to)) or (
                column in self.intent.services and col_zone in self._end_zones(f.to))
            if src_ok and dst_ok:
                specs += f.ports
        return list(dict.fromkeys(specs))
