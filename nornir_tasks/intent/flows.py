"""Reading the ends of a required (infrastructure) flow in zone terms.

A flow end names zones, relay agents (site gateways), devices by role, or one service (or
the NOC). Policy, docs and reports need to know which zones that covers: relay agents and
devices live in zones too (a gateway in the zone it relays for, a device in the management
zone, an access point in the AP zone).
"""

from __future__ import annotations

import ipaddress

from nornir_tasks.intent.loader import Intent
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


def zone_holding(intent: Intent, nets: list[ipaddress.IPv4Network]) -> str | None:
    """The zone whose committed site prefix holds every one of ``nets``."""
    for site in intent.sites.values():
        for zone, prefix in site.prefixes.items():
            if nets and all(n.subnet_of(prefix) for n in nets):
                return zone
    return None


def end_zones(intent: Intent, end: FlowEnd) -> list[str]:
    """Every zone the end lives in, its named service's (or the NOC's) included."""
    zones = host_zones(intent, end)
    if end.service is not None:
        z = zone_holding(intent, service_prefixes(intent, end.service))
        if z is not None and z not in zones:
            zones.append(z)
    return zones
