"""Render structured config to device CLI text with one Jinja2 template per feature.

``templates/<platform>/main.j2`` includes the feature templates in the order the device
prints them. StrictUndefined: a missing key is an error, never an empty line.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def ios_mask(value: Any) -> str:
    """Dotted netmask of an interface or network.

    >>> ios_mask(ipaddress.ip_interface("10.0.1.1/26"))
    '255.255.255.192'
    """
    return str(ipaddress.ip_network(str(value), strict=False).netmask)


def ios_wildcard(value: Any) -> str:
    """Wildcard (inverse) mask, as IOS ACLs print it.

    >>> ios_wildcard(ipaddress.ip_network("10.10.0.0/24"))
    '0.0.0.255'
    """
    return str(ipaddress.ip_network(str(value), strict=False).hostmask)


def ip_of(value: Any) -> str:
    """Address part of an interface (``10.0.1.1/26`` -> ``10.0.1.1``).

    >>> ip_of(ipaddress.ip_interface("10.0.1.1/26"))
    '10.0.1.1'
    """
    return str(ipaddress.ip_interface(str(value)).ip)


def network_of(value: Any) -> str:
    """Network address of a prefix.

    >>> network_of(ipaddress.ip_network("10.0.1.0/26"))
    '10.0.1.0'
    """
    return str(ipaddress.ip_network(str(value), strict=False).network_address)


#: Port numbers IOS prints by keyword in ACLs (it converts them when the entry is stored).
IOS_PORT_NAMES = {
    "tcp": {21: "ftp", 23: "telnet", 25: "smtp", 49: "tacacs", 53: "domain", 80: "www",
            110: "pop3", 179: "bgp"},
    "udp": {53: "domain", 67: "bootps", 68: "bootpc", 69: "tftp", 123: "ntp", 161: "snmp",
            162: "snmptrap", 500: "isakmp", 514: "syslog"},
}


def ios_ports(ports: str, protocol: str) -> str:
    """An ACL port match as IOS prints it: keywords for well-known ports.

    >>> ios_ports("53", "udp"), ios_ports("443", "tcp"), ios_ports("10000-20000", "udp")
    ('eq domain', 'eq 443', 'range 10000 20000')
    """
    names = IOS_PORT_NAMES.get(protocol, {})

    def one(p: str) -> str:
        return names.get(int(p), p)

    if "-" in ports:
        first, last = ports.split("-", 1)
        return f"range {one(first)} {one(last)}"
    return f"eq {one(ports)}"


#: a printed `switchport trunk allowed vlan` line, leading space included, stays under 80
#: columns; the rest continues on `... allowed vlan add` lines, split at commas
#: (docs/reference/ios-xe-core-and-wan.md §4: 72- and 77-column lines seen, 80 wrapped)
ALLOWED_VLAN_WIDTH = 79


def allowed_vlan_lines(vlans: str) -> list[str]:
    """A trunk's allowed-VLAN list as IOS-XE prints it: one line, or a first line and
    ``add`` lines when it would pass the width.

    >>> allowed_vlan_lines("100,110")
    ['switchport trunk allowed vlan 100,110']
    >>> lines = allowed_vlan_lines(",".join(str(v) for v in range(2000, 2060, 2)))
    >>> [len(" " + l) <= ALLOWED_VLAN_WIDTH for l in lines], lines[1][:34]
    ([True, True, True], 'switchport trunk allowed vlan add ')
    """
    head, more = "switchport trunk allowed vlan ", "switchport trunk allowed vlan add "
    lines: list[str] = []
    current = head
    for item in vlans.split(","):
        sep = "" if current in (head, more) else ","
        if len(" " + current + sep + item) > ALLOWED_VLAN_WIDTH and current not in (head, more):
            lines.append(current)
            current, sep = more, ""
        current += sep + item
    lines.append(current)
    return lines


FILTERS = {
    "allowed_vlan_lines": allowed_vlan_lines,
    "ios_mask": ios_mask,
    "ios_wildcard": ios_wildcard,
    "ip_of": ip_of,
    "network_of": network_of,
    "ios_ports": ios_ports,
}


@lru_cache(maxsize=8)
def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - device CLI, not HTML
    )
    env.filters.update(FILTERS)
    return env


def render_config(platform: str, config: Any, templates: Path = TEMPLATES) -> str:
    """CLI text of one device; ``config`` is its structured config."""
    template = environment(templates).get_template(f"{platform}/main.j2")
    return template.render(cfg=config)
