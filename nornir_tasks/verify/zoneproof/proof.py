"""The proof run: sources, their entries and members, then the blocks, then the accounts.

:class:`Proof` is what :func:`nornir_tasks.verify.verify` runs for check d. It lists the
sources and destinations of the matrix, finds where each source enters (a *member* per
entry interface), checks each zone's policy point, takes out of each member's blocks the
destinations it must walk on its own, and hands the rest to
:class:`~.blocks.Blocks` by source class; it then writes each member's column checks and
the findings, and gives the cells to the report.

How it scales: everything here is linear in the members (sources x entries); the
quadratic pairs are counted by blocks (:mod:`~.blocks`), never listed. With
:attr:`Proof.PAIR_BY_PAIR` it walks every member towards every destination on its own
instead — the definition the factored proof is tested against
(``tests/verify/test_verify_scaling.py``), quadratic.
"""

from __future__ import annotations

import bisect
from collections import Counter

from nornir_tasks.intent.loader import Intent
from nornir_tasks.verify.matrix import INTERNET, Matrix, Party
from nornir_tasks.verify.model import DeviceText
from nornir_tasks.verify.report import NOTE, VIOLATION, Cell, CheckResult, Finding
from nornir_tasks.verify.routing import Network
from nornir_tasks.verify.zoneproof.blocks import Blocks
from nornir_tasks.verify.zoneproof.ledger import Agg, Ctx, Ledger, quiet
from nornir_tasks.verify.zoneproof.masks import AclMasks, acl_nets
from nornir_tasks.verify.zoneproof.pair import Verdicts
from nornir_tasks.verify.zoneproof.plans import Member, Plans
from nornir_tasks.verify.zoneproof.replies import Replies
from nornir_tasks.verify.zoneproof.sweep import Sweeps


class Proof:
    """Runs check d over every source and destination; fills the report's matrix."""

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
        self.ledger = Ledger(matrix)
        self.cells = self.ledger.cells
        self.checks: list[CheckResult] = []
        self.findings: list[Finding] = []
        self._by_column: dict[str, list[int]] = {}
        self.probe_count = 0
        #: how much was evaluated: blocks (source class x destination class) and reply
        #: blocks are the core-level evaluations; pairs are evaluated one by one only
        #: where a gateway routes a destination itself, for a violated block's row and
        #: column, or for a party split by an ACL prefix
        self.work: Counter[str] = Counter()
        self.masks = AclMasks(matrix, acl_nets(devices))
        self.dests: list[Party] = []

    @property
    def pairs(self) -> int:
        """Zone pairs proven (pairs inside one subnet are not)."""
        return self.ledger.pairs

    def run(self) -> None:
        sources = self.m.sources()
        dests = self.dests = self.m.destinations()
        internet = next(d for d in dests if d.kind == INTERNET)
        for i, d in enumerate(dests):
            self._by_column.setdefault(d.label, []).append(i)
        plans = Plans(self.intent, self.m, self.devices, self.net, self.cores, self.masks,
                      self.PAIR_BY_PAIR)
        plans.index([p.rep for p in (*sources, *dests)])
        sweeps = Sweeps(self.ledger, dests, self.work)
        replies = Replies(self.m, self.devices, plans, self.ledger, sweeps, dests, self.work)
        blocks = Blocks(plans, Verdicts(self.m, self.devices, self.cores, plans, self.ledger),
                        replies, self.ledger, sweeps, dests, self.work)
        members: list[Member] = []
        pos = 0
        for src in sources:
            pos += 1
            if src.site is None:
                self._unlocated_source(replies, src, dests, pos)
                continue
            entries = plans.entries(src)
            if not entries:
                self.findings.append(Finding(
                    "vrf", VIOLATION, f"no interface on the site gateway holds {src.label}'s "
                    f"prefix {src.net}: the zone has no gateway", plans.gateway(src.site),
                    site=src.site))
                continue
            for host, iface in entries:
                m = Member(pos, src, host, iface, plans.plan(host, iface))
                pos += 1
                self._policy_point(plans, m, internet)
                members.append(m)
        self.work["members"] = len(members)
        self._exclusions(members)
        if self.PAIR_BY_PAIR:
            for m in members:
                for p in range(len(dests)):
                    if p not in m.local:
                        blocks.explicit_pair(m, p)
        else:
            classes: dict[tuple[object, ...], list[Member]] = {}
            for m in members:
                classes.setdefault(blocks.source_class(m), []).append(m)
            self.work["source_classes"] = len(classes)
            for sc in classes.values():
                blocks.run(sc)
            for m in members:
                for p in m.specials:
                    blocks.explicit_pair(m, p)
        for m in members:
            self.checks += m.checks
            self._column_checks(m)
        self.probe_count = self.pairs * len(self.m.probes)
        self.findings += self.ledger.findings()
        self.ledger.ctx = quiet()  # no closures over the sweeps

    def _exclusions(self, members: list[Member]) -> None:
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
                self.ledger.cell(m.src, self.dests[i]).local += 1

    def _policy_point(self, plans: Plans, m: Member, internet: Party) -> None:
        """The zone's first interface on a core must filter what enters (check d)."""
        src, host = m.src, m.host
        if src.kind != "zone":
            return
        path, _ = plans.walk(m.plan, internet.rep)
        hops = ((host, m.iface.name), *path.hops[1:])
        core_hop = next(((h, i) for h, i in hops if h in self.cores and i), None)
        if core_hop is None:
            return
        core, ifname = core_hop
        intf = self.devices[core].interfaces[ifname]
        subject = f"{core} {ifname} ({src.label} from {src.site})"
        self.ledger.ctx = Ctx("pair", (m.pos, -1, 0), src, internet)
        if intf.acl_in is None:
            m.checks.append(CheckResult("policy-point", subject, "fail"))
            self.ledger.add(("policy-point", core, ifname), Agg(
                "policy-point", VIOLATION, core, intf.line.lineno, intf.line.text,
                f"{src.label} -> *", f"zone {src.label} enters the core here without an "
                "ingress ACL (no `ip access-group ... in`): the zone is unfiltered"),
                src.site, ifname, [])
        elif intf.acl_in not in self.devices[core].acls:
            m.checks.append(CheckResult("policy-point", subject, "fail"))
            assert intf.acl_in_line is not None
            self.ledger.add(("policy-point", core, ifname), Agg(
                "policy-point", VIOLATION, core, intf.acl_in_line.lineno,
                intf.acl_in_line.text, f"{src.label} -> *",
                f"ACL {intf.acl_in} is not defined: the interface filters nothing"),
                src.site, ifname, [])
        else:
            m.checks.append(CheckResult("policy-point", subject, "pass",
                                        detail={"acl": intf.acl_in}))

    def _unlocated_source(self, replies: Replies, src: Party, dests: list[Party],
                          pos: int) -> None:
        """An operator host the config text does not place: only its replies are proven."""
        for p, dst in enumerate(dests):
            exp, _ = self.m.expected(src, dst)
            if not exp:
                continue
            cell = self.ledger.cell(src, dst)
            cell.pairs += 1
            cell.expected |= exp
            cell.observed |= exp
            cell.assumed = True
            replies.replies(src, dst, exp, None, pos, p)
        self.findings.append(Finding(
            "matrix", NOTE, f"{src.label} ({src.net}) is in no site prefix of the intent: its "
            "own packets enter the core on an interface the configs do not show, so only "
            "the replies to its flows are proven"))

    def _column_checks(self, m: Member) -> None:
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

    def cells_out(self) -> dict[tuple[str, str], Cell]:
        return self.ledger.cells_out()
