"""What the matrix as written says about one probe, read from the intent alone.

This reading is deliberately independent of :mod:`nornir_tasks.policy`: the lab is a
proof of the compiled terms, so it must not take its expectations from them. An injected
or mis-compiled term then shows up as a mismatch.

The reading, in order:

* inside a zone, everything (the probe stays in one zone's pool);
* a required flow (``zone_policy.infrastructure``) whose ``from`` end covers the sender
  and whose ``to`` end covers the receiver, on its ports, from its source ports (the
  opener's fixed ports, default the ephemeral range). A one-way flow (``reply: false``)
  lets the request arrive but nothing come back;
* a rule of the sender's zone: to a service, the service's ports (or the rule's) and
  ping; to a zone, exactly its ports; to the internet, anything outside. A stateful rule
  (``stateful: true``) reads the same: what its opener opens, and the replies; never a
  connection the other way;
* everything else is denied -- except where an accepted exposure
  (``zone_policy.accepted_exposures``) covers the request (and, for a two-way probe, its
  reply): the intent accepts that such packets *may* pass (the ACLs are written for a
  zone's pool where a flow names its gateways or devices), not that they must. Such a
  probe is *tolerated*: closed is as declared, open is as accepted. Whether it passes
  is ``verify``'s to say exactly; the lab's crafted probes check that prediction.

Ends are read exactly as the intent defines them: ``zones`` are the hosts of those zones
(any address in the zone's prefixes), ``devices`` the management addresses of devices of
those roles (``ap``: the AP zone), a ``service`` its addresses (``noc``: the NOC's).
Relay ends (the gateways) are not probe endpoints here; the DHCP relay is proved by
:mod:`nornir_tasks.lab.required` with a real relay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import FlowEnd
from nornir_tasks.lab.plan import INTERNET, Endpoint

#: the client port the lab assumes for an opener without a fixed source port (Linux picks
#: from 32768-60999, inside the intent's default 1024-65535)
EPHEMERAL = 40000
#: the intent's default source ports of an opener (replies go back only to these)
DEFAULT_SOURCE = (1024, 65535)


def port_matches(specs: Iterable[str], proto: str, port: int | None) -> bool:
    """Does a probe fall under ``tcp/N``, ``udp/N-M``, ``icmp`` or ``any``?

    >>> port_matches(["tcp/443", "udp/10000-20000"], "udp", 10000)
    True
    >>> port_matches(["tcp/443"], "icmp", None)
    False
    """
    for spec in specs:
        if spec == "any" or (spec == "icmp" and proto == "icmp"):
            return True
        p, _, ports = spec.partition("/")
        if p == proto and ports and port is not None:
            first, _, last = ports.partition("-")
            if int(first) <= port <= int(last or first):
                return True
    return False


def source_matches(source_ports: Iterable[str] | None, proto: str, sport: int | None) -> bool:
    """Is the probe's source port one the opener may use? ``None`` = an ephemeral port.

    >>> source_matches(None, "udp", None), source_matches(None, "udp", 68)
    (True, False)
    >>> source_matches(["udp/123", "udp/1024-65535"], "udp", None)
    True
    >>> source_matches(["udp/68"], "udp", None)
    False
    """
    if proto not in ("tcp", "udp"):
        return True
    port = EPHEMERAL if sport is None else sport
    if source_ports is None:
        return DEFAULT_SOURCE[0] <= port <= DEFAULT_SOURCE[1]
    return port_matches(source_ports, proto, port)


def covers(intent: Intent, end: FlowEnd, ep: Endpoint) -> bool:
    """Does a flow end name this endpoint?"""
    if ep.kind == INTERNET:
        return False
    if ep.zone is not None and ep.zone in end.zones:
        return True
    if end.service is not None and ep.service == end.service:
        return True
    roles = {r.value for r in end.devices}
    if "ap" in roles and ep.zone == intent.wireless.ap_zone:
        return True
    return bool(roles & set(ep.roles))


class Verdict(NamedTuple):
    allowed: bool  # the declared matrix lets the probe through
    reason: str
    tolerated: bool = False  # not declared, but an accepted exposure covers it


def _exposed(intent: Intent, src: Endpoint, dst: Endpoint, proto: str, port: int | None,
             sport: int | None) -> str | None:
    """The reason of the accepted exposure that lets one packet through, if one does."""
    def named(names: Iterable[str], ep: Endpoint) -> bool:
        return any(n == ep.zone or n == ep.service or (n == INTERNET and ep.kind == INTERNET)
                   for n in names)

    for acc in intent.policy.accepted_exposures:
        if named(acc.from_, src) and named(acc.to, dst) \
                and port_matches(acc.ports or ["any"], proto, port) \
                and (acc.source_ports is None or proto not in ("tcp", "udp")
                     or port_matches(acc.source_ports, proto,
                                     EPHEMERAL if sport is None else sport)):
            return acc.reason
    return None


def _declared(intent: Intent, src: Endpoint, dst: Endpoint, proto: str, port: int | None,
              sport: int | None, oneway: bool) -> tuple[bool, str] | None:
    """The declared flows: inside a zone, the required flows, the rules."""
    pol = intent.policy
    ephemeral_ok = source_matches(None, proto, sport)
    if src.zone is not None and dst.kind != INTERNET and src.zone == dst.zone:
        return True, f"inside zone {src.zone}"
    for flow in pol.infrastructure:
        if covers(intent, flow.from_, src) and covers(intent, flow.to, dst) \
                and port_matches(flow.ports, proto, port) \
                and source_matches(flow.source_ports, proto, sport):
            if flow.reply or oneway:
                return True, f"required flow {flow.name}"
            return False, f"required flow {flow.name} is one-way: no reply"
    for rule in pol.rules:
        if rule.from_ != src.zone or not ephemeral_ok:
            continue
        # a stateful rule means the same: its opener's connections, and their replies
        # (the firewall's state, not a reply term, lets those back)
        how = " (stateful, through the firewall)" if rule.stateful else ""
        if rule.to == INTERNET and dst.kind == INTERNET:
            return True, f"rule {rule.from_} -> internet"
        if dst.service is not None and rule.to == dst.service:
            ports = list(rule.ports or intent.services[rule.to].ports)
            if port_matches([*ports, "icmp"], proto, port):
                return True, f"rule {rule.from_} -> {rule.to}{how}"
        if rule.to in intent.zones and rule.to == dst.zone \
                and port_matches(rule.ports or [], proto, port):
            return True, f"rule {rule.from_} -> {rule.to}{how}"
    return None


def matrix_verdict(intent: Intent, src: Endpoint, dst: Endpoint, proto: str,
                   port: int | None, sport: int | None = None,
                   oneway: bool = False) -> Verdict:
    """What the matrix as written says about one probe.

    A two-way probe gets through when the request may go and its reply may come back; a
    one-way probe (``oneway``) when the request may arrive.
    """
    declared = _declared(intent, src, dst, proto, port, sport, oneway)
    if declared is not None and (declared[0] or oneway):
        return Verdict(*declared)
    reason = _exposed(intent, src, dst, proto, port, sport)
    if reason is not None and not oneway:
        # the reply: from the port asked, back to the port the probe came from
        back = None if proto == "icmp" else (EPHEMERAL if sport is None else sport)
        if _exposed(intent, dst, src, proto, back, port) is None:
            reason = None
    why = declared[1] if declared is not None else "default deny"
    if reason is None:
        return Verdict(False, why)
    return Verdict(False, f"{why}; may pass: accepted exposure ({reason.split('.')[0][:60]})",
                   tolerated=True)
