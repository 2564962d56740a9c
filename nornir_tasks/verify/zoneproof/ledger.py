"""The proof's accounts: findings gathered by key, and the matrix cells.

Why: the proof evaluates most pairs in blocks and the rest one by one, along a violated
block's row and column (:mod:`~nornir_tasks.verify.zoneproof.sweep`). A finding must
still read as if every pair had been walked on its own: reported once per key (check,
device, line, zone pair), with every site, destination and probe it concerns and the
message of the first pair that found it, in the order sources, entries and destinations
are listed (``docs/verify.md``, "How the proof scales", 3).

How: the pair being evaluated is described by a :class:`Ctx` (set by whoever walks it:
one pair, a row, a column, or quiet for a verdict alone); :meth:`Ledger.add` records a
finding of that pair as the context says, a row or column adding the sites or
destinations of all the pairs its pair stands for (:class:`Scope`) — only the difference
to what the sweep already added, so each pair costs what it lacks, not the block's size.
Cells count pairs ``n`` at a time (:meth:`Ledger.account`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from nornir_tasks.verify.matrix import Matrix, Party, mask_labels
from nornir_tasks.verify.report import Cell, Finding
from nornir_tasks.verify.routing import Path
from nornir_tasks.verify.zoneproof.plans import NEITHER, OWN


@dataclass(frozen=True, slots=True)
class Res:
    """The outcome of one source towards one destination."""

    ok: bool  # nothing to report
    violated: bool
    expected: int
    observed: int
    assumed: bool
    same_zone: bool
    tail: Path


@dataclass
class Agg:
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
class CellAcc:
    expected: int = 0
    observed: int = 0
    pairs: int = 0
    violations: int = 0
    assumed: bool = False
    same_zone: bool = False
    local: int = 0  # pairs inside one subnet (never routed, not evaluated)


@dataclass(eq=False)
class Scope:
    """The pairs one pair of a sweep stands for: the sources (a column) or destinations
    (a row) of its block that it shares its findings with."""

    token: int  # the sweep
    everyone: Callable[[bool], Counter[str]]  # all sites (column) or targets (row)
    lacking: Callable[[bool], Counter[str]]  # those of the pairs not in the block


@dataclass(eq=False)
class Ctx:
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
    scope: Scope | None = None
    recorded: set[str] = field(default_factory=set)  # "row" / "column" adds seen
    #: row mode: the keys recorded that depend on neither end (key, full target), and
    #: whether any depends on the source
    shared: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)
    own: bool = False


NOBODY = Party("", "internet", "", None, None, None, 0)


def quiet() -> Ctx:
    """A context that records nothing, and holds no sweep's closures."""
    return Ctx("quiet", (0, 0, 0), NOBODY, NOBODY)


def target(dst: Party, full: bool) -> str:
    """How a finding names a destination: in full, or by its column."""
    if not full:
        return dst.label
    return dst.describe() if dst.kind != "zone" else f"{dst.label}@{dst.site}"


class Ledger:
    """Findings by key and cells by zone pair, as the pairs are evaluated."""

    def __init__(self, matrix: Matrix) -> None:
        self.m = matrix
        self.aggs: dict[tuple[str, ...], Agg] = {}
        self.cells: dict[tuple[str, str], CellAcc] = {}
        self.pairs = 0
        #: the pair being evaluated (see :class:`Ctx`); whoever walks a pair sets it
        self.ctx = quiet()
        self._holes: dict[tuple[object, ...], set[str]] = {}

    # ----------------------------------------------------------------- findings

    def add(self, key: tuple[str, ...], agg: Agg, site: str | None, target: str,
            probes: list[str], extra: str | None = None, side: str = NEITHER,
            full: bool = True) -> None:
        """Record a finding of the pair in ``self.ctx`` (see :class:`Ctx`).

        ``side``: which part of the pair the key depends on; ``full``: the target is the
        destination in full (else its column).
        """
        ctx = self.ctx
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
            self.cover(a.targets, (key, scope.token, full), scope, full)
        elif mode == "column":
            assert scope is not None
            a.targets.add(target)
            self.cover(a.sites, (key, scope.token, "sites"), scope, False)
        else:
            if site:
                a.sites.add(site)
            a.targets.add(target)
        a.probes.update(probes)
        if extra:
            a.extra.add(extra)

    def cover(self, into: set[str], token: tuple[object, ...], scope: Scope,
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

    def findings(self) -> list[Finding]:
        """Every finding gathered, in the order of the first pair that found it."""
        out: list[Finding] = []
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
            out.append(Finding(
                a.check, a.severity, msg, a.device, a.lineno, a.line, a.pair,
                sites[0] if len(sites) == 1 else None,
                detail={"sites": sites, "destinations": targets, "probes": probes,
                        "hosts": sorted(a.extra)}))
        return out

    # ----------------------------------------------------------------- cells

    def cell(self, src: Party, dst: Party) -> CellAcc:
        key = (src.label, dst.label)
        c = self.cells.get(key)
        if c is None:
            c = self.cells[key] = CellAcc()
        return c

    def account(self, src: Party, dst: Party, res: Res, n: int = 1,
                columns: dict[str, list[int]] | None = None) -> None:
        """Count ``n`` pairs of ``src``'s row and ``dst``'s column with this outcome."""
        if n <= 0:
            return
        cell = self.cell(src, dst)
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
