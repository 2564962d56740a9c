"""d. The zone matrix proven at the policy point, from the config text.

For every source (each zone at each site, and the operator's hosts) and every
destination (each zone at each site, each service address, the NOC, the internet) the
probe packets of the matrix (:class:`~nornir_tasks.verify.matrix.Probe`) are walked
through the network the texts describe: into the site gateway on the zone's SVI, by its
VRF's route to the core, through every ``ip access-group`` met on the way (first match,
stateless, evaluated by :func:`nornir_tasks.acl_eval.evaluate` on entries parsed from the
text), and routed on by the core in that VRF (connected, static, or leaked by route
target). What gets through is compared with the matrix; for every allowed flow the
stateless reply (TCP ``established``, UDP from the service port, ICMP echo-reply) is
walked back from the destination's side the same way.

**How it scales** (``docs/verify.md``, "How the proof scales", proves the equivalence):
a packet's path from a source's entry interface factors into the entry's own part — its
entry ACL and its VRF's default route to the next device (the core), with the ACLs met
on that hop — and the rest, which depends only on where it was handed over (device and
VRF) and on the destination address. So:

* each entry is read once (a :class:`_Plan`, linear in sites);
* the rest is walked once per hand-over point and destination (linear in destinations;
  routing walks are memoised);
* sources whose own parts are the same up to the identity of the site (same ACL objects,
  same hand-over point, same address classes) form a *source class*; destinations whose
  rest is the same up to the identity of the site (same ACL objects, same routing
  verdict, same address classes) form a *destination class*; the verdict of one source
  class towards one destination class is computed once (a *block*), and counted for all
  its pairs;
* a destination a source's gateway routes itself (a more specific route than its
  default) is walked for that pair alone;
* a block that is violated is walked pair by pair along one row and one column, which
  finds every finding: a finding's key depends on the source's own part or on the
  destination's rest, never on both, so each finding is reported for every site and
  destination it concerns (see the docs), with the message of the first pair in the
  order the sources and destinations are listed.

The stateless replies factor the same way, with the roles swapped (the destination's
entry is the own part, the walk back to the source the rest).
"""

from __future__ import annotations

import bisect
import ipaddress
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nornir_tasks.acl_eval import evaluate
from nornir_tasks.design.structured import AclEntry
from nornir_tasks.intent.loader import Intent
from nornir_tasks.verify.matrix import INTERNET, Matrix, Party, mask_labels
from nornir_tasks.verify.model import Acl, DeviceText, Interface, Net
from nornir_tasks.verify.report import NOTE, VIOLATION, WARNING, Cell, CheckResult, Finding
from nornir_tasks.verify.routing import GLOBAL, AclRef, Handoff, Network, Path, compose

UNDEFINED = -2  # decider of an access-group whose ACL does not exist (filters nothing)
IMPLICIT = -1  # the implicit deny at the end of an ACL

#: Which part of a pair a finding's key depends on: the entry's own part (the plan), the
#: rest of the walk, or neither. Forwards the own part is the source's, backwards (the
#: replies) the destination's.
OWN, REST, NEITHER = "own", "rest", "neither"

Part = tuple[AclRef, int, tuple[int, ...]]  # an ACL met, its permit mask, the deciders


class AclMasks:
    """Permit masks over the probes, per ACL and per class of source/destination.

    An address's class is the set of ACL prefixes of the whole estate it falls in (a
    bitmask): two addresses of one class meet the same decision in every ACL.
    """

    def __init__(self, matrix: Matrix, nets: list[Net]) -> None:
        self.probes = matrix.probes
        self.all = matrix.all
        self.nets = nets
        self._sig: dict[int, int] = {}
        self._mask: dict[tuple[int, int, int, bool], tuple[int, tuple[int, ...]]] = {}
        self._acl_keys: dict[int, tuple[int, int]] = {}  # id(acl) -> (content, its prefixes)
        self._contents: dict[tuple[AclEntry, ...], int] = {}
        self._bit = {(n.addr, n.plen): 1 << i for i, n in enumerate(nets)}
        by_len: dict[int, dict[int, int]] = {}
        for i, n in enumerate(nets):
            bits = by_len.setdefault(n.plen, {})
            bits[n.addr] = bits.get(n.addr, 0) | 1 << i
        self._by_len = [(Net(0, plen).mask, bits) for plen, bits in sorted(by_len.items())]

    def signature(self, ip: int) -> int:
        sig = self._sig.get(ip)
        if sig is None:
            sig = 0
            for mask, bits in self._by_len:
                sig |= bits.get(ip & mask, 0)
            self._sig[ip] = sig
        return sig

    def mask(self, acl: Acl | None, src: int, dst: int, reply: bool) -> tuple[int,
                                                                             tuple[int, ...]]:
        """(permit mask, deciding entry ordinal per probe) for packets src -> dst.

        For ``reply`` the packets are the replies: from ``dst`` back to ``src``.
        """
        if acl is None:
            return self.all, (UNDEFINED,) * len(self.probes)
        # only the ACL's own prefixes decide: addresses that fall in the same ones of them
        # meet the same entries (whatever other ACLs of the estate say about them); and
        # the same entries on two devices (the core pair) decide the same
        known = self._acl_keys.get(id(acl))
        if known is None:
            bits = 0
            for e in acl.entries:
                for n in (e.source, e.destination):
                    if n is not None:
                        bits |= self._bit[(int(n.network_address), n.prefixlen)]
            content = self._contents.setdefault(tuple(acl.entries), len(self._contents))
            known = self._acl_keys[id(acl)] = (content, bits)
        content, bits = known
        key = (content, self.signature(src) & bits, self.signature(dst) & bits, reply)
        hit = self._mask.get(key)
        if hit is None:
            m = 0
            deciders = []
            for i, probe in enumerate(self.probes):
                pkt = probe.reply(src, dst) if reply else probe.packet(src, dst)
                action, entry = evaluate(acl.entries, pkt)
                if action == "permit":
                    m |= 1 << i
                deciders.append(entry.seq if entry is not None else IMPLICIT)
            hit = self._mask[key] = (m, tuple(deciders))
        return hit


@dataclass(frozen=True, slots=True)
class _Split:
    """Where a composed path's own part ends: the first ``refs`` ACLs, ``hops`` hops and
    ``crossings`` VRF crossings are the entry's; a terminal path is all the entry's."""

    refs: int
    hops: int
    crossings: int
    terminal: bool


@dataclass(frozen=True, slots=True)
class _Plan:
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
    split: _Split
    cont: tuple[object, ...]  # where the rest of the walk starts (shared by many plans)
    shape: tuple[object, ...]  # what of the own part decides (ACL objects, crossings)

    def special(self, ip: int) -> bool:
        return any(ip & mask == addr for mask, addr in self.specials)


@dataclass(frozen=True, slots=True)
class _Res:
    """The outcome of one source towards one destination."""

    ok: bool  # nothing to report
    violated: bool
    expected: int
    observed: int
    assumed: bool
    same_zone: bool
    tail: Path


@dataclass
class _Agg:
    """Findings of one kind at one line, gathered over sites, destinations and probes."""

    check: str
    severity: str
    device: str | None
    lineno: int | None
    line: str | None
    pair: str | None
    what: str
    sites: set[str] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    probes: set[str] = field(default_factory=set)
    extra: set[str] = field(default_factory=set)
    #: the first pair (in the order sources and destinations are listed) that found it:
    #: its message is the one reported, and findings are listed in this order
    order: tuple[int, ...] = ()


@dataclass
class _CellAcc:
    expected: int = 0
    observed: int = 0
    pairs: int = 0
    violations: int = 0
    assumed: bool = False
    same_zone: bool = False
    local: int = 0  # pairs inside one subnet (never routed, not evaluated)


@dataclass(eq=False)
class _Member:
    """A source entering at one interface (a zone's SVI; both cores for the town hall)."""

    pos: int  # in the order of the original walk: sources, then their entries
    src: Party
    host: str
    iface: Interface
    plan: _Plan
    local: frozenset[int] = frozenset()  # destinations in the same subnet: never routed
    specials: tuple[int, ...] = ()  # destinations the gateway routes itself
    excluded: frozenset[int] = frozenset()  # both: not part of the member's blocks
    columns: dict[str, list[int]] = field(default_factory=dict)  # column -> [n, bad]
    checks: list[CheckResult] = field(default_factory=list)  # its policy-point check


@dataclass(eq=False)
class _DestClass:
    """Destinations whose rest of the walk is the same up to the site (for one start)."""

    index: int
    positions: list[int]
    tails: list[Path]  # per destination: the rest of its walk (terminal: the start's path)


@dataclass(eq=False)
class _Scope:
    """The pairs one pair of a sweep stands for: the sources (a column) or destinations
    (a row) of its block that it shares its findings with."""

    token: int  # the sweep
    everyone: Callable[[bool], Counter[str]]  # all sites (column) or targets (row)
    lacking: Callable[[bool], Counter[str]]  # those of the pairs not in the block


@dataclass(eq=False)
class _Ctx:
    """The pair being evaluated, and which of its findings to record how.

    ``mode``: ``pair`` records every finding for this pair; ``row`` (a sweep along the
    sources of a block) records the findings whose key does not depend on the
    destination, for all the destinations of the block at once; ``column`` the findings
    whose key does not depend on the source, for all the sources at once; ``quiet``
    records nothing (the verdict only).
    """

    mode: str
    order: tuple[int, int, int]  # (source entry, destination, 0 forwards | 1 + reply entry)
    src: Party
    dst: Party
    reply: bool = False
    seq: int = 0
    scope: _Scope | None = None
    recorded: set[str] = field(default_factory=set)  # "row" / "column" adds seen
    #: row mode: the keys recorded that depend on neither end (key, full target), and
    #: whether any depends on the source
    shared: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)
    own: bool = False


class Proof:
    """Runs check d over every source and destination; fills the report's matrix."""

    #: above this many specific routes an entry is walked from itself (a core)
    MAX_SPECIALS = 16
    #: walk every source towards every destination on its own, from its gateway, without
    #: classes: the definition the factored proof is tested against (quadratic)
    PAIR_BY_PAIR = False

    def __init__(self, intent: Intent, matrix: Matrix, devices: dict[str, DeviceText],
                 net: Network) -> None:
        self.intent = intent
        self.m = matrix
        self.devices = devices
        self.net = net
        self.cores = {h for h, d in intent.devices.items() if d.role.value == "core"}
        self.aggs: dict[tuple[str, ...], _Agg] = {}
        self.cells: dict[tuple[str, str], _CellAcc] = {}
        self.checks: list[CheckResult] = []
        self.findings: list[Finding] = []
        self._located: dict[str, bool] = {}
        self._entries: dict[str, list[tuple[str, Interface]]] = {}
        self._addresses: dict[str, list[int]] = {}
        self._plans: dict[tuple[str, str], _Plan] = {}
        self._gateways: dict[str, str] = {}
        self._dest_classes: dict[tuple[object, ...], tuple[
            list[_DestClass], list[int], dict[str, list[int]]]] = {}
        self._reply_verdicts: dict[tuple[object, ...], tuple[int, bool, bool]] = {}
        self._reply_sides: dict[tuple[str, tuple[object, ...]], tuple[object, ...]] = {}
        self._side_groups: dict[tuple[int, tuple[object, ...]],
                                dict[tuple[object, ...], list[_Member]]] = {}
        self._by_column: dict[str, list[int]] = {}
        self._holes: dict[tuple[object, ...], set[str]] = {}
        self._classes: dict[str, tuple[object, ...]] = {}
        self._shapes: dict[int, tuple[object, ...]] = {}  # id(path) -> what of it decides
        self._subnets: dict[str, list[tuple[int, dict[int, tuple[int, Interface]]]]] = {}
        self._by_rep: dict[int, tuple[list[int], list[_Member]]] = {}
        self._through: dict[tuple[int, tuple[object, ...]], dict[str, set[int]]] = {}
        self._sweeps = 0
        self.pairs = 0
        self.probe_count = 0
        #: how much was evaluated: blocks (source class x destination class) and reply
        #: blocks are the core-level evaluations; pairs are evaluated one by one only
        #: where a gateway routes a destination itself, for a violated block's row and
        #: column, or for a party split by an ACL prefix
        self.work: Counter[str] = Counter()
        self._ctx = _Ctx("quiet", (0, 0, 0), _NOBODY, _NOBODY)
        self._extras = self._acl_nets()
        self._extra_addrs = [n.addr for n in self._extras]
        self.masks = AclMasks(matrix, self._extras)
        self.dests: list[Party] = []

    # ----------------------------------------------------------------- helpers

    def _acl_nets(self) -> list[Net]:
        nets: set[Net] = set()
        for dev in self.devices.values():
            for acl in dev.acls.values():
                for e in acl.entries:
                    for n in (e.source, e.destination):
                        if n is not None:
                            nets.add(Net.of(n))
        return sorted(nets, key=lambda n: (n.addr, n.plen))

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
        named = [n for n in self.m.named_nets if n.within(pnet) and n != pnet]
        lo = bisect.bisect_left(self._extra_addrs, pnet.addr)
        hi = bisect.bisect_right(self._extra_addrs, pnet.last)
        for n in self._extras[lo:hi]:
            if n.within(pnet) and n != pnet and not any(n.within(x) for x in named):
                ip = n.addr if n.plen >= 31 else n.addr + 1
                if ip not in out:
                    out.append(ip)
        return out

    def _class_of(self, party: Party) -> tuple[object, ...]:
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

    def _gateway(self, site: str) -> str:
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
            gw = self._gateway(party.site)
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

    def _ref_shape(self, refs: Sequence[AclRef]) -> tuple[tuple[int | None, bool], ...]:
        """What of the ACLs on a path decides: the ACL objects, and which sit on a core."""
        return tuple((id(r.acl) if r.acl is not None else None, r.host in self.cores)
                     for r in refs)

    def plan(self, host: str, iface: Interface) -> _Plan:
        key = (host, iface.name)
        hit = self._plans.get(key)
        if hit is None:
            hit = self._plans[key] = self._make_plan(host, iface)
        return hit

    def _make_plan(self, host: str, iface: Interface) -> _Plan:
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
            split = _Split(len(own), 0, 0, False)
            cont: tuple[object, ...] = ("walk", host, vrf)
            shape: tuple[object, ...] = ("here", self._ref_shape(own))
        else:
            step = self.net.default_step(host, vrf)
            if isinstance(step, Handoff):
                refs = (*own, *step.acls)
                split = _Split(len(refs), 2, len(step.crossings), False)
                cont = ("walk", step.to_host, step.to_vrf)
                shape = ("handoff", self._ref_shape(refs), len(step.crossings))
            else:
                split = _Split(0, 0, 0, True)
                cont = ("end", step.outcome, step.host in self.cores)
                shape = ("end", self._ref_shape((*own, *step.acls)), len(step.crossings))
        return _Plan(host, iface, vrf, entry, tuple((n.mask, n.addr) for n in nets), nets,
                     step, split, cont, shape)

    def _walk(self, plan: _Plan, ip: int, rest: Path | None = None
              ) -> tuple[Path, _Split | None]:
        """The path from the plan's device and VRF towards ``ip`` — exactly what
        ``Network.tail`` walks — and where its own part ends (None: an address the plan
        routes itself). ``rest``: the walk from the hand-over point, when known."""
        if self.PAIR_BY_PAIR or plan.special(ip):
            return self.net.tail(plan.host, plan.vrf, ip), None
        path, split = self._handover(plan, ip, rest)
        if isinstance(plan.step, Handoff) and self._returns(path, plan.host):
            # the walk comes back through the entry's own device: walked from the entry
            # (where a loop would close there, not at the hand-over point)
            return self.net.tail(plan.host, plan.vrf, ip), None
        return path, split

    @staticmethod
    def _returns(path: Path, host: str) -> bool:
        """Does a composed path pass through ``host`` again after its first hop?"""
        return any(h == host for h, _ in path.hops[1:])

    def _handover(self, plan: _Plan, ip: int, rest: Path | None = None
                  ) -> tuple[Path, _Split]:
        """The path towards ``ip`` by the plan's first step, even for an address the plan
        routes itself: what every pair of a block takes."""
        step = plan.step
        if isinstance(step, Path):
            return step, plan.split
        if rest is None:
            rest = self._rest(plan, ip)
        return (rest if step is None else compose(step, rest)), plan.split

    def _rest(self, plan: _Plan, ip: int) -> Path:
        """The part of the walk after the plan's hand-over (terminal: the plan's path)."""
        step = plan.step
        if step is None:
            return self.net.tail(plan.host, plan.vrf, ip)
        if isinstance(step, Path):
            return step
        return self.net.tail(step.to_host, step.to_vrf, ip)

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

    def path_mask(self, acls: tuple[AclRef, ...], src: int, dst: int, reply: bool
                  ) -> tuple[int, list[Part]]:
        mask = self.m.all
        parts = []
        for ref in acls:
            m, dec = self.masks.mask(ref.acl, src, dst, reply)
            mask &= m
            parts.append((ref, m, dec))
        return mask, parts

    @staticmethod
    def _target(dst: Party, full: bool) -> str:
        if not full:
            return dst.label
        return dst.describe() if dst.kind != "zone" else f"{dst.label}@{dst.site}"

    # ----------------------------------------------------------------- findings

    def _add(self, key: tuple[str, ...], agg: _Agg, site: str | None, target: str,
             probes: list[str], extra: str | None = None, side: str = NEITHER,
             full: bool = True) -> None:
        """Record a finding of the pair in ``self._ctx`` (see :class:`_Ctx`).

        ``side``: which part of the pair the key depends on; ``full``: the target is the
        destination in full (else its column).
        """
        ctx = self._ctx
        order = (*ctx.order, ctx.seq)
        ctx.seq += 1
        mode = ctx.mode
        if mode == "quiet":
            return
        if mode != "pair":
            # forwards the source owns the entry's part, backwards the destination does
            by_source = side == NEITHER or (side == OWN) != ctx.reply
            if (mode == "row") != by_source:
                return
            ctx.recorded.add(mode)
            if mode == "row":
                if side == NEITHER:
                    ctx.shared.append((key, full))
                else:
                    ctx.own = True
        a = self.aggs.get(key)
        if a is None:
            a = self.aggs[key] = agg
            a.order = order
        elif order < a.order:
            a.check, a.severity, a.device, a.lineno = agg.check, agg.severity, agg.device, \
                agg.lineno
            a.line, a.pair, a.what, a.order = agg.line, agg.pair, agg.what, order
        scope = ctx.scope
        if mode == "row":
            assert scope is not None
            if site:
                a.sites.add(site)
            self._cover(a.targets, (key, scope.token, full), scope, full)
        elif mode == "column":
            assert scope is not None
            a.targets.add(target)
            self._cover(a.sites, (key, scope.token, "sites"), scope, False)
        else:
            if site:
                a.sites.add(site)
            a.targets.add(target)
        a.probes.update(probes)
        if extra:
            a.extra.add(extra)

    def _cover(self, into: set[str], token: tuple[object, ...], scope: _Scope,
               full: bool) -> None:
        """Add every site or target of the scope's block but those its pair lacks.

        Over a sweep the union of "all but the lacking ones" is all but those every pair
        lacks: only the difference is added, so each pair costs what it lacks."""
        everyone = scope.everyone(full)
        lack = scope.lacking(full)
        missing = {t for t, c in lack.items() if c >= everyone[t]}
        holes = self._holes.get(token)
        if holes is None:
            into.update(t for t in everyone if t not in missing)
            self._holes[token] = missing
        else:
            newly = holes - missing
            if newly:
                into |= newly
                holes -= newly

    @staticmethod
    def _rule_line(ref: AclRef, ordinal: int) -> tuple[int | None, str]:
        acl = ref.acl
        if acl is None:
            return ref.line.lineno, ref.line.text
        if ordinal == IMPLICIT:
            if acl.line is not None:
                return acl.line.lineno, f"{acl.line.text} (implicit deny at the end)"
            return ref.line.lineno, f"{ref.line.text} (implicit deny)"
        rule = acl.rules[ordinal]
        return rule.line.lineno, rule.line.text

    def _policy_ref(self, parts: list[Part]) -> tuple[int, Part] | None:
        for i, p in enumerate(parts):
            if p[0].host in self.cores:
                return i, p
        return (0, parts[0]) if parts else None

    @staticmethod
    def _ref_side(split: _Split | None, index: int, ref: AclRef) -> str:
        """An ACL line's key is the ACL's (the same for every pair of a block) unless the
        ACL does not exist: then it is the access-group line of one interface."""
        if split is None or ref.acl is not None:
            return NEITHER
        return OWN if split.terminal or index < split.refs else REST

    @staticmethod
    def _end_side(split: _Split | None) -> str:
        if split is None:
            return NEITHER
        return OWN if split.terminal else REST

    # ----------------------------------------------------------------- the run

    def run(self) -> None:
        sources = self.m.sources()
        dests = self.dests = self.m.destinations()
        internet = next(d for d in dests if d.kind == INTERNET)
        for i, d in enumerate(dests):
            self._by_column.setdefault(d.label, []).append(i)
        members: list[_Member] = []
        pos = 0
        for src in sources:
            pos += 1
            if src.site is None:
                self._unlocated_source(src, dests, pos)
                continue
            entries = self.entries(src)
            if not entries:
                self.findings.append(Finding(
                    "vrf", VIOLATION, f"no interface on the site gateway holds {src.label}'s "
                    f"prefix {src.net}: the zone has no gateway", self._gateway(src.site),
                    site=src.site))
                continue
            for host, iface in entries:
                m = _Member(pos, src, host, iface, self.plan(host, iface))
                pos += 1
                self._policy_point(m, internet)
                members.append(m)
        self.work["members"] = len(members)
        self._exclusions(members)
        if self.PAIR_BY_PAIR:
            for m in members:
                for p in range(len(dests)):
                    if p not in m.local:
                        self._explicit_pair(m, p)
        else:
            classes: dict[tuple[object, ...], list[_Member]] = {}
            for m in members:
                classes.setdefault(self._source_class(m), []).append(m)
            self.work["source_classes"] = len(classes)
            for sc in classes.values():
                self._source_class_run(sc)
            for m in members:
                for p in m.specials:
                    self._explicit_pair(m, p)
        for m in members:
            self.checks += m.checks
            self._column_checks(m)
        self.probe_count = self.pairs * len(self.m.probes)
        self._finish()
        self._ctx = _Ctx("quiet", (0, 0, 0), _NOBODY, _NOBODY)  # no closures over self

    def _exclusions(self, members: list[_Member]) -> None:
        """Per member: the destinations in its own subnet, and those its gateway routes
        itself (a route more specific than the default route the member's class shares)."""
        by_subnet: dict[tuple[str, str | None], list[int]] = {}
        for i, d in enumerate(self.dests):
            if d.site is not None:
                by_subnet.setdefault((d.site, d.zone), []).append(i)
        order = sorted(range(len(self.dests)), key=lambda i: self.dests[i].rep)
        reps = [self.dests[i].rep for i in order]
        for m in members:
            assert m.src.site is not None
            local = frozenset(by_subnet.get((m.src.site, m.src.zone), ()))
            special: set[int] = set()
            for n in m.plan.nets:
                lo = bisect.bisect_left(reps, n.addr)
                hi = bisect.bisect_right(reps, n.last)
                special.update(order[lo:hi])
            special -= local
            m.local = local
            m.specials = tuple(sorted(special))
            m.excluded = local | special
            for i in local:
                self._cell(m.src, self.dests[i]).local += 1

    def _policy_point(self, m: _Member, internet: Party) -> None:
        """The zone's first interface on a core must filter what enters (check d)."""
        src, host = m.src, m.host
        if src.kind != "zone":
            return
        path, _ = self._walk(m.plan, internet.rep)
        hops = ((host, m.iface.name), *path.hops[1:])
        core_hop = next(((h, i) for h, i in hops if h in self.cores and i), None)
        if core_hop is None:
            return
        core, ifname = core_hop
        intf = self.devices[core].interfaces[ifname]
        subject = f"{core} {ifname} ({src.label} from {src.site})"
        self._ctx = _Ctx("pair", (m.pos, -1, 0), src, internet)
        if intf.acl_in is None:
            m.checks.append(CheckResult("policy-point", subject, "fail"))
            self._add(("policy-point", core, ifname), _Agg(
                "policy-point", VIOLATION, core, intf.line.lineno, intf.line.text,
                f"{src.label} -> *", f"zone {src.label} enters the core here without an "
                "ingress ACL (no `ip access-group ... in`): the zone is unfiltered"),
                src.site, ifname, [])
        elif intf.acl_in not in self.devices[core].acls:
            m.checks.append(CheckResult("policy-point", subject, "fail"))
            assert intf.acl_in_line is not None
            self._add(("policy-point", core, ifname), _Agg(
                "policy-point", VIOLATION, core, intf.acl_in_line.lineno,
                intf.acl_in_line.text, f"{src.label} -> *",
                f"ACL {intf.acl_in} is not defined: the interface filters nothing"),
                src.site, ifname, [])
        else:
            m.checks.append(CheckResult("policy-point", subject, "pass",
                                        detail={"acl": intf.acl_in}))

    def _cell(self, src: Party, dst: Party) -> _CellAcc:
        key = (src.label, dst.label)
        c = self.cells.get(key)
        if c is None:
            c = self.cells[key] = _CellAcc()
        return c

    def _account(self, src: Party, dst: Party, res: _Res, n: int = 1,
                 columns: dict[str, list[int]] | None = None) -> None:
        """Count ``n`` pairs of ``src``'s row and ``dst``'s column with this outcome."""
        if n <= 0:
            return
        cell = self._cell(src, dst)
        cell.pairs += n
        cell.expected |= res.expected
        cell.observed |= res.observed
        if res.same_zone:
            cell.same_zone = True
        if res.assumed and res.expected:
            cell.assumed = True
        if res.violated:
            cell.violations += n
        if columns is not None:
            counts = columns.get(dst.label)
            if counts is None:
                counts = columns[dst.label] = [0, 0]
            counts[0] += n
            if res.violated:
                counts[1] += n
        self.pairs += n

    def _column_checks(self, m: _Member) -> None:
        """One check per destination column, in the order the columns first appear in the
        destinations (as a walk over them would meet them)."""
        local = m.local
        first: list[tuple[int, str]] = []
        for column in m.columns:
            for i in self._by_column[column]:
                if i not in local:
                    first.append((i, column))
                    break
        first.sort()
        head = f"{m.src.label}@{m.src.site} via {m.plan.host} -> "
        checks = self.checks
        for _, column in first:
            n, nbad = m.columns[column]
            checks.append(CheckResult("matrix", head + column, "fail" if nbad else "pass", n,
                                      {"violating_destinations": nbad}))

    # ----------------------------------------------------------------- classes

    def _source_class(self, m: _Member) -> tuple[object, ...]:
        """Members of one class meet the same verdict towards every destination their
        gateways hand over: the same source class (addresses), the same ACL objects on
        their own part, the same hand-over point."""
        own = ("split", m.pos) if len(self.addresses(m.src)) > 1 else self._class_of(m.src)
        return (own, m.plan.cont, m.plan.shape)

    def _destinations_from(self, plan: _Plan) -> tuple[list[_DestClass], list[int],
                                                        dict[str, list[int]]]:
        """The destination classes for walks that continue where ``plan`` hands over, each
        destination's class index, and per device the destinations whose walk from there
        passes through it."""
        hit = self._dest_classes.get(plan.cont)
        if hit is not None:
            return hit
        classes: dict[tuple[object, ...], _DestClass] = {}
        index: list[int] = []
        revisit: dict[str, list[int]] = {}
        step = plan.step
        for i, d in enumerate(self.dests):
            rest = self._rest(plan, d.rep)
            self.work["walks"] += 1
            if len(rest.hops) > 1:
                for h in {h for h, _ in rest.hops[1:]}:
                    revisit.setdefault(h, []).append(i)
            own = ("split", i) if len(self.addresses(d)) > 1 else self._class_of(d)
            if isinstance(step, Path):
                key: tuple[object, ...] = (own, self.routable(step, d))
            else:
                shape = self._shapes.get(id(rest))
                if shape is None:
                    shape = self._shapes[id(rest)] = (
                        self._ref_shape(rest.acls), len(rest.crossings), rest.outcome,
                        any(h in self.cores and f for h, f in rest.hops))
                key = (own, self.routable(rest, d), shape)
            dc = classes.get(key)
            if dc is None:
                dc = classes[key] = _DestClass(len(classes), [], [])
            dc.positions.append(i)
            dc.tails.append(rest)
            index.append(dc.index)
        out = (list(classes.values()), index, revisit)
        self._dest_classes[plan.cont] = out
        self.work["destination_classes"] += len(classes)
        return out

    def _source_class_run(self, sc: list[_Member]) -> None:
        dcs, index, revisit = self._destinations_from(sc[0].plan)
        if isinstance(sc[0].plan.step, Handoff):
            for m in sc:  # walks that come back through the member's own gateway
                back = [p for p in revisit.get(m.host, ()) if p not in m.excluded]
                if back:
                    m.specials = tuple(sorted((*m.specials, *back)))
                    m.excluded = m.excluded | frozenset(back)
        # per destination class: how many of its pairs the members' exclusions remove
        removed = [0] * len(dcs)
        for m in sc:
            for p in m.excluded:
                removed[index[p]] += 1
        base: dict[str, list[int]] = {}  # column -> [pairs, violated] of one member
        blockwise: list[bool] = []
        violated: list[bool] = []
        for dc in dcs:
            res = self._block(sc, dc, removed[dc.index])
            blockwise.append(res is not None)
            violated.append(res is not None and res.violated)
            if res is None:
                continue
            counts = base.setdefault(self.dests[dc.positions[0]].label, [0, 0])
            counts[0] += len(dc.positions)
            if res.violated:
                counts[1] += len(dc.positions)
        for m in sc:
            cols = {k: list(v) for k, v in base.items()}
            for p in m.excluded:
                i = index[p]
                if blockwise[i]:
                    counts = cols[self.dests[p].label]
                    counts[0] -= 1
                    counts[1] -= violated[i]
            for k, (n, bad) in cols.items():
                if n:
                    acc = m.columns.setdefault(k, [0, 0])
                    acc[0] += n
                    acc[1] += bad

    def _blockwise(self, sc: list[_Member], dc: _DestClass) -> bool:
        """Is the block counted as a whole (no party in it split by an ACL prefix)?"""
        return len(self.addresses(sc[0].src)) == 1 and \
            len(self.addresses(self.dests[dc.positions[0]])) == 1

    def _block(self, sc: list[_Member], dc: _DestClass, removed: int) -> _Res | None:
        """One source class towards one destination class: the verdict once, counted for
        every pair; findings and replies for every pair that has them. None: the block is
        walked pair by pair (a party split by an ACL prefix) and counted that way."""
        self.work["blocks"] += 1
        m0 = sc[0]
        d0 = self.dests[dc.positions[0]]
        if not self._blockwise(sc, dc):
            for m in sc:
                for k, p in enumerate(dc.positions):
                    if p not in m.excluded:
                        self._explicit_pair(m, p, dc.tails[k])
            return None
        self._ctx = _Ctx("quiet", (0, 0, 0), m0.src, d0)
        path, split = self._handover(m0.plan, d0.rep, dc.tails[0])
        res = self._evaluate(m0.src, d0, m0.plan, path, split)
        self._account(m0.src, d0, res, len(sc) * len(dc.positions) - removed)
        if not res.ok:
            self._sweep(sc, dc, lambda m, k: self._forward_pair(m, dc, k), reply=False,
                        entry=0)
        if res.expected & res.observed:
            self._block_replies(sc, dc, res.expected & res.observed)
        return res

    def _forward_pair(self, m: _Member, dc: _DestClass, k: int) -> None:
        dst = self.dests[dc.positions[k]]
        path, split = self._handover(m.plan, dst.rep, dc.tails[k])
        self._evaluate(m.src, dst, m.plan, path, split)

    def _sweep(self, sc: list[_Member], dc: _DestClass,
               pair: Callable[[_Member, int], None], reply: bool, entry: int,
               skip: dict[int, set[int]] | None = None) -> None:
        """Record the findings of every pair of a block by walking one pair per source
        (with its first destination: the findings whose key does not depend on the
        destination, for all its destinations at once) and one pair per destination (with
        its first source: the findings whose key does not depend on the source, for all
        its sources at once). ``pair(m, k)`` evaluates the member towards the block's
        k-th destination; ``skip``: k -> ids of members whose pair is not in the block
        (besides the members' own exclusions)."""
        positions = dc.positions
        at = {p: k for k, p in enumerate(positions)}
        absent: dict[int, list[_Member]] = {}  # k -> members without that pair
        lacks: dict[int, set[int]] = {}  # id(member) -> the ks it lacks
        for m in sc:
            out = {at[p] for p in m.excluded if p in at}
            if out:
                lacks[id(m)] = out
        for k, who in (skip or {}).items():
            for mid in who:
                lacks.setdefault(mid, set()).add(k)
        for m in sc:
            for k in lacks.get(id(m), ()):
                absent.setdefault(k, []).append(m)
        self._sweeps += 1
        token = self._sweeps
        sites_all = Counter(m.src.site for m in sc if m.src.site)
        targets_all: dict[bool, Counter[str]] = {}

        def targets(full: bool) -> Counter[str]:
            hit = targets_all.get(full)
            if hit is None:
                hit = targets_all[full] = Counter(
                    self._target(self.dests[p], full) for p in positions)
            return hit

        def row(m: _Member) -> _Scope:
            gone = lacks.get(id(m), set())
            return _Scope(token, targets, lambda full: Counter(
                self._target(self.dests[positions[k]], full) for k in gone))

        def column(k: int) -> _Scope:
            return _Scope(token, lambda _: sites_all, lambda _: Counter(
                m.src.site for m in absent.get(k, ()) if m.src.site))

        shared: list[tuple[tuple[str, ...], bool]] | None = None
        for m in sc:  # one pair per source: with its first destination
            gone = lacks.get(id(m), set())
            kk = next((k for k in range(len(positions)) if k not in gone), None)
            if kk is None:
                continue
            scope = row(m)
            if shared is not None:
                # the first source found only findings of the whole block: the others
                # share them (no walk), each adding its site and destinations
                for key, full in shared:
                    a = self.aggs[key]
                    if m.src.site:
                        a.sites.add(m.src.site)
                    self._cover(a.targets, (key, token, full), scope, full)
                continue
            self.work["pairs"] += 1
            self._ctx = _Ctx("row", (m.pos, positions[kk], entry), m.src,
                             self.dests[positions[kk]], reply, scope=scope)
            pair(m, kk)
            if "row" not in self._ctx.recorded:
                break  # the same findings for every pair: none by source
            if not self._ctx.own:
                shared = self._ctx.shared
        for k in range(len(positions)):  # one pair per destination: with its first source
            without = {id(m) for m in absent.get(k, ())}
            first = next((m for m in sc if id(m) not in without), None)
            if first is None:
                continue
            self.work["pairs"] += 1
            self._ctx = _Ctx("column", (first.pos, positions[k], entry), first.src,
                             self.dests[positions[k]], reply, scope=column(k))
            pair(first, k)
            if "column" not in self._ctx.recorded:
                break

    def _explicit_pair(self, m: _Member, p: int, rest: Path | None = None) -> None:
        """One source towards one destination on its own: counted, findings, replies."""
        self.work["pairs"] += 1
        dst = self.dests[p]
        self._ctx = _Ctx("pair", (m.pos, p, 0), m.src, dst)
        path, split = self._walk(m.plan, dst.rep, rest)
        res = self._evaluate(m.src, dst, m.plan, path, split)
        self._account(m.src, dst, res, 1, m.columns)
        allowed = res.expected & res.observed
        if allowed:
            self._replies(m.src, dst, allowed, res.tail, m.pos, p)

    # ----------------------------------------------------------------- one pair

    def _evaluate(self, src: Party, dst: Party, plan: _Plan, tail: Path,
                  split: _Split | None) -> _Res:
        """One source towards one destination on ``tail`` (the walk from the plan's
        device), recording its findings as ``self._ctx`` says."""
        exp, why = self.m.expected(src, dst)
        acls = (plan.entry, *tail.acls) if plan.entry is not None else tail.acls
        sure, maybe, assumed = self.routable(tail, dst)
        violated = latent = False
        observed = 0
        for s_ip in self.addresses(src):
            for d_ip in self.addresses(dst):
                amask, parts = self.path_mask(acls, s_ip, d_ip, False)
                # allowed probes must surely arrive; forbidden ones must surely not
                obs = (amask & exp if sure else 0) | (amask & ~exp if maybe else 0)
                observed |= obs
                if obs != exp:
                    violated = True
                    self._mismatch(src, dst, s_ip, d_ip, exp, obs, amask, parts, tail, why,
                                   split)
                elif not maybe and amask & ~exp:
                    latent = True
                    self._latent(src, dst, amask & ~exp, parts, tail, split)
        if tail.crossings:
            violated = True
            for j, x in enumerate(tail.crossings):
                side = NEITHER if split is None else \
                    OWN if split.terminal or j < split.crossings else REST
                self._add(("vrf-crossing", x.host, str(x.line.lineno)), _Agg(
                    "vrf", VIOLATION, x.host, x.line.lineno, x.line.text, None,
                    f"route in VRF {x.from_vrf or 'global'} hands packets to {x.to_host} "
                    f"{x.to_iface} in VRF {x.to_vrf or 'global'}: traffic crosses zones "
                    "outside the policy point"), src.site, dst.label, [], side=side,
                    full=False)
        return _Res(not (violated or latent), violated, exp, observed, assumed,
                    why == ("same zone",), tail)

    def _unlocated_source(self, src: Party, dests: list[Party], pos: int) -> None:
        """An operator host the config text does not place: only its replies are proven."""
        for p, dst in enumerate(dests):
            exp, _ = self.m.expected(src, dst)
            if not exp:
                continue
            cell = self._cell(src, dst)
            cell.pairs += 1
            cell.expected |= exp
            cell.observed |= exp
            cell.assumed = True
            self._replies(src, dst, exp, None, pos, p)
        self.findings.append(Finding(
            "matrix", NOTE, f"{src.label} ({src.net}) is in no site prefix of the intent: its "
            "own packets enter the core on an interface the configs do not show, so only "
            "the replies to its flows are proven"))

    def _mismatch(self, src: Party, dst: Party, s_ip: int, d_ip: int, exp: int, obs: int,
                  amask: int, parts: list[Part], tail: Path, why: tuple[str, ...],
                  split: _Split | None) -> None:
        pair = f"{src.label} -> {dst.label}"
        opened = obs & ~exp
        blocked = exp & ~obs
        target = self._target(dst, True)
        host_note = None
        if s_ip != src.rep or d_ip != dst.rep:
            host_note = f"{ipaddress.IPv4Address(s_ip)} -> {ipaddress.IPv4Address(d_ip)}"
        if opened:
            policy = self._policy_ref(parts)
            if policy is None:
                # nothing filters this path: name the core hop, or where it was delivered
                at = next((j for j, (h, i) in enumerate(tail.hops)
                           if h in self.cores and i), None)
                lineno: int | None
                text: str | None
                if at is not None and tail.hops[at][1] is not None:
                    core, ifname = tail.hops[at]
                    assert ifname is not None
                    intf = self.devices[core].interfaces[ifname]
                    dev, lineno, text = core, intf.line.lineno, intf.line.text
                    what = "open although the matrix forbids it: no ACL on the path " \
                           f"({tail.describe()})"
                    side = NEITHER if split is None else \
                        OWN if split.terminal or at < split.hops else REST
                else:
                    line = tail.line
                    dev = tail.host
                    lineno = line.lineno if line else None
                    text = line.path() if line else None
                    what = "open although the matrix forbids it, without passing the " \
                           f"policy point: {tail.describe()}"
                    side = self._end_side(split)
                self._add(("open", dev, str(lineno), pair), _Agg(
                    "matrix", VIOLATION, dev, lineno, text, pair, what),
                    src.site, target, mask_labels(opened, self.m.probes), host_note,
                    side=side)
            else:
                at, (ref, _, dec) = policy
                verb = "permits" if ref.acl is not None else \
                    "is not defined, so it filters nothing"
                how = "" if tail.outcome == "delivered" else (
                    f"; it {tail.describe().split(': ', 1)[-1]}, and what lies beyond is not "
                    "in the config text")
                side = self._ref_side(split, at, ref)
                for i in range(len(self.m.probes)):
                    if not opened >> i & 1:
                        continue
                    rl, rt = self._rule_line(ref, dec[i])
                    self._add(("open", ref.host, str(rl), pair), _Agg(
                        "matrix", VIOLATION, ref.host, rl, rt, pair,
                        f"open although the matrix forbids it ({ref.name} on {ref.iface} "
                        f"{verb}{how})"), src.site, target, [self.m.probes[i].label],
                        host_note, side=side)
        if blocked:
            if amask & blocked != blocked:  # an ACL denies
                for i in range(len(self.m.probes)):
                    if not (blocked >> i & 1) or amask >> i & 1:
                        continue
                    at, (ref, _, dec) = next((j, p) for j, p in enumerate(parts)
                                             if not p[1] >> i & 1)
                    bl, bt = self._rule_line(ref, dec[i])
                    self._add(("blocked", ref.host, str(bl), pair), _Agg(
                        "matrix", VIOLATION, ref.host, bl, bt, pair,
                        f"blocked although the matrix allows it ({', '.join(why)}): "
                        f"{ref.name} on {ref.iface} denies"), src.site, target,
                        [self.m.probes[i].label], host_note,
                        side=self._ref_side(split, at, ref))
            rest = blocked & amask
            if rest:  # the ACLs permit, the routing does not get there
                line = tail.line
                self._add(("unrouted", tail.host, tail.outcome, pair), _Agg(
                    "matrix", VIOLATION, tail.host, line.lineno if line else None,
                    line.text if line else None, pair,
                    f"allowed by the matrix ({', '.join(why)}) and the ACLs, but not "
                    f"routed: {tail.describe()}"), src.site, target,
                    mask_labels(rest, self.m.probes), side=self._end_side(split))

    def _latent(self, src: Party, dst: Party, mask: int, parts: list[Part], tail: Path,
                split: _Split | None) -> None:
        policy = self._policy_ref(parts)
        pair = f"{src.label} -> {dst.label}"
        if policy is None:
            return
        at, (ref, _, dec) = policy
        side = self._ref_side(split, at, ref)
        for i in range(len(self.m.probes)):
            if mask >> i & 1:
                lineno, text = self._rule_line(ref, dec[i])
                self._add(("latent", ref.host, str(lineno), pair), _Agg(
                    "matrix", WARNING, ref.host, lineno, text, pair,
                    "forbidden by the matrix and permitted by the ACL; only routing stops "
                    f"it ({tail.describe()})"), src.site, dst.label,
                    [self.m.probes[i].label], side=side, full=False)

    # ----------------------------------------------------------------- replies

    def _reply_entries(self, dst: Party, tail: Path | None) -> list[tuple[str, Interface]]:
        if dst.kind == INTERNET:
            if tail is not None and tail.outcome == "exit" and tail.iface is not None:
                return [(tail.host, self.devices[tail.host].interfaces[tail.iface])]
            return []
        if dst.site is None:
            return []
        return self.entries(dst)

    def _reply_side(self, src: Party, plan: _Plan) -> tuple[object, ...]:
        """What of the walk back to ``src`` from where ``plan`` hands over decides."""
        key = (src.key, plan.cont)
        hit = self._reply_sides.get(key)
        if hit is None:
            rest = self._rest(plan, src.rep)
            sig = self.masks.signature(src.rep)
            if isinstance(plan.step, Path):
                hit = (sig, self.routable(rest, src)[0])
            else:
                hit = (sig, self.routable(rest, src)[0], self._ref_shape(rest.acls),
                       rest.outcome)
            self._reply_sides[key] = hit
        return hit

    def _reply_verdict(self, src: Party, dst: Party, plan: _Plan) -> tuple[int, bool, bool]:
        """(mask of the replies that come back, routed, any ACL met) of the replies from
        ``dst`` entering at ``plan`` to ``src`` by the plan's hand-over: the same for every
        destination entry and source of the same classes."""
        key = (plan.cont, plan.shape, self.masks.signature(dst.rep), dst.kind == INTERNET,
               self._reply_side(src, plan))
        hit = self._reply_verdicts.get(key)
        if hit is None:
            self.work["reply_blocks"] += 1
            rtail, _ = self._handover(plan, src.rep)
            acls = (plan.entry, *rtail.acls) if plan.entry is not None else rtail.acls
            ok = self.routable(rtail, src)[0]
            rmask, _ = self.path_mask(acls, src.rep, dst.rep, True)
            hit = self._reply_verdicts[key] = (rmask if ok else 0, ok, bool(acls))
        return hit

    def _replies(self, src: Party, dst: Party, mask: int, tail: Path | None, pos: int,
                 p: int) -> None:
        """The stateless replies of the allowed probes in ``mask`` must come back."""
        entries = self._reply_entries(dst, tail)
        if not entries:
            self._ctx = _Ctx("pair", (pos, p, 1), src, dst, reply=True)
            self._reply_unknown(src, dst)
            return
        for ei, (host, iface) in enumerate(entries):
            self._ctx = _Ctx("pair", (pos, p, 1 + ei), src, dst, reply=True)
            self._reply(src, dst, mask, host, iface)

    def _reply_unknown(self, src: Party, dst: Party) -> None:
        self._add(("reply-unknown", dst.label), _Agg(
            "reply", NOTE, None, None, None, None,
            f"replies from {dst.label} are not proven: where they enter the network is "
            "not in the config text"), src.site, dst.label, [], side=OWN, full=False)

    def _reply(self, src: Party, dst: Party, mask: int, host: str, iface: Interface) -> None:
        """The replies from ``dst`` entering at ``host`` ``iface`` back to ``src``."""
        plan = self.plan(host, iface)
        s_ip, d_ip = src.rep, dst.rep
        rtail, split = self._walk(plan, s_ip)
        acls = (plan.entry, *rtail.acls) if plan.entry is not None else rtail.acls
        ok = self.routable(rtail, src)[0]
        rmask, parts = self.path_mask(acls, s_ip, d_ip, True)
        back = rmask if ok else 0
        if mask & ~back:
            self._reply_violation(src, dst, mask & ~back, ok, rtail, parts, split)
        if not acls:
            self._add(("reply-unfiltered", host, iface.name), _Agg(
                "reply", NOTE, host, iface.line.lineno, iface.line.text, None,
                f"replies from {dst.label} enter at {host} {iface.name}, and meet no "
                "ACL on their way back: that side is not filtered in this design"
                + (" (the internet firewall keeps state)" if dst.kind == INTERNET
                   else "")), src.site, dst.label, [], side=OWN, full=False)

    def _block_replies(self, sc: list[_Member], dc: _DestClass, allowed: int) -> None:
        """The replies of a block's allowed flows, grouped by the class of the entry they
        come in at and the class of the walk back to the source; each group's verdict
        once, and the findings of the groups that have any by row and column."""
        terminal = isinstance(sc[0].plan.step, Path)
        no_entry: list[int] = []
        groups: dict[tuple[int, tuple[object, ...], tuple[object, ...], int, bool],
                     list[tuple[int, str, Interface, _Plan]]] = {}
        for k, p in enumerate(dc.positions):
            dst = self.dests[p]
            if dst.kind == INTERNET and terminal:
                # the exit is each member's own gateway: one walk back per member
                for m in sc:
                    if p not in m.excluded and isinstance(m.plan.step, Path):
                        self.work["pairs"] += 1
                        self._replies(m.src, dst, allowed, m.plan.step, m.pos, p)
                continue
            entries = self._reply_entries(dst, dc.tails[k])
            if not entries:
                no_entry.append(k)
                continue
            for ei, (host, iface) in enumerate(entries):
                plan = self.plan(host, iface)
                groups.setdefault((ei, plan.cont, plan.shape, self.masks.signature(dst.rep),
                                   dst.kind == INTERNET), []).append((k, host, iface, plan))
        if no_entry:
            sub = _DestClass(-1, [dc.positions[k] for k in no_entry],
                             [dc.tails[k] for k in no_entry])
            self._sweep(sc, sub, lambda m, j: self._reply_unknown(
                m.src, self.dests[sub.positions[j]]), reply=True, entry=1)
        for (ei, *_), items in groups.items():
            self._reply_group(sc, dc, ei, items, allowed)

    def _reply_group(self, sc: list[_Member], dc: _DestClass, ei: int,
                     items: list[tuple[int, str, Interface, _Plan]], allowed: int) -> None:
        """Replies from destination entries of one class back to a source class."""
        sub = _DestClass(-1, [dc.positions[k] for k, _, _, _ in items],
                         [dc.tails[k] for k, _, _, _ in items])
        plan0 = items[0][3]
        # sources whose address an entry's gateway routes itself: walked on their own
        special: dict[int, set[int]] = {}
        if any(plan.nets for _, _, _, plan in items):
            by_rep = self._by_rep.get(id(sc))
            if by_rep is None:
                ordered = sorted(sc, key=lambda m: m.src.rep)
                by_rep = self._by_rep[id(sc)] = ([m.src.rep for m in ordered], ordered)
            reps, ordered = by_rep
            for j, (_, _, _, plan) in enumerate(items):
                for n in plan.nets:
                    lo = bisect.bisect_left(reps, n.addr)
                    hi = bisect.bisect_right(reps, n.last)
                    if lo < hi:
                        special.setdefault(j, set()).update(id(m) for m in ordered[lo:hi])
        if any(isinstance(plan.step, Handoff) for _, _, _, plan in items):
            # walks back that pass through an entry's own device: on their own
            through = self._through.get((id(sc), plan0.cont))
            if through is None:
                through = self._through[(id(sc), plan0.cont)] = {}
                for m in sc:
                    rest = self._rest(plan0, m.src.rep)
                    for h in {h for h, _ in rest.hops[1:]}:
                        through.setdefault(h, set()).add(id(m))
            for j, (_, host, _, plan) in enumerate(items):
                if isinstance(plan.step, Handoff) and host in through:
                    special.setdefault(j, set()).update(through[host])
        sides_key = (id(sc), plan0.cont)
        by_side = self._side_groups.get(sides_key)
        if by_side is None:
            by_side = {}
            for m in sc:
                by_side.setdefault(self._reply_side(m.src, plan0), []).append(m)
            self._side_groups[sides_key] = by_side
        dst0 = self.dests[sub.positions[0]]
        for xs in by_side.values():
            back, _, filtered = self._reply_verdict(xs[0].src, dst0, plan0)
            if allowed & ~back or not filtered:
                self._sweep(xs, sub, lambda m, j: self._reply(
                    m.src, self.dests[sub.positions[j]], allowed, items[j][1], items[j][2]),
                    reply=True, entry=1 + ei, skip=special)
            if not special:
                continue
            mine = {id(m): m for m in xs}
            for j, who in special.items():
                p = sub.positions[j]
                dst = self.dests[p]
                for mid in sorted(who & mine.keys(), key=lambda i: mine[i].pos):
                    m = mine[mid]
                    if p in m.excluded:
                        continue
                    self.work["pairs"] += 1
                    self._ctx = _Ctx("pair", (m.pos, p, 1 + ei), m.src, dst, reply=True)
                    self._reply(m.src, dst, allowed, items[j][1], items[j][2])

    def _reply_violation(self, src: Party, dst: Party, missing: int, routed: bool,
                         rtail: Path, parts: list[Part], split: _Split | None) -> None:
        pair = f"{src.label} -> {dst.label}"
        target = self._target(dst, True)
        if not routed:
            line = rtail.line
            self._add(("reply-unrouted", rtail.host, pair), _Agg(
                "reply", VIOLATION, rtail.host, line.lineno if line else None,
                line.text if line else None, pair,
                f"replies are not routed back: {rtail.describe()}"), src.site, target,
                mask_labels(missing, self.m.probes), side=self._end_side(split))
            return
        for i in range(len(self.m.probes)):
            if not missing >> i & 1:
                continue
            at, (ref, _, dec) = next((j, p) for j, p in enumerate(parts)
                                     if not p[1] >> i & 1)
            lineno, text = self._rule_line(ref, dec[i])
            kind = {"tcp": "TCP established", "udp": "UDP from the service port",
                    "icmp": "ICMP echo-reply"}[self.m.probes[i].proto]
            self._add(("reply", ref.host, str(lineno), pair), _Agg(
                "reply", VIOLATION, ref.host, lineno, text, pair,
                f"the stateless reply ({kind}) of an allowed flow is denied by "
                f"{ref.name} on {ref.iface}"), src.site, target, [self.m.probes[i].label],
                side=self._ref_side(split, at, ref))

    # ----------------------------------------------------------------- results

    def _finish(self) -> None:
        order = {p.label: i for i, p in enumerate(self.m.probes)}
        for a in sorted(self.aggs.values(), key=lambda a: a.order):
            probes = sorted(a.probes, key=lambda p: order.get(p, 0))
            sites = sorted(a.sites)
            targets = sorted(a.targets)
            msg = a.what
            if probes:
                msg += f"; probes {', '.join(probes)}"
            if sites:
                msg += f"; from {len(sites)} site(s): {', '.join(sites[:5])}" + (
                    ", ..." if len(sites) > 5 else "")
            if targets and a.check in ("matrix", "reply"):
                msg += f"; to {len(targets)} destination(s): {', '.join(targets[:3])}" + (
                    ", ..." if len(targets) > 3 else "")
            if a.extra:
                msg += f"; hosts {', '.join(sorted(a.extra)[:3])}"
            self.findings.append(Finding(
                a.check, a.severity, msg, a.device, a.lineno, a.line, a.pair,
                sites[0] if len(sites) == 1 else None,
                detail={"sites": sites, "destinations": targets, "probes": probes,
                        "hosts": sorted(a.extra)}))

    def cells_out(self) -> dict[tuple[str, str], Cell]:
        out: dict[tuple[str, str], Cell] = {}
        for (row, col), c in self.cells.items():
            dagger = " †" if c.assumed else ""
            if not c.pairs:
                out[(row, col)] = Cell("same zone", "same subnet", 0, 0, False)
            elif c.violations:
                out[(row, col)] = Cell("violation", "VIOLATION", c.pairs, c.violations,
                                       c.assumed)
            elif c.same_zone and c.expected == self.m.all:
                out[(row, col)] = Cell("same zone", "same zone ✓", c.pairs, 0, c.assumed)
            elif c.expected:
                specs = self.m.expected_specs(row, col)
                if c.expected == self.m.all:
                    text = "any"
                else:
                    text = ", ".join(specs) if specs else ", ".join(
                        mask_labels(c.expected, self.m.probes))
                out[(row, col)] = Cell("allowed", f"allowed ✓ ({text}){dagger}", c.pairs, 0,
                                       c.assumed)
            else:
                out[(row, col)] = Cell("denied", "denied ✓", c.pairs, 0, c.assumed)
        return out


_NOBODY = Party("", "internet", "", None, None, None, 0)
