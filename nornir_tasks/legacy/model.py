"""What a legacy device's running config says, and what becomes of each of its lines.

A :class:`LegacyDevice` is read from the text of a switch of the networks that run today
(Cisco IOS classic, HPE ArubaOS-Switch): its VLANs, its ports as a per-port view, its
routed VLAN interfaces. Every line of the text is accounted for: a :class:`Line` says
whether the importer carries it into the intent (and where) or not (and why), grouped by
feature, so that nothing is lost silently. Lines that are only the text's framing (blank
lines, ``!``, ``exit``, ``end``, the ``Building configuration...`` header) are counted
apart; ``lines_read == carried + not carried + framing`` always holds.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: features of the not-carried report, in the order it lists them
FEATURES = ("platform", "management", "aaa", "snmp", "routing", "acl", "port-security",
            "qos", "spanning-tree", "dhcp-snooping", "switching", "physical", "poe",
            "discovery", "other")


@dataclass(frozen=True)
class Line:
    """One statement of the config: its line number(s), its text with any secret masked,
    the lines of its context (``interface Gi1/0/1``), and its fate."""

    number: int  # first line in the text, 1-based
    text: str  # masked
    context: tuple[str, ...]
    carried: bool
    feature: str  # for a carried line: what it becomes ("port", "vlan", "hostname")
    reason: str
    span: int = 1  # lines of the text it takes (a banner takes several)


@dataclass
class LegacyPort:
    """A switch port as the new port map needs it."""

    name: str
    mode: str = "access"  # access | trunk
    access_vlan: int | None = None
    voice_vlan: int | None = None
    native_vlan: int | None = None
    #: VLANs a trunk carries (None: every VLAN, the default of a Cisco trunk)
    allowed: tuple[int, ...] | None = None
    description: str = ""
    shutdown: bool = False
    channel_group: int | None = None


@dataclass(frozen=True)
class LegacyVlan:
    id: int
    name: str = ""
    voice: bool = False


@dataclass(frozen=True)
class LegacySvi:
    """A VLAN interface with an address: the legacy subnet of the VLAN."""

    vlan: int
    address: ipaddress.IPv4Interface | None
    helpers: tuple[ipaddress.IPv4Address, ...] = ()


@dataclass
class LegacyDevice:
    source: str  # the file (or survey path) read
    platform: str  # cisco_ios | aruba_os_switch
    hostname: str = ""
    model: str = ""  # where the text says it (an ArubaOS-Switch header: J9728A)
    software: str = ""  # IOS `version`, ArubaOS-Switch release
    vlans: dict[int, LegacyVlan] = field(default_factory=dict)
    ports: dict[str, LegacyPort] = field(default_factory=dict)
    svis: dict[int, LegacySvi] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    framing: int = 0  # lines that are only the text's framing
    lines_read: int = 0
    #: what the engineer must know beyond the lines (a VLAN the text does not declare)
    notes: list[str] = field(default_factory=list)

    def used_vlans(self) -> set[int]:
        """Every VLAN a port uses (access, voice, native, a trunk's explicit list)."""
        out: set[int] = set()
        for p in self.ports.values():
            out |= {v for v in (p.access_vlan, p.voice_vlan, p.native_vlan) if v is not None}
            out |= set(p.allowed or ())
        return out

    def declare_used_vlans(self) -> None:
        """A VLAN the ports use but the text does not declare (a VTP client or server
        keeps its VLANs in vlan.dat, not in the running config) is added without a name,
        and said in the notes: the survey's ``show vlan`` names it."""
        for vid in sorted(self.used_vlans() - set(self.vlans)):
            self.vlans[vid] = LegacyVlan(vid)
            self.notes.append(f"VLAN {vid} is used on ports but not declared in the config "
                              "(VTP keeps it in vlan.dat): its name comes from the survey")

    @property
    def carried(self) -> list[Line]:
        return [ln for ln in self.lines if ln.carried]

    @property
    def not_carried(self) -> list[Line]:
        return [ln for ln in self.lines if not ln.carried]

    def accounted(self) -> int:
        """Lines of the text accounted for: every statement's span plus the framing."""
        return sum(ln.span for ln in self.lines) + self.framing

    def by_feature(self) -> dict[str, list[Line]]:
        """The not-carried lines by feature, in the report's order."""
        out: dict[str, list[Line]] = {}
        for ln in sorted(self.not_carried, key=lambda ln: (FEATURES.index(ln.feature)
                                                           if ln.feature in FEATURES
                                                           else len(FEATURES), ln.number)):
            out.setdefault(ln.feature, []).append(ln)
        return out

    def summary(self) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        for ln in self.not_carried:
            counts[ln.feature] += ln.span
        return {"source": self.source, "platform": self.platform, "hostname": self.hostname,
                "model": self.model, "software": self.software,
                "lines_read": self.lines_read, "framing": self.framing,
                "carried": sum(ln.span for ln in self.carried),
                "not_carried": sum(ln.span for ln in self.not_carried),
                "not_carried_by_feature": {f: counts[f] for f in FEATURES if counts[f]},
                "vlans": sorted(self.vlans), "ports": len(self.ports), "notes": self.notes}
