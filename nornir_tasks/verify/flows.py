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
from nornir_tasks.intent.checks import INTERNET
from nornir_tasks.intent.flows import device_zone, service_prefixes
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import InfraFlow, Role
from nornir_tasks.platforms import facts
from nornir_tasks.verify.headerspace import Space, permitted
from nornir_tasks.verify.l2 import L2Paths
from nornir_tasks.verify.model import Acl, DeviceText, Interface, Net, int_ip
from nornir_tasks.verify.parse import Line
from nornir_tasks.verify.report import VIOLATION, CheckResult, Finding
from nornir_tasks.verify.routing import GLOBAL, AclRef, Network, Path

CHECK = "required"
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

    def __init__(self, acl: Acl) -> None:
        self.acl = acl
        self.space = permitted(acl.entries)
        edges: set[int] = {0}
        for e in acl.entries:
            for n in (e.source, e.destination):
                if n is not None:
                    edges.add(int(n.network_address))
                    edges.add(int(n.broadcast_address) + 1)
        self.edges = sorted(edges)
        self.memo: dict[tuple[object, ...], tuple[bool, Line | None]] = {}

    def _cls(self, net: Net) -> int | None:
        i = bisect.bisect_right(self.edges, net.addr) - 1
        if i + 1 < len(self.edges) and net.last >= self.edges[i + 1]:
            return None  # the set straddles an ACL prefix: decide it exactly
        return i

    def check(self, key: object, src: Net, dst: Net, space: Space) -> tuple[bool, Line | None]:
        cs, cd = self._cls(src), self._cls(dst)
        mkey = (key, cs, cd) if cs is not None and cd is not None else None
        if mkey is not None and mkey in self.memo:
            return self.memo[mkey]
        flow = space & Space.of_addresses([str(src)], [str(dst)])
        missing = flow - self.space
        result: tuple[bool, Line | None] = (True, None)
        if missing:
            witness = missing.rows()[0].witness()
            _, entry = evaluate(self.acl.entries, witness)
            line = self.acl.rules[entry.seq].line if entry is not None else self.acl.line
            result = (False, line)
        if mkey is not None:
            self.memo[mkey] = result
        return result


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
        self._open: dict[tuple[str, ...], Finding] = {}
        self._ends: dict[tuple[object, ...], list[End]] = {}
        self.instances = 0

    # ----------------------------------------------------------------- ends

    def _gateways(self, slug: str) -> list[str]:
        gw = self.intent.gateway_of(slug)
        out = [gw]
        peer = self.intent.devices[gw].redundancy_peer
        if self.intent.devices[gw].role is Role.core and peer:
            out.append(peer)
        return out

    def _svi_holding(self, host: str, ip: int) -> Interface | None:
        dev = self.devices.get(host)
        if dev is None:
            return None
        for intf in dev.interfaces.values():
            if intf.routed and intf.up and any(ip in a.net for a in intf.addresses):
                return intf
        return None

    def _zone_hosts(self, zone: str) -> list[End]:
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
            entries: list[tuple[str, Interface | None]] = []
            for host in sorted(self.devices):
                intf = self._svi_holding(host, rep)
                if intf is not None and self.intent.devices[host].role is not Role.wlc:
                    entries.append((host, intf))
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
            for src in self.ends(flow.from_):
                for dst in self.ends(flow.to):
                    if src.net.addr == dst.net.addr and src.net.plen == dst.net.plen:
                        continue
                    row.instances += 1
                    self.instances += 1
                    if not self._instance(flow, row, src, dst, fwd, back):
                        row.failed += 1
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

    def _instance(self, flow: InfraFlow, row: FlowRow, src: End, dst: End, fwd: Space,
                  back: Space) -> bool:
        ok = True
        site = src.site if src.kind != "service" else dst.site
        pair = f"{src.label} -> {dst.label}"
        for end in (src, dst):
            ok &= self._end_ok(flow, end, site, pair, row)
        if src.kind == "relay" and flow.name and src.entries[0][1] is not None:
            ok &= self._helpers(flow, src, dst, pair)
        if not src.entries or not any(i is not None for _, i in src.entries):
            return False
        for host, intf in src.entries:
            ok &= self._walk(flow, row, src, dst, host, intf, fwd, "forward", pair)
        if flow.reply:
            for host, intf in dst.entries:
                ok &= self._walk(flow, row, dst, src, host, intf, back, "reply", pair,
                                 opener=src)
        if ok:
            row.sites.update(s for s in (src.site, dst.site) if s)
        return ok

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

    def _walk(self, flow: InfraFlow, row: FlowRow, frm: End, to: End, host: str,
              intf: Interface | None, space: Space, direction: str, pair: str,
              opener: End | None = None) -> bool:
        if intf is None:
            return False
        if frm.kind in ("device", "relay"):
            # the device itself sends: from its own table, in the interface's VRF
            path = self.net.tail(host, intf.vrf or GLOBAL, to.rep)
            path = Path(path.outcome, path.host, path.vrf, path.iface, path.line, path.acls,
                        ((host, None), *path.hops[1:]), path.crossings, path.next_hop)
        else:
            path = self.net.forward(host, intf, to.rep)
        what = f"{direction} {frm.label} -> {to.label}"
        if path.outcome != "delivered":
            line = path.line
            self._fail((flow.name, direction, "route", path.host, str(line.lineno if line
                                                                       else 0)),
                       flow.name, frm.site or to.site, path.host, line,
                       f"required flow {flow.name}: {what} is not delivered: "
                       f"{path.describe()}", pair)
            return False
        ok = True
        src, dst = (frm.net, to.net)
        for ref in path.acls:
            ok &= self._acl(flow, frm, to, ref, src, dst, space, direction, pair)
        return ok

    def _acl(self, flow: InfraFlow, frm: End, to: End, ref: AclRef, src: Net, dst: Net,
             space: Space, direction: str, pair: str) -> bool:
        if ref.acl is None:
            return True  # an undefined ACL filters nothing (the policy-point check tells)
        oracle = self._oracles.get(id(ref.acl))
        if oracle is None:
            oracle = self._oracles[id(ref.acl)] = _AclOracle(ref.acl)
        ok, line = oracle.check((flow.name, direction), src, dst, space)
        if ok:
            return True
        self._fail((flow.name, direction, ref.host, str(line.lineno if line else 0)),
                   flow.name, frm.site or to.site, ref.host, line,
                   f"required flow {flow.name}: the {direction} packets {frm.label} -> "
                   f"{to.label} are blocked by {ref.name} on {ref.iface} ({ref.direction})",
                   pair)
        return False

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
                    path = self.net.forward(host, intf, INTERNET_PROBE)
                    if path.outcome != "exit":
                        self._fail((row.name, "route", path.host), row.name, end.site,
                                   path.host, path.line, f"internet egress of {zone}: "
                                   f"{end.label} does not leave the estate: "
                                   f"{path.describe()}", f"{zone} -> internet")
                        good = False
                        continue
                    for ref in path.acls:
                        if ref.acl is None:
                            continue
                        oracle = self._oracles.get(id(ref.acl))
                        if oracle is None:
                            oracle = self._oracles[id(ref.acl)] = _AclOracle(ref.acl)
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

