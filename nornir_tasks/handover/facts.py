"""Facts derived from the intent that several handover documents state alike.

The bottom of the package beside :mod:`~nornir_tasks.handover.markdown`: the order sites
and zones are listed in, a zone's gateway address, the ports a policy rule opens. Kept in
one place so the IP plan, the site sheets, the DHCP scopes and the ROS cannot disagree.
"""

from __future__ import annotations

import ipaddress

from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Overlay, PolicyRule, Role, Site

#: The switch roles (the controller and APs are not switches).
SWITCH_ROLES = (Role.core, Role.distribution, Role.access)


def usable_hosts(net: ipaddress.IPv4Network) -> int:
    """Host addresses in a prefix (network and broadcast excluded where they exist).

    >>> usable_hosts(ipaddress.IPv4Network("10.0.0.0/26")), usable_hosts(
    ...     ipaddress.IPv4Network("10.0.0.0/31"))
    (62, 2)
    """
    addresses = 1 << (net.max_prefixlen - net.prefixlen)  # net.num_addresses, in one step
    return addresses - 2 if net.prefixlen <= 30 else addresses


def gateway_address(intent: Intent, net: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    """The zone gateway: the same host number in every prefix (the core's HSRP VIP too)."""
    return net.network_address + intent.management.mgmt_gateway_host


def ip_text(addr: ipaddress.IPv4Address | int) -> str:
    """``str(IPv4Address(addr))``: ipaddress spells an address in Python, and the docs of a
    county spell a few hundred thousand.

    >>> ip_text(ipaddress.IPv4Address("10.0.12.1")), ip_text(0xC0A80001)
    ('10.0.12.1', '192.168.0.1')
    """
    n = int(addr)
    return f"{n >> 24}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def net_text(net: ipaddress.IPv4Network) -> str:
    """``str(net)`` of an IPv4 network.

    >>> net_text(ipaddress.IPv4Network("10.0.12.0/27"))
    '10.0.12.0/27'
    """
    return f"{ip_text(net.network_address)}/{net.prefixlen}"


def gateway_text(intent: Intent, net: ipaddress.IPv4Network) -> str:
    """``str(gateway_address(intent, net))``."""
    n = int(net.network_address) + intent.management.mgmt_gateway_host
    if n > 0xFFFFFFFF:  # past the address space: let ipaddress say so
        return str(gateway_address(intent, net))
    return ip_text(n)


def sites_in_order(intent: Intent) -> list[tuple[str, Site]]:
    """Sites as every document lists them: by committed index, so the core (index 1)
    first, then in the order sites were added."""
    return sorted(intent.sites.items(), key=lambda kv: (kv[1].index, kv[0]))


def zone_order(intent: Intent) -> list[str]:
    """Zone names by zone id."""
    return sorted(intent.zones, key=lambda z: (intent.zones[z].id, z))


def is_gre(site: Site) -> bool:
    """Whether the site's circuit carries the zones as GRE tunnels over an L3VPN."""
    return site.circuit is not None and site.circuit.overlay is Overlay.gre


def core_pair(intent: Intent, devices: list[str]) -> list[str]:
    """The core switches among ``devices``, sorted."""
    return sorted(h for h in devices if intent.devices[h].role is Role.core)


def wan_block(intent: Intent, site: Site) -> str:
    """The site's WAN VLAN or tunnel number range as the docs print it ("" if none)."""
    if site.wan_vlan_base is None:
        return ""
    last = site.wan_vlan_base + intent.pools.wan_vlans.block_size - 1
    what = "tunnels" if is_gre(site) else "VLANs"
    return f"{site.wan_vlan_base}–{last} ({what})"


def rule_ports(intent: Intent, rule: PolicyRule) -> list[str]:
    """The ports a rule allows: its own, else its service's, else any (internet)."""
    if rule.ports is not None:
        return list(rule.ports)
    if rule.to in intent.services:
        return list(intent.services[rule.to].ports)
    return ["any"]


__all__ = [
    "SWITCH_ROLES",
    "core_pair",
    "gateway_address",
    "gateway_text",
    "ip_text",
    "is_gre",
    "net_text",
    "rule_ports",
    "sites_in_order",
    "usable_hosts",
    "wan_block",
    "zone_order",
]
