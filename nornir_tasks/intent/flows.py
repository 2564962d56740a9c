"""Reading the ends of a required (infrastructure) flow in zone terms.

A flow end names zones, relay agents (site gateways), devices by role, or one service (or
the NOC). Policy, docs and reports need to know which zones that covers: relay agents and
devices live in zones too (a gateway in the zone it relays for, a device in the management
zone, an access point in the AP zone).
"""

from __future__ import annotations

import ipaddress

from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.intent.model import FlowEnd, Role

#: a flow end that is no service: the operator's NOC (``management.noc_prefixes``)
NOC = "noc"


def device_zone(intent: Intent, role: Role) -> str:
    """The zone a device of this role is managed in.

    Access points take their addresses in the AP zone; everything else is managed in the
    management zone.
    """
    return intent.wireless.ap_zone if role is Role.ap else intent.policy.management_zone


def host_zones(intent: Intent, end: FlowEnd) -> list[str]:
    """The zones whose hosts, gateways or devices the end covers (services aside)."""
    zones = [*end.zones, *end.relay, *(device_zone(intent, r) for r in end.devices)]
    return list(dict.fromkeys(zones))


def service_prefixes(intent: Intent, name: str) -> list[ipaddress.IPv4Network]:
    """The addresses of a named end: a service's prefixes, or the NOC's."""
    if name == NOC:
        return list(intent.management.noc_prefixes)
    return list(intent.services[name].prefixes)


@per_intent
def _prefix_index(intent: Intent) -> list[tuple[int, dict[int, str]]]:
    """Every committed site prefix with its zone, by prefix length."""
    by_len: dict[int, dict[int, str]] = {}
    for site in intent.sites.values():
        for zone, prefix in site.prefixes.items():
            by_len.setdefault(prefix.prefixlen, {}).setdefault(int(prefix.network_address),
                                                                zone)
    return sorted(by_len.items())


def zone_holding(intent: Intent, nets: list[ipaddress.IPv4Network]) -> str | None:
    """The zone whose committed site prefix holds every one of ``nets`` (site prefixes do
    not overlap, the intent checks say so: at most one holds a given network).

    One dictionary probe per prefix length: services and NOC prefixes are looked up for
    every core VRF and every flow, and a county has thousands of site prefixes."""
    zones = set()
    for n in nets:
        found = None
        addr = int(n.network_address)
        for plen, by_addr in _prefix_index(intent):
            if plen > n.prefixlen:
                break
            mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0
            found = by_addr.get(addr & mask)
            if found is not None:
                break
        if found is None:
            return None
        zones.add(found)
    return zones.pop() if len(zones) == 1 else None


def end_zones(intent: Intent, end: FlowEnd) -> list[str]:
    """Every zone the end lives in, its named service's (or the NOC's) included."""
    zones = host_zones(intent, end)
    if end.service is not None:
        z = zone_holding(intent, service_prefixes(intent, end.service))
        if z is not None and z not in zones:
            zones.append(z)
    return zones
