"""Adversarial probes: crafted packets that must pass or die exactly as ``verify`` says.

From every endpoint (the zone hosts at the chosen sites, the first address of every
service, the NOC) to every endpoint of another zone (and the internet), the lab sends
UDP datagrams and TCP segments with only ACK set -- what a host can send without any
handshake -- from spoofed source ports, to a few destination ports. Arrival is seen by a
packet sniffer in the destination namespace, not by a reply.

The ports are chosen where the ACLs draw lines:

* source ports: every port in any term of :func:`nornir_tasks.policy.zone_terms` (source
  or destination, both ends of a range), plus 53, 67, 68, 123, 161, 443 and 1812;
* destination ports: 22 and 50000 (a low and an ephemeral port), the destination
  service's ports, and every destination port (both ends of a range) of a term whose
  destination holds the address.

The prediction of each probe is ``verify``'s: :meth:`Exposure.permits` of
:func:`nornir_tasks.verify.exposure.exposure_model`, computed from the RENDERED CONFIG
TEXT (the ingress ACL of the source's zone at the policy point), and for a packet the
core routes to the firewall of a stateful pair, ``verify``'s reading of the generated
firewall policy: a crafted packet opens no connection the policy does not accept (a
lone ACK back from the answering zone is dropped by the firewall's state). The run
fails unless every probe is observed exactly as predicted. The reference estate's
predictions include its accepted exposures (the DHCP servers reaching port 67 of any host
of a zone, ...): those must be seen passing too.

Pairs inside one zone (everything passes) and on one subnet (never crosses the core) are
left out; a service's further addresses behave as its first (the terms name the service's
prefixes together), so only the first is probed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nornir_tasks.acl_eval import Packet
from nornir_tasks.intent.loader import Intent
from nornir_tasks.lab.firewall import FirewallHop
from nornir_tasks.lab.plan import INTERNET, Endpoint, LabPlan
from nornir_tasks.policy import Term

EXTRA_SOURCE_PORTS = (53, 67, 68, 123, 161, 443, 1812)
#: the zone hosts of this many chosen sites send and receive crafted probes (the zone ACLs
#: do not differ by site; the probes grow with the square of the hosts)
ADVERSARIAL_SITES = 2
BASE_DESTINATION_PORTS = (22, 50000)
PROTOCOLS = ("udp", "tcp")  # tcp: a segment with only ACK set


@dataclass(frozen=True)
class AdvProbe:
    """One crafted packet."""

    id: int
    source: Endpoint
    destination: Endpoint
    proto: str
    sport: int
    dport: int

    def packet(self) -> Packet:
        return Packet(self.proto, self.source.address, self.destination.address, self.sport,
                      self.dport, established=self.proto == "tcp")

    def text(self) -> str:
        flags = " ACK" if self.proto == "tcp" else ""
        return (f"{self.proto}{flags} {self.source.address}:{self.sport} -> "
                f"{self.destination.address}:{self.dport}")

    def to_json(self, predicted: bool, observed: bool) -> dict[str, Any]:
        return {"id": self.id, "source": self.source.key, "source_zone": self.source.zone,
                "destination": self.destination.key, "packet": self.text(),
                "predicted": "pass" if predicted else "drop",
                "observed": "pass" if observed else "drop"}


@dataclass
class AdversarialPlan:
    sources: list[Endpoint]
    destinations: list[Endpoint]
    source_ports: tuple[int, ...]
    destination_ports: dict[str, tuple[int, ...]]  # by destination key
    #: (source index, destination index, protocol index, sport, dport); the id is the index
    rows: list[tuple[int, int, int, int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def probe(self, i: int) -> AdvProbe:
        s, d, p, sport, dport = self.rows[i]
        return AdvProbe(i, self.sources[s], self.destinations[d], PROTOCOLS[p], sport, dport)

    def by_namespace(self, ids: Sequence[int]) -> dict[str, list[list[Any]]]:
        """The packets each source namespace sends: ``[id, proto, src, dst, sport, dport]``."""
        out: dict[str, list[list[Any]]] = {}
        srcs = [(e.namespace, str(e.address)) for e in self.sources]  # str() once, not per row
        dsts = [str(e.address) for e in self.destinations]
        for i in ids:
            s, d, p, sport, dport = self.rows[i]
            ns, addr = srcs[s]
            out.setdefault(ns, []).append([i, PROTOCOLS[p], addr, dsts[d], sport, dport])
        return out


def _bounds(ports: Sequence[str]) -> set[int]:
    out: set[int] = set()
    for p in ports:
        first, _, last = p.partition("-")
        out |= {int(first), int(last or first)}
    return out


def term_ports(terms: Mapping[str, Sequence[Term]]) -> tuple[int, ...]:
    """Every port any term names (source or destination, both ends of a range)."""
    ports: set[int] = set()
    for ts in terms.values():
        for t in ts:
            ports |= _bounds([*t.source_ports, *t.destination_ports])
    return tuple(sorted(ports))


def destination_ports(intent: Intent, dst: Endpoint,
                      terms: Mapping[str, Sequence[Term]]) -> tuple[int, ...]:
    """22, 50000, the destination service's ports, and the destination ports of every
    term whose destination holds the address."""
    ports = set(BASE_DESTINATION_PORTS)
    svc = intent.services.get(dst.service or "")
    if svc is not None:
        ports |= _bounds([p.partition("/")[2] for p in svc.ports if "/" in p])
    for ts in terms.values():
        for t in ts:
            if t.destination_ports and any(dst.address in n for n in t.destination):
                ports |= _bounds(t.destination_ports)
    return tuple(sorted(ports))


def adversarial_plan(intent: Intent, plan: LabPlan, terms: Mapping[str, Sequence[Term]],
                     sites: int = ADVERSARIAL_SITES) -> AdversarialPlan:
    """Every adversarial probe between the zone hosts of the first ``sites`` chosen sites
    and the services. ``terms`` are the reference terms (the port choice), never the ones
    loaded into the lab: an injected fault must not change what is probed."""
    chosen = set(plan.sites[:sites])
    sources = [e for e in plan.endpoints if (e.kind == "zone" and e.site in chosen)
               or (e.kind == "service" and e.primary)] if sites > 0 else []
    destinations = [*sources, *(e for e in plan.endpoints if e.kind == INTERNET)]
    sports = tuple(sorted(set(term_ports(terms)) | set(EXTRA_SOURCE_PORTS)))
    dports = {d.key: destination_ports(intent, d, terms) for d in destinations}
    adv = AdversarialPlan(sources, destinations, sports, dports)
    for si, src in enumerate(sources):
        for di, dst in enumerate(destinations):
            if dst.kind != INTERNET and dst.zone == src.zone:
                continue  # inside a zone everything passes
            subnet = src.subnet or dst.subnet
            if subnet is not None and src.address in subnet and dst.address in subnet:
                continue  # on-link: never reaches the policy point
            for pi in range(len(PROTOCOLS)):
                for sport in sports:
                    for dport in dports[dst.key]:
                        adv.rows.append((si, di, pi, sport, dport))
    return adv


def predict(model: Any, adv: AdversarialPlan, firewall: FirewallHop | None = None) -> bytes:
    """``verify``'s verdict on every probe: 1 where the ingress ACL of the source's zone
    (read from the config text) lets the packet through and, where the core's routes
    (config text) hand it to the firewall (a stateful pair, the internet), the firewall's policy
    (its text, read by ``verify``'s reader) accepts it as a new connection: a crafted
    packet belongs to no connection. ``model`` is an
    :class:`~nornir_tasks.verify.exposure.Exposure`."""
    out = bytearray(len(adv.rows))
    for i, (s, d, p, sport, dport) in enumerate(adv.rows):
        src, dst = adv.sources[s], adv.destinations[d]
        packet = Packet(PROTOCOLS[p], src.address, dst.address, sport, dport,
                        established=PROTOCOLS[p] == "tcp")
        ok = model.permits(src.zone, packet)
        if ok and firewall is not None and firewall.via(src.zone, dst.address):
            ok = firewall.opens(packet)
        out[i] = 1 if ok else 0
    return bytes(out)


def firewall_first(adv: AdversarialPlan, firewall: FirewallHop | None) -> list[int]:
    """The probes the core hands to the firewall of a stateful pair and whose policy
    would not let them open a connection: only the state of a connection could let one
    through (a lone ACK back from the answering zone). The crafted openers of the other
    way create such state (Linux picks a connection up from an ACK), so these are sent
    first, to a firewall that has forgotten every connection, and must all die."""
    if firewall is None:
        return []
    out = []
    for i, (s, d, p, sport, dport) in enumerate(adv.rows):
        src, dst = adv.sources[s], adv.destinations[d]
        if firewall.via(src.zone, dst.address) and not firewall.opens(Packet(
                PROTOCOLS[p], src.address, dst.address, sport, dport,
                established=PROTOCOLS[p] == "tcp")):
            out.append(i)
    return out


def firewall_held(model: Any, adv: AdversarialPlan,
                  firewall: FirewallHop | None) -> list[int]:
    """Of :func:`firewall_first`, the probes the ACL of the source's zone lets through
    (``verify``'s reading of the config text): only the firewall's state stops them (a
    lone ACK from the answering zone's service port into the opener's ephemeral ports,
    which the stateless reply term lets through)."""
    out = []
    for i in firewall_first(adv, firewall):
        s, d, p, sport, dport = adv.rows[i]
        src = adv.sources[s]
        if model.permits(src.zone, Packet(PROTOCOLS[p], src.address,
                                          adv.destinations[d].address, sport, dport,
                                          established=PROTOCOLS[p] == "tcp")):
            out.append(i)
    return out


@dataclass
class AdversarialResult:
    plan: AdversarialPlan
    predicted: bytes
    seen: set[int]
    resent: int = 0  # probes sent again because they were predicted to pass and unseen
    sniffer_drops: int = 0
    seconds: float = 0.0
    exposure: list[dict[str, object]] = field(default_factory=list)  # verify's table
    notes: list[str] = field(default_factory=list)  # how the rounds went, when not plainly
    #: the probes the ACL lets through but the firewall's state must stop (stateful pairs)
    held: list[int] = field(default_factory=list)

    @property
    def disagreements(self) -> list[AdvProbe]:
        return [self.plan.probe(i) for i in range(len(self.plan))
                if bool(self.predicted[i]) != (i in self.seen)]

    def counts(self) -> dict[str, int]:
        return {"sent": len(self.plan), "passed": len(self.seen),
                "predicted": sum(self.predicted), "disagreements": len(self.disagreements),
                "resent": self.resent, "sniffer_drops": self.sniffer_drops}

    def passing_pairs(self) -> list[dict[str, object]]:
        """What got through, by source zone and destination (the observed exposure plus
        the declared flows), for the report."""
        groups: dict[tuple[str, str], list[int]] = {}
        for i in sorted(self.seen):
            s, d, *_ = self.plan.rows[i]
            src, dst = self.plan.sources[s], self.plan.destinations[d]
            groups.setdefault((src.zone or "", dst.group), []).append(i)
        return [{"from": z, "to": g, "passed": len(ids),
                 "example": self.plan.probe(ids[0]).text()}
                for (z, g), ids in sorted(groups.items())]

    def to_json(self) -> dict[str, Any]:
        held = {"count": len(self.held), "passed": sum(i in self.seen for i in self.held),
                "examples": [self.plan.probe(i).text() for i in self.held[:4]]}
        return {"counts": self.counts(), "seconds": self.seconds, "notes": self.notes,
                "firewall_held": held,
                "source_ports": list(self.plan.source_ports),
                "disagreements": [p.to_json(bool(self.predicted[p.id]), p.id in self.seen)
                                  for p in self.disagreements],
                "passing": self.passing_pairs(), "exposure": self.exposure}
