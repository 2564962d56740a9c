"""Cisco IOS classic (Catalyst 2960/3560/3750, IOS 12.2 and 15.x) running configs.

The statements come from hier_config's IOS parser (:mod:`nornir_tasks.legacy.text`); each
is decided by the rules below and, where it is carried, read into the device's VLANs and
per-port view. Printed forms: docs/reference/legacy-syntax.md.
"""

from __future__ import annotations

import ipaddress
import re

from hier_config import Platform

from nornir_tasks.legacy.model import LegacyDevice, LegacyPort, LegacySvi, LegacyVlan
from nornir_tasks.legacy.rules import (
    DHCP_RELAY_REASON,
    MANAGEMENT,
    PHYSICAL_REASON,
    POE_REASON,
    PORT_REASON,
    PROFILE,
    QOS_REASON,
    SVI_REASON,
    Rule,
    decide,
    inherited,
    rule,
    verdict,
)
from nornir_tasks.legacy.text import statements

PHYSICAL = re.compile(r"^interface ((?:Fast|Gigabit|TwoGigabit|FiveGigabit|TenGigabit)?"
                      r"Ethernet\d+(?:/\d+)+|Port-channel\d+)$")
SVI = re.compile(r"^interface Vlan(\d+)$")
VLAN = re.compile(r"^vlan (\d+(?:[,-]\d+)*)$")

TOP: list[Rule] = [
    rule(r"^hostname ", "hostname", True, "the device's site and new name (mapping file)"),
    rule(r"^vlan \d+(?:[,-]\d+)*$", "vlan", True,
         "legacy VLAN -> zone (mapping file); the zone's VLAN ID is the intent's"),
    rule(r"^vlan internal allocation", "platform", False, "a platform default"),
    rule(r"^(version|boot|boot-start-marker|boot-end-marker|system mtu|vtp|ip cef|"
         r"no ip cef|no ipv6 cef|ipv6 cef|license|switch \d+ provision|ip subnet-zero|"
         r"no ip domain[- ]lookup|ip domain[- ]lookup|ip classless|control-plane|"
         r"diagnostic|errdisable|port-channel load-balance|no ip source-route|"
         r"ip forward-protocol|no ip http|no ip gratuitous-arps|archive|memory)\b",
         "platform", False, "the new platform's own defaults (IOS-XE 17, Catalyst 9000)"),
    *MANAGEMENT,
    rule(r"^line ", "aaa", False, "vty access is SSH with TACACS+ (aaa); console from aaa"),
    rule(r"^interface ", "routing", False,
         "only switch ports and VLAN interfaces are imported"),
    rule(r"^monitor session", "other", False, "SPAN sessions are set up by hand when needed"),
]

#: children of a switch port or port-channel
PORT: list[Rule] = [
    rule(r"^(switchport (mode (access|trunk)|access vlan|voice vlan|trunk allowed vlan|"
         r"trunk native vlan)|description|shutdown|no shutdown|channel-group \d+ mode)\b",
         "port", True, PORT_REASON),
    rule(r"^switchport trunk encapsulation", "switching", False,
         "the new switches trunk with 802.1Q only"),
    rule(r"^channel-protocol", "switching", False,
         "the port-channels of the new design are LACP (channel-group mode active)"),
    rule(r"^(switchport nonegotiate|switchport host|no switchport|switchport$)",
         "switching", False, PROFILE),
    rule(r"^switchport port-security", "port-security", False,
         "802.1X and MAB on the port profile replace port security"),
    rule(r"^(spanning-tree|no spanning-tree)\b", "spanning-tree", False, PROFILE),
    rule(r"^(mls qos|srr-queue|priority-queue|auto qos|service-policy|qos)\b", "qos", False,
         QOS_REASON),
    rule(r"^(storm-control|ip dhcp snooping|ip arp inspection|ip verify)\b",
         "dhcp-snooping", False, PROFILE),
    rule(r"^(speed|duplex|media-type|negotiation|mdix|flowcontrol|udld|load-interval)\b",
         "physical", False, PHYSICAL_REASON),
    rule(r"^power inline", "poe", False, POE_REASON),
    rule(r"^(cdp|lldp|no cdp|no lldp)\b", "discovery", False,
         "LLDP and CDP are the platform's defaults"),
    rule(r"^(authentication|dot1x|mab)\b", "aaa", False,
         "802.1X and MAB come from the port profile"),
    rule(r"^(ip access-group|access-group)\b", "acl", False,
         "zone policy replaces port ACLs"),
]

#: children of a VLAN interface: the legacy gateway, replaced by the zone's gateway
SVI_RULES: list[Rule] = [
    rule(r"^ip helper-address", "routing", False,
         DHCP_RELAY_REASON),
    rule(r"", "routing", False, SVI_REASON),
]


def read(text: str, source: str = "") -> LegacyDevice:
    """The device a Cisco IOS running config describes, every line accounted for."""
    dev = LegacyDevice(source, "cisco_ios", lines_read=len(text.splitlines()))
    stmts, dev.framing = statements(text, Platform.CISCO_IOS)
    for st in stmts:
        ctx = st.context[0] if st.context else None
        if ctx is None:
            r = decide(TOP, st.text)
            if SVI.match(st.text):
                r = rule(r"", "routing", False, SVI_REASON)
            elif PHYSICAL.match(st.text):
                r = rule(r"", "port", True, PORT_REASON)
        elif PHYSICAL.match(ctx):
            r = decide(PORT, st.text)
        elif SVI.match(ctx):
            r = decide(SVI_RULES, st.text)
        elif VLAN.match(ctx):
            r = (rule(r"", "vlan", True, "the VLAN's name names the zone in the mapping")
                 if st.text.startswith("name ") else decide(TOP, st.text))
        else:
            r = inherited(TOP, ctx)
        dev.lines.append(verdict(st, r))
        _apply(dev, st.text, st.context, r.carried)
    dev.declare_used_vlans()
    return dev


def _apply(dev: LegacyDevice, text: str, context: tuple[str, ...], carried: bool) -> None:
    """Read a carried statement into the device's VLANs, ports and SVIs."""
    words = text.split()
    if not context:
        if text.startswith("hostname "):
            dev.hostname = words[1]
        elif words[0] == "version" and len(words) > 1:
            dev.software = words[1]
        elif (m := VLAN.match(text)) is not None:
            for vid in vlan_list(m[1]):
                dev.vlans.setdefault(vid, LegacyVlan(vid))
        elif (m := PHYSICAL.match(text)) is not None:
            dev.ports.setdefault(m[1], LegacyPort(m[1]))
        elif (m := SVI.match(text)) is not None:
            dev.svis.setdefault(int(m[1]), LegacySvi(int(m[1]), None))
        return
    ctx = context[0]
    if (m := VLAN.match(ctx)) is not None and carried and words[0] == "name":
        for vid in vlan_list(m[1]):
            dev.vlans[vid] = LegacyVlan(vid, " ".join(words[1:]))
    elif (m := SVI.match(ctx)) is not None:
        svi = dev.svis[int(m[1])]
        if words[:2] == ["ip", "address"] and len(words) >= 4 and "secondary" not in words:
            addr = ipaddress.IPv4Interface(f"{words[2]}/{words[3]}")
            dev.svis[svi.vlan] = LegacySvi(svi.vlan, addr, svi.helpers)
        elif words[:2] == ["ip", "helper-address"]:
            dev.svis[svi.vlan] = LegacySvi(svi.vlan, svi.address,
                                           (*svi.helpers, ipaddress.IPv4Address(words[-1])))
    elif (m := PHYSICAL.match(ctx)) is not None and carried:
        _port(dev.ports[m[1]], words, text)


def _port(port: LegacyPort, words: list[str], text: str) -> None:
    if words[0] == "description":
        port.description = text.split(None, 1)[1] if len(words) > 1 else ""
    elif words == ["shutdown"]:
        port.shutdown = True
    elif words == ["no", "shutdown"]:
        port.shutdown = False
    elif words[0] == "channel-group":
        port.channel_group = int(words[1])
    elif words[1:2] == ["mode"]:
        port.mode = words[2]
    elif words[1:3] == ["access", "vlan"]:
        port.access_vlan = int(words[3])
    elif words[1:3] == ["voice", "vlan"] and words[3].isdigit():
        port.voice_vlan = int(words[3])
    elif words[1:4] == ["trunk", "native", "vlan"]:
        port.native_vlan = int(words[4])
    elif words[1:4] == ["trunk", "allowed", "vlan"]:
        port.allowed = allowed_after(port.allowed, words[4:])


def vlan_list(text: str) -> list[int]:
    """``10,20-22`` -> [10, 20, 21, 22].

    >>> vlan_list("10,20-22")
    [10, 20, 21, 22]
    """
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += range(int(lo), int(hi or lo) + 1)
    return out


def allowed_after(current: tuple[int, ...] | None, args: list[str]) -> tuple[int, ...] | None:
    """A trunk's allowed VLANs after one ``switchport trunk allowed vlan`` line (None:
    all VLANs).

    >>> allowed_after(None, ["10,20"])
    (10, 20)
    >>> allowed_after((10, 20), ["add", "30-31"])
    (10, 20, 30, 31)
    >>> allowed_after((10, 20, 30), ["remove", "20"]), allowed_after((10,), ["none"])
    ((10, 30), ())
    """
    everything = tuple(range(1, 4095))
    if args[0] == "all":
        return None
    if args[0] == "none":
        return ()
    if args[0] == "except":
        return tuple(v for v in everything if v not in set(vlan_list(args[1])))
    base = set(current if current is not None else everything)
    if args[0] == "add":
        return tuple(sorted(base | set(vlan_list(args[1]))))
    if args[0] == "remove":
        return tuple(sorted(base - set(vlan_list(args[1]))))
    return tuple(sorted(vlan_list(args[0])))
