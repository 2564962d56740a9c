"""First-match evaluation of a stateless IPv4 ACL, the way IOS-XE evaluates it.

Used by the tests and by ``verify`` on entries parsed from config text: a packet is
checked against each entry in sequence order; the first entry that matches decides; no
match is the implicit ``deny``. ``established`` matches TCP segments with ACK or RST set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from nornir_tasks.design.structured import AclEntry

ICMP_ALIASES = {"echo": "echo-request"}


@dataclass(frozen=True)
class Packet:
    protocol: str  # tcp | udp | icmp
    source: ipaddress.IPv4Address
    destination: ipaddress.IPv4Address
    src_port: int | None = None
    dst_port: int | None = None
    established: bool = False  # TCP with ACK or RST: a reply, not a new connection
    icmp_type: str | None = None  # echo-request | echo-reply


def _port_ok(spec: str | None, port: int | None) -> bool:
    if spec is None:
        return True
    if port is None:
        return False
    if "-" in spec:
        first, last = spec.split("-", 1)
        return int(first) <= port <= int(last)
    return port == int(spec)


def matches(entry: AclEntry, p: Packet) -> bool:
    """Does one permit/deny entry match the packet?

    >>> e = AclEntry(10, "permit", "tcp", None, ipaddress.ip_network("10.10.40.10/32"), "443")
    >>> matches(e, Packet("tcp", ipaddress.ip_address("10.32.0.5"),
    ...                   ipaddress.ip_address("10.10.40.10"), 50000, 443))
    True
    """
    if entry.action not in ("permit", "deny"):
        return False
    if entry.protocol not in (None, "ip", p.protocol):
        return False
    if entry.source is not None and p.source not in entry.source:
        return False
    if entry.destination is not None and p.destination not in entry.destination:
        return False
    if p.protocol in ("tcp", "udp") and not (_port_ok(entry.src_ports, p.src_port)
                                              and _port_ok(entry.dst_ports, p.dst_port)):
        return False
    if entry.protocol in ("tcp", "udp") and p.protocol not in ("tcp", "udp"):
        return False
    if entry.established and not (p.protocol == "tcp" and p.established):
        return False
    if entry.icmp_type is not None:
        want = ICMP_ALIASES.get(entry.icmp_type, entry.icmp_type)
        if p.protocol != "icmp" or ICMP_ALIASES.get(p.icmp_type or "", p.icmp_type) != want:
            return False
    return True


def evaluate(entries: Iterable[AclEntry], packet: Packet) -> tuple[str, AclEntry | None]:
    """``("permit" | "deny", the deciding entry)``; ``None`` for the implicit deny."""
    for entry in sorted(entries, key=lambda e: e.seq):
        if matches(entry, packet):
            return entry.action, entry
    return "deny", None
