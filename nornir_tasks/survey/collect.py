"""What the survey reads from one device, as one plain dict (``survey.json``).

Cisco IOS classic: NAPALM's ``ios`` getters (facts, interfaces, VLANs, LLDP neighbours,
MAC table, ARP, the running config), and CDP through the same connection with
ntc-templates (NAPALM has no CDP getter). HPE ArubaOS-Switch (no maintained NAPALM
driver): netmiko ``hp_procurve`` and ntc-templates for every command. Either way the
result has one shape::

    {"platform", "facts": {hostname, model, serial, os_version},
     "interfaces": {name: {up, enabled, description}}, "vlans": {id: {name, ports}},
     "neighbours": [{port, name, platform, port_id, address, capabilities, chassis_id,
                     protocols}], "macs": [{mac, vlan, port}], "arp": [{address, mac,
     interface}]}

with port names as the device's running config spells them and MACs as ``xxxx.xxxx.xxxx``.
"""

from __future__ import annotations

import re
from typing import Any

from nornir.core.task import Task

from nornir_tasks.legacy.importer import canon_port

_HEX = re.compile(r"[0-9a-fA-F]")


def mac(text: str) -> str:
    """A MAC in Cisco's dotted form, from any of the forms devices print.

    >>> mac("00:11:22:AA:bb:cc"), mac("0011aa-bbccdd"), mac("00 11 22 33 44 55")
    ('0011.22aa.bbcc', '0011.aabb.ccdd', '0011.2233.4455')
    >>> mac("SEP001122334455")
    'SEP001122334455'
    """
    digits = "".join(_HEX.findall(text))
    if len(digits) != 12 or re.search(r"[g-zG-Z]", text):
        return text
    d = digits.lower()
    return f"{d[0:4]}.{d[4:8]}.{d[8:12]}"


def release(os_version: str) -> str:
    """The release out of NAPALM's ``os_version`` (the whole `show version` line).

    >>> release("C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE SOFTWARE")
    '15.2(7)E4'
    """
    m = re.search(r"Version ([^\s,]+)", os_version)
    return m[1] if m else os_version


class _Names:
    """Port names as the running config spells them (CDP says ``GigabitEthernet1/0/1``,
    the MAC table ``Gi1/0/1``, ArubaOS-Switch ``1``)."""

    def __init__(self, config: str, platform: str) -> None:
        # ArubaOS-Switch names only some ports in `interface` contexts; the others keep
        # the number the device printed
        names = re.findall(r"^interface (\S+)", config, re.MULTILINE)
        self.by_canon: dict[str, str] = {canon_port(n): n for n in names}

    def __call__(self, name: str) -> str:
        return self.by_canon.get(canon_port(name), name.strip())


def survey_task(task: Task) -> dict[str, Any]:
    """Nornir task: survey one device (the host's ``platform`` data key says which)."""
    if task.host.data["platform"] == "cisco_ios":
        return _cisco(task)
    return _aruba(task)


def _cisco(task: Task) -> dict[str, Any]:
    conn = task.host.get_connection("napalm", task.nornir.config)
    config = conn.get_config(retrieve="running")["running"]
    names = _Names(config, "cisco_ios")
    facts = conn.get_facts()
    out: dict[str, Any] = {
        "platform": "cisco_ios", "config": config,
        "facts": {"hostname": facts["hostname"], "model": facts["model"],
                  "serial": facts["serial_number"], "os_version": release(facts["os_version"]),
                  "vendor": facts["vendor"]},
        "interfaces": {names(n): {"up": bool(i["is_up"]), "enabled": bool(i["is_enabled"]),
                                  "description": i["description"]}
                       for n, i in conn.get_interfaces().items()},
        "vlans": {str(v): {"name": d["name"], "ports": [names(p) for p in d["interfaces"]]}
                  for v, d in conn.get_vlans().items()},
        "macs": [{"mac": mac(m["mac"]), "vlan": m["vlan"], "port": names(m["interface"])}
                 for m in conn.get_mac_address_table() if not m["static"]],
        "arp": [{"address": a["ip"], "mac": mac(a["mac"]), "interface": a["interface"]}
                for a in conn.get_arp_table()],
    }
    neighbours: dict[str, dict[str, Any]] = {}
    for port, rows in conn.get_lldp_neighbors_detail().items():
        for r in rows:
            n = neighbours.setdefault(names(port), _empty(names(port)))
            n["name"] = n["name"] or r["remote_system_name"]
            n["port_id"] = n["port_id"] or r["remote_port"]
            n["chassis_id"] = mac(r["remote_chassis_id"])
            n["platform"] = n["platform"] or r["remote_system_description"]
            n["capabilities"] = n["capabilities"] or ", ".join(
                r["remote_system_enable_capab"] or r["remote_system_capab"])
            n["protocols"].append("lldp")
    cdp = conn.device.send_command("show cdp neighbors detail", use_textfsm=True)
    for r in cdp if isinstance(cdp, list) else []:
        port = names(str(r.get("local_interface", "")))
        n = neighbours.setdefault(port, _empty(port))
        n["name"] = str(r.get("neighbor_name", "")).split(".")[0] or n["name"]
        n["platform"] = str(r.get("platform", "")) or n["platform"]
        n["port_id"] = n["port_id"] or str(r.get("neighbor_interface", ""))
        n["address"] = str(r.get("mgmt_address", "")) or n["address"]
        n["capabilities"] = str(r.get("capabilities", "")) or n["capabilities"]
        n["protocols"].append("cdp")
    out["neighbours"] = [neighbours[k] for k in sorted(neighbours)]
    return out


def _empty(port: str) -> dict[str, Any]:
    return {"port": port, "name": "", "platform": "", "port_id": "", "address": "",
            "capabilities": "", "chassis_id": "", "protocols": []}


def _rows(conn: Any, command: str) -> list[dict[str, Any]]:
    rows = conn.send_command(command, use_textfsm=True)
    if not isinstance(rows, list):
        raise ValueError(f"`{command}`: no parser matched the reply: {str(rows)[:200]!r}")
    return rows


def _aruba(task: Task) -> dict[str, Any]:
    conn = task.host.get_connection("netmiko", task.nornir.config)
    config = conn.send_command("show running-config")
    names = _Names(config, "aruba_os_switch")
    system = _rows(conn, "show system")[0]
    header = re.search(r"^; (\S+) Configuration Editor; Created on release #(\S+)", config,
                       re.MULTILINE)
    hostname = re.search(r'^hostname "?([^"\n]+)"?', config, re.MULTILINE)
    out: dict[str, Any] = {
        "platform": "aruba_os_switch", "config": config,
        "facts": {"hostname": hostname[1] if hostname else str(system.get("name", "")),
                  "model": header[1] if header else "",
                  "serial": str(system.get("serial", "")),
                  "os_version": str(system.get("software_version", "")),
                  "vendor": "HPE Aruba"},
        "interfaces": {names(r["port"]): {"up": r["status"] == "Up",
                                          "enabled": r["enabled"] == "Yes", "description": ""}
                       for r in _rows(conn, "show interfaces brief")},
        "vlans": {str(r["vlan_id"]): {"name": r["vlan_name"], "ports": []}
                  for r in _rows(conn, "show vlans")},
        "macs": [{"mac": mac(r["mac_address"]), "vlan": int(r["vlan_id"]),
                  "port": names(r["port"])} for r in _rows(conn, "show mac-address")],
        "arp": [{"address": r["ip_address"], "mac": mac(r["mac_address"]),
                 "interface": r["port"]} for r in _rows(conn, "show arp")],
    }
    ports = [str(r["local_interface"]) for r in _rows(conn, "show lldp info remote-device")]
    neighbours = []
    if ports:
        for r in _rows(conn, "show lldp info remote-device " + ",".join(ports)):
            port = names(str(r["local_interface"]))
            neighbours.append({
                "port": port, "name": str(r.get("neighbor_name", "")),
                "platform": str(r.get("neighbor_description", "")),
                "port_id": str(r.get("neighbor_interface", "")),
                "address": str(r.get("mgmt_address", "")),
                "capabilities": str(r.get("capabilities", "")),
                "chassis_id": mac(str(r.get("chassis_id", ""))), "protocols": ["lldp"]})
    out["neighbours"] = sorted(neighbours, key=lambda n: n["port"])
    return out
