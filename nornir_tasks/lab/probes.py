"""The matrix probes: every pair of endpoints, the ports that matter between them, and two
verdicts for each probe.

* ``expected`` -- the matrix as written (:mod:`nornir_tasks.lab.expect`, independent of
  :mod:`nornir_tasks.policy`); a probe the declared matrix closes but an accepted exposure
  covers is *tolerated* (either outcome is as the intent says);
* ``model`` -- first-match evaluation (:mod:`nornir_tasks.acl_eval`) of the very terms the
  lab loads into nftables, over the whole stateless exchange (request, reply, and for TCP
  the client's ACK; a one-way probe: the request alone), and for a stateful pair the
  firewall policy the lab loads, read by ``verify``'s reader (the first packet through it
  must open a connection). When a probe fails, comparing the two tells whether the
  compiled terms or the packet path disagrees with the matrix.

A probe names its source port when the flow fixes it (DHCP renewal from 68, NTP from 123);
otherwise the agent lets the kernel pick an ephemeral one. A probe of a one-way flow
(syslog, traps) counts as open when its datagram arrives: the receiving agent reports
what it got.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nornir_tasks.acl_eval import Packet, evaluate
from nornir_tasks.design.structured import AclEntry
from nornir_tasks.intent.loader import Intent
from nornir_tasks.lab.expect import EPHEMERAL, covers, matrix_verdict
from nornir_tasks.lab.firewall import FirewallHop
from nornir_tasks.lab.plan import INTERNET, Endpoint, LabPlan
from nornir_tasks.policy import Term

ZONE_PROBES = ("icmp", "tcp/22", "tcp/443")  # between zones, and from outside: ping, SSH, HTTPS
INTERNET_PROBES = ("icmp", "tcp/443")


@dataclass(frozen=True)
class Probe:
    id: int
    source: Endpoint
    destination: Endpoint
    proto: str  # icmp | tcp | udp
    port: int | None
    expected: bool
    reason: str
    model: bool
    sport: int | None = None  # a fixed source port; None: ephemeral
    oneway: bool = False  # a one-way flow: open = the request arrived
    tolerated: bool = False  # declared closed, but an accepted exposure lets it pass

    def as_expected(self, observed: bool) -> bool:
        return observed == self.expected or (self.tolerated and observed)

    @property
    def label(self) -> str:
        text = self.proto if self.port is None else f"{self.proto}/{self.port}"
        if self.sport is not None:
            text += f" from {self.sport}"
        return text + (" one-way" if self.oneway else "")


@dataclass(frozen=True)
class Skipped:
    source: str
    destination: str
    probe: str
    reason: str


@dataclass(frozen=True)
class Listener:
    proto: str
    address: str
    port: int


@dataclass
class MatrixProbes:
    probes: list[Probe] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    listeners: dict[str, list[Listener]] = field(default_factory=dict)  # by namespace


@dataclass(frozen=True)
class Spec:
    """One probe between a pair: protocol, port, fixed source port, one-way."""

    proto: str
    port: int | None
    sport: int | None = None
    oneway: bool = False


# --------------------------------------------------------------------------- model


def acl_entries(terms: Sequence[Term]) -> list[AclEntry]:
    """Terms as ACL entries for :func:`nornir_tasks.acl_eval.evaluate` (one per
    protocol x address x port combination, the way an extended ACL spells them)."""
    out: list[AclEntry] = []
    for t in terms:
        action = "permit" if t.action == "accept" else "deny"
        protos: tuple[str | None, ...] = t.protocols or (("tcp",) if t.established else (None,))
        for proto in protos:
            for s in t.source or (None,):
                for d in t.destination or (None,):
                    for sp in t.source_ports or (None,):
                        for dp in t.destination_ports or (None,):
                            for it in t.icmp_types or (None,):
                                out.append(AclEntry(
                                    seq=10 * (len(out) + 1), action=action,
                                    protocol=proto or "ip", source=s, destination=d,
                                    src_ports=sp, dst_ports=dp, established=t.established,
                                    icmp_type=it))
    return out


def model_verdict(entries: Mapping[str, list[AclEntry]], src: Endpoint, dst: Endpoint,
                  spec: Spec, firewall: FirewallHop | None = None) -> bool:
    """Do the loaded terms pass the whole stateless exchange of one probe -- and, where
    the packet crosses the firewall (a stateful pair, the internet), the loaded policy?
    The first packet through the firewall must open a connection the policy accepts; the
    rest of the exchange belongs to it (``ct state established,related accept``)."""
    a, b, port = src.address, dst.address, spec.port
    sport = EPHEMERAL if spec.sport is None else spec.sport
    out: list[tuple[bool, Packet]] = []  # (from the source, packet), in order
    if spec.proto == "icmp":
        out = [(True, Packet("icmp", a, b, icmp_type="echo-request")),
               (False, Packet("icmp", b, a, icmp_type="echo-reply"))]
    elif spec.proto == "udp":
        out = [(True, Packet("udp", a, b, sport, port))]
        if not spec.oneway:
            out.append((False, Packet("udp", b, a, port, sport)))
    else:
        out = [(True, Packet("tcp", a, b, sport, port)),  # SYN
               (False, Packet("tcp", b, a, port, sport, established=True)),  # SYN-ACK
               (True, Packet("tcp", a, b, sport, port, established=True))]  # ACK, data
    tracked = False  # a connection the firewall accepted
    for forward, packet in out:
        sender, receiver = (src, dst) if forward else (dst, src)
        if evaluate(entries[sender.chain], packet)[0] != "permit":
            return False
        if firewall is not None and not tracked and firewall.via(
                sender.zone, receiver.address, from_internet=sender.kind == INTERNET):
            if not firewall.opens(packet):
                return False
            # without `ct state established,related accept` nothing of a connection but
            # its first packet passes ('ct state new' terms)
            tracked = firewall.policy.stateful
    return True


# --------------------------------------------------------------------------- probes


def parse_specs(specs: Iterable[str], sources: Iterable[str] | None = None,
                oneway: bool = False) -> list[Spec]:
    """``tcp/443``, ``udp/10000-20000``, ``icmp`` -> specs: a range is probed on its first
    port; ``any`` on nothing extra (ping and the zone probes cover it). With the flow's
    ``sources`` (its fixed source ports) one spec per fixed port, and one with an
    ephemeral port where a range allows it.

    >>> parse_specs(["udp/123"], ["udp/123", "udp/1024-65535"])
    [Spec(proto='udp', port=123, sport=123, oneway=False), Spec(proto='udp', port=123, \
sport=None, oneway=False)]
    """
    out: list[Spec] = []
    fixed = list(sources or ())
    for spec in specs:
        if spec == "any":
            continue
        if spec == "icmp":
            items = [Spec("icmp", None)]
        else:
            proto, _, ports = spec.partition("/")
            port = int(ports.split("-")[0])
            mine = [s.partition("/")[2] for s in fixed if s.partition("/")[0] == proto]
            if not fixed:
                items = [Spec(proto, port, None, oneway)]
            else:
                items = []
                for p in mine:
                    first, _, last = p.partition("-")
                    if not last:
                        items.append(Spec(proto, port, int(first), oneway))
                    elif int(first) <= EPHEMERAL <= int(last):
                        items.append(Spec(proto, port, None, oneway))
                    else:
                        items.append(Spec(proto, port, int(first), oneway))
        for item in items:
            if item not in out:
                out.append(item)
    return out


def pair_specs(intent: Intent, src: Endpoint, dst: Endpoint) -> list[Spec]:
    """The probes between one pair: the base probes of its kind, plus the ports of every
    rule and required flow that names both ends (with their fixed source ports; a one-way
    flow's probes are one-way)."""
    pol = intent.policy
    if dst.kind == INTERNET:
        base = list(INTERNET_PROBES)
    elif src.kind == "zone" and dst.kind == "service":
        svc = intent.services.get(dst.service or "")
        base = ["icmp", *(svc.ports if svc is not None else ())]  # the NOC has no ports
        base += [p for r in pol.rules if r.from_ == src.zone and r.to == dst.service
                 for p in r.ports or []]
    else:
        base = list(ZONE_PROBES)
        base += [p for r in pol.rules if r.from_ == src.zone and r.to == dst.zone
                 for p in r.ports or []]
    specs = parse_specs(base)
    for flow in pol.infrastructure:
        if covers(intent, flow.from_, src) and covers(intent, flow.to, dst):
            for s in parse_specs(flow.ports, flow.source_ports, oneway=not flow.reply):
                # a one-way flow's port is probed one-way only: its reply is not allowed
                specs = [x for x in specs if (x.proto, x.port, x.sport) !=
                         (s.proto, s.port, s.sport)]
                specs.append(s)
    return specs


def _pairs(plan: LabPlan) -> list[tuple[Endpoint, Endpoint]]:
    """Zone hosts to every other zone host, every service and the internet; everything
    outside (servers, the NOC, the internet) to every zone host."""
    zone_hosts = [e for e in plan.endpoints if e.kind == "zone"]
    services = [e for e in plan.endpoints if e.kind == "service"]
    internet = [e for e in plan.endpoints if e.kind == INTERNET]
    out = []
    for src in zone_hosts:
        out += [(src, dst) for dst in [*zone_hosts, *services, *internet] if dst is not src]
    for src in [*services, *internet]:
        out += [(src, dst) for dst in zone_hosts]
    return out


def matrix_probes(intent: Intent, plan: LabPlan) -> MatrixProbes:
    """Every matrix probe with both verdicts, what was skipped, and the listeners."""
    entries = {c.name: acl_entries(c.terms) for c in plan.chains}
    result = MatrixProbes()
    listen: dict[str, set[tuple[str, str, int]]] = {}
    for src, dst in _pairs(plan):
        for spec in pair_specs(intent, src, dst):
            probe = Probe(len(result.probes) + 1, src, dst, spec.proto, spec.port, False, "",
                          False, spec.sport, spec.oneway)
            same = next((e.subnet for e in (src, dst) if e.subnet is not None
                         and (src.address in e.subnet) and (dst.address in e.subnet)), None)
            if same is not None:
                # on-link at the site: the packet never reaches the policy point
                result.skipped.append(Skipped(src.key, dst.key, probe.label,
                                              f"same subnet {same}: does not cross the core"))
                continue
            verdict = matrix_verdict(intent, src, dst, spec.proto, spec.port, spec.sport,
                                     spec.oneway)
            model = model_verdict(entries, src, dst, spec, plan.firewall)
            result.probes.append(Probe(probe.id, src, dst, spec.proto, spec.port,
                                       verdict.allowed, verdict.reason, model, spec.sport,
                                       spec.oneway, verdict.tolerated))
            if spec.port is not None:
                listen.setdefault(dst.namespace, set()).add(
                    (spec.proto, str(dst.address), spec.port))
    result.listeners = {ns: [Listener(p, a, n) for p, a, n in sorted(items)]
                        for ns, items in sorted(listen.items())}
    return result
