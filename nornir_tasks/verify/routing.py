"""The routed network as the config texts describe it: tables per VRF, forwarding walks.

Per device and VRF a routing table is built from the text only: connected subnets of
the interfaces that are up, static routes whose next hop resolves, and routes leaked
between VRFs by route target (local MP-BGP: ``redistribute connected|static`` under
``address-family ipv4 vrf X`` puts X's routes in BGP with X's export targets; every VRF
importing one of those targets gets them, resolved in X). Longest prefix wins; for the
same prefix a VRF's own route wins over a leaked one.

Adjacency is read from addresses: a next hop belongs to the interface that has that
address (or the active HSRP router of that virtual address) on some device; the packet
arrives there, in that interface's VRF, through its ``ip access-group ... in``. The L2
path between the two is checked separately (:mod:`nornir_tasks.verify.checks`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from nornir_tasks.verify.model import Acl, DeviceText, Interface, Net, StaticRoute, int_ip
from nornir_tasks.verify.parse import Line

GLOBAL = ""  # the global routing table's key


@dataclass(frozen=True, slots=True)
class Route:
    net: Net
    kind: str  # connected | static | null
    vrf: str  # the VRF that resolves it: its own, or the exporting VRF for a leaked route
    line: Line
    iface: Interface | None = None
    next_hop: int | None = None
    leaked_from: str | None = None
    distance: int = 0  # administrative distance (connected 0, static 1 unless written)


@dataclass(slots=True)
class Table:
    by_len: dict[int, dict[int, Route]] = field(default_factory=dict)
    lens: list[int] = field(default_factory=list)
    #: (mask, routes by address) per prefix length, longest first: the lookup's loop
    probe: list[tuple[int, dict[int, Route]]] = field(default_factory=list)

    def add(self, route: Route, replace: bool = False) -> bool:
        bucket = self.by_len.setdefault(route.net.plen, {})
        if route.net.addr in bucket and not replace:
            return False
        bucket[route.net.addr] = route
        if route.net.plen not in self.lens:
            self.lens.append(route.net.plen)
            self.lens.sort(reverse=True)
            self.probe = [((0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0,
                           self.by_len[plen]) for plen in self.lens]
        return True

    def lookup(self, ip: int) -> Route | None:
        for mask, bucket in self.probe:
            hit = bucket.get(ip & mask)
            if hit is not None:
                return hit
        return None

    def routes(self) -> list[Route]:
        return [r for plen in self.lens for r in self.by_len[plen].values()]


@dataclass(frozen=True, slots=True)
class AclRef:
    """An ``ip access-group`` a packet meets: where, which direction, which ACL."""

    host: str
    iface: str
    direction: str  # in | out
    name: str
    line: Line  # the access-group line
    acl: Acl | None  # None: the ACL is not defined (IOS-XE then filters nothing)


@dataclass(frozen=True, slots=True)
class Crossing:
    """A next hop in another VRF than the interface the packet leaves by: a VRF leak."""

    host: str
    line: Line  # the route that leaks
    from_vrf: str
    to_host: str
    to_iface: str
    to_vrf: str


@dataclass(frozen=True, slots=True)
class Path:
    """Where a packet towards one address goes from a device and VRF."""

    outcome: str  # delivered | exit | noroute | drop | loop
    host: str  # where it ends
    vrf: str
    iface: str | None  # delivered on / leaves by
    line: Line | None  # the deciding line: the route, or the connected interface
    acls: tuple[AclRef, ...] = ()
    hops: tuple[tuple[str, str | None], ...] = ()  # (device, ingress interface)
    crossings: tuple[Crossing, ...] = ()
    next_hop: int | None = None  # exit: the next hop outside the estate; drop: a dark one

    def describe(self) -> str:
        trail = " -> ".join(f"{h}" + (f"[{i}]" if i else "") for h, i in self.hops)
        end = {"delivered": f"delivered on {self.host} {self.iface}",
               "exit": f"leaves the estate at {self.host} {self.iface} via "
                       f"{int_ip(self.next_hop) if self.next_hop is not None else '?'}",
               "noroute": f"no route on {self.host} in VRF {self.vrf or 'global'}",
               "drop": f"dropped on {self.host} (Null0 route)" if self.next_hop is None
                       else f"dropped on {self.host}: next hop {int_ip(self.next_hop)} is on "
                            f"a circuit that carries nothing",
               "loop": f"routing loop at {self.host}"}[self.outcome]
        return f"{trail}: {end}" if trail else end


@dataclass(frozen=True, slots=True)
class Handoff:
    """A route that hands packets to another device, and what they meet on the way."""

    host: str
    vrf: str
    route: Route
    to_host: str
    to_vrf: str
    to_iface: Interface
    acls: tuple[AclRef, ...]  # the out ACL here, the in ACL of the next hop's interface
    crossings: tuple[Crossing, ...]  # the next hop is in another VRF: a leak

    @property
    def hops(self) -> tuple[tuple[str, str | None], ...]:
        return ((self.host, None), (self.to_host, self.to_iface.name))


@dataclass(slots=True)
class InactiveRoute:
    host: str
    line: Line
    reason: str


class Network:
    """Routing tables of every device, the address owners, and memoised walks."""

    def __init__(self, devices: dict[str, DeviceText],
                 firewall: DeviceText | None = None,
                 dark: tuple[int, int] | None = None) -> None:
        #: addresses that carry nothing (a circuit whose provider failed while its links
        #: stay up, :mod:`.failover`): a next hop among them drops, a probe of one fails
        self.dark = dark
        #: the town-hall firewall (:mod:`.firewall_hop`): a hop for routes towards an
        #: internal prefix only; the default route still leaves the estate at it
        self.firewall = firewall.host if firewall is not None else None
        self.devices = devices if firewall is None else {**devices, firewall.host: firewall}
        self.tables: dict[tuple[str, str], Table] = {}
        self.owners: dict[int, tuple[str, Interface]] = {}
        self.duplicates: list[tuple[str, Interface, str, Interface, int]] = []
        self.connected = Table()  # every connected subnet of the estate (for `located`)
        #: each VRF's own connected subnets (not leaked), per device
        self.own_connected: dict[tuple[str, str], Table] = {}
        self.inactive: list[InactiveRoute] = []
        self.unmodelled: list[tuple[str, Line, str]] = []
        self._memo: dict[tuple[str, str, int], Path] = {}
        #: walks by (device, VRF, address class): see :meth:`address_class`
        self._class_memo: dict[tuple[str, str, int], Path] = {}
        self._edges: list[int] | None = None
        self._classes: dict[int, int] = {}
        #: :meth:`filters` by (device, VRF, address class); the ones under way
        self._filters: dict[tuple[str, str, int], tuple[AclRef, ...] | None] = {}
        self._filtering: set[tuple[str, str, int]] = set()
        #: one tuple per concatenation of two (by identity): equal walks share it
        self._joined: dict[tuple[int, int], tuple[tuple[AclRef, ...], tuple[AclRef, ...],
                                                  tuple[AclRef, ...]]] = {}
        self._busy: set[tuple[str, str, int]] = set()
        self._loops = 0
        self._steps: dict[tuple[str, str, int], Path | Handoff] = {}
        self._composed: dict[tuple[int, int], tuple[Handoff, Path, Path]] = {}
        self._build()

    # ----------------------------------------------------------------- tables

    def table(self, host: str, vrf: str) -> Table:
        t = self.tables.get((host, vrf))
        if t is None:
            t = self.tables[(host, vrf)] = Table()
        return t

    def _build(self) -> None:
        vips: dict[int, tuple[int, int, str, Interface]] = {}
        for host, dev in self.devices.items():
            for intf in dev.interfaces.values():
                if not intf.routed or not intf.up:
                    continue
                vrf = intf.vrf or GLOBAL
                for a in intf.addresses:
                    self.table(host, vrf).add(Route(a.net, "connected", vrf, a.line, intf))
                    self.connected.add(Route(a.net, "connected", vrf, a.line, intf))
                    own = self.own_connected.get((host, vrf))
                    if own is None:
                        own = self.own_connected[(host, vrf)] = Table()
                    own.add(Route(a.net, "connected", vrf, a.line, intf))
                    other = self.owners.get(a.ip)
                    if other is not None and other[0] != host:
                        self.duplicates.append((other[0], other[1], host, intf, a.ip))
                    self.owners.setdefault(a.ip, (host, intf))
                for h in intf.hsrp.values():
                    if h.vip is None:
                        continue
                    mine = max((a.ip for a in intf.addresses), default=0)
                    best = vips.get(h.vip)
                    if best is None or (h.priority, mine) > (best[0], best[1]):
                        vips[h.vip] = (h.priority, mine, host, intf)
        for vip, (_, _, host, intf) in vips.items():
            self.owners.setdefault(vip, (host, intf))
        if self.dark is not None:
            low, high = self.dark
            for ip in [ip for ip in self.owners if low <= ip <= high]:
                del self.owners[ip]
        for host, dev in self.devices.items():
            for r in dev.routes:
                self._add_static(host, dev, r)
        for host, dev in self.devices.items():
            if dev.bgp is not None:
                self._leak(host, dev)

    def _track_down(self, host: str, dev: DeviceText, number: int) -> str | None:
        """Why track object ``number`` is down, or None when it is up.

        A track follows its ICMP probe; the probe succeeds when its target is on a
        connected subnet of this device (in the probe's VRF) and the target address is on
        an interface that is up. That is what the design's probes are (the far end of a
        circuit's own link), so a probe never depends on a route it steers; a probe of
        anything further away is taken as down, which the proof would then show.
        """
        t = dev.tracks.get(number)
        if t is None:
            return f"track {number} is not defined"
        sla = dev.slas.get(t[0])
        if sla is None or sla.target is None:
            return f"track {number} follows ip sla {t[0]}, which has no icmp-echo target"
        own = self.own_connected.get((host, sla.vrf or GLOBAL))
        via = own.lookup(sla.target) if own is not None else None
        if via is None:
            return (f"ip sla {sla.number} probes {int_ip(sla.target)}, which is not on a "
                    f"connected subnet of VRF {sla.vrf or 'global'}")
        owner = self.owners.get(sla.target)
        if owner is None or owner[0] == host:
            return f"ip sla {sla.number}: no interface that is up has {int_ip(sla.target)}"
        return None

    def _add_static(self, host: str, dev: DeviceText, r: StaticRoute) -> None:
        vrf = r.vrf or GLOBAL
        if r.vrf is not None and r.vrf not in dev.vrfs:
            self.inactive.append(InactiveRoute(host, r.line, f"VRF {r.vrf} is not defined"))
            return
        if r.track is not None:
            down = self._track_down(host, dev, r.track)
            if down is not None:
                self.inactive.append(InactiveRoute(host, r.line, f"track {r.track} is down: "
                                                   f"{down}"))
                return
        if r.null:
            self.table(host, vrf).add(Route(r.net, "null", vrf, r.line))
            return
        iface = dev.interfaces.get(r.interface) if r.interface else None
        if r.next_hop is not None:
            where = GLOBAL if r.global_nh else vrf
            via = self.table(host, where).lookup(r.next_hop)
            if via is None or via.kind != "connected":
                self.inactive.append(InactiveRoute(
                    host, r.line, f"next hop {int_ip(r.next_hop)} is not on a connected "
                                  f"subnet of VRF {where or 'global'}"))
                return
            self._install(host, vrf, Route(r.net, "static", where, r.line, via.iface,
                                           r.next_hop, distance=r.distance))
        elif iface is not None:
            self._install(host, vrf, Route(r.net, "static", iface.vrf or GLOBAL, r.line,
                                           iface, distance=r.distance))
        else:
            self.inactive.append(InactiveRoute(host, r.line, "no next hop or interface"))

    def _install(self, host: str, vrf: str, route: Route) -> None:
        """A static route, unless a route of the same prefix with a lower (or the same)
        distance is there: the first of equals stays (one path per prefix is modelled)."""
        table = self.table(host, vrf)
        if table.add(route):
            return
        old = table.by_len[route.net.plen][route.net.addr]
        if route.distance < old.distance:
            table.add(route, replace=True)

    def _route_map_permits(self, dev: DeviceText, name: str | None, net: Net) -> bool:
        if name is None:
            return True
        entries = dev.route_maps.get(name)
        if entries is None:
            return False  # an undefined route map redistributes nothing
        for e in entries:
            ok = True
            for pl in e.prefix_lists:
                ok = ok and self._prefix_list_permits(dev, pl, net)
            if e.other_match:
                for line in e.other_match:
                    self.unmodelled.append((dev.host, line, "route-map match clause "
                                            "not modelled: read as matching"))
            if ok:
                return e.action == "permit"
        return False

    @staticmethod
    def _prefix_list_permits(dev: DeviceText, name: str, net: Net) -> bool:
        for e in dev.prefix_lists.get(name, []):
            if e.matches(net):
                return e.action == "permit"
        return False

    def _leak(self, host: str, dev: DeviceText) -> None:
        assert dev.bgp is not None
        exported: dict[str, list[Route]] = {}
        for vrf_name, bv in dev.bgp.vrfs.items():
            own = [r for r in self.table(host, vrf_name).routes() if r.leaked_from is None]
            out: list[Route] = []
            for kind in ("connected", "static"):
                if kind in bv.redistribute:
                    rm, _ = bv.redistribute[kind]
                    out += [r for r in own if r.kind == kind
                            and self._route_map_permits(dev, rm, r.net)]
            for net, _line in bv.networks:
                hit = self.table(host, vrf_name).by_len.get(net.plen, {}).get(net.addr)
                if hit is not None and hit not in out:
                    out.append(hit)
            exported[vrf_name] = out
        for vrf in dev.vrfs.values():
            if vrf.maps:
                for line in vrf.maps:
                    self.unmodelled.append((host, line, "import/export maps are not "
                                            "modelled: every route target route is leaked"))
            if not vrf.imports:
                continue
            for src, routes in exported.items():
                if src == vrf.name or src not in dev.vrfs:
                    continue
                if not (dev.vrfs[src].exports & vrf.imports):
                    continue
                for r in routes:
                    self.table(host, vrf.name).add(Route(
                        r.net, r.kind, r.vrf, r.line, r.iface, r.next_hop, leaked_from=src))

    # ----------------------------------------------------------------- queries

    def lookup(self, host: str, vrf: str, ip: int) -> Route | None:
        t = self.tables.get((host, vrf))
        return t.lookup(ip) if t is not None else None

    def address_class(self, ip: int) -> int:
        """The elementary interval of ``ip`` among the prefixes of every routing table.

        Two addresses of one class lie in the same prefixes of every table, so every
        lookup anywhere matches the same route for both: they take the same walk from
        any device and VRF (what :meth:`tail` memoises on).
        """
        hit = self._classes.get(ip)
        if hit is None:
            if self._edges is None:
                self._edges = self._all_edges()
            hit = self._classes[ip] = bisect.bisect_right(self._edges, ip)
        return hit

    def _all_edges(self) -> list[int]:
        edges: set[int] = set()
        for t in self.tables.values():
            for bucket in t.by_len.values():
                for r in bucket.values():
                    edges.add(r.net.addr)
                    edges.add(r.net.last + 1)
        return sorted(edges)

    def located(self, ip: int) -> bool:
        """Is the address on some connected subnet of the estate?"""
        return self.connected.lookup(ip) is not None

    def exits_somewhere(self, ip: int) -> bool:
        """Does some device route the address out of the estate (e.g. the internet)?"""
        for t in self.tables.values():
            r = t.lookup(ip)
            if r is not None and r.kind == "static" and r.next_hop is not None \
                    and r.next_hop not in self.owners:
                return True
        return False

    def specials(self, host: str, vrf: str) -> list[Net]:
        """The VRF's routes other than the default route."""
        t = self.tables.get((host, vrf))
        return [r.net for r in t.routes() if r.net.plen > 0] if t is not None else []

    def default_step(self, host: str, vrf: str) -> Path | Handoff:
        """What the VRF's default route does with a packet no other route matches.

        A :class:`Path` when it ends here (no default route, Null0, out of the estate), or
        the :class:`Handoff` to the device and VRF where the packet continues: every such
        packet then takes ``compose(handoff, tail(to_host, to_vrf, ip))``.
        """
        t = self.tables.get((host, vrf))
        route = t.by_len.get(0, {}).get(0) if t is not None else None
        return self._route_step(host, vrf, route)

    def forward(self, host: str, iface: Interface, ip: int) -> Path:
        """A packet entering ``host`` on ``iface`` towards ``ip``."""
        tail = self.tail(host, iface.vrf or GLOBAL, ip)
        acls = tail.acls
        if iface.acl_in is not None and iface.acl_in_line is not None:
            acls = (AclRef(host, iface.name, "in", iface.acl_in, iface.acl_in_line,
                           self.devices[host].acls.get(iface.acl_in)), *acls)
        hops = ((host, iface.name), *tail.hops[1:])
        return Path(tail.outcome, tail.host, tail.vrf, tail.iface, tail.line, acls, hops,
                    tail.crossings, tail.next_hop)

    def tail(self, host: str, vrf: str, ip: int) -> Path:
        """Where a packet already inside ``host`` in ``vrf`` goes (memoised per address,
        and per :meth:`address_class`: every address of a class takes the same walk)."""
        key = (host, vrf, ip)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        ckey = (host, vrf, self.address_class(ip))
        hit = self._class_memo.get(ckey)
        if hit is not None:
            self._memo[key] = hit
            return hit
        if key in self._busy:
            self._loops += 1
            return Path("loop", host, vrf, None, None, hops=((host, None),))
        self._busy.add(key)
        loops = self._loops
        try:
            path = self._step(host, vrf, ip)
        finally:
            self._busy.discard(key)
        if self._loops == loops:
            # a walk that met a loop depends on where it started: not memoised, so every
            # walk reports the loop where it first comes back to itself
            self._memo[key] = self._class_memo[ckey] = path
        return path

    def filters(self, host: str, vrf: str, ip: int) -> tuple[AclRef, ...] | None:
        """The ACLs a packet already inside ``host`` in ``vrf`` meets on its way to
        ``ip``, if it is delivered; None if it is not (no route, Null0, out of the
        estate, a loop). The same as ``tail(host, vrf, ip).acls`` of a delivered tail,
        without building the path: memoised per device, VRF and address class.
        """
        key = (host, vrf, self.address_class(ip))
        if key in self._filters:
            return self._filters[key]
        if key in self._filtering:
            return None  # a loop: what leads into it is never delivered, from anywhere
        self._filtering.add(key)
        try:
            step = self._route_step(host, vrf, self.lookup(host, vrf, ip))
            out: tuple[AclRef, ...] | None
            if isinstance(step, Path):
                out = step.acls if step.outcome == "delivered" else None
            else:
                rest = self.filters(step.to_host, step.to_vrf, ip)
                out = None if rest is None else self._join(step.acls, rest)
        finally:
            self._filtering.discard(key)
        self._filters[key] = out
        return out

    def _join(self, first: tuple[AclRef, ...], rest: tuple[AclRef, ...]
              ) -> tuple[AclRef, ...]:
        if not first:
            return rest
        key = (id(first), id(rest))
        hit = self._joined.get(key)
        if hit is None or hit[0] is not first or hit[1] is not rest:
            hit = self._joined[key] = (first, rest, first + rest)
        return hit[2]

    def _step(self, host: str, vrf: str, ip: int) -> Path:
        step = self._route_step(host, vrf, self.lookup(host, vrf, ip))
        if isinstance(step, Path):
            return step
        rest = self.tail(step.to_host, step.to_vrf, ip)
        # the same routes all the way give the same path: one object for all the
        # addresses that take it (a site's prefix seen from the core, say)
        key = (id(step), id(rest))
        hit = self._composed.get(key)
        if hit is None or hit[0] is not step or hit[1] is not rest:
            hit = self._composed[key] = (step, rest, compose(step, rest))
        return hit[2]

    def _route_step(self, host: str, vrf: str, route: Route | None) -> Path | Handoff:
        """One device's decision for a packet its lookup matched to ``route``: the same for
        every address that matches it (memoised per route)."""
        key = (host, vrf, id(route))
        hit = self._steps.get(key)
        if hit is None:
            hit = self._steps[key] = self._decide(host, vrf, route)
        return hit

    def _decide(self, host: str, vrf: str, route: Route | None) -> Path | Handoff:
        here: tuple[tuple[str, str | None], ...] = ((host, None),)
        if route is None:
            return Path("noroute", host, vrf, None, None, hops=here)
        if route.kind == "null":
            return Path("drop", host, vrf, None, route.line, hops=here)
        out = route.iface
        assert out is not None
        out_acl: tuple[AclRef, ...] = ()
        if out.acl_out is not None and out.acl_out_line is not None:
            out_acl = (AclRef(host, out.name, "out", out.acl_out, out.acl_out_line,
                              self.devices[host].acls.get(out.acl_out)),)
        if route.kind == "connected":
            return Path("delivered", host, vrf, out.name, route.line, out_acl, here)
        nh = route.next_hop
        if nh is None:
            return Path("exit", host, vrf, out.name, route.line, out_acl, here)
        if self.dark is not None and self.dark[0] <= nh <= self.dark[1]:
            return Path("drop", host, vrf, out.name, route.line, out_acl, here, next_hop=nh)
        owner = self.owners.get(nh)
        if owner is None or owner[0] == host:
            return Path("exit", host, vrf, out.name, route.line, out_acl, here, next_hop=nh)
        to_host, to_if = owner
        if to_host == self.firewall and route.net.plen == 0:
            return Path("exit", host, vrf, out.name, route.line, out_acl, here, next_hop=nh)
        to_vrf = to_if.vrf or GLOBAL
        crossing: tuple[Crossing, ...] = ()
        # the firewall is a policy point between the zones' legs, not a leak
        if to_vrf != (out.vrf or GLOBAL) and self.firewall not in (host, to_host):
            crossing = (Crossing(host, route.line, out.vrf or GLOBAL, to_host, to_if.name,
                                 to_vrf),)
        in_acl: tuple[AclRef, ...] = ()
        if to_if.acl_in is not None and to_if.acl_in_line is not None:
            in_acl = (AclRef(to_host, to_if.name, "in", to_if.acl_in, to_if.acl_in_line,
                             self.devices[to_host].acls.get(to_if.acl_in)),)
        return Handoff(host, vrf, route, to_host, to_vrf, to_if, (*out_acl, *in_acl),
                       crossing)


def compose(step: Handoff, rest: Path) -> Path:
    """The path of a packet handed over by ``step`` that then takes ``rest``."""
    return Path(rest.outcome, rest.host, rest.vrf, rest.iface, rest.line,
                (*step.acls, *rest.acls), (*step.hops, *rest.hops[1:]),
                (*step.crossings, *rest.crossings), rest.next_hop)
