"""The stateless replies of every allowed flow, walked back to the source.

What (``docs/verify.md``, check d, "Stateless replies"): for every allowed probe the reply
(TCP ``established``, UDP from the service port, ICMP echo-reply) enters where the
destination's packets enter — its site gateway, the core's server SVI, or for the
internet the edge interface the probe left by — and must come back through every ACL
and route to the source. A blocked reply is a violation at the denying line; a side
whose replies meet no ACL is a note (not filtered in this design).

How it scales (``docs/verify.md``, "How the proof scales", 4): the replies factor like the
forward packets with the roles swapped — the destination's entry is the own part (its
:class:`~.plans.Plan`), the walk back from its hand-over point to the source the rest.
A block's replies are grouped by the class of the entry they come in at and the class of
the walk back (:meth:`Replies.side`); each group's verdict is computed once (a *reply
block*: 364 at every estate size), and only groups with a blocked reply or an unfiltered
side are swept by rows and columns. Sources whose address an entry's gateway routes
itself, or whose walk back passes through the entry's own device, are walked on their
own.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

from nornir_tasks.verify.matrix import INTERNET, Matrix, Party, mask_labels
from nornir_tasks.verify.model import DeviceText, Interface
from nornir_tasks.verify.report import NOTE, VIOLATION
from nornir_tasks.verify.routing import Handoff, Path
from nornir_tasks.verify.zoneproof.ledger import Agg, Ctx, Ledger, target
from nornir_tasks.verify.zoneproof.masks import Part, rule_line
from nornir_tasks.verify.zoneproof.plans import (
    OWN,
    DestClass,
    Member,
    Plan,
    Plans,
    Split,
    end_side,
    ref_side,
)
from nornir_tasks.verify.zoneproof.sweep import Sweeps

Item = tuple[int, str, Interface, Plan]  # (index in the class, entry host, interface, plan)


@dataclass(eq=False)
class _Group:
    """The destinations of a destination class whose replies enter at entries of one
    class, indexed for meeting source classes: by the prefixes their entries' gateways
    route themselves, and by the entries' devices (for hand-over entries)."""

    ei: int  # which of the destination's entries
    items: list[Item]
    sub: DestClass  # the group's destinations, as a class of their own
    plan0: Plan
    nets: dict[int, tuple[int, dict[int, list[int]]]]  # plen -> (mask, addr -> items)
    ranges: list[tuple[int, int, int]]  # (item, first, last): prefixes with host bits
    hosts: dict[str, list[int]]  # hand-over entries' device -> items

    @classmethod
    def of(cls, ei: int, items: list[Item], dc: DestClass) -> _Group:
        nets: dict[int, tuple[int, dict[int, list[int]]]] = {}
        ranges: list[tuple[int, int, int]] = []
        hosts: dict[str, list[int]] = {}
        for j, (_, host, _, plan) in enumerate(items):
            for n in plan.nets:
                if n.addr & n.mask == n.addr:
                    at = nets.setdefault(n.plen, (n.mask, {}))[1].setdefault(n.addr, [])
                    if not at or at[-1] != j:
                        at.append(j)
                else:
                    ranges.append((j, n.addr, n.last))
            if isinstance(plan.step, Handoff):
                hosts.setdefault(host, []).append(j)
        sub = DestClass(-1, [dc.positions[k] for k, _, _, _ in items],
                        [dc.tails[k] for k, _, _, _ in items])
        return cls(ei, items, sub, items[0][3], nets, ranges, hosts)


@dataclass(eq=False)
class _Layout:
    """A destination class's replies: the destinations whose reply leaves by each
    source's own gateway (the internet, from terminal plans), those with no known entry,
    and the groups by entry class."""

    dc: DestClass  # kept alive: the layouts are found by its id
    internet: list[int]
    unknown: DestClass | None
    groups: list[_Group]


class Replies:
    """Proves the replies of allowed flows, one pair at a time or a block's at once."""

    def __init__(self, matrix: Matrix, devices: dict[str, DeviceText], plans: Plans,
                 ledger: Ledger, sweeps: Sweeps, dests: list[Party],
                 work: Counter[str]) -> None:
        self.m = matrix
        self.devices = devices
        self.plans = plans
        self.masks = plans.masks
        self.ledger = ledger
        self.sweeps = sweeps
        self.dests = dests
        self.work = work
        self._verdicts: dict[tuple[object, ...], tuple[int, bool, bool]] = {}
        self._sides: dict[tuple[str, tuple[object, ...]], int] = {}
        self._side_ids: dict[tuple[object, ...], int] = {}
        # id(path) -> (the path, the ACL objects it meets, its outcome)
        self._rest_shapes: dict[int, tuple[Path, tuple[object, ...], str]] = {}
        self._side_groups: dict[tuple[int, tuple[object, ...]],
                                dict[int, list[Member]]] = {}
        self._by_rep: dict[int, tuple[list[int], list[Member]]] = {}
        self._through: dict[tuple[int, tuple[object, ...]], dict[str, set[int]]] = {}
        self._by_len: dict[int, dict[int, dict[int, list[int]]]] = {}
        self._mine: dict[int, dict[int, Member]] = {}
        self._layouts: dict[tuple[int, bool], _Layout] = {}

    def entries(self, dst: Party, tail: Path | None) -> list[tuple[str, Interface]]:
        if dst.kind == INTERNET:
            if tail is not None and tail.outcome == "exit" and tail.iface is not None:
                return [(tail.host, self.devices[tail.host].interfaces[tail.iface])]
            return []
        if dst.site is None:
            return []
        return self.plans.entries(dst)

    def side(self, src: Party, plan: Plan) -> int:
        """What of the walk back to ``src`` from where ``plan`` hands over decides (an
        ordinal of: the source's address class, whether the walk surely reaches it, and
        for a hand-over the ACL objects met and the walk's outcome)."""
        key = (src.key, plan.cont)
        hit = self._sides.get(key)
        if hit is None:
            rest = self.plans.rest(plan, src.rep)
            sig = self.masks.signature(src.rep)
            routed = self.plans.routable(rest, src)[0]
            if isinstance(plan.step, Path):
                what: tuple[object, ...] = (sig, routed)
            else:
                shape = self._rest_shapes.get(id(rest))
                if shape is None or shape[0] is not rest:
                    shape = self._rest_shapes[id(rest)] = (
                        rest, self.plans.ref_shape(rest.acls), rest.outcome)
                what = (sig, routed, shape[1], shape[2])
            hit = self._sides[key] = self._side_ids.setdefault(what, len(self._side_ids))
        return hit

    def verdict(self, src: Party, dst: Party, plan: Plan) -> tuple[int, bool, bool]:
        """(mask of the replies that come back, routed, any ACL met) of the replies from
        ``dst`` entering at ``plan`` to ``src`` by the plan's hand-over: the same for every
        destination entry and source of the same classes."""
        key = (plan.cont, plan.shape, self.masks.signature(dst.rep), dst.kind == INTERNET,
               self.side(src, plan))
        hit = self._verdicts.get(key)
        if hit is None:
            self.work["reply_blocks"] += 1
            rtail, _ = self.plans.handover(plan, src.rep)
            acls = (plan.entry, *rtail.acls) if plan.entry is not None else rtail.acls
            ok = self.plans.routable(rtail, src)[0]
            rmask, _ = self.masks.path_mask(acls, src.rep, dst.rep, True)
            hit = self._verdicts[key] = (rmask if ok else 0, ok, bool(acls))
        return hit

    def replies(self, src: Party, dst: Party, mask: int, tail: Path | None, pos: int,
                p: int) -> None:
        """The stateless replies of the allowed probes in ``mask`` must come back (one-way
        flows, such as syslog, have none)."""
        mask &= self.m.replied(src, dst)
        if not mask:
            return
        entries = self.entries(dst, tail)
        if not entries:
            self.ledger.ctx = Ctx("pair", (pos, p, 1), src, dst, reply=True)
            self.unknown(src, dst)
            return
        for ei, (host, iface) in enumerate(entries):
            self.ledger.ctx = Ctx("pair", (pos, p, 1 + ei), src, dst, reply=True)
            self.reply(src, dst, mask, host, iface)

    def unknown(self, src: Party, dst: Party) -> None:
        self.ledger.add(("reply-unknown", dst.label), Agg(
            "reply", NOTE, None, None, None, None,
            f"replies from {dst.label} are not proven: where they enter the network is "
            "not in the config text"), src.site, dst.label, [], side=OWN, full=False)

    def reply(self, src: Party, dst: Party, mask: int, host: str, iface: Interface) -> None:
        """The replies from ``dst`` entering at ``host`` ``iface`` back to ``src``."""
        plan = self.plans.plan(host, iface)
        s_ip, d_ip = src.rep, dst.rep
        rtail, split = self.plans.walk(plan, s_ip)
        acls = (plan.entry, *rtail.acls) if plan.entry is not None else rtail.acls
        ok = self.plans.routable(rtail, src)[0]
        rmask, parts = self.masks.path_mask(acls, s_ip, d_ip, True)
        back = rmask if ok else 0
        if mask & ~back:
            self._violation(src, dst, mask & ~back, ok, rtail, parts, split)
        if not acls:
            self.ledger.add(("reply-unfiltered", host, iface.name), Agg(
                "reply", NOTE, host, iface.line.lineno, iface.line.text, None,
                f"replies from {dst.label} enter at {host} {iface.name}, and meet no "
                "ACL on their way back: that side is not filtered in this design"
                + (" (the internet firewall keeps state)" if dst.kind == INTERNET
                   else "")), src.site, dst.label, [], side=OWN, full=False)

    def block(self, sc: list[Member], dc: DestClass, allowed: int) -> None:
        """The replies of a block's allowed flows, grouped by the class of the entry they
        come in at and the class of the walk back to the source; each group's verdict
        once, and the findings of the groups that have any by row and column."""
        # the matrix decides by class: one member and one destination stand for the block
        allowed &= self.m.replied(sc[0].src, self.dests[dc.positions[0]])
        if not allowed:
            return
        lay = self._layout(dc, isinstance(sc[0].plan.step, Path))
        for k in lay.internet:
            # the exit is each member's own gateway: one walk back per member
            p = dc.positions[k]
            dst = self.dests[p]
            for m in sc:
                if p not in m.excluded and isinstance(m.plan.step, Path):
                    self.work["pairs"] += 1
                    self.replies(m.src, dst, allowed, m.plan.step, m.pos, p)
        unknown = lay.unknown
        if unknown is not None:
            self.sweeps.sweep(sc, unknown, lambda m, j: self.unknown(
                m.src, self.dests[unknown.positions[j]]), reply=True, entry=1)
        for g in lay.groups:
            self._group(sc, g, allowed)

    def _layout(self, dc: DestClass, terminal: bool) -> _Layout:
        """Where the replies of a destination class's destinations enter, grouped by the
        entry's class: the same for every source class that meets the destination class
        (computed once; ``terminal``: the sources' walks end at their own gateway)."""
        key = (id(dc), terminal)
        hit = self._layouts.get(key)
        if hit is not None and hit.dc is dc:
            return hit
        internet: list[int] = []
        no_entry: list[int] = []
        groups: dict[tuple[int, tuple[object, ...], tuple[object, ...], int, bool],
                     list[tuple[int, str, Interface, Plan]]] = {}
        for k, p in enumerate(dc.positions):
            dst = self.dests[p]
            if dst.kind == INTERNET and terminal:
                internet.append(k)
                continue
            entries = self.entries(dst, dc.tails[k])
            if not entries:
                no_entry.append(k)
                continue
            for ei, (host, iface) in enumerate(entries):
                plan = self.plans.plan(host, iface)
                groups.setdefault((ei, plan.cont, plan.shape, self.masks.signature(dst.rep),
                                   dst.kind == INTERNET), []).append((k, host, iface, plan))
        unknown = DestClass(-1, [dc.positions[k] for k in no_entry],
                            [dc.tails[k] for k in no_entry]) if no_entry else None
        hit = self._layouts[key] = _Layout(dc, internet, unknown, [
            _Group.of(ei, items, dc) for (ei, *_), items in groups.items()])
        return hit

    def _group(self, sc: list[Member], g: _Group, allowed: int) -> None:
        """Replies from destination entries of one class back to a source class."""
        sub, items, plan0 = g.sub, g.items, g.plan0
        special = self._special(sc, g)
        sides_key = (id(sc), plan0.cont)
        by_side = self._side_groups.get(sides_key)
        if by_side is None:
            by_side = {}
            for m in sc:
                by_side.setdefault(self.side(m.src, plan0), []).append(m)
            self._side_groups[sides_key] = by_side
        dst0 = self.dests[sub.positions[0]]
        for xs in by_side.values():
            back, _, filtered = self.verdict(xs[0].src, dst0, plan0)
            if allowed & ~back or not filtered:
                self.sweeps.sweep(xs, sub, lambda m, j: self.reply(
                    m.src, self.dests[sub.positions[j]], allowed, items[j][1], items[j][2]),
                    reply=True, entry=1 + g.ei, skip=special)
            if not special:
                continue
            mine = self._mine.get(id(xs))
            if mine is None:
                mine = self._mine[id(xs)] = {id(m): m for m in xs}
            for j, who in special.items():
                p = sub.positions[j]
                dst = self.dests[p]
                for mid in sorted(who & mine.keys(), key=lambda i: mine[i].pos):
                    m = mine[mid]
                    if p in m.excluded:
                        continue
                    self.work["pairs"] += 1
                    self.ledger.ctx = Ctx("pair", (m.pos, p, 1 + g.ei), m.src, dst, reply=True)
                    self.reply(m.src, dst, allowed, items[j][1], items[j][2])

    def _special(self, sc: list[Member], g: _Group) -> dict[int, set[int]]:
        """Per destination of the group (its index there): the ids of the members whose
        replies from it are walked on their own — those whose address the entry's gateway
        routes itself, and those whose walk back passes through the entry's own device.

        How it scales: the group's prefixes and devices are indexed once; a source
        class's addresses (per prefix length) and devices passed once; each group then
        meets a source class by intersecting the two (hash sets, not a scan of either).
        """
        by_nets: dict[int, set[int]] = {}
        if g.nets:
            masked = self._masked(sc)
            for plen, (mask, at) in g.nets.items():
                mine = masked.get(plen)
                if mine is None:
                    mine = masked[plen] = {}
                    for m in sc:
                        mine.setdefault(m.src.rep & mask, []).append(id(m))
                for addr in at.keys() & mine.keys():
                    for j in at[addr]:
                        by_nets.setdefault(j, set()).update(mine[addr])
        if g.ranges:  # prefixes with host bits set: by address range, as they read
            reps, ordered = self._ordered(sc)
            for j, first, last in g.ranges:
                lo = bisect.bisect_left(reps, first)
                hi = bisect.bisect_right(reps, last)
                if lo < hi:
                    by_nets.setdefault(j, set()).update(id(m) for m in ordered[lo:hi])
        by_host: dict[int, set[int]] = {}
        if g.hosts:
            through = self._through.get((id(sc), g.plan0.cont))
            if through is None:
                through = self._through[(id(sc), g.plan0.cont)] = {}
                for m in sc:
                    rest = self.plans.rest(g.plan0, m.src.rep)
                    for h in {h for h, _ in rest.hops[1:]}:
                        through.setdefault(h, set()).add(id(m))
            for host in through.keys() & g.hosts.keys():
                for j in g.hosts[host]:
                    by_host[j] = through[host]
        # in the order the entries are listed: by prefix first, then by device
        special = {j: set(by_nets[j]) for j in sorted(by_nets)}
        for j in sorted(by_host):
            special.setdefault(j, set()).update(by_host[j])
        return special

    def _masked(self, sc: list[Member]) -> dict[int, dict[int, list[int]]]:
        """Per prefix length: the source class's member ids by their masked address."""
        hit = self._by_len.get(id(sc))
        if hit is None:
            hit = self._by_len[id(sc)] = {}
        return hit

    def _ordered(self, sc: list[Member]) -> tuple[list[int], list[Member]]:
        """The source class's members by address, and their addresses."""
        by_rep = self._by_rep.get(id(sc))
        if by_rep is None:
            ordered = sorted(sc, key=lambda m: m.src.rep)
            by_rep = self._by_rep[id(sc)] = ([m.src.rep for m in ordered], ordered)
        return by_rep

    def _violation(self, src: Party, dst: Party, missing: int, routed: bool,
                   rtail: Path, parts: list[Part], split: Split | None) -> None:
        pair = f"{src.label} -> {dst.label}"
        dest = target(dst, True)
        if not routed:
            line = rtail.line
            self.ledger.add(("reply-unrouted", rtail.host, pair), Agg(
                "reply", VIOLATION, rtail.host, line.lineno if line else None,
                line.text if line else None, pair,
                f"replies are not routed back: {rtail.describe()}"), src.site, dest,
                mask_labels(missing, self.m.probes), side=end_side(split))
            return
        for i in range(len(self.m.probes)):
            if not missing >> i & 1:
                continue
            at, (ref, _, dec) = next((j, p) for j, p in enumerate(parts)
                                     if not p[1] >> i & 1)
            lineno, text = rule_line(ref, dec[i])
            kind = {"tcp": "TCP established", "udp": "UDP from the service port",
                    "icmp": "ICMP echo-reply"}[self.m.probes[i].proto]
            self.ledger.add(("reply", ref.host, str(lineno), pair), Agg(
                "reply", VIOLATION, ref.host, lineno, text, pair,
                f"the stateless reply ({kind}) of an allowed flow is denied by "
                f"{ref.name} on {ref.iface}"), src.site, dest, [self.m.probes[i].label],
                side=ref_side(split, at, ref))
