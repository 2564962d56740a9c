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

ACL decisions are computed once per ACL and per class of addresses (the ACL prefixes
the address falls in); routing walks are memoised per device, VRF and destination; and
sources whose gateway hands every packet through the same ACL objects to the same core
VRF share their results per destination. Whatever deviates (a more specific route at the
gateway, a violation, a warning) is walked for that source alone, so every finding names
its own site. The work grows with sites times zones, not with hosts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from nornir_tasks.acl_eval import evaluate
from nornir_tasks.intent.loader import Intent
from nornir_tasks.verify.matrix import INTERNET, Matrix, Party, mask_labels
from nornir_tasks.verify.model import Acl, DeviceText, Interface, Net
from nornir_tasks.verify.report import NOTE, VIOLATION, WARNING, Cell, CheckResult, Finding
from nornir_tasks.verify.routing import GLOBAL, AclRef, Network, Path

UNDEFINED = -2  # decider of an access-group whose ACL does not exist (filters nothing)
IMPLICIT = -1  # the implicit deny at the end of an ACL


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

    def signature(self, ip: int) -> int:
        sig = self._sig.get(ip)
        if sig is None:
            sig = 0
            for i, n in enumerate(self.nets):
                if (ip & n.mask) == n.addr:
                    sig |= 1 << i
            self._sig[ip] = sig
        return sig

    def mask(self, acl: Acl | None, src: int, dst: int, reply: bool) -> tuple[int,
                                                                             tuple[int, ...]]:
        """(permit mask, deciding entry ordinal per probe) for packets src -> dst.

        For ``reply`` the packets are the replies: from ``dst`` back to ``src``.
        """
        if acl is None:
            return self.all, (UNDEFINED,) * len(self.probes)
        key = (id(acl), self.signature(src), self.signature(dst), reply)
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
class _Plan:
    """How packets entering one device on one interface are handled before the tail."""

    host: str
    iface: Interface
    vrf: str
    entry: AclRef | None
    specials: tuple[tuple[int, int], ...]  # (mask, address) of every non-default route
    signature: tuple[object, ...] | None  # shared by entries that behave the same

    def special(self, ip: int) -> bool:
        return any(ip & mask == addr for mask, addr in self.specials)


@dataclass(frozen=True, slots=True)
class _Res:
    """The outcome of one source towards one destination."""

    ok: bool  # nothing to report: other sources of its class may reuse it
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


@dataclass
class _CellAcc:
    expected: int = 0
    observed: int = 0
    pairs: int = 0
    violations: int = 0
    assumed: bool = False
    same_zone: bool = False
    local: int = 0  # pairs inside one subnet (never routed, not evaluated)


class Proof:
    """Runs check d over every source and destination; fills the report's matrix."""

    #: above this many specific routes an entry is evaluated destination by destination
    MAX_SPECIALS = 16

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
        self._class: dict[tuple[object, ...], _Res] = {}
        self._reply_class: dict[tuple[object, ...], tuple[int, bool, bool]] = {}
        self._columns: dict[str, list[int]] = {}
        self.pairs = 0
        self.probe_count = 0
        self._extras = self._acl_nets()
        self.masks = AclMasks(matrix, self._extras)

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
        if party.net is None:
            return out
        named = [n for n in self.m.named_nets if n.within(party.net) and n != party.net]
        for n in self._extras:
            if n.within(party.net) and n != party.net and \
                    not any(n.within(x) for x in named):
                ip = n.addr if n.plen >= 31 else n.addr + 1
                if ip not in out:
                    out.append(ip)
        return out

    def _class_of(self, party: Party) -> tuple[object, ...]:
        return (party.kind, party.label, party.zone,
                tuple(self.masks.signature(ip) for ip in self.addresses(party)))

    def located(self, party: Party) -> bool:
        hit = self._located.get(party.key)
        if hit is None:
            if party.kind == "internet":
                hit = self.net.exits_somewhere(party.rep)
            else:
                hit = self.net.located(party.rep)
            self._located[party.key] = hit
        return hit

    def entries(self, party: Party) -> list[tuple[str, Interface]]:
        """Where the party's packets enter L3: its site gateway's interface on its subnet
        (both cores of the pair, for the core site)."""
        hit = self._entries.get(party.key)
        if hit is not None:
            return hit
        out: list[tuple[str, Interface]] = []
        if party.site is not None:
            gw = self.intent.gateway_of(party.site)
            hosts = [gw]
            peer = self.intent.devices[gw].redundancy_peer
            if gw in self.cores and peer:
                hosts.append(peer)
            for h in hosts:
                dev = self.devices.get(h)
                if dev is None:
                    continue
                for intf in dev.interfaces.values():
                    if intf.routed and intf.up and any(
                            (party.rep & a.net.mask) == a.net.addr for a in intf.addresses):
                        out.append((h, intf))
                        break
        self._entries[party.key] = out
        return out

    def plan(self, host: str, iface: Interface) -> _Plan:
        key = (host, iface.name)
        hit = self._plans.get(key)
        if hit is None:
            vrf = iface.vrf or GLOBAL
            entry = None
            if iface.acl_in is not None and iface.acl_in_line is not None:
                entry = AclRef(host, iface.name, "in", iface.acl_in, iface.acl_in_line,
                               self.devices[host].acls.get(iface.acl_in))
            specials = tuple((n.mask, n.addr) for n in self.net.specials(host, vrf))
            hop = self.net.default_hop(host, vrf)
            sig = None
            if hop is not None and len(specials) <= self.MAX_SPECIALS:
                sig = (entry is not None, id(entry.acl) if entry else 0, *hop)
            hit = self._plans[key] = _Plan(host, iface, vrf, entry, specials, sig)
        return hit

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
                  ) -> tuple[int, list[tuple[AclRef, int, tuple[int, ...]]]]:
        mask = self.m.all
        parts = []
        for ref in acls:
            m, dec = self.masks.mask(ref.acl, src, dst, reply)
            mask &= m
            parts.append((ref, m, dec))
        return mask, parts

    def _add(self, key: tuple[str, ...], agg: _Agg, site: str | None, target: str,
             probes: list[str], extra: str | None = None) -> None:
        a = self.aggs.get(key)
        if a is None:
            a = self.aggs[key] = agg
        if site:
            a.sites.add(site)
        a.targets.add(target)
        a.probes.update(probes)
        if extra:
            a.extra.add(extra)

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

    def _policy_ref(self, parts: list[tuple[AclRef, int, tuple[int, ...]]]
                    ) -> tuple[AclRef, int, tuple[int, ...]] | None:
        for p in parts:
            if p[0].host in self.cores:
                return p
        return parts[0] if parts else None

    # ----------------------------------------------------------------- the run

    def run(self) -> None:
        sources = self.m.sources()
        dests = self.m.destinations()
        internet = next(d for d in dests if d.kind == INTERNET)
        for src in sources:
            if src.site is None:
                self._unlocated_source(src, dests)
                continue
            entries = self.entries(src)
            if not entries:
                self.findings.append(Finding(
                    "vrf", VIOLATION, f"no interface on the site gateway holds {src.label}'s "
                    f"prefix {src.net}: the zone has no gateway", self.intent.gateway_of(
                        src.site), site=src.site))
                continue
            for host, iface in entries:
                self._policy_point(src, host, iface, internet)
                self._source(src, self.plan(host, iface), dests)
        self.probe_count = self.pairs * len(self.m.probes)
        self._finish()

    def _policy_point(self, src: Party, host: str, iface: Interface, internet: Party) -> None:
        """The zone's first interface on a core must filter what enters (check d)."""
        if src.kind != "zone":
            return
        path = self.net.forward(host, iface, internet.rep)
        core_hop = next(((h, i) for h, i in path.hops if h in self.cores and i), None)
        if core_hop is None:
            return
        core, ifname = core_hop
        intf = self.devices[core].interfaces[ifname]
        subject = f"{core} {ifname} ({src.label} from {src.site})"
        if intf.acl_in is None:
            self.checks.append(CheckResult("policy-point", subject, "fail"))
            self._add(("policy-point", core, ifname), _Agg(
                "policy-point", VIOLATION, core, intf.line.lineno, intf.line.text,
                f"{src.label} -> *", f"zone {src.label} enters the core here without an "
                "ingress ACL (no `ip access-group ... in`): the zone is unfiltered"),
                src.site, ifname, [])
        elif intf.acl_in not in self.devices[core].acls:
            self.checks.append(CheckResult("policy-point", subject, "fail"))
            assert intf.acl_in_line is not None
            self._add(("policy-point", core, ifname), _Agg(
                "policy-point", VIOLATION, core, intf.acl_in_line.lineno,
                intf.acl_in_line.text, f"{src.label} -> *",
                f"ACL {intf.acl_in} is not defined: the interface filters nothing"),
                src.site, ifname, [])
        else:
            self.checks.append(CheckResult("policy-point", subject, "pass",
                                           detail={"acl": intf.acl_in}))

    def _cell(self, src: Party, dst: Party) -> _CellAcc:
        key = (src.label, dst.label)
        c = self.cells.get(key)
        if c is None:
            c = self.cells[key] = _CellAcc()
        return c

    def _account(self, src: Party, dst: Party, res: _Res) -> None:
        cell = self.cells.get((src.label, dst.label))
        if cell is None:
            cell = self.cells[(src.label, dst.label)] = _CellAcc()
        cell.pairs += 1
        cell.expected |= res.expected
        cell.observed |= res.observed
        if res.same_zone:
            cell.same_zone = True
        if res.assumed and res.expected:
            cell.assumed = True
        counts = self._columns.get(dst.label)
        if counts is None:
            counts = self._columns[dst.label] = [0, 0]
        counts[0] += 1
        if res.violated:
            cell.violations += 1
            counts[1] += 1
        self.pairs += 1

    def _source(self, src: Party, plan: _Plan, dests: list[Party]) -> None:
        ck = (self._class_of(src), plan.signature) if plan.signature is not None else None
        self._columns = {}
        for dst in dests:
            if dst.site is not None and dst.site == src.site and dst.zone == src.zone:
                self._cell(src, dst).local += 1  # the same subnet: never routed
                continue
            if ck is not None and not plan.special(dst.rep):
                key = (ck, dst.key)
                res = self._class.get(key)
                if res is None:
                    res = self._class[key] = self._pair(src, plan, dst)
                elif res.ok:
                    self._account(src, dst, res)
                else:
                    res = self._pair(src, plan, dst)
            else:
                res = self._pair(src, plan, dst)
            allowed = res.expected & res.observed
            if allowed:
                self._replies(src, dst, allowed, res.tail)
        for column, (n, nbad) in self._columns.items():
            self.checks.append(CheckResult(
                "matrix", f"{src.label}@{src.site} via {plan.host} -> {column}",
                "fail" if nbad else "pass", n, {"violating_destinations": nbad}))

    def _pair(self, src: Party, plan: _Plan, dst: Party) -> _Res:
        """Evaluate one source towards one destination, recording every finding."""
        exp, why = self.m.expected(src, dst)
        tail = self.net.tail(plan.host, plan.vrf, dst.rep)
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
                    self._mismatch(src, dst, s_ip, d_ip, exp, obs, amask, parts, tail, why)
                elif not maybe and amask & ~exp:
                    latent = True  # the sources of its class re-walk: each site is named
                    self._latent(src, dst, amask & ~exp, parts, tail)
        if tail.crossings:
            violated = True
            for x in tail.crossings:
                self._add(("vrf-crossing", x.host, str(x.line.lineno)), _Agg(
                    "vrf", VIOLATION, x.host, x.line.lineno, x.line.text, None,
                    f"route in VRF {x.from_vrf or 'global'} hands packets to {x.to_host} "
                    f"{x.to_iface} in VRF {x.to_vrf or 'global'}: traffic crosses zones "
                    "outside the policy point"), src.site, dst.label, [])
        res = _Res(not (violated or latent), violated, exp, observed, assumed,
                   why == ("same zone",), tail)
        self._account(src, dst, res)
        return res

    def _unlocated_source(self, src: Party, dests: list[Party]) -> None:
        """An operator host the config text does not place: only its replies are proven."""
        for dst in dests:
            exp, _ = self.m.expected(src, dst)
            if not exp:
                continue
            cell = self._cell(src, dst)
            cell.pairs += 1
            cell.expected |= exp
            cell.observed |= exp
            cell.assumed = True
            self._replies(src, dst, exp, None)
        self.findings.append(Finding(
            "matrix", NOTE, f"{src.label} ({src.net}) is in no site prefix of the intent: its "
            "own packets enter the core on an interface the configs do not show, so only "
            "the replies to its flows are proven"))

    def _mismatch(self, src: Party, dst: Party, s_ip: int, d_ip: int, exp: int, obs: int,
                  amask: int, parts: list[tuple[AclRef, int, tuple[int, ...]]], tail: Path,
                  why: tuple[str, ...]) -> None:
        pair = f"{src.label} -> {dst.label}"
        opened = obs & ~exp
        blocked = exp & ~obs
        target = dst.describe() if dst.kind != "zone" else f"{dst.label}@{dst.site}"
        host_note = None
        if s_ip != src.rep or d_ip != dst.rep:
            host_note = f"{ipaddress.IPv4Address(s_ip)} -> {ipaddress.IPv4Address(d_ip)}"
        if opened:
            policy = self._policy_ref(parts)
            if policy is None:
                # nothing filters this path: name the core hop, or where it was delivered
                core_hop = next(((h, i) for h, i in tail.hops if h in self.cores and i), None)
                lineno: int | None
                text: str | None
                if core_hop is not None and core_hop[1] is not None:
                    intf = self.devices[core_hop[0]].interfaces[core_hop[1]]
                    dev, lineno, text = core_hop[0], intf.line.lineno, intf.line.text
                    what = "open although the matrix forbids it: no ACL on the path " \
                           f"({tail.describe()})"
                else:
                    line = tail.line
                    dev = tail.host
                    lineno = line.lineno if line else None
                    text = line.path() if line else None
                    what = "open although the matrix forbids it, without passing the " \
                           f"policy point: {tail.describe()}"
                self._add(("open", dev, str(lineno), pair), _Agg(
                    "matrix", VIOLATION, dev, lineno, text, pair, what),
                    src.site, target, mask_labels(opened, self.m.probes), host_note)
            else:
                ref, _, dec = policy
                verb = "permits" if ref.acl is not None else \
                    "is not defined, so it filters nothing"
                how = "" if tail.outcome == "delivered" else (
                    f"; it {tail.describe().split(': ', 1)[-1]}, and what lies beyond is not "
                    "in the config text")
                for i in range(len(self.m.probes)):
                    if not opened >> i & 1:
                        continue
                    rl, rt = self._rule_line(ref, dec[i])
                    self._add(("open", ref.host, str(rl), pair), _Agg(
                        "matrix", VIOLATION, ref.host, rl, rt, pair,
                        f"open although the matrix forbids it ({ref.name} on {ref.iface} "
                        f"{verb}{how})"), src.site, target, [self.m.probes[i].label],
                        host_note)
        if blocked:
            if amask & blocked != blocked:  # an ACL denies
                for i in range(len(self.m.probes)):
                    if not (blocked >> i & 1) or amask >> i & 1:
                        continue
                    ref, _, dec = next(p for p in parts if not p[1] >> i & 1)
                    bl, bt = self._rule_line(ref, dec[i])
                    self._add(("blocked", ref.host, str(bl), pair), _Agg(
                        "matrix", VIOLATION, ref.host, bl, bt, pair,
                        f"blocked although the matrix allows it ({', '.join(why)}): "
                        f"{ref.name} on {ref.iface} denies"), src.site, target,
                        [self.m.probes[i].label], host_note)
            rest = blocked & amask
            if rest:  # the ACLs permit, the routing does not get there
                line = tail.line
                self._add(("unrouted", tail.host, tail.outcome, pair), _Agg(
                    "matrix", VIOLATION, tail.host, line.lineno if line else None,
                    line.text if line else None, pair,
                    f"allowed by the matrix ({', '.join(why)}) and the ACLs, but not "
                    f"routed: {tail.describe()}"), src.site, target,
                    mask_labels(rest, self.m.probes))

    def _latent(self, src: Party, dst: Party, mask: int,
                parts: list[tuple[AclRef, int, tuple[int, ...]]], tail: Path) -> None:
        policy = self._policy_ref(parts)
        pair = f"{src.label} -> {dst.label}"
        if policy is None:
            return
        ref, _, dec = policy
        for i in range(len(self.m.probes)):
            if mask >> i & 1:
                lineno, text = self._rule_line(ref, dec[i])
                self._add(("latent", ref.host, str(lineno), pair), _Agg(
                    "matrix", WARNING, ref.host, lineno, text, pair,
                    "forbidden by the matrix and permitted by the ACL; only routing stops "
                    f"it ({tail.describe()})"), src.site, dst.label,
                    [self.m.probes[i].label])

    def _reply_entries(self, dst: Party, tail: Path | None) -> list[tuple[str, Interface]]:
        if dst.kind == INTERNET:
            if tail is not None and tail.outcome == "exit" and tail.iface is not None:
                return [(tail.host, self.devices[tail.host].interfaces[tail.iface])]
            return []
        if dst.site is None:
            return []
        return self.entries(dst)

    def _replies(self, src: Party, dst: Party, mask: int, tail: Path | None) -> None:
        """The stateless replies of the allowed probes in ``mask`` must come back."""
        entries = self._reply_entries(dst, tail)
        if not entries:
            self._add(("reply-unknown", dst.label), _Agg(
                "reply", NOTE, None, None, None, None,
                f"replies from {dst.label} are not proven: where they enter the network is "
                "not in the config text"), src.site, dst.label, [])
            return
        s_ip, d_ip = src.rep, dst.rep
        for host, iface in entries:
            plan = self.plan(host, iface)
            key: tuple[object, ...] | None = None
            hit: tuple[int, bool, bool] | None = None
            if plan.signature is not None and not plan.special(s_ip) \
                    and dst.kind != INTERNET:
                key = (self._class_of(dst), plan.signature, s_ip,
                       self.masks.signature(s_ip))
                hit = self._reply_class.get(key)
            if hit is None:
                rtail = self.net.tail(host, plan.vrf, s_ip)
                acls = (plan.entry, *rtail.acls) if plan.entry is not None else rtail.acls
                ok = self.routable(rtail, src)[0]
                rmask, parts = self.path_mask(acls, s_ip, d_ip, True)
                hit = (rmask if ok else 0, ok, bool(acls))
                if key is not None:
                    self._reply_class[key] = hit
                if mask & ~hit[0]:
                    self._reply_violation(src, dst, mask & ~hit[0], ok, rtail, parts)
            elif mask & ~hit[0]:
                rtail = self.net.tail(host, plan.vrf, s_ip)
                acls = (plan.entry, *rtail.acls) if plan.entry is not None else rtail.acls
                _, parts = self.path_mask(acls, s_ip, d_ip, True)
                self._reply_violation(src, dst, mask & ~hit[0], hit[1], rtail, parts)
            if not hit[2]:
                self._add(("reply-unfiltered", host, iface.name), _Agg(
                    "reply", NOTE, host, iface.line.lineno, iface.line.text, None,
                    f"replies from {dst.label} enter at {host} {iface.name}, and meet no "
                    "ACL on their way back: that side is not filtered in this design"
                    + (" (the internet firewall keeps state)" if dst.kind == INTERNET
                       else "")), src.site, dst.label, [])

    def _reply_violation(self, src: Party, dst: Party, missing: int, routed: bool,
                         rtail: Path, parts: list[tuple[AclRef, int, tuple[int, ...]]]
                         ) -> None:
        pair = f"{src.label} -> {dst.label}"
        target = dst.describe() if dst.kind != "zone" else f"{dst.label}@{dst.site}"
        if not routed:
            line = rtail.line
            self._add(("reply-unrouted", rtail.host, pair), _Agg(
                "reply", VIOLATION, rtail.host, line.lineno if line else None,
                line.text if line else None, pair,
                f"replies are not routed back: {rtail.describe()}"), src.site, target,
                mask_labels(missing, self.m.probes))
            return
        for i in range(len(self.m.probes)):
            if not missing >> i & 1:
                continue
            ref, _, dec = next(p for p in parts if not p[1] >> i & 1)
            lineno, text = self._rule_line(ref, dec[i])
            kind = {"tcp": "TCP established", "udp": "UDP from the service port",
                    "icmp": "ICMP echo-reply"}[self.m.probes[i].proto]
            self._add(("reply", ref.host, str(lineno), pair), _Agg(
                "reply", VIOLATION, ref.host, lineno, text, pair,
                f"the stateless reply ({kind}) of an allowed flow is denied by "
                f"{ref.name} on {ref.iface}"), src.site, target, [self.m.probes[i].label])

    # ----------------------------------------------------------------- results

    def _finish(self) -> None:
        order = {p.label: i for i, p in enumerate(self.m.probes)}
        for a in self.aggs.values():
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
