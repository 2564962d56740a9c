"""One source towards one destination: the verdict and the findings of a pair.

What (``docs/verify.md``, check d, "Verdict"): an allowed probe must pass every ACL on the
path and surely arrive; a forbidden one must be stopped, by an ACL or by routing. Forbidden
but open names the ACL line that permitted it at the policy point (the first ACL on a
core), or the core interface where the policy point should have been, or where the
packet was delivered without passing one; allowed but blocked names the denying line or
the routing step that fails; forbidden, permitted and stopped only by routing is a
warning; a route that crosses VRFs is a violation.

How it scales: the evaluation is the same whoever asks — a block asks it once for all its
pairs (quietly, for the verdict), a sweep for one pair of a row or column, the pair by
pair definition for every pair; what each finding's key depends on (``side``: the entry's
own part, the rest, or neither, from the path's :class:`~.plans.Split`) lets the ledger
record it for every pair the evaluated one stands for. The ACL decisions come from
:class:`~.masks.AclMasks`, evaluated once per ACL and address class.
"""

from __future__ import annotations

import ipaddress

from nornir_tasks.verify.matrix import Matrix, Party, mask_labels
from nornir_tasks.verify.model import DeviceText
from nornir_tasks.verify.report import VIOLATION, WARNING
from nornir_tasks.verify.routing import Path
from nornir_tasks.verify.zoneproof.ledger import Agg, Ledger, Res, target
from nornir_tasks.verify.zoneproof.masks import Part, rule_line
from nornir_tasks.verify.zoneproof.plans import (
    NEITHER,
    OWN,
    REST,
    Plan,
    Plans,
    Split,
    end_side,
    ref_side,
)


class Verdicts:
    """Evaluates pairs forwards, recording their findings as the ledger's context says."""

    def __init__(self, matrix: Matrix, devices: dict[str, DeviceText], cores: set[str],
                 plans: Plans, ledger: Ledger) -> None:
        self.m = matrix
        self.devices = devices
        self.cores = cores
        self.plans = plans
        self.masks = plans.masks
        self.ledger = ledger

    def evaluate(self, src: Party, dst: Party, plan: Plan, tail: Path,
                 split: Split | None) -> Res:
        """One source towards one destination on ``tail`` (the walk from the plan's
        device), recording its findings as ``self.ledger.ctx`` says."""
        exp, why = self.m.expected(src, dst)
        acls = (plan.entry, *tail.acls) if plan.entry is not None else tail.acls
        sure, maybe, assumed = self.plans.routable(tail, dst)
        violated = latent = False
        observed = 0
        for s_ip in self.plans.addresses(src):
            for d_ip in self.plans.addresses(dst):
                amask, parts = self.masks.path_mask(acls, s_ip, d_ip, False)
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
                self.ledger.add(("vrf-crossing", x.host, str(x.line.lineno)), Agg(
                    "vrf", VIOLATION, x.host, x.line.lineno, x.line.text, None,
                    f"route in VRF {x.from_vrf or 'global'} hands packets to {x.to_host} "
                    f"{x.to_iface} in VRF {x.to_vrf or 'global'}: traffic crosses zones "
                    "outside the policy point"), src.site, dst.label, [], side=side,
                    full=False)
        return Res(not (violated or latent), violated, exp, observed, assumed,
                   why == ("same zone",), tail)

    def _policy_ref(self, parts: list[Part]) -> tuple[int, Part] | None:
        for i, p in enumerate(parts):
            if p[0].host in self.cores:
                return i, p
        return (0, parts[0]) if parts else None

    def _mismatch(self, src: Party, dst: Party, s_ip: int, d_ip: int, exp: int, obs: int,
                  amask: int, parts: list[Part], tail: Path, why: tuple[str, ...],
                  split: Split | None) -> None:
        add = self.ledger.add
        pair = f"{src.label} -> {dst.label}"
        opened = obs & ~exp
        blocked = exp & ~obs
        dest = target(dst, True)
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
                    side = end_side(split)
                add(("open", dev, str(lineno), pair), Agg(
                    "matrix", VIOLATION, dev, lineno, text, pair, what),
                    src.site, dest, mask_labels(opened, self.m.probes), host_note,
                    side=side)
            else:
                at, (ref, _, dec) = policy
                verb = "permits" if ref.acl is not None else \
                    "is not defined, so it filters nothing"
                how = "" if tail.outcome == "delivered" else (
                    f"; it {tail.describe().split(': ', 1)[-1]}, and what lies beyond is not "
                    "in the config text")
                side = ref_side(split, at, ref)
                for i in range(len(self.m.probes)):
                    if not opened >> i & 1:
                        continue
                    rl, rt = rule_line(ref, dec[i])
                    add(("open", ref.host, str(rl), pair), Agg(
                        "matrix", VIOLATION, ref.host, rl, rt, pair,
                        f"open although the matrix forbids it ({ref.name} on {ref.iface} "
                        f"{verb}{how})"), src.site, dest, [self.m.probes[i].label],
                        host_note, side=side)
        if blocked:
            if amask & blocked != blocked:  # an ACL denies
                for i in range(len(self.m.probes)):
                    if not (blocked >> i & 1) or amask >> i & 1:
                        continue
                    at, (ref, _, dec) = next((j, p) for j, p in enumerate(parts)
                                             if not p[1] >> i & 1)
                    bl, bt = rule_line(ref, dec[i])
                    add(("blocked", ref.host, str(bl), pair), Agg(
                        "matrix", VIOLATION, ref.host, bl, bt, pair,
                        f"blocked although the matrix allows it ({', '.join(why)}): "
                        f"{ref.name} on {ref.iface} denies"), src.site, dest,
                        [self.m.probes[i].label], host_note,
                        side=ref_side(split, at, ref))
            rest = blocked & amask
            if rest:  # the ACLs permit, the routing does not get there
                line = tail.line
                add(("unrouted", tail.host, tail.outcome, pair), Agg(
                    "matrix", VIOLATION, tail.host, line.lineno if line else None,
                    line.text if line else None, pair,
                    f"allowed by the matrix ({', '.join(why)}) and the ACLs, but not "
                    f"routed: {tail.describe()}"), src.site, dest,
                    mask_labels(rest, self.m.probes), side=end_side(split))

    def _latent(self, src: Party, dst: Party, mask: int, parts: list[Part], tail: Path,
                split: Split | None) -> None:
        policy = self._policy_ref(parts)
        pair = f"{src.label} -> {dst.label}"
        if policy is None:
            return
        at, (ref, _, dec) = policy
        side = ref_side(split, at, ref)
        for i in range(len(self.m.probes)):
            if mask >> i & 1:
                lineno, text = rule_line(ref, dec[i])
                self.ledger.add(("latent", ref.host, str(lineno), pair), Agg(
                    "matrix", WARNING, ref.host, lineno, text, pair,
                    "forbidden by the matrix and permitted by the ACL; only routing stops "
                    f"it ({tail.describe()})"), src.site, dst.label,
                    [self.m.probes[i].label], side=side, full=False)
