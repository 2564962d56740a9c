"""HPE ArubaOS-Switch (ProCurve 2530/2920/5400 family, releases YA/YB/WB/KB 15-16.x)
running configs.

ArubaOS-Switch is VLAN-centric: a port's VLANs are the ``untagged`` and ``tagged`` port
lists under each ``vlan`` (a phone's VLAN is marked ``voice``). The statements come
from hier_config's plain indentation parser (its ProCurve driver rewrites the VLAN
lists per port, which would lose the line each fact came from); the per-port view is
computed here from the lists. Printed forms: docs/reference/legacy-syntax.md.
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

VLAN = re.compile(r"^vlan (\d+)$")
INTERFACE = re.compile(r"^interface (\S+)$")
HEADER = re.compile(r"^; (\S+) Configuration Editor; Created on release #(\S+)")
#: `trunk 49-50 trk1 lacp`: ports into a LAG (a Cisco port-channel)
TRUNK = re.compile(r"^trunk (\S+) (trk\d+)(?: (lacp|trunk|fec))?$", re.IGNORECASE)

TOP: list[Rule] = [
    rule(r"^;", "platform", False, "the header: model and release (kept by the survey)"),
    rule(r"^hostname ", "hostname", True, "the device's site and new name (mapping file)"),
    rule(r"^vlan \d+$", "vlan", True,
         "legacy VLAN -> zone (mapping file); the zone's VLAN ID is the intent's"),
    rule(r"^interface \S+$", "port", True, PORT_REASON),
    rule(r"^trunk ", "port", True, "the LAG becomes a port-channel of the port map"),
    rule(r"^(module|flexible-module|stacking|console|include-credentials|"
         r"no allow-v2-modules|allow-v2-modules|max-vlans|power-over-ethernet pre-std|"
         r"no autorun|autorun|ip authorized-managers|fault-finder|oobm|"
         r"no dhcp config-file-update|no dhcp image-file-update|no telnet-server|"
         r"telnet-server|tftp|no tftp)\b", "platform", False,
         "the new platform's own defaults (IOS-XE 17, Catalyst 9000)"),
    *MANAGEMENT,
    rule(r"^(loop-protect|no loop-protect)\b", "spanning-tree", False, PROFILE),
    rule(r"^(igmp|ip igmp)\b", "other", False,
         "no multicast snooping settings are carried: the platform default applies"),
]

VLAN_CHILD: list[Rule] = [
    rule(r'^(name|untagged|tagged|no untagged|no tagged|voice)\b', "vlan", True,
         "the port map (legacy VLAN -> zone and port profile, by the mapping file)"),
    rule(r"^ip helper-address", "routing", False,
         DHCP_RELAY_REASON),
    rule(r"^(ip address|no ip address)\b", "routing", False, SVI_REASON),
    rule(r"^(ip igmp|igmp)\b", "other", False,
         "no multicast snooping settings are carried: the platform default applies"),
    rule(r"^(jumbo|qos)\b", "qos", False, "the design's QoS"),
]

PORT_CHILD: list[Rule] = [
    rule(r"^(name|disable|enable)\b", "port", True, PORT_REASON),
    rule(r"^(speed-duplex|flow-control|mdix-mode|broadcast-limit|no lacp)\b",
         "physical", False, PHYSICAL_REASON),
    rule(r"^(poe-|power-over-ethernet|no power-over-ethernet)", "poe", False,
         POE_REASON),
    rule(r"^(lldp|cdp)\b", "discovery", False, "LLDP and CDP are the platform's defaults"),
    rule(r"^(qos|rate-limit)\b", "qos", False, QOS_REASON),
    rule(r"^(port-security|aaa port-access)\b", "port-security", False,
         "802.1X and MAB on the port profile replace it"),
]


def read(text: str, source: str = "") -> LegacyDevice:
    """The device an ArubaOS-Switch running config describes, every line accounted for."""
    dev = LegacyDevice(source, "aruba_os_switch", lines_read=len(text.splitlines()))
    stmts, dev.framing = statements(text, Platform.GENERIC)
    untagged: dict[str, int] = {}
    tagged: dict[str, set[int]] = {}
    lags: dict[str, int] = {}
    for st in stmts:
        ctx = st.context[0] if st.context else None
        if ctx is None:
            r = decide(TOP, st.text)
        elif VLAN.match(ctx):
            r = decide(VLAN_CHILD, st.text)
        elif INTERFACE.match(ctx):
            r = decide(PORT_CHILD, st.text)
        else:
            r = inherited(TOP, ctx)
        dev.lines.append(verdict(st, r))
        _apply(dev, st.text, ctx, untagged, tagged, lags)
    for name in sorted({*untagged, *tagged}, key=port_key):
        port = dev.ports.setdefault(name, LegacyPort(name))
        _set_vlans(dev, port, untagged.get(name), tagged.get(name, set()))
    for name, group in lags.items():
        # a member carries what its LAG carries (the VLAN lists name the LAG, not it)
        lag = dev.ports.get(f"Trk{group}")
        member = dev.ports.setdefault(name, LegacyPort(name))
        member.channel_group = group
        if lag is not None:
            member.mode, member.native_vlan, member.allowed = (lag.mode, lag.native_vlan,
                                                               lag.allowed)
            member.access_vlan = lag.access_vlan
    dev.ports = dict(sorted(dev.ports.items(), key=lambda kv: port_key(kv[0])))
    dev.declare_used_vlans()
    return dev


def _apply(dev: LegacyDevice, text: str, ctx: str | None, untagged: dict[str, int],
           tagged: dict[str, set[int]], lags: dict[str, int]) -> None:
    words = text.split()
    if ctx is None:
        if (m := HEADER.match(text)) is not None:
            dev.model, dev.software = m[1], m[2]
        elif words[0] == "hostname":
            dev.hostname = unquote(text.split(None, 1)[1])
        elif (m := VLAN.match(text)) is not None:
            dev.vlans.setdefault(int(m[1]), LegacyVlan(int(m[1])))
        elif (m := INTERFACE.match(text)) is not None:
            dev.ports.setdefault(m[1], LegacyPort(m[1]))
        elif (m := TRUNK.match(text)) is not None:
            for port in port_list(m[1]):
                lags[port] = int(m[2][3:])
        return
    if (m := VLAN.match(ctx)) is not None:
        vid = int(m[1])
        vlan = dev.vlans[vid]
        if words[0] == "name":
            dev.vlans[vid] = LegacyVlan(vid, unquote(text.split(None, 1)[1]), vlan.voice)
        elif words == ["voice"]:
            dev.vlans[vid] = LegacyVlan(vid, vlan.name, True)
        elif words[0] == "untagged":
            for port in port_list(words[1]):
                untagged[port] = vid
        elif words[0] == "tagged":
            for port in port_list(words[1]):
                tagged.setdefault(port, set()).add(vid)
        elif words[:2] == ["ip", "address"] and len(words) == 4:
            dev.svis[vid] = LegacySvi(vid, ipaddress.IPv4Interface(f"{words[2]}/{words[3]}"))
        elif words[:2] == ["ip", "helper-address"] and vid in dev.svis:
            svi = dev.svis[vid]
            dev.svis[vid] = LegacySvi(vid, svi.address,
                                      (*svi.helpers, ipaddress.IPv4Address(words[2])))
    elif (m := INTERFACE.match(ctx)) is not None:
        iface = dev.ports.setdefault(m[1], LegacyPort(m[1]))
        if words[0] == "name":
            iface.description = unquote(text.split(None, 1)[1])
        elif words == ["disable"]:
            iface.shutdown = True
        elif words == ["enable"]:
            iface.shutdown = False


def _set_vlans(dev: LegacyDevice, port: LegacyPort, native: int | None,
               tags: set[int]) -> None:
    """A port from its VLAN lists: one tagged voice VLAN beside an untagged data VLAN is a
    phone's port (a Cisco ``voice vlan``); any other tagged VLAN makes it a trunk."""
    voice = {v for v in tags if v in dev.vlans and dev.vlans[v].voice}
    if native is not None and len(tags) == 1 and tags == voice:
        port.mode, port.access_vlan, port.voice_vlan = "access", native, next(iter(voice))
    elif tags:
        port.mode, port.native_vlan = "trunk", native
        port.allowed = tuple(sorted(tags | ({native} if native is not None else set())))
    else:
        port.mode, port.access_vlan = "access", native


def unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def port_list(text: str) -> list[str]:
    """``1-3,A1-A2,Trk1`` -> ['1', '2', '3', 'A1', 'A2', 'Trk1'].

    >>> port_list("1-3,A1-A2,Trk1")
    ['1', '2', '3', 'A1', 'A2', 'Trk1']
    """
    out: list[str] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        if not hi:
            out.append(lo)
            continue
        m1, m2 = re.match(r"^([A-Za-z]*)(\d+)$", lo), re.match(r"^([A-Za-z]*)(\d+)$", hi)
        if m1 is None or m2 is None or m1[1] != m2[1]:
            raise ValueError(f"not a port range: {part!r}")
        out += [f"{m1[1]}{n}" for n in range(int(m1[2]), int(m2[2]) + 1)]
    return out


def port_key(name: str) -> tuple[str, int, str]:
    """Ports in the order the switch lists them: by module letter, then number."""
    m = re.match(r"^([A-Za-z]*)(\d+)$", name)
    return (m[1], int(m[2]), "") if m else ("~", 0, name)
