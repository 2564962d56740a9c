"""Exposure: what the stateless ACLs at the policy point let through beyond the declared
flows, computed exactly from the ACL text.

The zone matrix proof walks probe packets; a probe can show that something passes, never
that nothing else does. Here each zone's ingress ACL at the core is turned into the
*complete* set of headers it permits (:mod:`nornir_tasks.verify.headerspace`: source and
destination addresses, protocol, both ports, ICMP type, TCP flags with ``established`` =
ACK or RST) and compared with the set the intent declares, exactly:

* **declared** for zone A's ACL (packets entering the core from A): everything inside A
  (its pool to its pool); A's rules (to a service: its ports and ping; to a zone: its
  ports; to the internet: its ports to every non-internal address); the required flows
  A's hosts, gateways (DHCP relay) or devices open, from their declared source ports;
  and the stateless replies of every flow whose answering side lives in A: from the
  service ports, to the opener's source ports (the ephemeral range 1024-65535 unless the
  flow fixes them), TCP with ACK or RST only, ICMP echo-reply. UDP replies from a zone of
  clients are not declared: any client could send them to any opener's port;
* **exposure** = permitted - declared. Where the ACL is wider than the intent (a reply
  term open to every destination port, a term written for a zone's pool where the intent
  names its gateways or devices) the difference is reported row by row, with the ACL line
  that lets each part through;
* **missing** = declared - permitted, for the flows that cross zones: a declared flow the
  ACL blocks (routing aside: the matrix and the required flows prove the rest of the way);
* **accepted**: ``zone_policy.accepted_exposures`` entries cover parts of the exposure, each
  with its reason. What remains fails verify (exit 1); an entry that covers nothing is a
  warning (stale).

Declared endpoints are read from the intent exactly: zones by their pools, services and
the NOC by their prefixes, devices by their management addresses, relay agents by the
addresses of the gateway SVIs in the config text (the address a relay sends from is an
implementation choice; the gateway address of each site says which SVI it is). The ACL
of a zone is found in the text: the ``ip access-group ... in`` of every core interface
that faces the zone's hosts (a site's transit link, a town-hall zone SVI). Identical ACLs
are computed once; every distinct one is reported with the interfaces using it.

The per-zone ACLs do not grow with the estate (they are written for pools), so this is a
fixed cost: a handful of header-space operations per distinct ACL.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from nornir_tasks.design.structured import AclEntry
from nornir_tasks.intent.checks import INTERNET
from nornir_tasks.intent.flows import NOC, device_zone, service_prefixes, zone_holding
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import FlowEnd, Role
from nornir_tasks.verify.firewall import FirewallPolicy, reverse
from nornir_tasks.verify.headerspace import (
    ADDRESSES,
    IntervalSet,
    Row,
    Space,
    address_set,
    cidrs,
    permitted_by_entry,
    prefix_count,
)
from nornir_tasks.verify.model import Acl, DeviceText
from nornir_tasks.verify.parse import Line
from nornir_tasks.verify.report import VIOLATION, WARNING, CheckResult, Finding
from nornir_tasks.verify.routing import Network

CHECK = "exposure"
EPHEMERAL = "1024-65535"
PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
Net = ipaddress.IPv4Network


@dataclass(frozen=True)
class Use:
    """Where an ACL is applied: a core interface facing a zone's hosts."""

    host: str
    iface: str
    site: str | None  # the site whose transit link it is (None: a town-hall zone SVI)
    line: Line | None = None  # the `ip access-group ... in` line


@dataclass
class PairExposure:
    """What passes from one zone to one destination zone beyond the declared flows."""

    src: str
    dst: str  # a zone or "internet"
    acl: str
    rows: list[str]
    accepted: list[tuple[str, list[str]]] = field(default_factory=list)  # reason, rows
    residual: list[str] = field(default_factory=list)
    lines: list[tuple[str, int, str]] = field(default_factory=list)  # host, lineno, text


@dataclass
class ZoneAcl:
    zone: str
    name: str
    acl: Acl | None
    uses: list[Use]
    permitted: Space = field(default_factory=Space.empty)


class Exposure:
    """The exposure of every zone's ACL at the policy point, and what is accepted."""

    def __init__(self, intent: Intent, devices: dict[str, DeviceText],
                 zone_of_interface: dict[tuple[str, str], tuple[str, str | None]],
                 firewall: FirewallPolicy | None = None, net: Network | None = None) -> None:
        self.intent = intent
        self.devices = devices
        self.zone_of_interface = zone_of_interface
        self.firewall = firewall
        self.net = net
        self._fw_forward = firewall.forward() if firewall is not None else None
        self.findings: list[Finding] = []
        self.checks: list[CheckResult] = []
        self.table: list[PairExposure] = []
        self.acls: list[ZoneAcl] = []
        self._pools = {z: Net(str(p.pool)) for z, p in intent.pools.zones.items()}
        self._pool_sets = {z: address_set([n]) for z, n in self._pools.items()}
        self._pool_ranges = [(str(n), *_span(n)) for n in self._pools.values()]
        self._used: set[int] = set()
        # memos: each is keyed on everything its value is computed from (the intent and
        # the devices do not change while the exposure is computed)
        self._gateways: dict[str, IntervalSet] = {}  # by zone, all read at once
        self._ends: dict[tuple[object, ...], list[tuple[str, IntervalSet]]] = {}
        self._declared: dict[str, tuple[Space, Space, Space]] = {}
        self._managed: dict[tuple[Role, ...], IntervalSet] = {}
        self._cidr_texts: dict[IntervalSet, str] = {}

    # ----------------------------------------------------------------- addresses

    @functools.cached_property
    def _internal(self) -> IntervalSet:
        """The private ranges, the pools and the services' prefixes."""
        nets = [Net(p) for p in PRIVATE] + list(self._pools.values())
        nets += [n for s in self.intent.services.values() for n in s.prefixes]
        return address_set(nets)

    @functools.cached_property
    def _outside(self) -> IntervalSet:
        """Every address that is not internal: the internet."""
        return ADDRESSES - self._internal

    def _gateway_addresses(self, zone: str) -> IntervalSet:
        """The addresses the gateway SVIs of a zone hold, site by site (the relay
        agents): read from the text, kept where they lie in the site's prefix."""
        if not self._gateways:
            self._gateways = self._read_gateways()
        return self._gateways.get(zone, IntervalSet())

    def _read_gateways(self) -> dict[str, IntervalSet]:
        """Every zone's gateway addresses, in one pass over the sites and their devices."""
        intent = self.intent
        svi_names = {z: f"Vlan{zone.vlan}" for z, zone in intent.zones.items()}
        found: dict[str, list[tuple[int, int]]] = {}
        for slug, site in intent.sites.items():
            if not site.prefixes:
                continue
            spans = [(z, svi_names[z], *_span(p)) for z, p in site.prefixes.items()
                     if z in svi_names]
            for host in intent.site_devices(slug):
                dev = self.devices.get(host)
                if dev is None:
                    continue
                for zone, svi_name, first, last in spans:
                    svi = dev.interfaces.get(svi_name)
                    if svi is not None:
                        found.setdefault(zone, []).extend(
                            (a.ip, a.ip) for a in svi.addresses if first <= a.ip <= last)
        return {zone: IntervalSet(ranges) for zone, ranges in found.items()}

    def _device_addresses(self, roles: Sequence[Role]) -> IntervalSet:
        """The management addresses of the devices of these roles (APs aside)."""
        key = tuple(roles)
        found = self._managed.get(key)
        if found is None:
            found = self._managed[key] = IntervalSet(
                (int(d.ansible_host), int(d.ansible_host))
                for d in self.intent.devices.values()
                if d.role in roles and d.role is not Role.ap and d.ansible_host is not None)
        return found

    def _end(self, end: FlowEnd) -> list[tuple[str, IntervalSet]]:
        """(zone, exact addresses) of each part of a flow end."""
        key = (tuple(end.zones), tuple(end.relay), tuple(end.devices), end.service)
        found = self._ends.get(key)
        if found is None:
            found = self._ends[key] = self._read_end(end)
        return found

    def _read_end(self, end: FlowEnd) -> list[tuple[str, IntervalSet]]:
        intent = self.intent
        parts = [(z, self._pool_sets[z]) for z in end.zones]
        parts += [(z, self._gateway_addresses(z)) for z in end.relay]
        roles = [r for r in end.devices if r is not Role.ap]
        if roles:
            parts.append((intent.policy.management_zone, self._device_addresses(roles)))
        if Role.ap in end.devices:
            ap_zone = device_zone(intent, Role.ap)
            parts.append((ap_zone, self._pool_sets[ap_zone]))
        if end.service is not None:
            nets = service_prefixes(intent, end.service)
            holder = zone_holding(intent, nets)
            if holder is not None:
                parts.append((holder, address_set(nets)))
        return [(z, nets) for z, nets in parts if nets]

    # ----------------------------------------------------------------- declared

    @staticmethod
    def _ports(specs: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for spec in specs:
            proto, _, port = spec.partition("/")
            out.setdefault(proto, [])
            if port:
                out[proto].append(port)
        return out

    def _opening(self, ports: list[str] | tuple[str, ...],
                 source_ports: list[str] | None = None) -> Space:
        """What an opener may send, between any addresses: the flow's ports (any: every
        protocol), from its fixed source ports if it has them."""
        fixed = self._ports(source_ports or [])
        out = Space.empty()
        for proto, plist in self._ports(ports).items():
            if proto == "any":
                s = Space.full()
            elif proto == "icmp":
                s = Space.of_flow("icmp", icmp_types="echo")
            else:
                if source_ports and not fixed.get(proto):
                    continue
                s = Space.of_flow(proto, sport=fixed.get(proto) or None, dport=plist or None)
            out |= s
        return out

    def _answer(self, ports: list[str] | tuple[str, ...], source_ports: list[str] | None,
                responder_zone: str) -> Space:
        """The stateless replies of a flow, between any addresses: from the service
        ports back to the opener's."""
        back = self._ports(source_ports or [])
        clients = self.intent.zones[responder_zone].client_zone
        out = Space.empty()
        for proto, plist in self._ports(ports).items():
            if proto == "icmp":
                out |= Space.of_flow("icmp", icmp_types="echo-reply")
            elif proto in ("tcp", "udp"):
                dports = back.get(proto) if source_ports else [EPHEMERAL]
                if not dports or (proto == "udp" and clients):
                    continue
                out |= Space.of_flow(proto, sport=plist or None, dport=dports,
                                     flags="ack/rst" if proto == "tcp" else None)
        return out

    def _forward(self, src: IntervalSet, dst: IntervalSet,
                 ports: list[str] | tuple[str, ...],
                 source_ports: list[str] | None = None) -> Space:
        """What an opener in ``src`` may send to ``dst``."""
        return self._opening(ports, source_ports).within(src, dst)

    def _stateful_reply(self, responder: IntervalSet, opener: IntervalSet,
                        ports: list[str] | tuple[str, ...]) -> Space:
        """The replies of a stateful pair's flow: the firewall passes exactly the replies
        of connections it accepted, whatever port or flags, so all of them are declared."""
        return reverse(self._forward(opener, responder, ports))

    def declared(self, zone: str) -> tuple[Space, Space, Space]:
        """(everything declared for packets entering from ``zone``, the part that
        crosses zones: what the ACL must let through, the replies of the zone's stateful
        pairs: declared only where the firewall carries them, as it passes only the
        replies of connections it accepted)."""
        found = self._declared.get(zone)
        if found is None:
            found = self._declared[zone] = self._read_declared(zone)
        return found

    def _read_declared(self, zone: str) -> tuple[Space, Space, Space]:
        intent = self.intent
        pool = self._pool_sets[zone]
        inside = Space.of_addresses(pool, pool)
        # the declared flows as (source addresses, destination addresses) -> headers
        # between any addresses, placed between their addresses only once they are all
        # in: the flows of the management zone all start at the same thousands of device
        # addresses, and merging them flow by flow would walk those every time
        terms = _Terms()
        stateful = Space.empty()
        for rule in intent.policy.rules:
            if rule.from_ != zone:
                continue
            if rule.to == INTERNET:
                terms.add(pool, self._outside, self._opening(rule.ports or ["any"]))
            elif rule.to in intent.services:
                svc = intent.services[rule.to]
                terms.add(pool, address_set(svc.prefixes),
                          self._opening([*(rule.ports or svc.ports), "icmp"]))
            else:
                terms.add(pool, self._pool_sets[rule.to], self._opening(rule.ports or []))
        for rule in intent.policy.rules:
            if rule.to in intent.services and rule.to != INTERNET:
                svc = intent.services[rule.to]
                nets = address_set(svc.prefixes)
                if zone_holding(intent, list(svc.prefixes)) == zone and rule.from_ != zone:
                    ports = [*(rule.ports or svc.ports), "icmp"]
                    from_ = self._pool_sets[rule.from_]
                    if rule.stateful:
                        stateful |= self._stateful_reply(nets, from_, ports)
                    # what a real reply needs from the ACL, stateful pair or not
                    terms.add(nets, from_, self._answer(ports, None, zone))
            elif rule.to == zone and rule.from_ != zone:
                from_ = self._pool_sets[rule.from_]
                if rule.stateful:
                    stateful |= self._stateful_reply(pool, from_, rule.ports or [])
                terms.add(pool, from_, self._answer(rule.ports or [], None, zone))
        for flow in intent.policy.infrastructure:
            for fz, fnets in self._end(flow.from_):
                for tz, tnets in self._end(flow.to):
                    if fz == tz:
                        continue
                    if fz == zone:
                        terms.add(fnets, tnets,
                                  self._opening(flow.ports, flow.source_ports))
                    if tz == zone and flow.reply:
                        terms.add(tnets, fnets,
                                  self._answer(flow.ports, flow.source_ports, zone))
        cross = terms.space()
        return inside | cross, cross, stateful

    def _accepted(self) -> list[tuple[int, str, Space]]:
        out = []
        for i, acc in enumerate(self.intent.policy.accepted_exposures):
            src = IntervalSet()
            for name in acc.from_:
                src |= self._named(name)
            dst = IntervalSet()
            for name in acc.to:
                dst |= self._outside if name == INTERNET else self._named(name)
            ports = acc.ports or ["any"]
            out.append((i, acc.reason, self._forward(src, dst, ports, acc.source_ports)))
        return out

    def _named(self, name: str) -> IntervalSet:
        if name in self._pools:
            return self._pool_sets[name]
        if name == NOC or name in self.intent.services:
            return address_set(service_prefixes(self.intent, name))
        return IntervalSet()

    # ----------------------------------------------------------------- the ACLs

    def _zone_acls(self) -> list[ZoneAcl]:
        groups: dict[tuple[str, str], ZoneAcl] = {}
        # a core applies one ACL on many interfaces: fingerprint each ACL object once
        # (they are not changed while this runs, so the id stands for the entries)
        prints: dict[int, str] = {}
        for (host, iname), (zone, site) in sorted(self.zone_of_interface.items()):
            dev = self.devices[host]
            intf = dev.interfaces[iname]
            if intf.acl_in is None:
                continue  # no ACL at all: the policy-point check reports it
            acl = dev.acls.get(intf.acl_in)
            fingerprint = prints.get(id(acl))
            if fingerprint is None:
                fingerprint = prints[id(acl)] = _fingerprint(acl)
            key = (zone, fingerprint)
            za = groups.get(key)
            if za is None:
                za = groups[key] = ZoneAcl(zone, intf.acl_in, acl, [])
            za.uses.append(Use(host, iname, site, intf.acl_in_line))
        return [groups[k] for k in sorted(groups)]

    def run(self) -> None:
        accepted = self._accepted()
        destinations = self._destinations()
        for za in self._zone_acls():
            self.acls.append(za)
            entries = za.acl.entries if za.acl is not None else []
            pieces = permitted_by_entry(entries)
            za.permitted = Space.empty()
            for _, s in pieces:
                za.permitted |= s
            if za.acl is None:
                # an access-group naming no ACL filters nothing on IOS-XE
                za.permitted = Space.full()
            declared, cross, stateful = self.declared(za.zone)
            exposed = za.permitted - declared
            missing = cross - za.permitted
            where = za.uses[0]
            if missing:
                self._missing(za, missing, where)
            for dst, dspace in destinations:
                part = exposed & dspace
                if part and self._via_firewall(za, dst):
                    # the pair is routed through the firewall: what it forwards is the
                    # most that gets through (new connections it accepts, their replies)
                    assert self._fw_forward is not None
                    part = (part & self._fw_forward) - stateful
                if not part:
                    continue
                self._pair(za, dst, part, pieces, accepted)
            self.checks.append(CheckResult(
                CHECK, f"{za.name} ({za.zone}) on {len(za.uses)} interface(s)",
                "fail" if any(p.residual for p in self.table if p.acl == za.name
                              and p.src == za.zone) or missing else "pass", len(entries)))
        for i, reason, space in accepted:
            if i not in self._used:
                acc = self.intent.policy.accepted_exposures[i]
                self.findings.append(Finding(
                    CHECK, WARNING, f"accepted_exposures[{i}] ({', '.join(acc.from_)} -> "
                    f"{', '.join(acc.to)}) covers nothing the ACLs let through: remove it "
                    f"(reason given: {reason})"))
            del space

    def _via_firewall(self, za: ZoneAcl, dst: str) -> bool:
        """Does the core hand the zone's packets for ``dst`` to the firewall (its route
        for the zone's pool is the firewall's address on the zone's own leg)? Read from
        the core's routing table; the leg's numbering is the intent's."""
        if self.net is None or self._fw_forward is None or dst not in self._pools:
            return False
        edge = self.intent.policy.internet_edge
        leg = int(edge.transit.network_address) + 8 * self.intent.zones[za.zone].id + 6
        vrf = self.intent.zones[za.zone].vrf
        target = int(self._pools[dst].network_address)
        for use in za.uses:
            route = self.net.lookup(use.host, vrf, target)
            if route is not None and route.next_hop == leg and route.net.plen > 0:
                return True
        return False

    def _destinations(self) -> list[tuple[str, Space]]:
        out = [(z, Space.of_addresses(dst=self._pool_sets[z]))
               for z in sorted(self._pools, key=lambda z: self.intent.zones[z].id)]
        internal = Space.of_addresses(dst=self._internal)
        out.append((INTERNET, Space.full() - internal))
        # internal addresses in no pool (private ranges the estate does not use)
        pools = Space.empty()
        for _, s in out[:-1]:
            pools |= s
        out.append(("unallocated private", internal - pools))
        return out

    def _pair(self, za: ZoneAcl, dst: str, part: Space,
              pieces: list[tuple[AclEntry, Space]],
              accepted: list[tuple[int, str, Space]]) -> None:
        pe = PairExposure(za.zone, dst, za.name, self._describe(part))
        rest = part
        for i, reason, space in accepted:
            hit = rest & space
            if hit:
                self._used.add(i)
                pe.accepted.append((reason, self._describe(hit)))
                rest = rest - space
        # nothing accepted: the residual is the whole part, whose rows are known
        pe.residual = list(pe.rows) if rest is part else self._describe(rest)
        where = za.uses[0]
        for entry, s in pieces:
            if s.intersects(part) and za.acl is not None:
                line = za.acl.rules[entry.seq].line
                pe.lines.append((where.host, line.lineno, line.text))
        self.table.append(pe)
        if rest:
            line_host, lineno, text = pe.lines[0] if pe.lines else (
                where.host, where.line.lineno if where.line else None,
                where.line.text if where.line else None)
            for entry, s in pieces:
                if s.intersects(rest) and za.acl is not None:
                    line = za.acl.rules[entry.seq].line
                    line_host, lineno, text = where.host, line.lineno, line.text
                    break
            shown = pe.residual[:6]
            more = f" (+{len(pe.residual) - 6} more rows)" if len(pe.residual) > 6 else ""
            self.findings.append(Finding(
                CHECK, VIOLATION,
                f"{za.name} lets {za.zone} -> {dst} traffic through beyond the declared "
                f"flows (accept it in zone_policy.accepted_exposures with a reason, or narrow "
                f"the policy): {'; '.join(shown)}{more}",
                line_host, lineno, text, f"{za.zone} -> {dst}",
                detail={"rows": pe.residual, "interfaces": [
                    f"{u.host} {u.iface}" for u in za.uses]}))

    def _describe(self, space: Space) -> list[str]:
        return [_describe_sets(r, self._pool_ranges, self._cidr_text)
                for r in space.rows(addresses=False)]

    def _cidr_text(self, addresses: IntervalSet) -> str:
        """A set's prefixes as text: the rows of one estate repeat a few long sets (the
        management pool less the devices) in row after row."""
        text = self._cidr_texts.get(addresses)
        if text is None:
            text = self._cidr_texts[addresses] = ",".join(cidrs(addresses))
        return text

    def _missing(self, za: ZoneAcl, missing: Space, where: Use) -> None:
        rows = self._describe(missing)
        witness = missing.rows()[0].witness()
        line = None
        if za.acl is not None:
            from nornir_tasks.acl_eval import evaluate

            _, entry = evaluate(za.acl.entries, witness)
            if entry is not None:
                line = za.acl.rules[entry.seq].line
        self.findings.append(Finding(
            CHECK, VIOLATION,
            f"{za.name} blocks declared {za.zone} traffic: {'; '.join(rows[:6])}"
            + (f" (+{len(rows) - 6} more rows)" if len(rows) > 6 else ""),
            where.host, line.lineno if line else (za.acl.line.lineno if za.acl and
                                                   za.acl.line else None),
            line.text if line else (za.acl.line.text if za.acl and za.acl.line else None),
            f"{za.zone} -> *", detail={"rows": rows}))

    # ----------------------------------------------------------------- queries

    def permits(self, zone: str, packet: object) -> bool:
        """Does the zone's ACL (every distinct one, any of them) let the packet through?
        The lab's adversarial probes are predicted with this."""
        return any(packet in za.permitted for za in self.acls if za.zone == zone)

    def to_data(self) -> list[dict[str, object]]:
        return [{"from": p.src, "to": p.dst, "acl": p.acl, "rows": p.rows,
                 "accepted": [{"reason": r, "rows": rows} for r, rows in p.accepted],
                 "residual": p.residual,
                 "lines": [{"device": h, "line": n, "text": t} for h, n, t in p.lines]}
                for p in self.table]


class _Terms:
    """A union of flows, each given as (source addresses, destination addresses,
    headers between any addresses), computed group by group: the headers of one
    address pair first (small), then each source's destinations, then the sources."""

    def __init__(self) -> None:
        self._by_pair: dict[IntervalSet, dict[IntervalSet, Space]] = {}

    def add(self, src: IntervalSet, dst: IntervalSet, headers: Space) -> None:
        by_dst = self._by_pair.setdefault(src, {})
        known = by_dst.get(dst)
        by_dst[dst] = headers if known is None else known | headers

    def space(self) -> Space:
        out = Space.empty()
        for src, by_dst in self._by_pair.items():
            from_src = Space.empty()
            for dst, headers in by_dst.items():
                from_src |= headers.within(None, dst)
            out |= from_src.within(src, None)
        return out


def _fingerprint(acl: Acl | None) -> str:
    if acl is None:
        return "undefined"
    text = "\n".join(f"{e.action} {e.protocol} {e.source} {e.src_ports} {e.destination} "
                     f"{e.dst_ports} {e.established} {e.icmp_type}" for e in acl.entries)
    return hashlib.sha256(text.encode()).hexdigest()


def describe(row: Row, pools: Sequence[Net]) -> str:
    """A row as text, an address list that is most of a pool written as the pool less
    the few addresses missing from it (a term for a pool minus the declared gateways).

    >>> from nornir_tasks.verify.headerspace import Space
    >>> s = Space.of_flow("udp", ["10.0.0.0/24"], ["10.9.0.1/32"], dport="67")
    >>> s = s - Space.of_addresses(src=["10.0.0.1/32", "10.0.0.65/32"])
    >>> describe(s.rows()[0], [Net("10.0.0.0/24")])
    'udp 10.0.0.0/24 less 2 addresses -> 10.9.0.1/32 dport 67'
    """
    return _describe(row, [(str(p), *_span(p)) for p in pools])


#: a pool as (its text, first address, last address)
_PoolRange = tuple[str, int, int]
#: fewer prefixes than this are written out as they are
_SHORT = 4


def _describe(row: Row, pools: Sequence[_PoolRange]) -> str:
    text = row.text()
    for field_, addresses in ((row.sources, row.source_set),
                              (row.destinations, row.destination_set)):
        if len(field_) < _SHORT:
            continue
        lo, hi, size = _extent(field_, addresses)
        less = _pool_less(lo, hi, size, pools)
        if less is not None:
            text = text.replace(",".join(field_), less, 1)
    return text


def _pool_less(lo: int, hi: int, size: int, pools: Sequence[_PoolRange]) -> str | None:
    """``POOL less N addresses`` for addresses from ``lo`` to ``hi`` (``size`` of them)
    that lie in a pool and miss at most 4,096 of it; None if none is such a pool."""
    for name, first, last in pools:
        if first <= lo and hi <= last and last - first + 1 - size <= 4096:
            return f"{name} less {last - first + 1 - size} addresses"
    return None


def _extent(cidr_texts: Sequence[str], addresses: IntervalSet | None
            ) -> tuple[int, int, int]:
    """(lowest address, highest address, sum of the prefixes' sizes) of a row's field;
    from its address set when the row has one (its prefixes are that set, disjoint)."""
    if addresses is not None and addresses:
        return addresses.min(), addresses.intervals[-1][1], addresses.size
    spans = [_span(Net(c)) for c in cidr_texts]
    return (min(lo for lo, _ in spans), max(hi for _, hi in spans),
            sum(hi - lo + 1 for lo, hi in spans))


def _describe_sets(row: Row, pools: Sequence[_PoolRange],
                   text_of: Callable[[IntervalSet], str] | None = None) -> str:
    """:func:`describe` of a row of ``Space.rows(addresses=False)``, from its address
    sets: a field that is written as a pool needs no text for its thousands of prefixes.
    ``text_of``: a set's prefixes as text (default: written out each time).

    The same text as :func:`describe` of the full row, which replaces the first
    occurrence of each long field's text: the sources' is where they stand (nothing
    before them has a ``/``), and so is the destinations' unless the sources are written
    out and have at least as many prefixes: then it is done on the full text.

    >>> from nornir_tasks.verify.headerspace import Space
    >>> s = Space.of_flow("udp", ["10.0.0.0/24"], ["10.9.0.0/30", "10.9.0.4/32", "10.9.0.6/31"],
    ...                   dport="67")
    >>> s = s - Space.of_addresses(src=["10.0.0.1/32", "10.0.0.65/32"])
    >>> pools = [("10.0.0.0/24", 167772160, 167772415)]
    >>> [_describe_sets(r, pools) for r in s.rows(addresses=False)]
    ['udp 10.0.0.0/24 less 2 addresses -> 10.9.0.0/30,10.9.0.4/32,10.9.0.6/31 dport 67']
    >>> [describe(r, [Net("10.0.0.0/24")]) for r in s.rows()]
    ['udp 10.0.0.0/24 less 2 addresses -> 10.9.0.0/30,10.9.0.4/32,10.9.0.6/31 dport 67']
    """
    assert row.source_set is not None and row.destination_set is not None
    src = _set_less(row.source_set, pools)
    dst = _set_less(row.destination_set, pools)
    if dst is not None and src is None and _long(row.source_set):
        full = replace(row, sources=tuple(cidrs(row.source_set)),
                       destinations=tuple(cidrs(row.destination_set)))
        return _describe(full, pools)
    text = text_of or _joined_cidrs
    return replace(row, sources=(src or text(row.source_set),),
                   destinations=(dst or text(row.destination_set),)).text()


def _joined_cidrs(addresses: IntervalSet) -> str:
    return ",".join(cidrs(addresses))


def _set_less(addresses: IntervalSet, pools: Sequence[_PoolRange]) -> str | None:
    """The ``POOL less N addresses`` text of a field with at least _SHORT prefixes."""
    if not _long(addresses):
        return None
    return _pool_less(addresses.min(), addresses.intervals[-1][1], addresses.size, pools)


def _long(addresses: IntervalSet) -> bool:
    """Is the set written as at least _SHORT prefixes? (Counted, not written.)"""
    return prefix_count(addresses, _SHORT) >= _SHORT


def _span(net: Net) -> tuple[int, int]:
    """A network's first and last address (without ipaddress's slow num_addresses)."""
    first = int(net.network_address)
    return first, first + (1 << (32 - net.prefixlen)) - 1


def policy_point_interfaces(intent: Intent, spec: object, devices: dict[str, DeviceText]
                            ) -> dict[tuple[str, str], tuple[str, str | None]]:
    """The core interfaces where a zone's hosts enter the policy point, with the zone and
    the site whose transit link it is: a site's per-zone transit (SVI or tunnel) and the
    town hall's zone SVIs. The pair's own link and the internet edge are left out (the
    first carries what the other core already filtered, the second the firewall's)."""
    from nornir_tasks.verify.checks import Spec

    assert isinstance(spec, Spec)
    out: dict[tuple[str, str], tuple[str, str | None]] = {}
    for host, dev in devices.items():
        if intent.devices[host].role is not Role.core:
            continue
        core_site = intent.device_site[host]
        for name, intf in dev.interfaces.items():
            if not intf.routed or not intf.up:
                continue
            meaning = spec.interface_meaning(intf)
            if meaning is None:
                continue
            if meaning.kind == "zone":
                out[(host, name)] = (meaning.zone, None)
            elif meaning.kind == "transit" and meaning.site not in (None, core_site):
                out[(host, name)] = (meaning.zone, meaning.site)
    return out


def exposure_model(intent: Intent, configs: dict[str, str]) -> Exposure:
    """The exposure of an estate's rendered configs, without the rest of verify: for
    the packet lab, which predicts each adversarial probe with :meth:`Exposure.permits`.

    Raises:
        ValueError: a core's config is missing or cannot be read.
    """
    from nornir_tasks.verify.checks import Spec
    from nornir_tasks.verify.model import read_device
    from nornir_tasks.verify.parse import ConfigTextError, parse_config

    devices: dict[str, DeviceText] = {}
    for host, d in intent.devices.items():
        if d.role is not Role.core:
            continue
        if host not in configs:
            raise ValueError(f"no config for the core {host}")
        try:
            devices[host] = read_device(host, parse_config(configs[host], host))
        except ConfigTextError as exc:
            raise ValueError(str(exc)) from None
    model = Exposure(intent, devices, policy_point_interfaces(intent, Spec(intent), devices))
    model.run()
    return model
