"""Source classes x destination classes: each block's verdict once, for all its pairs.

Why (``docs/verify.md``, "How the proof scales", 2): a pair's verdict is a function of the
ACL objects met (and which sits on a core), the ACL prefixes the source's and
destination's addresses fall in, the walk's outcome and whether the destination is
located in the text. Members with the same *source class* — kind, label, zone, address
classes, the same ACL objects on their own part, the same hand-over point — meet the
same verdict towards every destination with the same *destination class* for that
hand-over point — kind, label, zone, address classes, the same ACL objects on the rest of
the walk, the same outcome, routability and crossings.

How it scales: the destinations are walked once per hand-over point (linear in
destinations; :meth:`Blocks.destinations_from`), one evaluation per *block* (source class
x destination class) gives the verdict of all its pairs, counted at once in the cells and
in each member's column checks — less the pairs excluded from its blocks (destinations
in its own subnet, those its gateway routes itself, walks that come back through its
gateway), which are walked and counted one by one (:meth:`Blocks.explicit_pair`). Only a
block that is not clean is swept by row and column for its findings; a party split by an
ACL prefix is walked pair by pair.
"""

from __future__ import annotations

from collections import Counter

from nornir_tasks.verify.matrix import INTERNET, Party
from nornir_tasks.verify.routing import Handoff, Path
from nornir_tasks.verify.zoneproof.ledger import Ctx, Ledger, Res
from nornir_tasks.verify.zoneproof.pair import Verdicts
from nornir_tasks.verify.zoneproof.plans import DestClass, Member, Plan, Plans
from nornir_tasks.verify.zoneproof.replies import Replies
from nornir_tasks.verify.zoneproof.sweep import Sweeps


class Blocks:
    """Evaluates the forward pairs: by blocks of classes, or one by one."""

    def __init__(self, plans: Plans, verdicts: Verdicts, replies: Replies, ledger: Ledger,
                 sweeps: Sweeps, dests: list[Party], work: Counter[str]) -> None:
        self.plans = plans
        self.verdicts = verdicts
        self.replies = replies
        self.ledger = ledger
        self.sweeps = sweeps
        self.dests = dests
        self.work = work
        self._dest_classes: dict[tuple[object, ...], tuple[
            list[DestClass], list[int], dict[str, list[int]]]] = {}
        self._rests: dict[int, tuple[tuple[str, ...], int, int]] = {}  # id(path) -> info
        self._end_ids: dict[tuple[str, bool], int] = {}
        self._reach: dict[tuple[int, int], int] = {}
        self._reach_ids: dict[tuple[bool, bool, bool], int] = {}
        self._ends: list[int] = []
        self._shape_ids: dict[tuple[object, ...], int] = {}  # what of a path decides
        self._owns: list[int] | None = None
        self._groups: dict[tuple[int, int], list[int]] = {}  # (own, target) -> positions
        self._reps = [d.rep for d in dests]

    # ----------------------------------------------------------------- classes

    def source_class(self, m: Member) -> tuple[object, ...]:
        """Members of one class meet the same verdict towards every destination their
        gateways hand over: the same source class (addresses), the same ACL objects on
        their own part, the same hand-over point."""
        plans = self.plans
        own = ("split", m.pos) if len(plans.addresses(m.src)) > 1 else plans.class_of(m.src)
        return (own, m.plan.cont, m.plan.shape)

    def destinations_from(self, plan: Plan) -> tuple[list[DestClass], list[int],
                                                      dict[str, list[int]]]:
        """The destination classes for walks that continue where ``plan`` hands over, each
        destination's class index, and per device the destinations whose walk from there
        passes through it.

        How it scales: the destinations that only the default route holds at the hand-over
        point, where it ends their walk, take one path (:meth:`Plans.shared_walk`): their
        classes follow from their own classes alone, a group at a time; the others are
        walked one by one. The classes are numbered, and their destinations listed, in
        the order of the destinations (as one walk over them would find them).
        """
        hit = self._dest_classes.get(plan.cont)
        if hit is not None:
            return hit
        owns, ends = self._own_classes()
        reps = self._reps
        n = len(reps)
        terminal = isinstance(plan.step, Path)
        walk = self.plans.walker(plan)
        walked, shared = self.plans.shared_walk(plan, reps)
        found: dict[tuple[int, ...], list[int]] = {}  # key -> positions (unordered)
        own_rest: dict[int, Path] = {}  # position -> its walk, for those walked
        revisit: dict[str, list[int]] = {}
        rests = self._rests
        reach = self._reach
        for i in walked:
            rest = own_rest[i] = walk(reps[i])
            info = rests.get(id(rest))
            if info is None:
                info = self._rest_info(rest)
            hosts, shape, end = info
            for h in hosts:
                revisit.setdefault(h, []).append(i)
            routed = reach.get((end, ends[i]))
            if routed is None:
                routed = self._reach_of(end, ends[i], rest, self.dests[i])
            key = (owns[i], routed) if terminal else (owns[i], routed, shape)
            found.setdefault(key, []).append(i)
        if shared is not None:
            _, shape, end = rests.get(id(shared)) or self._rest_info(shared)
            for (own, target), group in self._groups.items():
                rest_of = group if not own_rest else [i for i in group if i not in own_rest]
                if not rest_of:
                    continue
                routed = reach.get((end, target))
                if routed is None:
                    routed = self._reach_of(end, target, shared, self.dests[rest_of[0]])
                key = (own, routed) if terminal else (own, routed, shape)
                found.setdefault(key, []).extend(rest_of)
        index = [0] * n
        classes: list[DestClass] = []
        for positions in sorted(found.values(), key=min):
            positions.sort()
            c = len(classes)
            if shared is None:
                tails = [own_rest[p] for p in positions]
            elif own_rest:
                tails = [own_rest.get(p, shared) for p in positions]
            else:
                tails = [shared] * len(positions)
            classes.append(DestClass(c, positions, tails))
            for p in positions:
                index[p] = c
        out = (classes, index, revisit)
        self._dest_classes[plan.cont] = out
        self.work["walks"] += n
        self.work["destination_classes"] += len(classes)
        return out

    def _own_classes(self) -> tuple[list[int], list[int]]:
        """Per destination its class (an ordinal; a party split by an ACL prefix is a
        class of its own) and what of it decides whether a walk reaches it (an ordinal
        of: the internet or not, located in the text or not); and the destinations by
        both, once for every hand-over point."""
        if self._owns is None:
            plans = self.plans
            ids: dict[tuple[object, ...], int] = {}
            self._owns = [-1 - i if len(plans.addresses(d)) > 1 else
                          ids.setdefault(plans.class_of(d), len(ids))
                          for i, d in enumerate(self.dests)]
            self._ends = [2 * (d.kind == INTERNET) + plans.located(d) for d in self.dests]
            for i, key in enumerate(zip(self._owns, self._ends, strict=True)):
                self._groups.setdefault(key, []).append(i)
        return self._owns, self._ends

    def _rest_info(self, rest: Path) -> tuple[tuple[str, ...], int, int]:
        """(the devices a walk passes after its first hop; an ordinal of what of it
        decides a block: the ACL objects met, crossings, outcome, whether a core
        filters; an ordinal of what of it decides whether it reaches a destination: its
        outcome, whether it ends on a core), once per path object (the walks of one
        route share theirs; ``dc.tails`` keeps them alive, so their ids stay theirs)."""
        plans = self.plans
        hosts = tuple({h: None for h, _ in rest.hops[1:]}) if len(rest.hops) > 1 else ()
        shape = (plans.ref_shape(rest.acls), len(rest.crossings), rest.outcome,
                 any(h in plans.cores and f for h, f in rest.hops))
        end = (rest.outcome, rest.host in plans.cores)
        info = self._rests[id(rest)] = (
            hosts, self._shape_ids.setdefault(shape, len(self._shape_ids)),
            self._end_ids.setdefault(end, len(self._end_ids)))
        return info

    def _reach_of(self, end: int, target: int, rest: Path, d: Party) -> int:
        """:meth:`Plans.routable` of a walk towards a destination, as an ordinal: a
        function of the walk's outcome and whether it ends on a core, and of whether the
        destination is the internet and is located (the memo's key)."""
        routed = self._reach[(end, target)] = self._reach_ids.setdefault(
            self.plans.routable(rest, d), len(self._reach_ids))
        return routed

    # ----------------------------------------------------------------- blocks

    def run(self, sc: list[Member]) -> None:
        """One source class towards every destination class of its hand-over point."""
        dcs, index, revisit = self.destinations_from(sc[0].plan)
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

    def _blockwise(self, sc: list[Member], dc: DestClass) -> bool:
        """Is the block counted as a whole (no party in it split by an ACL prefix)?"""
        return len(self.plans.addresses(sc[0].src)) == 1 and \
            len(self.plans.addresses(self.dests[dc.positions[0]])) == 1

    def _block(self, sc: list[Member], dc: DestClass, removed: int) -> Res | None:
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
                        self.explicit_pair(m, p, dc.tails[k])
            return None
        self.ledger.ctx = Ctx("quiet", (0, 0, 0), m0.src, d0)
        path, split = self.plans.handover(m0.plan, d0.rep, dc.tails[0])
        res = self.verdicts.evaluate(m0.src, d0, m0.plan, path, split)
        self.ledger.account(m0.src, d0, res, len(sc) * len(dc.positions) - removed)
        if not res.ok:
            self.sweeps.sweep(sc, dc, lambda m, k: self._forward_pair(m, dc, k),
                              reply=False, entry=0)
        if res.expected & res.observed:
            self.replies.block(sc, dc, res.expected & res.observed)
        return res

    def _forward_pair(self, m: Member, dc: DestClass, k: int) -> None:
        dst = self.dests[dc.positions[k]]
        path, split = self.plans.handover(m.plan, dst.rep, dc.tails[k])
        self.verdicts.evaluate(m.src, dst, m.plan, path, split)

    def explicit_pair(self, m: Member, p: int, rest: Path | None = None) -> None:
        """One source towards one destination on its own: counted, findings, replies."""
        self.work["pairs"] += 1
        dst = self.dests[p]
        self.ledger.ctx = Ctx("pair", (m.pos, p, 0), m.src, dst)
        path, split = self.plans.walk(m.plan, dst.rep, rest)
        res = self.verdicts.evaluate(m.src, dst, m.plan, path, split)
        self.ledger.account(m.src, dst, res, 1, m.columns)
        allowed = res.expected & res.observed
        if allowed:
            self.replies.replies(m.src, dst, allowed, res.tail, m.pos, p)
