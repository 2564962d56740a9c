"""Layer 2 paths: every zone VLAN reaches the gateway that routes it, on every site.

Check b (:mod:`nornir_tasks.verify.checks`) proves that no port carries a VLAN it must not.
This module proves the other half: a VLAN that is *used* — on 802.1X ports (RADIUS may put
any client zone there), on access ports, AP trunks, server ports, the controller's uplink —
is carried, link by link, to a switch that routes it. A zone VLAN missing from one uplink
trunk is a dead zone behind that switch, and it fails here naming the trunk line.

What is read from where:

* **the cabling** comes from the intent: port-map entries name the device at the other end
  (``peer``) and bundle ports into port-channels (``channel_group``); AP ports are the
  ports of an AP port profile; the circuit names the site gateway's WAN port and the core's.
  Config text cannot say what is plugged in where, so this is the specification;
* **what each end carries** comes from the text: the access or voice VLAN, the trunk's
  allowed list, ``shutdown``, the native VLAN, and ``channel-group N`` on a bundle's members
  (a member without it, or a missing ``Port-channelN``, breaks the bundle);
* **who routes a VLAN** comes from the text: a switch with ``interface VlanN`` up and
  addressed at that site (both cores of the pair at the town hall).

A link carries a VLAN when both of its ends do. The walk is a breadth-first search per site
and VLAN over the links that carry it (sites have a handful of switches). When a source
cannot reach a gateway, the cabling-only shortest path to the nearest gateway is followed
and the first end that drops the VLAN is named. A bundle with two members up survives the
loss of one of them; every other link is a single point of failure, and the table of
required flows says where a source depends on one (it is reported, not refused: a single
uplink is a design choice the risk report weighs).

The core pair gets two more proofs: every VLAN on which both cores run HSRP is carried on
their interconnect (else both go active), and every L2 circuit's transit VLANs are carried
on both its ends (the site gateway's WAN port and the core's NNI).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Overlay, PortMode, Role
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.verify.model import DeviceText, Interface
from nornir_tasks.verify.parse import Line
from nornir_tasks.verify.report import VIOLATION, CheckResult, Finding

CHECK = "l2-path"


@dataclass(frozen=True, slots=True)
class End:
    """One end of a link: a device and its logical interface (a port or Port-channelN)."""

    host: str
    iface: str
    members: tuple[str, ...]  # the physical ports (one for a plain port)


@dataclass(frozen=True, slots=True)
class Link:
    a: End
    b: End

    def other(self, host: str) -> End:
        return self.b if self.a.host == host else self.a

    def end(self, host: str) -> End:
        return self.a if self.a.host == host else self.b

    def label(self) -> str:
        return f"{self.a.host} {self.a.iface} <-> {self.b.host} {self.b.iface}"


@dataclass(frozen=True, slots=True)
class Demand:
    """A VLAN that must reach its gateway from a device: why, and from which ports."""

    host: str
    vlan: int
    zone: str
    why: str  # "802.1X ports", "AP ports", "server ports", ...


@dataclass
class Reach:
    """The outcome of one demand: reached, and the single links it depends on."""

    demand: Demand
    ok: bool
    gateways: tuple[str, ...] = ()
    single_points: tuple[str, ...] = ()  # links whose loss cuts the demand off
    problem: str | None = None


@dataclass
class SiteL2:
    slug: str
    links: list[Link] = field(default_factory=list)
    reaches: list[Reach] = field(default_factory=list)


class L2Paths:
    """The cabling of every site, what each link carries, and the reach of every demand."""

    def __init__(self, intent: Intent, devices: dict[str, DeviceText]) -> None:
        self.intent = intent
        self.devices = devices
        self.findings: list[Finding] = []
        self.checks: list[CheckResult] = []
        self.sites: dict[str, SiteL2] = {}
        # what the text says of an end does not change: read once per end
        self._carried: dict[End, frozenset[int]] = {}
        self._up: dict[End, list[str]] = {}
        #: per (site, VLAN or None for the cabling alone): who is linked to whom
        self._adjacency: dict[tuple[str, int | None], dict[str, list[tuple[str, Link]]]] = {}
        self._gws: dict[tuple[str, str], list[str]] = {}
        self._reach_index: dict[tuple[str, int], list[Reach]] | None = None

    # ----------------------------------------------------------------- text

    def _iface(self, end: End) -> Interface | None:
        dev = self.devices.get(end.host)
        return dev.interfaces.get(end.iface) if dev is not None else None

    def carried(self, end: End) -> frozenset[int]:
        """VLANs the end forwards: its logical interface's, if it and a member are up."""
        hit = self._carried.get(end)
        if hit is None:
            hit = self._carried[end] = self._read_carried(end)
        return hit

    def _read_carried(self, end: End) -> frozenset[int]:
        intf = self._iface(end)
        if intf is None or intf.shutdown:
            return frozenset()
        if not self._members_up(end):
            return frozenset()
        vlans = intf.carried_vlans()
        return frozenset(range(1, 4095)) if vlans is None else vlans

    def _members_up(self, end: End) -> list[str]:
        hit = self._up.get(end)
        if hit is None:
            hit = self._up[end] = self._read_members_up(end)
        return hit

    def _read_members_up(self, end: End) -> list[str]:
        dev = self.devices.get(end.host)
        if dev is None:
            return []
        if not end.iface.startswith("Port-channel"):
            return [end.iface]
        group = int(end.iface[len("Port-channel"):])
        up = []
        for m in end.members:
            intf = dev.interfaces.get(m)
            if intf is not None and not intf.shutdown and intf.channel_group == group:
                up.append(m)
        return up

    # ----------------------------------------------------------------- cabling

    def _logical(self, host: str, entry_index: int) -> End:
        dev = self.intent.devices[host]
        pa = dev.ports[entry_index]
        if pa.channel_group is not None:
            members = [n for p in dev.ports if p.channel_group == pa.channel_group
                       for n in expand_interface_range(p.range)]
            return End(host, f"Port-channel{pa.channel_group}", tuple(members))
        names = expand_interface_range(pa.range)
        return End(host, names[0], (names[0],))

    def _site_links(self, slug: str) -> list[Link]:
        hosts = [h for h in self.intent.site_devices(slug)
                 if self.intent.devices[h].role is not Role.ap]
        ends: dict[tuple[str, str], End] = {}
        for h in hosts:
            for i, pa in enumerate(self.intent.devices[h].ports):
                if pa.peer is not None and (h, pa.peer) not in ends:
                    ends[(h, pa.peer)] = self._logical(h, i)
        links: list[Link] = []
        seen: set[frozenset[str]] = set()
        for (h, peer), mine in sorted(ends.items()):
            key = frozenset((h, peer))
            if key in seen:
                continue
            seen.add(key)
            theirs = ends.get((peer, h))
            if theirs is None:
                theirs = self._unnamed_end(peer)
            if theirs is not None:
                links.append(Link(mine, theirs))
        return links

    def _unnamed_end(self, host: str) -> End | None:
        """The end of a device whose port map names no peer (the controller pair: under
        SSO one configuration serves both chassis, each cabled to one core)."""
        dev = self.intent.devices.get(host)
        if dev is None or not dev.ports:
            return None
        for i, pa in enumerate(dev.ports):
            if pa.peer is None:
                return self._logical(host, i)
        return None

    # ----------------------------------------------------------------- demands

    def _demands(self, slug: str) -> list[Demand]:
        intent = self.intent
        site = intent.sites[slug]
        zones = intent.zones
        client = [z for z in intent.zones_at(site) if zones[z].client_zone]
        assignable = sorted({g.zone for g in intent.authorization.groups} & set(client)
                            | {intent.policy.restricted_zone} & set(site.prefixes))
        out: dict[tuple[str, int], Demand] = {}

        def need(host: str, zone: str, why: str) -> None:
            if zone in site.prefixes:
                v = zones[zone].vlan
                out.setdefault((host, v), Demand(host, v, zone, why))

        for host in intent.site_devices(slug):
            dev = intent.devices[host]
            if dev.role is Role.ap:
                continue
            if dev.role is Role.wlc:
                need(host, intent.policy.management_zone, "the controller's management")
            for pa in dev.ports:
                prof = intent.port_profiles.get(pa.profile)
                if prof is None or prof.shutdown or pa.peer is not None:
                    continue
                if prof.mode is PortMode.access:
                    if prof.dot1x or prof.mab:
                        for z in assignable:
                            need(host, z, f"{pa.profile} ports (RADIUS may assign it)")
                    for z in filter(None, (prof.zone, prof.voice_zone)):
                        need(host, z, f"{pa.profile} ports")
                elif dev.role is not Role.core:
                    for z in prof.trunk_zones or list(site.prefixes):
                        need(host, z, f"{pa.profile} ports")
        return [out[k] for k in sorted(out)]

    def _gateways(self, slug: str, zone: str) -> list[str]:
        """Switches whose SVI holds the zone's gateway address at the site (as an address
        or an HSRP virtual address): the hosts of the zone use it as their default route."""
        hit = self._gws.get((slug, zone))
        if hit is None:
            hit = self._gws[(slug, zone)] = self._find_gateways(slug, zone)
        return hit

    def _find_gateways(self, slug: str, zone: str) -> list[str]:
        intent = self.intent
        net = intent.sites[slug].prefixes[zone]
        gw = int(net.network_address) + intent.management.mgmt_gateway_host
        vlan = intent.zones[zone].vlan
        out = []
        for host in intent.site_devices(slug):
            dev = self.devices.get(host)
            if dev is None or intent.devices[host].role is Role.wlc:
                continue
            svi = dev.interfaces.get(f"Vlan{vlan}")
            if svi is None or not svi.up:
                continue
            if any(a.ip == gw for a in svi.addresses) or any(
                    h.vip == gw for h in svi.hsrp.values()):
                out.append(host)
        return out

    # ----------------------------------------------------------------- proof

    def run(self) -> None:
        for slug in sorted(self.intent.sites):
            site = SiteL2(slug, self._site_links(slug))
            self.sites[slug] = site
            before = len(self.findings)
            self._link_consistency(site)
            for d in self._demands(slug):
                site.reaches.append(self._reach(site, d))
            self.checks.append(CheckResult(CHECK, slug, "fail" if len(self.findings) > before
                                           else "pass", len(site.reaches)))
        self._core_pair()
        self._circuits()
        self._reach_index = None  # built again on the next query

    def _link_consistency(self, site: SiteL2) -> None:
        """Both ends of a link agree: the bundle exists with every member in it, the same
        mode and the same native VLAN (a native mismatch leaks one VLAN into another)."""
        for link in site.links:
            for end in (link.a, link.b):
                intf = self._iface(end)
                if intf is None:
                    self.findings.append(Finding(
                        CHECK, VIOLATION, f"{end.host} has no `interface {end.iface}` for its "
                        f"link {link.label()}", end.host, site=site.slug))
                    continue
                if end.iface.startswith("Port-channel"):
                    group = int(end.iface[len("Port-channel"):])
                    dev = self.devices[end.host]
                    for m in end.members:
                        mi = dev.interfaces.get(m)
                        if mi is not None and mi.channel_group != group:
                            line = mi.channel_line or mi.line
                            self.findings.append(Finding(
                                CHECK, VIOLATION, f"{end.host} {m} is not a member of "
                                f"{end.iface} (`channel-group {group} mode active`): the "
                                f"bundle to {link.other(end.host).host} is short of a link",
                                end.host, line.lineno, line.text, site=site.slug))
            ia, ib = self._iface(link.a), self._iface(link.b)
            if ia is None or ib is None:
                continue
            if ia.mode != ib.mode:
                self.findings.append(Finding(
                    CHECK, VIOLATION, f"{link.label()}: one end is {ia.mode or 'unset'}, the "
                    f"other {ib.mode or 'unset'}", link.a.host,
                    (ia.mode_line or ia.line).lineno, (ia.mode_line or ia.line).text,
                    site=site.slug))
            elif ia.mode == "trunk" and (ia.native_vlan or 1) != (ib.native_vlan or 1):
                line = ia.native_line or ib.native_line or ia.line
                self.findings.append(Finding(
                    CHECK, VIOLATION, f"{link.label()}: native VLAN {ia.native_vlan or 1} at "
                    f"one end, {ib.native_vlan or 1} at the other: untagged frames cross "
                    "from one VLAN into the other", link.a.host if ia.native_line else
                    link.b.host, line.lineno, line.text, site=site.slug))

    def _adjacent(self, site: SiteL2, vlan: int | None) -> dict[str, list[tuple[str, Link]]]:
        """Who is linked to whom at a site over links that carry ``vlan`` at both ends
        (any link for None), in link order."""
        key = (site.slug, vlan)
        adj = self._adjacency.get(key)
        if adj is None:
            adj = self._adjacency[key] = {}
            for link in site.links:
                if vlan is not None and not (vlan in self.carried(link.a)
                                             and vlan in self.carried(link.b)):
                    continue
                adj.setdefault(link.a.host, []).append((link.b.host, link))
                adj.setdefault(link.b.host, []).append((link.a.host, link))
        return adj

    @staticmethod
    def _bfs(adj: dict[str, list[tuple[str, Link]]], start: str, skip: Link | None = None
             ) -> dict[str, tuple[str, Link] | None]:
        """Breadth-first from ``start`` (without the link ``skip``): how each device
        reached was first reached."""
        prev: dict[str, tuple[str, Link] | None] = {start: None}
        queue = deque([start])
        while queue:
            h = queue.popleft()
            for nxt, link in adj.get(h, []):
                if nxt not in prev and link is not skip:
                    prev[nxt] = (h, link)
                    queue.append(nxt)
        return prev

    def _reach(self, site: SiteL2, d: Demand) -> Reach:
        gws = self._gateways(site.slug, d.zone)
        if not gws:
            self._fail(d.host, None, site.slug, d,
                       f"no switch at {site.slug} routes VLAN {d.vlan} ({d.zone}): no "
                       f"`interface Vlan{d.vlan}` up with the zone's gateway address")
            return Reach(d, False, problem="no gateway")
        if d.host in gws:
            return Reach(d, True, tuple(gws))
        prev = self._bfs(self._adjacent(site, d.vlan), d.host)
        reached = tuple(g for g in gws if g in prev)
        if reached:
            cut = self._cuts(site, d, gws, prev)
            self._lost_redundancy(site, d, gws, cut)
            single = [link for link in cut if min(len(self._members_up(link.a)),
                                                  len(self._members_up(link.b))) < 2]
            return Reach(d, True, reached, tuple(link.label() for link in single))
        self._blocked(site, d, gws)
        return Reach(d, False, problem="blocked")

    def _cuts(self, site: SiteL2, d: Demand, gws: list[str],
              prev: dict[str, tuple[str, Link] | None]) -> list[Link]:
        """The links (a bundle as a whole) whose loss cuts the demand off its gateways.
        Those with one member up are single points of failure; a bundle survives the
        loss of one member, but not of its neighbour.

        Only a link on the breadth-first tree's path from the source to *every* gateway
        it reached can be one: without any other link, the tree still reaches a gateway.
        """
        common: set[int] | None = None
        for g in gws:
            if g not in prev:
                continue
            path: set[int] = set()
            node = g
            while (back := prev[node]) is not None:
                path.add(id(back[1]))
                node = back[0]
            common = path if common is None else common & path
        adj = self._adjacent(site, d.vlan)
        cut = []
        for link in site.links:
            if common is None or id(link) not in common:
                continue
            without = self._bfs(adj, d.host, skip=link)
            if not any(g in without for g in gws):
                cut.append(link)
        return cut

    def _lost_redundancy(self, site: SiteL2, d: Demand, gws: list[str],
                         cut: list[Link]) -> None:
        """Where the cabling survives the loss of a link but the VLAN does not, a trunk on
        the second path drops the VLAN: redundancy the design paid for is gone."""
        for link in cut:
            prev = self._bfs(self._adjacent(site, None), d.host, skip=link)
            alive = [g for g in gws if g in prev]
            if not alive:
                continue  # the cabling has no second path either: a design choice
            node = min(alive, key=lambda g: self._depth(prev, g))
            path: list[tuple[str, Link]] = []
            while prev[node] is not None:
                back = prev[node]
                assert back is not None
                path.append(back)
                node = back[0]
            for host, hop in reversed(path):
                for end in (hop.end(host), hop.other(host)):
                    if d.vlan not in self.carried(end):
                        self._fail(end.host, self._drop_line(end, d.vlan), site.slug, d,
                                   f"{end.host} {end.iface} (link {hop.label()}) does not "
                                   f"carry VLAN {d.vlan} ({d.zone}): the cabling gives "
                                   f"{d.host} a second path to {', '.join(gws)}, but without "
                                   f"it {d.zone} hangs on {link.label()} alone")
                        break
                else:
                    continue
                break

    def _blocked(self, site: SiteL2, d: Demand, gws: list[str]) -> None:
        prev = self._bfs(self._adjacent(site, None), d.host)
        reachable = [g for g in gws if g in prev]
        if not reachable:
            self._fail(d.host, None, site.slug, d,
                       f"{d.host} is not cabled to a switch that routes VLAN {d.vlan} "
                       f"({d.zone}): {', '.join(gws)} (port maps: `peer`)")
            return
        # follow the cabling from the nearest gateway back to the source
        path: list[tuple[str, Link]] = []
        node = min(reachable, key=lambda g: self._depth(prev, g))
        while prev[node] is not None:
            back = prev[node]
            assert back is not None
            path.append(back)
            node = back[0]
        for host, link in reversed(path):
            for end in (link.end(host), link.other(host)):
                if d.vlan not in self.carried(end):
                    self._fail(end.host, self._drop_line(end, d.vlan), site.slug, d,
                               f"{end.host} {end.iface} (link {link.label()}) does not "
                               f"carry VLAN {d.vlan} ({d.zone}): {d.zone} on {d.host} "
                               f"({d.why}) cannot reach its gateway {', '.join(gws)}")
                    return

    @staticmethod
    def _depth(prev: dict[str, tuple[str, Link] | None], node: str) -> int:
        n = 0
        while prev[node] is not None:
            back = prev[node]
            assert back is not None
            node = back[0]
            n += 1
        return n

    def _drop_line(self, end: End, vlan: int) -> Line | None:
        intf = self._iface(end)
        if intf is None:
            return None
        if intf.shutdown:
            return next((c for c in intf.line.children if c.text == "shutdown"), intf.line)
        if end.iface.startswith("Port-channel") and not self._members_up(end):
            dev = self.devices[end.host]
            for m in end.members:
                mi = dev.interfaces.get(m)
                if mi is not None:
                    return mi.channel_line or mi.line
        if intf.allowed_lines:
            return intf.allowed_lines[-1]
        return intf.access_line or intf.mode_line or intf.line

    def _fail(self, host: str, line: Line | None, slug: str, d: Demand, message: str) -> None:
        self.findings.append(Finding(CHECK, VIOLATION, message, host,
                                     line.lineno if line else None,
                                     line.text if line else None,
                                     f"{d.zone}@{slug}", slug))

    # ----------------------------------------------------------------- core pair, circuits

    def _core_pair(self) -> None:
        cores = sorted(h for h, d in self.intent.devices.items() if d.role is Role.core)
        if len(cores) != 2:
            return
        slug = self.intent.device_site[cores[0]]
        link = next((lk for lk in self.sites[slug].links
                     if {lk.a.host, lk.b.host} == set(cores)), None)
        a, b = (self.devices.get(c) for c in cores)
        if a is None or b is None:
            return
        hsrp = sorted(v for v in _hsrp_vlans(a) & _hsrp_vlans(b))
        if link is None:
            if hsrp:
                self.findings.append(Finding(
                    CHECK, VIOLATION, f"the core pair {cores[0]} and {cores[1]} run HSRP on "
                    f"{len(hsrp)} VLANs but no link between them is cabled (port maps: "
                    "`peer`)", cores[0], site=slug))
            return
        for end in (link.a, link.b):
            missing = [v for v in hsrp if v not in self.carried(end)]
            if missing:
                line = self._drop_line(end, missing[0])
                self.findings.append(Finding(
                    CHECK, VIOLATION, f"{end.host} {end.iface}, the core interconnect, does "
                    f"not carry VLAN {_vlans(missing)} on which both cores run HSRP: each "
                    "core would hear no hellos and both would go active", end.host,
                    line.lineno if line else None, line.text if line else None,
                    site=slug))

    def _circuits(self) -> None:
        for slug, site in sorted(self.intent.sites.items()):
            c = site.circuit
            if c is None or c.overlay is Overlay.gre or site.wan_vlan_base is None:
                continue
            numbers = {site.wan_vlan_base + self.intent.zones[z].id: z for z in site.prefixes}
            gw = self.intent.gateway_of(slug)
            for host, port in ((gw, c.site_interface), (c.core, c.core_interface)):
                end = End(host, port, (port,))
                have = self.carried(end)
                missing = sorted(v for v in numbers if v not in have)
                if missing:
                    line = self._drop_line(end, missing[0])
                    zones = ", ".join(numbers[v] for v in missing)
                    self.findings.append(Finding(
                        CHECK, VIOLATION, f"{host} {port} (circuit {c.circuit_id} of {slug}) "
                        f"does not carry transit VLAN {_vlans(missing)} ({zones}): those "
                        f"zones of {slug} have no way to the core", host,
                        line.lineno if line else None, line.text if line else None,
                        f"{zones}@{slug}", slug))

    # ----------------------------------------------------------------- queries

    def reach_of(self, slug: str, zone: str) -> list[Reach]:
        """Every demand of a zone at a site (for the required flows' layer-2 leg)."""
        if self._reach_index is None:
            index: dict[tuple[str, int], list[Reach]] = {}
            for s, site in self.sites.items():
                for r in site.reaches:
                    index.setdefault((s, r.demand.vlan), []).append(r)
            self._reach_index = index
        return list(self._reach_index.get((slug, self.intent.zones[zone].vlan), ()))


def _hsrp_vlans(dev: DeviceText) -> set[int]:
    return {i.svi_vlan for i in dev.interfaces.values()
            if i.svi_vlan is not None and i.hsrp and i.up}


def _vlans(vlans: list[int]) -> str:
    return ",".join(str(v) for v in vlans)
