"""Required flows: the network's own plumbing, proven end to end from the config text.

Every infrastructure flow of the intent (DHCP relay and renewal, DNS, RADIUS and change of
authorisation, TACACS+, SSH from the NOC, NTP, syslog, SNMP, CAPWAP, ...) is expanded into
*instances*, one per pair of concrete ends: the hosts of a zone at one site, the gateway of
a zone at one site (the DHCP relay agent), one managed device, one service address. For
each instance, from the text only:

1. **layer 2** — the ends' VLANs reach the switch that routes them
   (:mod:`nornir_tasks.verify.l2`: every trunk and bundle on the way carries the VLAN);
2. **the forward walk** — from where the opener's packets enter the routed network (its
   gateway's SVI; a device's own management interface; both cores for the town hall's
   zones) to the answering address, through the routing tables of every device on the
   way (:mod:`nornir_tasks.verify.routing`): it must be delivered;
3. **the ACLs on the way** — each must permit the flow's *whole* forward header space
   (every source address of the end, the flow's ports, from its declared source ports
   or the ephemeral range), computed with :mod:`nornir_tasks.verify.headerspace`;
4. **the reply walk and its ACLs** (unless the flow is one-way): from the answering side
   back to the opener, the stateless replies (TCP with ACK, UDP from the service port,
   ICMP echo-reply) must pass every ACL and be delivered;
5. **the device's part** — a relay SVI carries ``ip helper-address`` for every DHCP
   server; a managed device holds its management address on an interface that is up.

A broken instance is a violation naming the flow, the site, the device and the blocking
or missing line; instances failing at the same line are reported once, with their sites.

Two required functions are not flows between hosts and are proven here too:

* **internet egress** of every zone with an internet rule, at every site that has it:
  the walk leaves the estate towards the firewall (not dropped, not looping), and the
  zone's ACLs let it out;
* **controller SSO redundancy**: both chassis' redundancy management (RMI) addresses lie
  in the subnet of the wireless management interface, that interface's VLAN is carried
  on the controller's bundle to both cores, and the default gateway (which gateway
  monitoring pings) is on that subnet.

How it scales: walks are memoised per (device, VRF, destination) by the routing model,
so the instances of one site share their gateway's walk; an ACL's verdict on a flow is
memoised per *address class* of the ends (the elementary intervals of the ACL's own
prefixes: all the devices of a management pool fall into one), so each ACL decides each
flow a handful of times, not once per instance.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from nornir_tasks.acl_eval import evaluate
from nornir_tasks.design.structured import AclEntry
from nornir_tasks.intent.checks import INTERNET
from nornir_tasks.intent.flows import device_zone, service_prefixes
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import InfraFlow, Role
from nornir_tasks.platforms import facts
from nornir_tasks.verify.headerspace import IntervalSet, Space, permitted
from nornir_tasks.verify.l2 import L2Paths
from nornir_tasks.verify.model import Acl, DeviceText, Interface, Net, int_ip
from nornir_tasks.verify.parse import Line
from nornir_tasks.verify.report import VIOLATION, CheckResult, Finding
from nornir_tasks.verify.routing import GLOBAL, AclRef, Network, Path

CHECK = "required"
#: ends that send from their own table (a device, a relay agent), not from a gateway
_SENDERS = frozenset({"device", "relay"})
EPHEMERAL = "1024-65535"
#: where verify sends "the internet" (TEST-NET-2, RFC 5737)
INTERNET_PROBE = int(ipaddress.IPv4Address("198.51.100.10"))


@dataclass(frozen=True)
class End:
    """One concrete end of a flow instance."""

    label: str  # "pupils@alta_skole", "radhuset-acc01", "dns 10.11.0.53"
    site: str | None
    zone: str | None
    net: Net  # the addresses it stands for (a site prefix, a /32)
    rep: int  # the address the walks use
    entries: tuple[tuple[str, Interface | None], ...]  # (host, SVI) or (device, None)
    kind: str  # hosts | relay | device | service


@dataclass(frozen=True, slots=True)
class _Walks:
    """What decides the walks from and to an end."""

    end: End  # (held: the memos are by its identity)
    sender: bool  # a device (a relay agent) that sends from its own table
    #: :meth:`Network.address_class` of its address: walks to it go alike
    route_class: int
    #: the elementary interval of every filtering ACL's prefixes that holds its
    #: addresses (-1: they straddle one): every ACL decides the end alike
    acl_class: int
    #: (device, interface or None, the gates of walks from there by routing class)
    entries: tuple[tuple[str, Interface | None, dict[int, int] | None], ...]
    live: bool  # some entry has an interface


@dataclass
class FlowRow:
    """One row of the required-flow table."""

    name: str
    source: str
    destination: str
    ports: str
    instances: int = 0
    failed: int = 0
    sites: set[str] = field(default_factory=set)
    single_points: set[str] = field(default_factory=set)


class _AclOracle:
    """Does an ACL permit a flow's header space between two address sets? Memoised per
    elementary interval of the ACL's own prefixes, where every address decides alike."""

    def __init__(self, acl: Acl, space: Space) -> None:
        self.acl = acl
        self.space = space  # what it permits: permitted(acl.entries)
        edges: set[int] = {0}
        for e in acl.entries:
            for n in (e.source, e.destination):
                if n is not None:
                    edges.add(int(n.network_address))
                    edges.add(int(n.broadcast_address) + 1)
        self.edges = sorted(edges)
        self.memo: dict[tuple[object, ...], tuple[bool, Line | None]] = {}
        #: per (flow key, flow space by identity): the flow's packets it does not permit,
        #: whatever their addresses (the flow's space held, so its identity stays its own)
        self._gaps: dict[tuple[object, int], tuple[Space, Space]] = {}
        #: the class of an address set, by ``addr << 6 | plen`` (-1: it straddles a
        #: prefix of the ACL and is decided exactly)
        self._classes: dict[int, int] = {}

    def _cls(self, net: Net) -> int:
        key = net.addr << 6 | net.plen
        hit = self._classes.get(key)
        if hit is None:
            i = bisect.bisect_right(self.edges, net.addr) - 1
            if i + 1 < len(self.edges) and net.last >= self.edges[i + 1]:
                i = -1  # the set straddles an ACL prefix: decide it exactly
            hit = self._classes[key] = i
        return hit

    def check(self, key: object, src: Net, dst: Net, space: Space) -> tuple[bool, Line | None]:
        cs, cd = self._cls(src), self._cls(dst)
        mkey = (key, cs, cd) if cs >= 0 and cd >= 0 else None
        if mkey is not None:
            hit = self.memo.get(mkey)
            if hit is not None:
                return hit
        # (space & addresses) - permitted == (space - permitted) & addresses
        gap = self._gaps.get((key, id(space)))
        if gap is None or gap[0] is not space:
            gap = self._gaps[(key, id(space))] = (space, space - self.space)
        missing = gap[1] & Space.of_addresses(IntervalSet([(src.addr, src.last)]),
                                              IntervalSet([(dst.addr, dst.last)]))
        result: tuple[bool, Line | None] = (True, None)
        if missing:
            witness = missing.rows()[0].witness()
            _, entry = evaluate(self.acl.entries, witness)
            line = self.acl.rules[entry.seq].line if entry is not None else self.acl.line
            result = (False, line)
        if mkey is not None:
            self.memo[mkey] = result
        return result


class _Holders:
    """Which routed interface that is up holds an address, on each device: an index of
    the connected subnets, so a lookup is a few dict probes, not a scan of every
    interface of every device. Per device the first such interface in the config's
    order wins (what a scan of its interfaces would find)."""

    def __init__(self, devices: dict[str, DeviceText]) -> None:
        by_len: dict[int, dict[int, list[tuple[str, int, Interface]]]] = {}
        for host, dev in devices.items():
            for order, intf in enumerate(dev.interfaces.values()):
                if not intf.routed or intf.shutdown:
                    continue
                for a in intf.addresses:
                    by_len.setdefault(a.net.plen, {}).setdefault(a.net.addr, []).append(
                        (host, order, intf))
        self._probe = [(Net(0, plen).mask, bucket) for plen, bucket in by_len.items()]

    def holders(self, ip: int) -> dict[str, Interface]:
        """Per device, its first interface holding ``ip`` (devices in no given order)."""
        best: dict[str, tuple[int, Interface]] = {}
        for mask, bucket in self._probe:
            for host, order, intf in bucket.get(ip & mask, ()):
                have = best.get(host)
                if have is None or order < have[0]:
                    best[host] = (order, intf)
        return {h: i for h, (_, i) in best.items()}

    def holding(self, host: str, ip: int) -> Interface | None:
        return self.holders(ip).get(host)


class RequiredFlows:
    """Every required flow of the intent, at every site, from the config text."""

    def __init__(self, intent: Intent, devices: dict[str, DeviceText], net: Network,
                 l2: L2Paths) -> None:
        self.intent = intent
        self.devices = devices
        self.net = net
        self.l2 = l2
        self.findings: list[Finding] = []
        self.checks: list[CheckResult] = []
        self.rows: list[FlowRow] = []
        self._oracles: dict[int, _AclOracle] = {}
        self._permitted: dict[tuple[AclEntry, ...], Space] = {}
        self._open: dict[tuple[str, ...], Finding] = {}
        self._ends: dict[tuple[object, ...], list[End]] = {}
        self.instances = 0
        self._holders = _Holders(devices)
        self._gws: dict[str, list[str]] = {}
        self._zones: dict[str, list[End]] = {}
        #: per flow row, each end's verdict (by identity): its failures were told when it
        #: was first met, and telling them again changes nothing (same findings and sites)
        self._end_verdicts: dict[int, dict[int, bool]] = {}
        #: reported walks by (sender kind, device, interface, destination)
        self._paths: dict[tuple[bool, str, int, int], tuple[Path, Interface]] = {}
        #: per reported walk (by identity), the defined ACLs on it, with their oracles
        self._acl_checks: dict[int, tuple[Path, tuple[tuple[AclRef, _AclOracle], ...]]] = {}
        self._acl_edges = _acl_edges(devices)
        #: per end (by identity): what its walks are decided by (see :class:`_Walks`)
        self._walks: dict[int, _Walks] = {}
        #: per (device, VRF, entry ACL): per routing class of a destination, the walk's
        #: gate: the index of the sequence of oracles it meets (0: none), -1 if it is
        #: not delivered. The same for every flow.
        self._gates: dict[tuple[str, str, int], dict[int, int]] = {}
        #: the distinct sequences of oracles, by the oracles' identities (walks from every
        #: site meet the same ACLs of the core); index 0 is the empty one
        self._sequences: list[tuple[_AclOracle, ...]] = [()]
        self._sequence_index: dict[tuple[int, ...], int] = {(): 0}
        #: per (flow, direction): per (gate, ACL classes of the two ends) as one number,
        #: whether the gate's ACLs permit the flow
        self._verdicts: dict[tuple[str, str], dict[int, bool]] = {}

    # ----------------------------------------------------------------- ends

    def _gateways(self, slug: str) -> list[str]:
        hit = self._gws.get(slug)
        if hit is not None:
            return hit
        gw = self.intent.gateway_of(slug)
        out = [gw]
        peer = self.intent.devices[gw].redundancy_peer
        if self.intent.devices[gw].role is Role.core and peer:
            out.append(peer)
        self._gws[slug] = out
        return out

    def _svi_holding(self, host: str, ip: int) -> Interface | None:
        return self._holders.holding(host, ip)

    def _zone_hosts(self, zone: str) -> list[End]:
        hit = self._zones.get(zone)
        if hit is None:
            hit = self._zones[zone] = self._zone_hosts_of(zone)
        return hit

    def _zone_hosts_of(self, zone: str) -> list[End]:
        out = []
        for slug in sorted(self.intent.sites):
            prefix = self.intent.sites[slug].prefixes.get(zone)
            if prefix is None:
                continue
            net = Net.of(prefix)
            rep = net.last - 1 if net.plen < 31 else net.addr
            entries = tuple((h, i) for h in self._gateways(slug)
                            if (i := self._svi_holding(h, rep)) is not None)
            out.append(End(f"{zone}@{slug}", slug, zone, net, rep, entries, "hosts"))
        return out

    def _relays(self, zone: str) -> list[End]:
        out = []
        vlan = self.intent.zones[zone].vlan
        for slug in sorted(self.intent.sites):
            prefix = self.intent.sites[slug].prefixes.get(zone)
            if prefix is None:
                continue
            for h in self._gateways(slug):
                dev = self.devices.get(h)
                svi = dev.interfaces.get(f"Vlan{vlan}") if dev is not None else None
                if svi is None or not svi.addresses:
                    out.append(End(f"{zone} gateway@{slug}", slug, zone, Net.of(prefix),
                                   int(prefix.network_address), ((h, None),), "relay"))
                    continue
                ip = svi.addresses[0].ip
                out.append(End(f"{zone} gateway {h}", slug, zone, Net(ip, 32), ip,
                               ((h, svi),), "relay"))
        return out

    def _devices(self, roles: Sequence[Role]) -> list[End]:
        out = []
        for host in sorted(self.intent.devices):
            d = self.intent.devices[host]
            if d.role not in roles or d.role is Role.ap or d.ansible_host is None:
                continue
            ip = int(d.ansible_host)
            svi = self._svi_holding(host, ip)
            slug = self.intent.device_site[host]
            out.append(End(host, slug, self.intent.policy.management_zone, Net(ip, 32), ip,
                           ((host, svi),), "device"))
        return out

    def _services(self, name: str) -> list[End]:
        out = []
        for prefix in service_prefixes(self.intent, name):
            net = Net.of(prefix)
            rep = net.addr if net.plen >= 31 else net.addr + 1
            holders = self._holders.holders(rep)
            entries: list[tuple[str, Interface | None]] = [
                (host, holders[host]) for host in sorted(holders)
                if host in self.devices and self.intent.devices[host].role is not Role.wlc]
            slug = next((s for s, site in self.intent.sites.items()
                         if any(prefix.subnet_of(p) for p in site.prefixes.values())), None)
            out.append(End(f"{name} {int_ip(rep)}" if net.plen == 32 else f"{name} {net}",
                           slug, None, net, rep, tuple(entries), "service"))
        return out

    def ends(self, end: object) -> list[End]:
        from nornir_tasks.intent.model import FlowEnd

        assert isinstance(end, FlowEnd)
        key = (tuple(end.zones), tuple(end.relay), tuple(end.devices), end.service)
        hit = self._ends.get(key)
        if hit is not None:
            return hit
        out: list[End] = []
        for z in end.zones:
            out += self._zone_hosts(z)
        for z in end.relay:
            out += self._relays(z)
        roles = [r for r in end.devices if r is not Role.ap]
        if roles:
            out += self._devices(roles)
        if Role.ap in end.devices:
            out += self._zone_hosts(device_zone(self.intent, Role.ap))
        if end.service is not None:
            out += self._services(end.service)
        self._ends[key] = out
        return out

    # ----------------------------------------------------------------- spaces

    @staticmethod
    def _ports(specs: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for spec in specs:
            proto, _, port = spec.partition("/")
            out.setdefault(proto, [])
            if port:
                out[proto].append(port)
        return out

    def _spaces(self, flow: InfraFlow) -> tuple[Space, Space]:
        """(forward, reply) header spaces of a flow, addresses aside."""
        src_ports = self._ports(flow.source_ports or [])
        fwd = back = Space.empty()
        for proto, plist in self._ports(flow.ports).items():
            if proto == "icmp":
                fwd |= Space.of_flow("icmp", icmp_types="echo")
                back |= Space.of_flow("icmp", icmp_types="echo-reply")
            elif proto in ("tcp", "udp"):
                sports = src_ports.get(proto) if flow.source_ports else [EPHEMERAL]
                if not sports:
                    continue
                fwd |= Space.of_flow(proto, sport=sports, dport=plist or None)
                back |= Space.of_flow(proto, sport=plist or None, dport=sports,
                                      flags="ack/rst" if proto == "tcp" else None)
            elif proto == "any":
                fwd |= Space.full()
                back |= Space.full()
        return fwd, back

    # ----------------------------------------------------------------- the proof

    def run(self) -> None:
        for flow in self.intent.policy.infrastructure:
            row = FlowRow(flow.name, flow.from_.label(), flow.to.label(),
                          ", ".join(flow.ports) + ("" if flow.reply else " (one way)"))
            self.rows.append(row)
            fwd, back = self._spaces(flow)
            before = len(self._open)
            self._prove(flow, row, fwd, back)
            self.checks.append(CheckResult(CHECK, flow.name, "fail" if row.failed or
                                           len(self._open) > before else "pass",
                                           row.instances))
        self._internet()
        self._redundancy()
        self.findings.extend(self._open.values())

    def _fail(self, key: tuple[str, ...], flow: str, site: str | None, host: str | None,
              line: Line | None, message: str, pair: str) -> None:
        f = self._open.get(key)
        if f is None:
            f = self._open[key] = Finding(
                CHECK, VIOLATION, message, host, line.lineno if line else None,
                line.text if line else None, pair, site, detail={"flow": flow, "sites": []})
        if site is not None and site not in f.detail["sites"]:
            f.detail["sites"].append(site)
            n = len(f.detail["sites"])
            if n > 1:
                head = f.message.split(" [at ")[0]
                f.message = f"{head} [at {n} sites: {', '.join(f.detail['sites'][:5])}" \
                    + (", ...]" if n > 5 else "]")

    def _prove(self, flow: InfraFlow, row: FlowRow, fwd: Space, back: Space) -> None:
        """Every instance of one flow, in order: the ends, the relay's helpers, the walks.

        An instance that holds costs a few lookups: each walk's gate (where it goes and
        which ACLs it meets) by its entry and the routing class of the other end, and the
        verdict of those ACLs on the flow by the ACL classes of the two ends (see
        :meth:`_walk`); the ends' own checks are made once per end. Anything not known
        yet is proven in full, and whatever fails is reported as it is met.
        """
        srcs, dsts = self.ends(flow.from_), self.ends(flow.to)
        to_walks = [self._walks_of(d) for d in dsts]
        fwd_verdicts = self._verdicts.setdefault((flow.name, "forward"), {})
        back_verdicts = self._verdicts.setdefault((flow.name, "reply"), {})
        n = len(self._acl_edges)
        verdicts = self._end_verdicts.setdefault(id(row), {})
        for src in srcs:
            sw = self._walks_of(src)
            relay = src.kind == "relay" and bool(flow.name) and src.entries[0][1] is not None
            for k, dst in enumerate(dsts):
                if src.net.addr == dst.net.addr and src.net.plen == dst.net.plen:
                    continue
                row.instances += 1
                self.instances += 1
                ok = verdicts.get(id(src))
                if ok is None:
                    ok = verdicts[id(src)] = self._end_ok(flow, src, None, _pair(src, dst), row)
                good = verdicts.get(id(dst))
                if good is None:
                    good = verdicts[id(dst)] = self._end_ok(flow, dst, None, _pair(src, dst),
                                                            row)
                ok &= good
                if relay:
                    ok &= self._helpers(flow, src, dst, _pair(src, dst))
                if not sw.live:
                    row.failed += 1
                    continue
                dw = to_walks[k]
                exact = sw.acl_class >= 0 and dw.acl_class >= 0
                pair = (sw.acl_class * n + dw.acl_class) if exact else -1
                for host, intf, gates in sw.entries:
                    gate = gates.get(dw.route_class) if gates is not None else None
                    if gate == 0 or (gate is not None and gate > 0 and exact
                                     and fwd_verdicts.get(gate * n * n + pair)):
                        continue  # proven before: nothing in the way
                    ok &= self._walk(flow, src, sw, dst, dw, host, intf, gates, fwd,
                                     "forward", fwd_verdicts, src, dst)
                if flow.reply:
                    pair = (dw.acl_class * n + sw.acl_class) if exact else -1
                    for host, intf, gates in dw.entries:
                        gate = gates.get(sw.route_class) if gates is not None else None
                        if gate == 0 or (gate is not None and gate > 0 and exact
                                         and back_verdicts.get(gate * n * n + pair)):
                            continue
                        ok &= self._walk(flow, dst, dw, src, sw, host, intf, gates, back,
                                         "reply", back_verdicts, src, dst)
                if ok:
                    if src.site:
                        row.sites.add(src.site)
                    if dst.site:
                        row.sites.add(dst.site)
                else:
                    row.failed += 1

    def _walks_of(self, end: End) -> _Walks:
        hit = self._walks.get(id(end))
        if hit is None:
            net = end.net
            edges = self._acl_edges
            i = bisect.bisect_right(edges, net.addr) - 1
            if i + 1 < len(edges) and net.last >= edges[i + 1]:
                i = -1  # straddles a prefix of some ACL: decided exactly, never memoised
            sender = end.kind in _SENDERS
            entries: list[tuple[str, Interface | None, dict[int, int] | None]] = []
            for host, intf in end.entries:
                if intf is None:
                    entries.append((host, None, None))
                    continue
                acl = None
                if not sender and intf.acl_in is not None and intf.acl_in_line is not None:
                    acl = self.devices[host].acls.get(intf.acl_in)
                key = (host, intf.vrf or GLOBAL, id(acl) if acl is not None else 0)
                gates = self._gates.get(key)
                if gates is None:
                    gates = self._gates[key] = {}
                entries.append((host, intf, gates))
            hit = self._walks[id(end)] = _Walks(
                end, sender, self.net.address_class(end.rep), i, tuple(entries),
                any(i is not None for _, i in end.entries))
        return hit

    def _end_ok(self, flow: InfraFlow, end: End, site: str | None, pair: str,
                row: FlowRow) -> bool:
        if end.kind == "device":
            host, intf = end.entries[0]
            if intf is None:
                self._fail((flow.name, "address", host), flow.name, end.site, host, None,
                           f"required flow {flow.name}: {host} has no interface up with its "
                           f"management address {int_ip(end.rep)}", pair)
                return False
            return self._l2_ok(flow.name, end.site, self.intent.policy.management_zone,
                               pair, row, host)
        if end.kind in ("hosts", "relay") and end.site is not None and end.zone is not None:
            if not end.entries or all(i is None for _, i in end.entries):
                gw = self.intent.gateway_of(end.site)
                self._fail((flow.name, "gateway", end.site, end.zone), flow.name, end.site,
                           gw, None, f"required flow {flow.name}: no interface of {gw} is on "
                           f"the {end.zone} subnet {end.net} of {end.site}", pair)
                return False
            return self._l2_ok(flow.name, end.site, end.zone, pair, row)
        if end.kind == "service" and not end.entries:
            self._fail((flow.name, "service", end.label), flow.name, None, None, None,
                       f"required flow {flow.name}: {end.label} is on no connected "
                       "subnet of the configs", pair)
            return False
        return True

    def _l2_ok(self, name: str, site: str | None, zone: str, pair: str, row: FlowRow,
               host: str | None = None) -> bool:
        if site is None:
            return True
        reaches = self.l2.reach_of(site, zone)
        if host is not None:
            reaches = [r for r in reaches if r.demand.host == host] or []
        ok = True
        for r in reaches:
            if not r.ok:
                ok = False
                self._fail((name, "l2", site, zone, r.demand.host), name, site,
                           r.demand.host, None, f"required flow {name}: {zone} on "
                           f"{r.demand.host} does not reach its gateway at {site} (layer 2, "
                           "see the l2-path finding)", pair)
            for sp in r.single_points:
                row.single_points.add(f"{site}: {sp}")
        return ok

    def _helpers(self, flow: InfraFlow, relay: End, dst: End, pair: str) -> bool:
        host, svi = relay.entries[0]
        assert svi is not None
        if any(h == dst.rep for h, _ in svi.helpers):
            return True
        self._fail((flow.name, "helper", host, svi.name, str(dst.rep)), flow.name, relay.site,
                   host, svi.line, f"required flow {flow.name}: {svi.name} on {host} relays "
                   f"no DHCP to {int_ip(dst.rep)} (no `ip helper-address {int_ip(dst.rep)}`)",
                   pair)
        return False

    def _walk(self, flow: InfraFlow, frm: End, fw: _Walks, to: End, tw: _Walks, host: str,
              intf: Interface | None, gates: dict[int, int] | None, space: Space,
              direction: str, verdicts: dict[int, bool], src: End, dst: End) -> bool:
        """Is ``to`` reached from the entry ``(host, intf)`` of ``frm`` with every ACL on
        the way permitting the flow's whole header space?

        Two memoised questions decide it. The gate: where the walk goes and which ACLs it
        meets, the same for every address of ``to.rep``'s routing class and for every
        flow (``gates``, per entry device, VRF and ACL). The verdict: whether those ACLs
        permit the flow, the same for every pair of address sets inside one ACL class
        each, and for the walks from every site that meet the same ACLs (``verdicts``,
        per flow and direction). A walk that fails is walked again in full and reported.
        """
        if intf is None or gates is None:
            return False
        gate = gates.get(tw.route_class)
        if gate is None:
            gate = gates[tw.route_class] = self._gate(host, intf, fw.sender, to.rep)
        if gate == 0:
            return True
        if gate > 0:
            oracles = self._sequences[gate]
            n = len(self._acl_edges)
            if fw.acl_class >= 0 and tw.acl_class >= 0:
                key = gate * n * n + fw.acl_class * n + tw.acl_class
                verdict = verdicts.get(key)
                if verdict is None:
                    verdict = verdicts[key] = self._permits(oracles, flow, direction,
                                                            frm.net, to.net, space)
            else:
                verdict = self._permits(oracles, flow, direction, frm.net, to.net, space)
            if verdict:
                return True
        return self._report(flow, frm, to, host, intf, space, direction, src, dst)

    @staticmethod
    def _permits(oracles: tuple[_AclOracle, ...], flow: InfraFlow, direction: str,
                 src: Net, dst: Net, space: Space) -> bool:
        key = (flow.name, direction)
        return all(oracle.check(key, src, dst, space)[0] for oracle in oracles)

    def _gate(self, host: str, intf: Interface, sender: bool, ip: int) -> int:
        """The gate of a walk: the index of the sequence of oracles of the defined ACLs
        it meets, the entry interface's ``ip access-group in`` (unless the device sends)
        first; -1 if the walk is not delivered."""
        refs = self.net.filters(host, intf.vrf or GLOBAL, ip)
        if refs is None:
            return -1
        acls = [ref.acl for ref in refs]
        if not sender and intf.acl_in is not None and intf.acl_in_line is not None:
            acls.insert(0, self.devices[host].acls.get(intf.acl_in))
        oracles = tuple(self._oracle(acl) for acl in acls if acl is not None)
        key = tuple(id(o) for o in oracles)
        index = self._sequence_index.get(key)
        if index is None:
            index = self._sequence_index[key] = len(self._sequences)
            self._sequences.append(oracles)
        return index

    def _path(self, sender: bool, host: str, intf: Interface, ip: int) -> Path:
        """The walk towards ``ip`` of a packet that enters ``host`` on ``intf`` (sent by
        the device itself when ``sender``: from its own table, in the interface's VRF)."""
        key = (sender, host, id(intf), ip)
        hit = self._paths.get(key)
        if hit is not None and hit[1] is intf:
            return hit[0]
        if sender:
            path = self.net.tail(host, intf.vrf or GLOBAL, ip)
            path = Path(path.outcome, path.host, path.vrf, path.iface, path.line, path.acls,
                        ((host, None), *path.hops[1:]), path.crossings, path.next_hop)
        else:
            path = self.net.forward(host, intf, ip)
        self._paths[key] = (path, intf)
        return path

    def _acls_on(self, path: Path) -> tuple[tuple[AclRef, _AclOracle], ...]:
        """The defined ACLs a walk meets, each with its oracle (an undefined ACL filters
        nothing: the policy-point check tells)."""
        hit = self._acl_checks.get(id(path))
        if hit is not None and hit[0] is path:
            return hit[1]
        out = tuple((ref, self._oracle(ref.acl)) for ref in path.acls if ref.acl is not None)
        self._acl_checks[id(path)] = (path, out)
        return out

    def _oracle(self, acl: Acl) -> _AclOracle:
        oracle = self._oracles.get(id(acl))
        if oracle is None:
            # the cores repeat the same ACLs: what one permits is computed once per text
            content = tuple(acl.entries)
            space = self._permitted.get(content)
            if space is None:
                space = self._permitted[content] = permitted(acl.entries)
            oracle = self._oracles[id(acl)] = _AclOracle(acl, space)
        return oracle

    def _report(self, flow: InfraFlow, frm: End, to: End, host: str, intf: Interface,
                space: Space, direction: str, src: End, dst: End) -> bool:
        """A walk that fails, in full: where it is not delivered, or every ACL on it that
        blocks the flow, each told as a finding."""
        path = self._path(frm.kind in _SENDERS, host, intf, to.rep)
        if path.outcome != "delivered":
            line = path.line
            self._fail((flow.name, direction, "route", path.host, str(line.lineno if line
                                                                       else 0)),
                       flow.name, frm.site or to.site, path.host, line,
                       f"required flow {flow.name}: {direction} {frm.label} -> {to.label} "
                       f"is not delivered: {path.describe()}", _pair(src, dst))
            return False
        ok = True
        key = (flow.name, direction)
        for ref, oracle in self._acls_on(path):
            good, line = oracle.check(key, frm.net, to.net, space)
            if not good:
                ok = False
                self._fail((flow.name, direction, ref.host, str(line.lineno if line else 0)),
                           flow.name, frm.site or to.site, ref.host, line,
                           f"required flow {flow.name}: the {direction} packets {frm.label} "
                           f"-> {to.label} are blocked by {ref.name} on {ref.iface} "
                           f"({ref.direction})", _pair(src, dst))
        return ok

    # ----------------------------------------------------------------- not host pairs

    def _internet(self) -> None:
        zones = sorted({r.from_ for r in self.intent.policy.rules if r.to == INTERNET},
                       key=lambda z: self.intent.zones[z].id)
        for zone in zones:
            row = FlowRow(f"internet_{zone}", zone, INTERNET, "any (the zone's rule)")
            self.rows.append(row)
            space = Space.full()
            for end in self._zone_hosts(zone):
                row.instances += 1
                self.instances += 1
                good = self._end_ok_internet(zone, end, row)
                for host, intf in end.entries:
                    if intf is None:
                        continue
                    path = self._path(False, host, intf, INTERNET_PROBE)
                    if path.outcome != "exit":
                        self._fail((row.name, "route", path.host), row.name, end.site,
                                   path.host, path.line, f"internet egress of {zone}: "
                                   f"{end.label} does not leave the estate: "
                                   f"{path.describe()}", f"{zone} -> internet")
                        good = False
                        continue
                    for ref, oracle in self._acls_on(path):
                        ok, line = oracle.check(("internet", zone), end.net,
                                                Net(INTERNET_PROBE, 32), space)
                        if not ok:
                            good = False
                            self._fail((row.name, "acl", ref.host, str(
                                line.lineno if line else 0)), row.name, end.site, ref.host,
                                line, f"internet egress of {zone}: {end.label} is blocked "
                                f"by {ref.name} on {ref.iface}", f"{zone} -> internet")
                if good:
                    row.sites.add(end.site or "")
                else:
                    row.failed += 1
            self.checks.append(CheckResult(CHECK, row.name, "fail" if row.failed else "pass",
                                           row.instances))

    def _end_ok_internet(self, zone: str, end: End, row: FlowRow) -> bool:
        if not end.entries:
            gw = self.intent.gateway_of(end.site or "")
            self._fail((row.name, "gateway", end.site or ""), row.name, end.site, gw, None,
                       f"internet egress of {zone}: no interface of {gw} is on the subnet "
                       f"{end.net}", f"{zone} -> internet")
            return False
        reaches = self.l2.reach_of(end.site or "", zone)
        for r in reaches:
            for sp in r.single_points:
                row.single_points.add(f"{end.site}: {sp}")
        return all(r.ok for r in reaches)

    def _redundancy(self) -> None:
        """Controller SSO: RMI addresses on the management subnet, the gateway there,
        the management VLAN on the controller's bundle to both cores."""
        for host, d in sorted(self.intent.devices.items()):
            if d.role is not Role.wlc or d.rmi_address is None or d.standby_address is None:
                continue
            row = FlowRow("controller_sso", host, "its standby chassis",
                          "RMI on the management subnet, gateway monitoring")
            self.rows.append(row)
            row.instances = 1
            self.instances += 1
            dev = self.devices.get(host)
            model = self.intent.device_models.get(d.model)
            ok = dev is not None and model is not None
            if dev is not None and d.ansible_host is not None:
                wmi = self._svi_holding(host, int(d.ansible_host))
                line = self._rmi_line(dev)
                if wmi is None:
                    ok = False
                    self._fail(("sso", host, "wmi"), row.name, None, host, None,
                               f"controller SSO: {host} has no interface with its "
                               f"management address {d.ansible_host}", host)
                else:
                    if model is not None and facts(model.platform).management_in_vrf is False \
                            and wmi.vrf is not None:
                        ok = False
                        self._fail(("sso", host, "vrf"), row.name, None, host, wmi.vrf_line,
                                   f"controller SSO: {wmi.name} is in VRF {wmi.vrf}; the "
                                   "wireless management interface and the RMI live in the "
                                   "global table", host)
                    subnet = wmi.addresses[0].net
                    for name, addr in (("chassis 1", d.rmi_address),
                                       ("chassis 2", d.standby_address)):
                        if int(addr) not in subnet:
                            ok = False
                            self._fail(("sso", host, name), row.name, None, host, line,
                                       f"controller SSO: the {name} RMI address {addr} is "
                                       f"not on {wmi.name}'s subnet {subnet}", host)
                    if line is None:
                        ok = False
                        self._fail(("sso", host, "rmi"), row.name, None, host, None,
                                   f"controller SSO: no `redun-management interface "
                                   f"{wmi.name} ...` line on {host}", host)
                    gw = self.net.lookup(host, wmi.vrf or GLOBAL, INTERNET_PROBE)
                    if gw is None or gw.next_hop is None or gw.next_hop not in subnet:
                        ok = False
                        self._fail(("sso", host, "gateway"), row.name, None, host,
                                   gw.line if gw else None,
                                   f"controller SSO: the default gateway of {host} is not "
                                   f"on {wmi.name}'s subnet (gateway monitoring pings it "
                                   "from the RMI)", host)
                slug = self.intent.device_site[host]
                ok &= self._l2_ok(row.name, slug, self.intent.policy.management_zone, host,
                                  row, host)
            if ok:
                row.sites.add(self.intent.device_site[host])
            else:
                row.failed = 1
            self.checks.append(CheckResult(CHECK, row.name, "pass" if ok else "fail", 1))

    @staticmethod
    def _rmi_line(dev: DeviceText) -> Line | None:
        for line in dev.tree.top:
            if line.text.startswith("redun-management interface "):
                return line
        return None

    # ----------------------------------------------------------------- output

    def table(self) -> list[dict[str, object]]:
        return [{"flow": r.name, "from": r.source, "to": r.destination, "ports": r.ports,
                 "instances": r.instances, "failed": r.failed, "sites": len(r.sites),
                 "single_points": sorted(r.single_points)} for r in self.rows]


def _pair(src: End, dst: End) -> str:
    """How a finding names the instance it was found on."""
    return f"{src.label} -> {dst.label}"


def _acl_edges(devices: dict[str, DeviceText]) -> list[int]:
    """The edges of the elementary intervals of the prefixes of every ACL that filters
    an interface (``ip access-group``): an address set inside one interval is in the
    same class of every such ACL, so each ACL decides it as it decides any other."""
    edges: set[int] = {0}
    for dev in devices.values():
        names = {n for intf in dev.interfaces.values()
                 for n in (intf.acl_in, intf.acl_out) if n is not None}
        for name in names:
            acl = dev.acls.get(name)
            if acl is None:
                continue
            for e in acl.entries:
                for n in (e.source, e.destination):
                    if n is not None:
                        edges.add(int(n.network_address))
                        edges.add(int(n.broadcast_address) + 1)
    return sorted(edges)
