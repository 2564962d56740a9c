"""Members and plans: where a source's packets enter, and the walk from there.

A *member* is a source entering at one interface (a zone's SVI at its site gateway; both
cores for the town hall's zones). Its path towards an address is the walk of the routing
model (:meth:`nornir_tasks.verify.routing.Network.tail`). The interface's *plan* reads
the entry once: the entry ACL, the non-default routes of its VRF (its *specials*) and
what the default route does — hand the packet to another device and VRF (a
:class:`~nornir_tasks.verify.routing.Handoff`: the core's transit interface, with the ACLs
met on that hop) or end it there (no default route, Null0, out of the estate).

Why: for an address no special matches, the walk from the entry is the default route's
step followed by the walk from the hand-over point — the same step for every such
address, the rest a function of the hand-over point and the address alone
(``docs/verify.md``, "How the proof scales", 1). :meth:`Plans.walk` composes the two and
:class:`Split` says where the entry's own part ends; the addresses it cannot compose
(those a special matches, and walks that come back through the entry's own device, where
a loop would close) are walked from the entry itself, as :attr:`Proof.PAIR_BY_PAIR
<nornir_tasks.verify.zoneproof.Proof.PAIR_BY_PAIR>` walks every pair.

How it scales: one plan per entry interface (linear in sites); a VRF with more than
:attr:`Plans.MAX_SPECIALS` routes of its own (a core) hands over to itself. Per party its
probe addresses, class and entries are computed once.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nornir_tasks.intent.loader import Intent
from nornir_tasks.verify.matrix import Matrix, Party
from nornir_tasks.verify.model import DeviceText, Interface, Net
from nornir_tasks.verify.report import CheckResult
from nornir_tasks.verify.routing import GLOBAL, AclRef, Handoff, Network, Path, compose
from nornir_tasks.verify.zoneproof.masks import AclMasks

#: Which part of a pair a finding's key depends on: the entry's own part (the plan), the
#: rest of the walk, or neither. Forwards the own part is the source's, backwards (the
#: replies) the destination's.
OWN, REST, NEITHER = "own", "rest", "neither"


@dataclass(frozen=True, slots=True)
class Split:
    """Where a composed path's own part ends: the first ``refs`` ACLs, ``hops`` hops and
    ``crossings`` VRF crossings are the entry's; a terminal path is all the entry's."""

    refs: int
    hops: int
    crossings: int
    terminal: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """How packets entering one device on one interface are handled.

    Every address outside ``specials`` takes the same first step (``step``): handed over
    to another device and VRF (a :class:`Handoff`, then the walk from there), or ending
    here (a :class:`Path`: no default route, Null0, out of the estate). ``step`` None:
    the VRF has too many routes of its own (a core), and the walk starts right here.
    """

    host: str
    iface: Interface
    vrf: str
    entry: AclRef | None
    specials: tuple[tuple[int, int], ...]  # (mask, address) of every non-default route
    nets: tuple[Net, ...]  # the same, as prefixes
    step: Handoff | Path | None
    split: Split
    cont: tuple[object, ...]  # where the rest of the walk starts (shared by many plans)
    shape: tuple[object, ...]  # what of the own part decides (ACL objects, crossings)

    def special(self, ip: int) -> bool:
        return any(ip & mask == addr for mask, addr in self.specials)


@dataclass(eq=False)
class Member:
    """A source entering at one interface (a zone's SVI; both cores for the town hall)."""

    pos: int  # in the order of the original walk: sources, then their entries
    src: Party
    host: str
    iface: Interface
    plan: Plan
    local: frozenset[int] = frozenset()  # destinations in the same subnet: never routed
    specials: tuple[int, ...] = ()  # destinations the gateway routes itself
    excluded: frozenset[int] = frozenset()  # both: not part of the member's blocks
    columns: dict[str, list[int]] = field(default_factory=dict)  # column -> [n, bad]
    checks: list[CheckResult] = field(default_factory=list)  # its policy-point check


@dataclass(eq=False)
class DestClass:
    """Destinations whose rest of the walk is the same up to the site (for one start)."""

    index: int
    positions: list[int]
    tails: list[Path]  # per destination: the rest of its walk (terminal: the start's path)


def ref_side(split: Split | None, index: int, ref: AclRef) -> str:
    """An ACL line's key is the ACL's (the same for every pair of a block) unless the
    ACL does not exist: then it is the access-group line of one interface."""
    if split is None or ref.acl is not None:
        return NEITHER
    return OWN if split.terminal or index < split.refs else REST


def end_side(split: Split | None) -> str:
    """The key of where a walk ends: the entry's own (a terminal plan) or the rest's;
    neither for a pair walked on its own from its entry.

    >>> end_side(None), end_side(Split(1, 2, 0, False)), end_side(Split(0, 0, 0, True))
    ('neither', 'rest', 'own')
    """
    if split is None:
        return NEITHER
    return OWN if split.terminal else REST


class _Start:
    """Where walks start (a device and VRF), and the addresses only its default route
    holds (``unrouted``): the walk of one of them that ends on this device is the walk of
    all of them (the route matched decides a walk that does not leave the device); a
    walk that leaves it goes on by the address, and is walked for each."""

    __slots__ = ("tail", "host", "vrf", "unrouted", "shared", "tried")

    def __init__(self, net: Network, host: str, vrf: str, unrouted: set[int]) -> None:
        self.tail = net.tail
        self.host = host
        self.vrf = vrf
        self.unrouted = unrouted
        self.shared: Path | None = None
        self.tried = False

    def shared_for(self, ip: int) -> Path | None:
        """The path every unrouted address takes, if their walk ends here (walking
        ``ip``, an unrouted address, to find out); None if it leaves the device."""
        if self.shared is None and not self.tried:
            self.walk(ip)
        return self.shared

    def walk(self, ip: int) -> Path:
        """Exactly ``Network.tail(host, vrf, ip)``."""
        if ip in self.unrouted:
            if self.shared is not None:
                return self.shared
            path = self.tail(self.host, self.vrf, ip)
            if not self.tried:
                self.tried = True
                if len(path.hops) == 1:  # it ended here: by the default route alone
                    self.shared = path
            return path
        return self.tail(self.host, self.vrf, ip)


class Plans:
    """The parties' probe addresses, classes and entries, the entries' plans, and the
    walks from them (memoised: each is computed once)."""

    #: above this many specific routes an entry is walked from itself (a core)
    MAX_SPECIALS = 16

    def __init__(self, intent: Intent, matrix: Matrix, devices: dict[str, DeviceText],
                 net: Network, cores: set[str], masks: AclMasks,
                 pair_by_pair: bool) -> None:
        self.intent = intent
        self.m = matrix
        self.devices = devices
        self.net = net
        self.cores = cores
        self.masks = masks
        #: every address walked from the entry itself, never composed (the definition)
        self.pair_by_pair = pair_by_pair
        self._extras = masks.nets
        self._extra_addrs = [n.addr for n in self._extras]
        self._located: dict[str, bool] = {}
        self._entries: dict[str, list[tuple[str, Interface]]] = {}
        self._addresses: dict[str, list[int]] = {}
        self._plans: dict[tuple[str, str], Plan] = {}
        self._gateways: dict[str, str] = {}
        self._classes: dict[str, tuple[object, ...]] = {}
        self._subnets: dict[str, list[tuple[int, dict[int, tuple[int, Interface]]]]] = {}
        self._indexed: list[int] = []
        self._starts: dict[tuple[str, str], _Start] = {}

    # ----------------------------------------------------------------- parties

    def addresses(self, party: Party) -> list[int]:
        """The party's probe address, plus one inside each ACL prefix that splits it.

        An ACL entry naming part of a party's prefix (``host 10.32.28.5``) would treat
        that part differently from the representative address; each such part gets its
        own probe address, so no host of the prefix escapes the proof.
        """
        hit = self._addresses.get(party.key)
        if hit is not None:
            return hit
        out = [party.rep]
        self._addresses[party.key] = out
        pnet = party.net
        if pnet is None:
            return out
        named = self.m.named_within(pnet)
        lo = bisect.bisect_left(self._extra_addrs, pnet.addr)
        hi = bisect.bisect_right(self._extra_addrs, pnet.last)
        for n in self._extras[lo:hi]:
            if n.within(pnet) and n != pnet and not any(n.within(x) for x in named):
                ip = n.addr if n.plen >= 31 else n.addr + 1
                if ip not in out:
                    out.append(ip)
        return out

    def class_of(self, party: Party) -> tuple[object, ...]:
        hit = self._classes.get(party.key)
        if hit is None:
            hit = self._classes[party.key] = (
                party.kind, party.label, party.zone,
                tuple(self.masks.signature(ip) for ip in self.addresses(party)))
        return hit

    def located(self, party: Party) -> bool:
        hit = self._located.get(party.key)
        if hit is None:
            if party.kind == "internet":
                hit = self.net.exits_somewhere(party.rep)
            else:
                hit = self.net.located(party.rep)
            self._located[party.key] = hit
        return hit

    def gateway(self, site: str) -> str:
        gw = self._gateways.get(site)
        if gw is None:
            gw = self._gateways[site] = self.intent.gateway_of(site)
        return gw

    def entries(self, party: Party) -> list[tuple[str, Interface]]:
        """Where the party's packets enter L3: its site gateway's interface on its subnet
        (both cores of the pair, for the core site)."""
        hit = self._entries.get(party.key)
        if hit is not None:
            return hit
        out: list[tuple[str, Interface]] = []
        if party.site is not None:
            gw = self.gateway(party.site)
            hosts = [gw]
            peer = self.intent.devices[gw].redundancy_peer
            if gw in self.cores and peer:
                hosts.append(peer)
            for h in hosts:
                intf = self._holding(h, party.rep)
                if intf is not None:
                    out.append((h, intf))
        self._entries[party.key] = out
        return out

    def _holding(self, host: str, ip: int) -> Interface | None:
        """The device's first routed interface (in text order) with ``ip`` on a subnet."""
        index = self._subnets.get(host)
        if index is None:
            by_len: dict[int, dict[int, tuple[int, Interface]]] = {}
            dev = self.devices.get(host)
            for i, intf in enumerate(dev.interfaces.values() if dev is not None else ()):
                if intf.routed and intf.up:
                    for a in intf.addresses:
                        by_len.setdefault(a.net.plen, {}).setdefault(a.net.addr, (i, intf))
            index = self._subnets[host] = [(Net(0, plen).mask, nets)
                                           for plen, nets in by_len.items()]
        hits = [nets[ip & mask] for mask, nets in index if ip & mask in nets]
        return min(hits, key=lambda h: h[0])[1] if hits else None

    # ----------------------------------------------------------------- plans and walks

    def ref_shape(self, refs: Sequence[AclRef]) -> tuple[tuple[int | None, bool], ...]:
        """What of the ACLs on a path decides: the ACL objects, and which sit on a core."""
        return tuple((id(r.acl) if r.acl is not None else None, r.host in self.cores)
                     for r in refs)

    def plan(self, host: str, iface: Interface) -> Plan:
        key = (host, iface.name)
        hit = self._plans.get(key)
        if hit is None:
            hit = self._plans[key] = self._make_plan(host, iface)
        return hit

    def _make_plan(self, host: str, iface: Interface) -> Plan:
        vrf = iface.vrf or GLOBAL
        entry = None
        if iface.acl_in is not None and iface.acl_in_line is not None:
            entry = AclRef(host, iface.name, "in", iface.acl_in, iface.acl_in_line,
                           self.devices[host].acls.get(iface.acl_in))
        own: tuple[AclRef, ...] = (entry,) if entry is not None else ()
        nets = tuple(self.net.specials(host, vrf))
        step: Handoff | Path | None
        if len(nets) > self.MAX_SPECIALS:
            # a core: its own routes decide most addresses; walk them all from here
            step, nets = None, ()
            split = Split(len(own), 0, 0, False)
            cont: tuple[object, ...] = ("walk", host, vrf)
            shape: tuple[object, ...] = ("here", self.ref_shape(own))
        else:
            step = self.net.default_step(host, vrf)
            if isinstance(step, Handoff):
                refs = (*own, *step.acls)
                split = Split(len(refs), 2, len(step.crossings), False)
                cont = ("walk", step.to_host, step.to_vrf)
                shape = ("handoff", self.ref_shape(refs), len(step.crossings))
            else:
                split = Split(0, 0, 0, True)
                cont = ("end", step.outcome, step.host in self.cores)
                shape = ("end", self.ref_shape((*own, *step.acls)), len(step.crossings))
        return Plan(host, iface, vrf, entry, tuple((n.mask, n.addr) for n in nets), nets,
                    step, split, cont, shape)

    def walk(self, plan: Plan, ip: int, rest: Path | None = None) -> tuple[Path, Split | None]:
        """The path from the plan's device and VRF towards ``ip`` — exactly what
        ``Network.tail`` walks — and where its own part ends (None: an address the plan
        routes itself). ``rest``: the walk from the hand-over point, when known."""
        if self.pair_by_pair or plan.special(ip):
            return self.net.tail(plan.host, plan.vrf, ip), None
        path, split = self.handover(plan, ip, rest)
        if isinstance(plan.step, Handoff) and self._returns(path, plan.host):
            # the walk comes back through the entry's own device: walked from the entry
            # (where a loop would close there, not at the hand-over point)
            return self.net.tail(plan.host, plan.vrf, ip), None
        return path, split

    @staticmethod
    def _returns(path: Path, host: str) -> bool:
        """Does a composed path pass through ``host`` again after its first hop?"""
        return any(h == host for h, _ in path.hops[1:])

    def handover(self, plan: Plan, ip: int, rest: Path | None = None) -> tuple[Path, Split]:
        """The path towards ``ip`` by the plan's first step, even for an address the plan
        routes itself: what every pair of a block takes."""
        step = plan.step
        if isinstance(step, Path):
            return step, plan.split
        if rest is None:
            rest = self.rest(plan, ip)
        return (rest if step is None else compose(step, rest)), plan.split

    def rest(self, plan: Plan, ip: int) -> Path:
        """The part of the walk after the plan's hand-over (terminal: the plan's path)."""
        return self.walker(plan)(ip)

    def walker(self, plan: Plan) -> Callable[[int], Path]:
        """``ip -> rest(plan, ip)``: ``Network.tail`` from the plan's hand-over point.

        Why a walker: every party is walked from every hand-over point, and most of those
        walks match nothing but the default route there, which ends them on that device
        (the internet firewall, no route): the same path for all of them. Such a walk is
        decided by the route it matches alone — it never leaves the device — so it is
        walked once per hand-over point, and every address of :meth:`index` that no
        other route of that table holds takes it (see :class:`_Start`).
        """
        step = plan.step
        if isinstance(step, Path):
            return lambda ip: step
        return self._start_of(plan).walk

    def shared_walk(self, plan: Plan, ips: list[int]) -> tuple[list[int], Path | None]:
        """Which of ``ips`` (by index) must be walked one by one from the plan's
        hand-over point, and the path all the others take there (None: each is walked).

        The others are the addresses of :meth:`index` that only the default route holds
        there, when it ends their walk on that device (see :meth:`walker`).
        """
        step = plan.step
        if isinstance(step, Path):
            return [], step
        start = self._start_of(plan)
        unrouted = start.unrouted
        walked = [i for i, ip in enumerate(ips) if ip not in unrouted]
        if len(walked) < len(ips):
            first = next(ip for ip in ips if ip in unrouted)
            shared = start.shared_for(first)
            if shared is not None:
                return walked, shared
        return list(range(len(ips))), None

    def _start_of(self, plan: Plan) -> _Start:
        step = plan.step
        assert not isinstance(step, Path)
        host, vrf = (plan.host, plan.vrf) if step is None else (step.to_host, step.to_vrf)
        start = self._starts.get((host, vrf))
        if start is None:
            start = self._starts[(host, vrf)] = self._start(host, vrf)
        return start

    def index(self, ips: list[int]) -> None:
        """The addresses walked from every hand-over point (the parties'): indexed once
        against each routing table met (:class:`_Start`)."""
        self._indexed = sorted(set(ips))

    def _start(self, host: str, vrf: str) -> _Start:
        """Which indexed addresses a route other than the default route holds at a
        hand-over point: by each route's address range (a route whose prefix has host
        bits set holds nothing, and merely costs its addresses the shortcut)."""
        specific: set[int] = set()
        table = self.net.tables.get((host, vrf))
        ips = self._indexed
        for r in table.routes() if table is not None else ():
            if r.net.plen:
                lo = bisect.bisect_left(ips, r.net.addr)
                hi = bisect.bisect_right(ips, r.net.last)
                specific.update(ips[lo:hi])
        return _Start(self.net, host, vrf, set(ips) - specific)

    def routable(self, path: Path, target: Party) -> tuple[bool, bool, bool]:
        """(surely reaches the target, may reach it, only by assumption) for a path.

        A packet for an address inside the estate that leaves the estate (to the internet
        firewall, say) may come back into another zone: it counts as reaching a forbidden
        destination and as not reaching an allowed one.
        """
        if path.outcome == "delivered":
            return True, True, False
        if path.outcome == "exit":
            if target.kind == "internet":
                return True, True, False
            if not self.located(target):
                return True, True, True
            return False, True, False
        if path.outcome == "noroute" and path.host in self.cores and not self.located(target):
            return True, True, True
        return False, False, False
