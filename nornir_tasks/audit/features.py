"""Which feature each config line belongs to: a declarative table, not code.

A config is read as a tree of lines (by indentation; a ``banner`` keeps its text lines
below it). Each line is named by its *path*, the line and the section lines above it,
and falls in the first feature of :data:`FEATURES` whose rule matches the path. The table
is data: a new feature, or a line that moves to another one, is a row here. A test keeps
it complete (every line of every golden config lands in a named feature, none in
``other``) and keeps every template claimed by one feature.

>>> [classify(p) for p in (("username ops privilege 15 secret <<secret>>",),
...     ("ip access-list extended ZONE-GUEST-IN", "20 deny ip any any"),
...     ("interface GigabitEthernet1/0/1", "dot1x pae authenticator"),
...     ("interface GigabitEthernet1/0/1", "switchport access vlan 110"),
...     ("wireless profile policy PP-GJEST", "vlan 150"), ("foo bar",))]
['aaa', 'acls', 'dot1x', 'interfaces', 'wlan', 'other']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OTHER = "other"

Path = tuple[str, ...]


@dataclass(frozen=True)
class Feature:
    """One column of the fleet table."""

    name: str
    title: str
    #: templates (``<platform>/<file>.j2``) whose lines this feature covers
    templates: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """``top`` matches the top-level line of a path; ``below``, when set, must match one
    of the lines under it (the line itself or a section line between)."""

    feature: str
    top: str
    below: str | None = None


#: the columns of the fleet table, in the order a device prints them
FEATURES: tuple[Feature, ...] = (
    Feature("base", "hostname, version, services, clock, banner",
            ("ios_xe/base.j2", "ios_xe/main.j2", "c9800/main.j2")),
    Feature("vrfs", "VRF definitions", ("ios_xe/vrfs.j2",)),
    Feature("aaa", "AAA method lists, TACACS+/RADIUS servers, local users, enable secret",
            ("ios_xe/aaa.j2", "ios_xe/aaa_servers.j2", "ios_xe/users.j2")),
    Feature("services", "management services: DNS, SSH, HTTP, NTP, logging, SNMP, lines, "
            "login, licence", ("ios_xe/services.j2", "ios_xe/logging.j2", "ios_xe/snmp.j2",
                               "ios_xe/ntp.j2", "ios_xe/lines.j2", "ios_xe/login.j2",
                               "ios_xe/license.j2")),
    Feature("edge_security", "DHCP snooping, ARP inspection, RA guard, storm control, "
            "BPDU guard, IP Source Guard", ("ios_xe/dhcp_snooping.j2",
                                            "ios_xe/ra_guard.j2")),
    Feature("dot1x", "802.1X / MAB: IBNS 2.0 policies, service templates, port sessions",
            ("ios_xe/dot1x.j2", "ios_xe/dot1x_classes.j2", "ios_xe/dot1x_policies.j2")),
    Feature("qos", "voice QoS: the phones' classes and the egress queueing policy",
            ("ios_xe/qos_classes.j2", "ios_xe/qos_policies.j2")),
    Feature("spanning_tree", "spanning tree", ("ios_xe/spanning_tree.j2",)),
    Feature("redundancy", "redundancy (stack / SSO pair)",
            ("ios_xe/redundancy.j2", "c9800/redundancy.j2")),
    Feature("vlans", "VLANs and the VTP mode", ("ios_xe/vlans.j2", "ios_xe/vtp.j2")),
    Feature("interfaces", "interfaces and port profiles, port-channels, SVIs, tunnels",
            ("ios_xe/interfaces.j2", "ios_xe/port.j2", "ios_xe/routed_port.j2", "ios_xe/svis.j2",
             "c9800/interfaces.j2")),
    Feature("routing", "IP routing, static routes, BGP, route maps, prefix lists",
            ("ios_xe/routing.j2", "ios_xe/bgp.j2", "ios_xe/route_maps.j2",
             "ios_xe/tracks.j2", "ios_xe/ip_sla.j2")),
    Feature("acls", "access lists and where they are applied",
            ("ios_xe/acls.j2", "ios_xe/acl.j2")),
    Feature("wlan", "WLANs (SSIDs), policy/flex profiles, policy/site/RF tags",
            ("c9800/wireless.j2", "c9800/wlans.j2", "c9800/policy_profiles.j2",
             "c9800/flex_profiles.j2", "c9800/policy_tags.j2", "c9800/site_tags.j2",
             "c9800/rf_tags.j2")),
    Feature("aps", "access points: join profiles, static AP tags by MAC",
            ("c9800/ap_join_profiles.j2", "c9800/ap_tags.j2")),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)

_IFACE = r"^interface "
#: first match wins: the rules with ``below`` come first (a line inside an interface that
#: belongs to another feature), then the top-level lines
RULES: tuple[Rule, ...] = (
    Rule("dot1x", _IFACE, r"^(authentication |access-session |dot1x |mab\b|"
                          r"service-policy type control )"),
    Rule("qos", _IFACE, r"^(service-policy (input|output) |trust device |auto qos )"),
    Rule("edge_security", _IFACE, r"^(storm-control |spanning-tree (portfast|bpduguard)|"
                                  r"ipv6 nd raguard |ip dhcp snooping |ip arp inspection |"
                                  r"ip verify source)"),
    Rule("acls", _IFACE, r"^ip access-group "),
    Rule("acls", r"^line vty ", r"^access-class "),
    Rule("interfaces", _IFACE),
    Rule("base", r"^(version |hostname |service (timestamps|password-encryption|"
                 r"sequence-numbers)|clock |banner |control-plane|end$|boot-|boot |"
                 r"platform punt-keepalive |switch \d+ provision |"
                 r"Building configuration|Current configuration :)"),
    Rule("vrfs", r"^vrf definition "),
    Rule("aaa", r"^(aaa |radius server |radius-server |tacacs server |tacacs-server |"
                r"username |enable (secret|password) |ip radius |ip tacacs )"),
    Rule("dot1x", r"^(dot1x |service-template |class-map type control |"
                  r"policy-map type control |access-session |authentication |"
                  r"parameter-map type webauth )"),
    Rule("edge_security", r"^(no )?(ip dhcp snooping|ip arp inspection|ipv6 nd raguard|"
                          r"device-tracking)"),
    Rule("spanning_tree", r"^spanning-tree "),
    Rule("redundancy", r"^(redundancy|redun-management |management gateway-failover )"),
    Rule("vlans", r"^(vlan |vtp )"),
    Rule("routing", r"^((no )?ip routing|ip route |router |route-map |ip prefix-list |"
                    r"ip forward-protocol |ip bgp-community )"),
    Rule("acls", r"^(ip access-list |access-list |ipv6 access-list |object-group )"),
    Rule("qos", r"^(class-map match-(any|all) |policy-map (?!type control )|table-map )"),
    Rule("services", r"^((no )?ip (domain|name-server|ssh|http|scp|ftp|tftp|dhcp|"
                     r"finger|bootp|source-route|gratuitous-arps)|"
                     r"ntp |logging |(no )?logging |snmp-server |snmp |line |login |"
                     r"(no )?service |(no )?cdp |(no )?lldp |archive|netconf|restconf|"
                     r"crypto |license |diagnostic |call-home|transceiver |memory |"
                     r"errdisable |udld |exception |scheduler )"),
    Rule("wlan", r"^(wlan |wireless (profile (policy|flex) |tag |country |management )|"
                 r"wireless )"),
    Rule("aps", r"^ap (profile |[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})"),
)

_COMPILED = tuple((r.feature, re.compile(r.top), re.compile(r.below) if r.below else None)
                  for r in RULES)


def classify(path: Path) -> str:
    """The feature of a config line, given its path (top-level line first)."""
    top = path[0]
    for feature, top_re, below_re in _COMPILED:
        if not top_re.search(top):
            continue
        if below_re is None or any(below_re.search(p) for p in path[1:]):
            return feature
    return OTHER


_BANNER = re.compile(r"^banner \S+ (?P<delim>\^C|\S)")


def config_paths(text: str) -> list[Path]:
    """Every line of a config as its path, in order; comments and blank lines dropped.

    Indentation makes the tree; the text of a ``banner`` (until its closing delimiter)
    is kept below the banner line. Whitespace inside a line is collapsed.

    >>> config_paths("hostname a\\n!\\ninterface Gi1\\n description x\\n"
    ...              "banner motd ^C\\nHello\\n^C\\nend\\n")  # doctest: +NORMALIZE_WHITESPACE
    [('hostname a',), ('interface Gi1',), ('interface Gi1', 'description x'),
     ('banner motd ^C',), ('banner motd ^C', 'Hello'), ('banner motd ^C', '^C'), ('end',)]
    """
    out: list[Path] = []
    stack: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        i += 1
        if not raw.strip() or raw.lstrip().startswith("!"):
            continue
        indent = len(raw) - len(raw.lstrip())
        norm = " ".join(raw.split())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (*(t for _, t in stack), norm)
        out.append(path)
        stack.append((indent, norm))
        banner = _BANNER.match(norm) if indent == 0 else None
        if banner and norm.count(banner["delim"]) < 2:
            delim = banner["delim"]
            while i < len(lines):
                body = lines[i].rstrip()
                i += 1
                out.append((norm, " ".join(body.split()) or "<blank>"))
                if delim in body:
                    break
            stack.pop()
    return out


def display(path: Path) -> str:
    """A path as the device prints it: the last line, indented by its depth.

    >>> display(("interface Gi1", "description x"))
    ' description x'
    """
    return " " * (len(path) - 1) + path[-1]
