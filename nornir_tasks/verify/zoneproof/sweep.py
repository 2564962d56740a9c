"""The findings of a block, found by one row and one column of its pairs.

Why this finds every finding (``docs/verify.md``, "How the proof scales", 3): a pair's
path is the source's own part followed by the destination's rest, so a finding's key
depends on the class alone (an ACL line: the same objects, the same decisions), on the
source's own part (its ingress interface with no ACL, its undefined ACL's access-group
line, its gateway's route, the end of a walk that ends at its gateway) or on the
destination's rest (the device a walk ends at, a route on the way, an access-group on the
rest) — never on both. The pairs that find a key are therefore a product: its sources x
all the block's destinations, or all the block's sources x its destinations (less the
pairs not in the block). Walking each source with its first destination (a *row*) finds
the keys of the source's part and of the class, for all its destinations; each
destination with its first source (a *column*) the keys of the destination's part, for
all its sources. Backwards (the replies) the roles swap: the destination owns the entry.

How it scales: a violated block costs one pair per source and one per destination, not
their product; when the first source of a row finds only class-wide keys, the other
sources share them without a walk, and a row or column that records nothing by source
(or by destination) stops after its first pair.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from nornir_tasks.verify.matrix import Party
from nornir_tasks.verify.zoneproof.ledger import Ctx, Ledger, Scope, target
from nornir_tasks.verify.zoneproof.plans import DestClass, Member


class Sweeps:
    """Walks the rows and columns of blocks, recording their findings in the ledger."""

    def __init__(self, ledger: Ledger, dests: list[Party], work: Counter[str]) -> None:
        self.ledger = ledger
        self.dests = dests
        self.work = work
        self._sweeps = 0

    def sweep(self, sc: list[Member], dc: DestClass, pair: Callable[[Member, int], None],
              reply: bool, entry: int, skip: dict[int, set[int]] | None = None) -> None:
        """Record the findings of every pair of a block by walking one pair per source
        (with its first destination: the findings whose key does not depend on the
        destination, for all its destinations at once) and one pair per destination (with
        its first source: the findings whose key does not depend on the source, for all
        its sources at once). ``pair(m, k)`` evaluates the member towards the block's
        k-th destination; ``skip``: k -> ids of members whose pair is not in the block
        (besides the members' own exclusions)."""
        ledger = self.ledger
        positions = dc.positions
        at = {p: k for k, p in enumerate(positions)}
        absent: dict[int, list[Member]] = {}  # k -> members without that pair
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
                    target(self.dests[p], full) for p in positions)
            return hit

        def row(m: Member) -> Scope:
            gone = lacks.get(id(m), set())
            return Scope(token, targets, lambda full: Counter(
                target(self.dests[positions[k]], full) for k in gone))

        def column(k: int) -> Scope:
            return Scope(token, lambda _: sites_all, lambda _: Counter(
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
                    a = ledger.aggs[key]
                    if m.src.site:
                        a.sites.add(m.src.site)
                    ledger.cover(a.targets, (key, token, full), scope, full)
                continue
            self.work["pairs"] += 1
            ledger.ctx = Ctx("row", (m.pos, positions[kk], entry), m.src,
                             self.dests[positions[kk]], reply, scope=scope)
            pair(m, kk)
            if "row" not in ledger.ctx.recorded:
                break  # the same findings for every pair: none by source
            if not ledger.ctx.own:
                shared = ledger.ctx.shared
        for k in range(len(positions)):  # one pair per destination: with its first source
            without = {id(m) for m in absent.get(k, ())}
            first = next((m for m in sc if id(m) not in without), None)
            if first is None:
                continue
            self.work["pairs"] += 1
            ledger.ctx = Ctx("column", (first.pos, positions[k], entry), first.src,
                             self.dests[positions[k]], reply, scope=column(k))
            pair(first, k)
            if "column" not in ledger.ctx.recorded:
                break
