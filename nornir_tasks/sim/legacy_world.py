"""Legacy worlds: which IOS classic and ArubaOS-Switch devices to simulate, and what is
plugged into them (``fellesnett sim start --legacy WORLD.yml``).

A world file::

    devices:
      - hostname: ALTA-SKOLE-SW01
        platform: cisco_ios            # or aruba_os_switch
        config: cisco_ios/alta-skole-sw01.cfg   # relative to the world file
        model: WS-C2960X-48FPD-L       # optional: else from the config
        software: 15.2(7)E4            # optional: else from the config
        serial: FOC1923X1AB            # optional: else derived from the hostname
        neighbours:                    # what CDP / LLDP see
          - {port: Gi1/0/41, name: AP01, port_id: GigabitEthernet0,
             platform: cisco AIR-AP2802I-E-K9, address: 10.200.60.21,
             capabilities: [bridge, wlan], protocols: [cdp, lldp],
             chassis_id: 00a2.eeb1.2c41}
        macs: [{vlan: 10, mac: 0050.56a1.0001, port: Gi1/0/1}]
        arp: [{address: 10.200.99.1, mac: 0000.0c9f.f063, interface: Vlan99}]
        vlan_names: {10: ELEVER}       # VLANs VTP knows but the config does not declare
        up: [Gi1/0/22]                 # ports up with nothing else said about them
    vocabulary: [../../golden]         # optional: configs whose commands IOS classic also
                                       # accepts (files or folders of *.cfg)

The simulator accepts a command it has seen in a mode (its config engine learns from the
configs it loads). A switch being migrated in place meets every command of the new
design for the first time; ``vocabulary`` names configs of that design (the golden
configs of the templates), so the IOS classic personality takes them as the switch after
a like-for-like swap would (docs/migration.md).

:func:`load_world` checks it and gives :class:`~nornir_tasks.sim.shell.SimDevice` s;
:func:`synthetic_world` makes a deterministic world of any size for benchmarks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from pathlib import Path
from typing import Any

import yaml

from nornir_tasks.errors import UsageError
from nornir_tasks.sim.legacy_ios import mac12
from nornir_tasks.sim.shell import SimDevice

FLAVOUR = {"cisco_ios": "ios-classic", "aruba_os_switch": "aruba-os-switch"}
_KEYS = {"hostname", "platform", "config", "model", "software", "serial", "neighbours",
         "macs", "arp", "vlan_names", "up"}
_NEIGHBOUR_KEYS = {"port", "name", "port_id", "platform", "address", "capabilities",
                   "protocols", "chassis_id", "version", "port_description", "vlan"}


class _Bad(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")


def load_world(path: Path | str) -> dict[str, SimDevice]:
    """The devices a world file describes, by hostname; a UsageError names the file, the
    key path and what is wrong."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the world file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not YAML: {exc}") from exc
    try:
        return _world(data, path.parent)
    except _Bad as exc:
        raise UsageError(f"{path}: {exc}") from exc


def _world(data: Any, base: Path) -> dict[str, SimDevice]:
    if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
        raise _Bad("devices", "the file must be a mapping with a list `devices`")
    if not data["devices"]:
        raise _Bad("devices", "the list is empty")
    unknown = set(data) - {"devices", "vocabulary"}
    if unknown:
        raise _Bad("(top)", f"unknown key(s) {sorted(unknown)}; known: devices, vocabulary")
    vocabulary = _vocabulary(data.get("vocabulary") or [], base)
    out: dict[str, SimDevice] = {}
    for i, raw in enumerate(data["devices"]):
        dev = _device(raw, f"devices[{i}]", base)
        if vocabulary and dev.flavour == "ios-classic":
            dev.world["vocabulary"] = vocabulary
        if dev.hostname in out:
            raise _Bad(f"devices[{i}].hostname", f"{dev.hostname!r} appears twice")
        out[dev.hostname] = dev
    return out


def _vocabulary(raw: Any, base: Path) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise _Bad("vocabulary", "must be a list of paths (files or folders of *.cfg)")
    out: list[str] = []
    for i, rel in enumerate(raw):
        path = (base / rel).resolve()
        if path.is_dir():
            out += [str(p) for p in sorted(path.glob("*.cfg"))]
        elif path.is_file():
            out.append(str(path))
        else:
            raise _Bad(f"vocabulary[{i}]", f"{path}: no such file or folder")
    return out


def _str(raw: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    value = raw.get(key)
    if value is None:
        if required:
            raise _Bad(f"{where}.{key}", "missing")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _Bad(f"{where}.{key}", f"must be a string, not {type(value).__name__}")
    return str(value)


def _device(raw: Any, where: str, base: Path) -> SimDevice:
    if not isinstance(raw, dict):
        raise _Bad(where, "must be a mapping")
    unknown = set(raw) - _KEYS
    if unknown:
        raise _Bad(where, f"unknown key(s) {sorted(unknown)}; known: {sorted(_KEYS)}")
    hostname = _str(raw, "hostname", where, required=True)
    platform = _str(raw, "platform", where, required=True)
    if platform not in FLAVOUR:
        raise _Bad(f"{where}.platform", f"{platform!r} is not one of {sorted(FLAVOUR)}")
    cfg_path = base / _str(raw, "config", where, required=True)
    try:
        config = cfg_path.read_text()
    except OSError as exc:
        raise _Bad(f"{where}.config", f"cannot read {cfg_path}: {exc.strerror}") from exc
    model = _str(raw, "model", where) or _model_of(platform, config)
    software = _str(raw, "software", where) or _software_of(platform, config)
    serial = _str(raw, "serial", where) or _serial(hostname, platform)
    world = {"neighbours": [_neighbour(n, f"{where}.neighbours[{j}]")
                            for j, n in enumerate(_list(raw, "neighbours", where))],
             "macs": [_entry(m, f"{where}.macs[{j}]", ("vlan", "mac", "port"))
                      for j, m in enumerate(_list(raw, "macs", where))],
             "arp": [_entry(a, f"{where}.arp[{j}]", ("address", "mac", "interface"))
                     for j, a in enumerate(_list(raw, "arp", where))],
             "vlan_names": _vlan_names(raw.get("vlan_names"), f"{where}.vlan_names"),
             "up": [str(p) for p in _list(raw, "up", where)]}
    return SimDevice(hostname=hostname, config=config, flavour=FLAVOUR[platform], model=model,
                     serial=serial, software=software, world=world)


def _list(raw: dict[str, Any], key: str, where: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise _Bad(f"{where}.{key}", "must be a list")
    return value


def _neighbour(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Bad(where, "must be a mapping")
    unknown = set(raw) - _NEIGHBOUR_KEYS
    if unknown:
        raise _Bad(where, f"unknown key(s) {sorted(unknown)}; known: {sorted(_NEIGHBOUR_KEYS)}")
    out: dict[str, Any] = {k: _str(raw, k, where) for k in raw
                           if k not in ("capabilities", "protocols")}
    out["port"], out["name"] = _str(raw, "port", where, True), _str(raw, "name", where, True)
    for key in ("capabilities", "protocols"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Bad(f"{where}.{key}", "must be a list of words")
        out[key] = value
    out["protocols"] = out["protocols"] or ["cdp", "lldp"]
    bad = set(out["protocols"]) - {"cdp", "lldp"}
    if bad:
        raise _Bad(f"{where}.protocols", f"{sorted(bad)}: only cdp and lldp are known")
    if out.get("chassis_id"):
        _mac(out["chassis_id"], f"{where}.chassis_id")
    if out.get("address"):
        _ip(out["address"], f"{where}.address")
    return out


def _entry(raw: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _Bad(where, "must be a mapping")
    unknown = set(raw) - {*keys, "age"}
    if unknown:
        raise _Bad(where, f"unknown key(s) {sorted(unknown)}; known: {sorted(keys)}")
    out: dict[str, Any] = {k: _str(raw, k, where, required=True) for k in keys}
    _mac(out["mac"], f"{where}.mac")
    if "vlan" in out:
        if not str(out["vlan"]).isdigit() or not 1 <= int(out["vlan"]) <= 4094:
            raise _Bad(f"{where}.vlan", f"{out['vlan']!r} is not a VLAN id (1-4094)")
        out["vlan"] = int(out["vlan"])
    if "address" in out:
        _ip(out["address"], f"{where}.address")
    return out


def _vlan_names(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _Bad(where, "must be a mapping of VLAN id to name")
    out = {}
    for vid, name in raw.items():
        if not str(vid).isdigit() or not 1 <= int(vid) <= 4094:
            raise _Bad(f"{where}.{vid}", "not a VLAN id (1-4094)")
        out[str(int(vid))] = str(name)
    return out


def _mac(value: str, where: str) -> None:
    try:
        mac12(value)
    except ValueError as exc:
        raise _Bad(where, f"{value!r} is not a MAC address") from exc


def _ip(value: str, where: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError as exc:
        raise _Bad(where, f"{value!r} is not an IP address") from exc


def _model_of(platform: str, config: str) -> str:
    if platform == "aruba_os_switch":
        m = re.search(r"^; (\S+) Configuration Editor", config, re.M)
        return m[1] if m else "J9775A"
    m = re.search(r"^switch \d+ provision (\S+)", config, re.M)
    return m[1].upper() if m else "WS-C2960-24TT-L"


def _software_of(platform: str, config: str) -> str:
    if platform == "aruba_os_switch":
        m = re.search(r"Created on release #(\S+)", config)
        return m[1] if m else "YA.16.10.0012"
    m = re.search(r"^version (\d+\.\d+)", config, re.M)
    return "12.2(55)SE12" if m and m[1] == "12.2" else "15.2(7)E4"


def _serial(hostname: str, platform: str) -> str:
    digest = hashlib.sha256(hostname.encode()).hexdigest()[:7].upper()
    return ("SG" + digest + "X") if platform == "aruba_os_switch" else ("FOC" + digest + "A")


def fake_mac(*seed: object, oui: str = "0050b6") -> str:
    """A deterministic MAC (Cisco dotted form) for ``seed``.

    >>> fake_mac("sw1", 3) == fake_mac("sw1", 3), fake_mac("sw1", 3)[:7]
    (True, '0050.b6')
    """
    d = oui + hashlib.sha256(repr(seed).encode()).hexdigest()[:6]
    return f"{d[0:4]}.{d[4:8]}.{d[8:12]}"


# -- a synthetic world (benchmarks) ---------------------------------------------------
def synthetic_world(n: int) -> dict[str, SimDevice]:
    """``n`` devices, both platforms and varied sizes, the same every time.

    >>> w = synthetic_world(4)
    >>> sorted((d.flavour, d.model) for d in w.values())[:2]
    [('aruba-os-switch', 'J9774A'), ('aruba-os-switch', 'J9776A')]
    >>> synthetic_world(4) == w
    True
    """
    out = {}
    for i in range(n):
        size = (8, 24, 48)[(i // 2) % 3]
        dev = _synthetic_ios(i, size) if i % 2 == 0 else _synthetic_aruba(i, size)
        out[dev.hostname] = dev
    return out


def _synthetic_ios(i: int, size: int) -> SimDevice:
    host = f"SYN-IOS-{i:04d}"
    model = {8: "WS-C2960-8TC-L", 24: "WS-C2960X-24PS-L", 48: "WS-C2960X-48FPD-L"}[size]
    prefix = "FastEthernet0/" if size == 8 else "GigabitEthernet1/0/"
    uplink = "GigabitEthernet0/1" if size == 8 else f"GigabitEthernet1/0/{size + 1}"
    mgmt = f"10.{20 + i // 250}.{i % 250}.11"
    lines = ["Building configuration...", "", "Current configuration : 4000 bytes", "!",
             "version 15.2" if size > 8 else "version 12.2", "!", f"hostname {host}", "!",
             "vtp mode transparent", "!"]
    for vid, name in ((10, "DATA"), (40, "VOICE"), (60, "AP"), (99, "MGMT")):
        lines += [f"vlan {vid}", f" name {name}", "!"]
    world: dict[str, Any] = {"neighbours": [], "macs": [], "arp": [], "vlan_names": {},
                             "up": []}
    for p in range(1, size + 1):
        port = f"{prefix}{p}"
        ap = p > size - 2
        vlan = 60 if ap else 10
        lines += [f"interface {port}", f" description {'AP' if ap else 'Bruker'} {p}",
                  f" switchport access vlan {vlan}", " switchport mode access"]
        if not ap and p % 3 == 0:
            lines.append(" switchport voice vlan 40")
        lines.append("!")
        if ap:
            world["neighbours"].append(_ap(host, port, p))
        if p % 5 != 4:  # every fifth port has nothing plugged in
            world["macs"].append({"vlan": vlan, "mac": fake_mac(host, p), "port": port})
    lines += [f"interface {uplink}", " description Uplink", " switchport mode trunk", "!",
              "interface Vlan99", f" ip address {mgmt} 255.255.255.0", "!", "end"]
    world["neighbours"].append(_uplink(host, uplink, "cdp"))
    world["macs"].append({"vlan": 99, "mac": "0000.0c9f.f063", "port": uplink})
    world["arp"].append({"address": mgmt.rsplit(".", 1)[0] + ".1", "mac": "0000.0c9f.f063",
                         "interface": "Vlan99"})
    return SimDevice(hostname=host, config="\n".join(lines) + "\n", flavour="ios-classic",
                     model=model, serial=_serial(host, "cisco_ios"),
                     software="15.2(7)E4" if size > 8 else "12.2(55)SE12", world=world)


def _synthetic_aruba(i: int, size: int) -> SimDevice:
    host = f"SYN-ARUBA-{i:04d}"
    model = {8: "J9774A", 24: "J9776A", 48: "J9775A"}[size]
    total = {8: 10, 24: 28, 48: 52}[size]
    up1, up2 = total - 1, total
    mgmt = f"10.{120 + i // 250}.{i % 250}.21"
    access = f"1-{size}"
    lines = [f"; {model} Configuration Editor; Created on release #YA.16.10.0012",
             "; Ver #14:01.4f.f8.1d.9b.3f.bf.bb.ef.7c.59.fc.6b.fb.9f.fc.ff.ff.37.ef:02", "",
             f'hostname "{host}"', 'snmp-server contact "IKT-drift"',
             'snmp-server location "Teknisk rom"', f"trunk {up1}-{up2} trk1 lacp",
             "vlan 1", '   name "DEFAULT_VLAN"', f"   no untagged 1-{total}",
             "   no ip address", "   exit",
             "vlan 110", '   name "DATA"', f"   untagged {access}", "   tagged Trk1",
             "   no ip address", "   exit",
             "vlan 120", '   name "VOICE"', f"   tagged {access},Trk1", "   no ip address",
             "   voice", "   exit",
             "vlan 199", '   name "MGMT"', "   tagged Trk1", f"   ip address {mgmt} 255.255.255.0",
             "   exit"]
    world: dict[str, Any] = {"neighbours": [], "macs": [], "arp": [], "vlan_names": {},
                             "up": []}
    for p in range(1, size + 1):
        if p % 5 != 4:
            world["macs"].append({"vlan": 110, "mac": fake_mac(host, p), "port": str(p)})
        if p % 4 == 1:
            world["neighbours"].append(_phone_lldp(host, str(p), p))
            world["macs"].append({"vlan": 120, "mac": fake_mac(host, "phone", p),
                                  "port": str(p)})
    world["neighbours"].append(_uplink(host, str(up1), "lldp"))
    world["macs"].append({"vlan": 199, "mac": "0000.0c9f.f0c7", "port": "Trk1"})
    world["arp"].append({"address": mgmt.rsplit(".", 1)[0] + ".1", "mac": "0000.0c9f.f0c7",
                         "interface": "Trk1"})
    return SimDevice(hostname=host, config="\n".join(lines) + "\n", flavour="aruba-os-switch",
                     model=model, serial=_serial(host, "aruba_os_switch"),
                     software="YA.16.10.0012", world=world)


def _ap(host: str, port: str, n: int) -> dict[str, Any]:
    mac = fake_mac(host, "ap", n, oui="00a2ee")
    return {"port": port, "name": f"{host}-AP{n:02d}", "port_id": "GigabitEthernet0",
            "platform": "cisco AIR-AP2802I-E-K9", "address": f"10.60.{n}.{n}",
            "capabilities": ["bridge", "wlan"], "protocols": ["cdp", "lldp"],
            "chassis_id": mac, "version": "Cisco AP Software, ap3g3-k9w8 Version: 8.10.151.0"}


def _phone_lldp(host: str, port: str, n: int) -> dict[str, Any]:
    return {"port": port, "name": f"SNOM-{n:02d}", "port_id": "WAN", "platform": "Snom D785",
            "capabilities": ["bridge", "telephone"], "protocols": ["lldp"],
            "chassis_id": fake_mac(host, "phone", n, oui="000413"),
            "version": "snom D785 10.1.54.13"}


def _uplink(host: str, port: str, protocol: str) -> dict[str, Any]:
    return {"port": port, "name": "ALTA-DIST-01", "port_id": "GigabitEthernet1/0/13",
            "platform": "cisco WS-C3850-24XS", "address": "10.200.99.1",
            "capabilities": ["router", "switch", "igmp"], "protocols": [protocol],
            "chassis_id": "00a3.d1e0.4c00",
            "version": "Cisco IOS Software, IOS-XE Software, Catalyst L3 Switch Software "
                       "(CAT3K_CAA-UNIVERSALK9-M), Version 16.9.8"}
