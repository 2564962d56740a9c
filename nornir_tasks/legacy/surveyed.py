"""What the survey learnt about one legacy device, as the survey repository keeps it.

The repository (written by ``fellesnett survey``) holds, per device::

    devices/<host>/running-config.txt   the config, secrets scrubbed as `backup` does
    devices/<host>/survey.json          facts, interfaces, VLANs, neighbours, MACs, ARP

``import`` reads the same layout, so a survey can be imported on another machine, later,
from a clone. Config files given without a survey (``import CONFIG...``) become devices
with no neighbours: their access points cannot be found, and the report says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError

DEVICES = "devices"
CONFIG = "running-config.txt"
SURVEY = "survey.json"


@dataclass(frozen=True)
class Neighbour:
    """One LLDP or CDP neighbour on a local port (names as the device printed them)."""

    port: str
    name: str
    platform: str = ""
    port_id: str = ""
    address: str = ""
    capabilities: str = ""
    chassis_id: str = ""
    protocols: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """``ap``, ``phone``, ``switch`` or ``host``, from what the neighbour says it is.

        CDP prints capabilities as words (``Trans-Bridge`` for an access point, ``Phone``);
        LLDP as letters or words (``W``/``wlan-access-point``, ``T``/``telephone``).

        >>> Neighbour("Gi1/0/1", "ap1", "cisco AIR-AP2802I-E-K9", capabilities="Trans-Bridge").kind
        'ap'
        >>> Neighbour("1", "x", "SEP00", capabilities="T").kind
        'phone'
        >>> Neighbour("49", "core", "HP J9850A", capabilities="bridge, router").kind
        'switch'
        """
        caps = {c.strip().lower() for c in re.split(r"[,\s]+", self.capabilities) if c.strip()}
        platform = self.platform.lower()
        if caps & {"w", "wlan", "wlan-access-point", "trans-bridge"} or re.search(
                r"\bair-|\bc91\d\d|\bap\d|access point", platform):
            return "ap"
        if caps & {"t", "phone", "telephone"} or "phone" in platform:
            return "phone"
        if caps & {"s", "switch", "b", "bridge", "r", "router"}:
            return "switch"
        return "host"


@dataclass(frozen=True)
class Surveyed:
    """A legacy device: its config text and what the survey saw around it."""

    host: str  # the name the survey inventory gives it
    platform: str  # cisco_ios | aruba_os_switch
    config: str
    source: str  # where the config was read from
    facts: dict[str, Any] = field(default_factory=dict)
    neighbours: tuple[Neighbour, ...] = ()
    surveyed: str = ""  # UTC time of the survey run, ISO 8601
    #: MAC addresses seen per port (the MAC table's dynamic entries)
    macs: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return str(self.facts.get("model", ""))


def neighbours_from(rows: list[dict[str, Any]]) -> tuple[Neighbour, ...]:
    keys = Neighbour.__dataclass_fields__
    out = []
    for row in rows:
        data = {k: v for k, v in row.items() if k in keys}
        data["protocols"] = tuple(data.get("protocols", ()))
        out.append(Neighbour(**data))
    return tuple(out)


def _macs(rows: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(str(row.get("port", "")), []).append(str(row.get("mac", "")))
    return {p: tuple(sorted(set(m))) for p, m in out.items()}


def read_survey(root: Path) -> list[Surveyed]:
    """Every device of a survey repository, in name order."""
    base = root / DEVICES
    if not base.is_dir():
        raise UsageError(f"{root}: not a survey repository (no {DEVICES}/ folder); run "
                         "`fellesnett survey` first, or give config files")
    out = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        cfg, meta = folder / CONFIG, folder / SURVEY
        if not cfg.is_file():
            continue  # a device the survey could not read: its survey.json says why
        try:
            data = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        except ValueError as exc:
            raise UsageError(f"{meta}: not valid JSON: {exc}") from None
        out.append(Surveyed(
            host=folder.name, platform=str(data.get("platform", "")),
            config=cfg.read_text(encoding="utf-8", errors="replace"), source=str(cfg),
            facts=dict(data.get("facts", {})),
            neighbours=neighbours_from(list(data.get("neighbours", []))),
            surveyed=str(data.get("surveyed", "")), macs=_macs(data.get("macs", []))))
    if not out:
        raise UsageError(f"{root}: the survey holds no device with a config")
    return out


def from_configs(paths: list[Path], platform: str | None = None) -> list[Surveyed]:
    """Config files as devices with no survey around them: named by their ``hostname``
    (else the file name), the model where the text says it (ArubaOS-Switch's header)."""
    from nornir_tasks.legacy.report import read_files

    out = []
    for dev in read_files(paths, platform):
        host = dev.hostname or Path(dev.source).stem
        out.append(Surveyed(host=host, platform=dev.platform,
                            config=Path(dev.source).read_text(encoding="utf-8",
                                                              errors="replace"),
                            source=dev.source,
                            facts={"model": dev.model} if dev.model else {}))
    return out
