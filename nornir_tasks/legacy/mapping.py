"""The import mapping: the engineer's decisions that no config can make.

A legacy VLAN number means something only inside its own network (VLAN 20 is the
pupils at the schools and the staff on the administrative network), so VLANs are mapped
per network. Every legacy device is placed at a site (or skipped, with a reason); a site
says its kind and circuit; a legacy model is replaced by a model of ``device_models``.
The file is YAML (``docs/legacy.md`` shows a whole one)::

    networks:
      skolenett:
        vlans:
          10: {zone: pupils, profile: client}
          40: {zone: voice}            # a voice VLAN: its ports become `phone` ports
          60: {zone: aps, profile: ap} # APs on access ports (local-mode APs)
          99: {zone: mgmt}             # the switches' own VLAN: no user port is in it
    models: {WS-C2960X-48FPD-L: C9300-48P}
    ap_models: {AIR-AP2802I-E-K9: C9120AXI-E}
    sites:
      Alta skole:
        kind: school
        network: skolenett
        circuit: {type: l2, provider: Fiberoperatør AS, circuit_id: FIB-1001, bandwidth_mbps: 1000}
        devices:
          ALTA-SKOLE-SW01: {}          # model from `models`, name <site>-sw01
    skip:
      OLD-LAB-SW: decommissioned before the merge
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nornir_tasks.errors import UsageError, key_path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VlanMap(_Strict):
    """What a legacy VLAN becomes: its users' zone, and the profile of its ports."""

    zone: str
    profile: str | None = Field(None, description="port profile of its access ports "
                                "(default: `client` for a client zone)")


class NetworkMap(_Strict):
    vlans: dict[Annotated[int, Field(ge=1, le=4094)], VlanMap]


class DeviceMap(_Strict):
    name: str | None = Field(None, description="the intended host name "
                             "(default: <site>-sw01, or -dist01/-accNN at a bigger site)")
    model: str | None = Field(None, description="the intended model (default: `models`)")
    role: str | None = Field(None, description="distribution or access, at a site with "
                             "more than one switch (default: the one the others hang on)")
    ports: dict[str, str] = Field(default_factory=dict, description="legacy port -> new "
                                  "port name, where position does not give it")


class SiteMap(_Strict):
    kind: str
    network: str
    circuit: dict[str, Any]
    devices: dict[str, DeviceMap]
    zones: list[str] | None = None


class Mapping(_Strict):
    networks: dict[str, NetworkMap]
    sites: dict[str, SiteMap]
    models: dict[str, str] = Field(default_factory=dict)
    ap_models: dict[str, str] = Field(default_factory=dict)
    default_ap_model: str | None = None
    skip: dict[str, str] = Field(default_factory=dict)

    def site_of(self, legacy_host: str) -> tuple[str, DeviceMap] | None:
        """The site and device entry of a legacy host name (compared case-blind, as the
        survey's host names and a config's `hostname` may differ in case)."""
        want = legacy_host.lower()
        for name, site in self.sites.items():
            for host, dev in site.devices.items():
                if host.lower() == want:
                    return name, dev
        return None

    def skipped(self, legacy_host: str) -> str | None:
        want = legacy_host.lower()
        return next((why for h, why in self.skip.items() if h.lower() == want), None)


def load_mapping(path: Path) -> Mapping:
    """The mapping file, or a UsageError naming the file, the key path and the fault."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the mapping file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(f"{path}{where}: not valid YAML: "
                         f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the mapping file must be a YAML mapping with `networks` "
                         "and `sites`")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = key_path(*first["loc"]) or "(top)"
        what = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise UsageError(f"{path}: {where}: {what}{more}") from None
    for name, site in mapping.sites.items():
        if site.network not in mapping.networks:
            raise UsageError(f"{path}: {key_path('sites', name, 'network')}: no network "
                             f"{site.network!r} under `networks` "
                             f"({', '.join(mapping.networks) or 'none'})")
    seen: dict[str, str] = {}
    for name, site in mapping.sites.items():
        for host in site.devices:
            if host.lower() in seen:
                raise UsageError(f"{path}: {key_path('sites', name, 'devices', host)}: "
                                 f"already placed at site {seen[host.lower()]!r}")
            seen[host.lower()] = name
    return mapping
