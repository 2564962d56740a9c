"""What becomes of a legacy config line: the importer's rules, one table per context.

A rule is (pattern, feature, carried, reason). The first rule whose pattern matches the
line (without indentation) decides; a line no rule knows is reported under ``other`` as
not understood, never dropped. The reasons are what the engineer reads in the
not-carried report, so each says where the thing lives in the new design.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nornir_tasks.legacy.model import Line
from nornir_tasks.legacy.text import Statement, masked


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    feature: str
    carried: bool
    reason: str


def rule(pattern: str, feature: str, carried: bool, reason: str) -> Rule:
    return Rule(re.compile(pattern), feature, carried, reason)


def decide(rules: list[Rule], line: str) -> Rule:
    for r in rules:
        if r.pattern.match(line):
            return r
    return UNKNOWN


UNKNOWN = rule(r"", "other", False, "not understood by the importer: check it by hand")


def inherited(top: list[Rule], context: str) -> Rule:
    """The fate of a line inside a block the importer does not carry: its block's."""
    parent = decide(top, context)
    return rule(r"", parent.feature, False, f"part of `{masked(context)}`: {parent.reason}")


def verdict(st: Statement, r: Rule) -> Line:
    """The report's line for a statement and the rule that decided it (secrets masked)."""
    return Line(st.number, masked(st.text), tuple(masked(c) for c in st.context), r.carried,
                r.feature, r.reason, st.span)

# --------------------------------------------------------------------------- shared

PORT_REASON = "the port map (legacy VLAN -> zone and port profile, by the mapping file)"
PROFILE = "the port profile decides it on every port of the new design"
PHYSICAL_REASON = ("the new hardware negotiates; set by hand after the move where a device "
                   "needs it")
POE_REASON = "PoE is on by default on the new access switches"
QOS_REASON = "voice QoS comes from the phone port profile"
SVI_REASON = ("the zone's gateway is the site gateway's SVI, addressed from the pools; the "
              "legacy subnet is kept in the import report")
DHCP_RELAY_REASON = "DHCP relay points at services.dhcp on every zone SVI"

#: what both platforms say at the top level about the device as a whole
MANAGEMENT = [
    rule(r"^(ntp|sntp|timesync)\b", "management", False,
         "NTP comes from management.ntp_servers"),
    rule(r"^(logging|syslog)\b", "management", False,
         "syslog comes from management.syslog_servers"),
    rule(r"^(clock|time)\b", "management", False, "time zone from management.timezone"),
    rule(r"^banner\b", "management", False, "the banner is management.banner"),
    rule(r"^(ip domain[- ]name|ip name-server|ip dns)\b", "management", False,
         "DNS comes from management.dns_servers and domain_name"),
    rule(r"^(ip ssh|crypto|ip scp|ssh|ip ssh filetransfer)\b", "management", False,
         "SSH is always on (version 2, keys made on the device)"),
    rule(r"^(ip http|web-management|rest-interface)\b", "management", False,
         "no web management in the new design"),
    rule(r"^(service|no service)\b", "management", False,
         "the platform skeleton of the new design"),
    rule(r"^(snmp-server|snmpv3|snmp)\b", "snmp", False,
         "SNMPv3 only, from management.snmp_users (communities are not carried)"),
    rule(r"^(enable (secret|password)|username|password|aaa|no aaa|tacacs-server|"
         r"radius-server|aaa-server|login)\b", "aaa", False,
         "device logins are TACACS+ with local fallback (aaa); RADIUS is aaa.radius"),
    rule(r"^(ip access-list|access-list|ip access-group|ipv6 access-list)\b", "acl", False,
         "zone policy replaces device ACLs: rewrite what is needed as zone_policy rules"),
    rule(r"^(ip default-gateway|ip route|ip routing|router |ipv6 route|ip forward)",
         "routing", False,
         "routing follows from the site's circuit and transit (allocated by site add)"),
    rule(r"^(spanning-tree|no spanning-tree)\b", "spanning-tree", False,
         "rapid-PVST with the site gateway as root comes from the design"),
    rule(r"^(mls qos|qos|auto qos|no mls qos)\b", "qos", False, QOS_REASON),
    rule(r"^(ip dhcp snooping|ip arp inspection|dhcp-snooping|arp-protect)\b",
         "dhcp-snooping", False, "DHCP snooping and ARP inspection come from the design"),
    rule(r"^(cdp|lldp|no cdp|no lldp)\b", "discovery", False,
         "LLDP and CDP are the platform's defaults; the survey reads the neighbours"),
    rule(r"^(port-security|mac-address-table|mac address-table)\b", "port-security", False,
         "802.1X and MAB on the port profiles replace port security"),
    rule(r"^(power inline|power-over-ethernet)\b", "poe", False, POE_REASON),
]
