"""Cisco IOS classic (Catalyst 2960 / 2960-X / 3750, IOS 12.2 and 15.2) show outputs.

The config side is the IOS-XE :class:`~nornir_tasks.sim.engine.ConfigEngine` (the config
grammar is the same family); what differs is what the switch prints. The printed forms
follow ntc-templates' ``cisco_ios`` test fixtures and what NAPALM's ``ios`` getters parse
(see ``docs/reference/legacy-syntax.md``). What is plugged in comes from
``SimDevice.world`` (neighbours, MAC and ARP tables, VTP-learnt VLAN names).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from dataclasses import dataclass
from typing import Any

from nornir_tasks.sim.engine import INVALID
from nornir_tasks.sim.shell import CliSession, _invalid, _uptime

_LONG = {"Gi": "GigabitEthernet", "Fa": "FastEthernet", "Te": "TenGigabitEthernet",
         "Po": "Port-channel", "Vl": "Vlan"}
_PHYS = re.compile(r"^(FastEthernet|GigabitEthernet|TenGigabitEthernet)\d")


def canon(name: str) -> str:
    """The full IOS name of an interface, from any abbreviation.

    >>> canon("Gi1/0/41"), canon("gig 0/1"), canon("Po1"), canon("Vlan99")
    ('GigabitEthernet1/0/41', 'GigabitEthernet0/1', 'Port-channel1', 'Vlan99')
    """
    m = re.match(r"^([A-Za-z-]+)\s*(\d.*)$", name.strip())
    if not m:
        return name
    word = m[1].lower()
    for full in _LONG.values():
        if full.lower().startswith(word):
            return full + m[2]
    return name


def short(name: str) -> str:
    """``GigabitEthernet1/0/1`` -> ``Gi1/0/1`` (as ``show interfaces status`` prints).

    >>> short("GigabitEthernet1/0/1"), short("Port-channel1")
    ('Gi1/0/1', 'Po1')
    """
    for abbr, full in _LONG.items():
        if name.startswith(full):
            return abbr + name[len(full):]
    return name


def mac12(mac: str) -> str:
    """Twelve lowercase hex digits from any printed MAC form.

    >>> mac12("00:1A:2b-3c.4d5e")
    '001a2b3c4d5e'
    """
    digits = re.sub(r"[^0-9a-fA-F]", "", mac).lower()
    if len(digits) != 12:
        raise ValueError(f"not a MAC address: {mac!r}")
    return digits


def mac_cisco(mac: str) -> str:
    """A MAC as IOS prints it.

    >>> mac_cisco("00:1a:2b:3c:4d:5e")
    '001a.2b3c.4d5e'
    """
    d = mac12(mac)
    return f"{d[0:4]}.{d[4:8]}.{d[8:12]}"


def base_mac(hostname: str, oui: str = "701f53") -> str:
    """A stable switch MAC: one OUI, the rest from the hostname."""
    return oui + hashlib.sha256(hostname.encode()).hexdigest()[:6]


def world_macs(world: dict[str, Any]) -> list[dict[str, Any]]:
    return list(world.get("macs") or [])


def neighbours(world: dict[str, Any], protocol: str) -> list[dict[str, Any]]:
    return [n for n in world.get("neighbours") or []
            if protocol in (n.get("protocols") or ["cdp", "lldp"])]


_CDP_CAPS = {"router": "Router", "bridge": "Trans-Bridge", "switch": "Switch",
             "telephone": "Phone", "phone": "Phone", "wlan": "Trans-Bridge",
             "station": "Host", "host": "Host", "igmp": "IGMP"}
_CDP_CODE = {"Router": "R", "Trans-Bridge": "T", "Switch": "S", "Phone": "P", "Host": "H",
             "IGMP": "I", "Source-Route-Bridge": "B"}
_LLDP_CODE = {"router": "R", "bridge": "B", "switch": "B", "telephone": "T", "phone": "T",
              "wlan": "W", "station": "S", "host": "S", "other": "O"}


def cdp_caps(caps: list[str]) -> list[str]:
    out: list[str] = []
    for c in caps:
        word = _CDP_CAPS.get(c.lower(), "")
        if word and word not in out:
            out.append(word)
    return out


def lldp_caps(caps: list[str]) -> str:
    # IGMP snooping is a CDP capability only; LLDP has no code for it
    codes = sorted({_LLDP_CODE.get(c.lower(), "O") for c in caps if c.lower() != "igmp"})
    return ",".join(codes)


@dataclass
class IosPort:
    name: str
    description: str
    shutdown: bool
    mode: str  # access | trunk | routed | svi
    access_vlan: int
    voice_vlan: int | None
    channel: int | None
    address: str | None  # "10.0.0.1 255.255.255.0"


def _ports(session: CliSession) -> list[IosPort]:
    out = []
    for node in session.device.engine.root.children:
        if node.kind != "if":
            continue
        name = node.text.split(" ", 1)[1]
        kids = [c.text for c in node.children]
        desc = next((k.split(" ", 1)[1] for k in kids if k.startswith("description ")), "")
        addr = next((" ".join(k.split()[2:4]) for k in kids
                     if k.startswith("ip address ") and len(k.split()) >= 4), None)
        if name.startswith("Vlan"):
            mode = "svi"
        elif any(k == "switchport mode trunk" for k in kids):
            mode = "trunk"
        elif not _PHYS.match(name) and not name.startswith("Port-channel") or \
                "no switchport" in kids or re.match(r"^FastEthernet\d+$", name):
            mode = "routed"
        else:
            mode = "access"
        access = next((int(k.split()[-1]) for k in kids
                       if re.match(r"^switchport access vlan \d+$", k)), 1)
        voice = next((int(k.split()[-1]) for k in kids
                      if re.match(r"^switchport voice vlan \d+$", k)), None)
        chan = next((int(k.split()[1]) for k in kids if k.startswith("channel-group ")), None)
        out.append(IosPort(name, desc, "shutdown" in kids, mode, access, voice, chan, addr))
    return out


def _prefix(mask: str) -> int:
    return sum(bin(int(o)).count("1") for o in mask.split("."))


class LegacyIosSession(CliSession):
    """A session on a Catalyst 2960-class switch running IOS classic."""

    # -- link state ---------------------------------------------------------------------
    def _up(self, ports: list[IosPort]) -> set[str]:
        world = self.device.spec.world
        up = {canon(str(p)) for p in world.get("up") or []}
        up |= {canon(str(n["port"])) for n in world.get("neighbours") or []}
        up |= {canon(str(m["port"])) for m in world_macs(world)}
        for p in ports:
            if p.channel is not None and p.name in up:
                up.add(f"Port-channel{p.channel}")
            if p.name.startswith("Port-channel") and p.name in up:
                up |= {q.name for q in ports if q.channel == int(p.name[12:])}
        return {p.name for p in ports if p.name in up and not p.shutdown} | {
            p.name for p in ports if p.mode == "svi" and not p.shutdown}

    def _state(self, port: IosPort, up: set[str]) -> str:
        return "disabled" if port.shutdown else "connected" if port.name in up else "notconnect"

    def _vlans(self) -> dict[int, str]:
        names = {1: "default"}
        for vid, name in (self.device.spec.world.get("vlan_names") or {}).items():
            names[int(vid)] = str(name)
        for node in self.device.engine.root.children:
            m = re.match(r"^vlan (\d+)$", node.text)
            if m:
                vid = int(m[1])
                names[vid] = next((c.text.split(" ", 1)[1] for c in node.children
                                   if c.text.startswith("name ")), f"VLAN{vid:04d}")
        return dict(sorted(names.items()))

    # -- the command table ----------------------------------------------------------------
    def _show(self, cmd: str, args: list[str]) -> str:
        what = " ".join(args).split("|")[0].strip()
        pipe = cmd.split("|", 1)[1].strip() if "|" in cmd else ""
        if re.match(r"^(run|start)", what):
            return super()._show(cmd, args)
        out = self._legacy_show(what, cmd)
        if out is None:
            return super()._show(cmd, args)
        return _pipe(out, pipe)

    def _legacy_show(self, what: str, cmd: str) -> str | None:
        w = what.lower()
        table: list[tuple[str, Any]] = [
            (r"^ver(sion)?$", self._version),
            (r"^inv(entory)?$", self._inventory),
            (r"^int(erfaces?)? status$", self._int_status),
            (r"^ip int(erface)? br(ief)?$", self._ip_int_brief),
            (r"^ip int(erface)?$", self._ip_interface),
            (r"^int(erfaces?)?( \S.*)?$", lambda: self._interfaces_of(what)),
            (r"^vlan( brief| all-ports)?$", lambda: self._vlan(full="brief" not in w)),
            (r"^vlan id \d+$", lambda: self._vlan(only=int(w.split()[-1]))),
            (r"^cdp nei(ghbors)? det(ail)?$", self._cdp_detail),
            (r"^cdp nei(ghbors)?$", self._cdp_brief),
            (r"^lldp nei(ghbors)? det(ail)?$", self._lldp_detail),
            (r"^lldp nei(ghbors)?$", self._lldp_brief),
            (r"^mac address-table( dynamic)?$", lambda: self._mac_table("dynamic" in w)),
            (r"^mac-address-table( dynamic)?$", lambda: self._mac_old(cmd, "dynamic" in w)),
            (r"^(ip )?arp$", self._arp),
            (r"^hosts$", self._hosts),
        ]
        for pattern, fn in table:
            if re.match(pattern, w):
                return str(fn())
        return None

    def _release(self) -> str:
        return str(self.fault().get("software") or self.device.spec.software)

    def _image(self) -> tuple[str, str]:
        model = self.device.spec.model.upper()
        family = "C2960X" if "2960X" in model else "C3750" if "3750" in model else \
            "C2960S" if "2960S" in model else "C2960"
        feature = "UNIVERSALK9" if family in ("C2960X", "C2960S") else \
            "IPBASEK9" if family == "C3750" else "LANBASEK9"
        return family, f"{family}-{feature}-M"

    def _version(self) -> str:
        spec = self.device.spec
        release = self._release()
        family, image = self._image()
        uptime = _uptime(time.time() - self.device.booted)
        fname = image.lower().replace("-m", "-mz") + "." + re.sub(
            r"^(\d+)\.(\d+)\((\d+)\)(\S*)$", r"\1\2-\3.\4", release) + ".bin"
        gig = sum(1 for p in _ports(self) if p.name.startswith("GigabitEthernet"))
        fast = sum(1 for p in _ports(self) if p.name.startswith("FastEthernet"))
        ten = sum(1 for p in _ports(self) if p.name.startswith("TenGigabitEthernet"))
        mac = base_mac(spec.hostname)
        colons = ":".join(mac[i:i + 2] for i in range(0, 12, 2)).upper()
        counts = "".join(f"{n} {kind} interface{'s' if n != 1 else ''}\n" for n, kind in (
            (1, "Virtual Ethernet"), (fast, "FastEthernet"), (gig, "Gigabit Ethernet"),
            (ten, "Ten Gigabit Ethernet")) if n)
        return (
            f"Cisco IOS Software, {family} Software ({image}), Version {release}, "
            "RELEASE SOFTWARE (fc2)\n"
            "Technical Support: http://www.cisco.com/techsupport\n"
            "Copyright (c) 1986-2021 by Cisco Systems, Inc.\n"
            "Compiled Mon 22-Feb-21 06:04 by prod_rel_team\n\n"
            f"ROM: Bootstrap program is {family} boot loader\n"
            f"BOOTLDR: {family} Boot Loader ({family}-HBOOT-M) Version 15.2(7r)E, "
            "RELEASE SOFTWARE (fc1)\n\n"
            f"{self.hostname} uptime is {uptime}\n"
            "System returned to ROM by power-on\n"
            f'System image file is "flash:{fname}"\n'
            "Last reload reason: power-on\n\n\n\n"
            f"cisco {spec.model} (APM86XXX) processor (revision B0) with "
            "524288K bytes of memory.\n"
            f"Processor board ID {spec.serial}\n"
            "Last reset from power-on\n"
            f"{counts}"
            "The password-recovery mechanism is enabled.\n\n"
            "512K bytes of flash-simulated non-volatile configuration memory.\n"
            f"Base ethernet MAC Address       : {colons}\n"
            "Motherboard assembly number     : 73-14200-06\n"
            "Power supply part number        : 341-0528-03\n"
            f"Motherboard serial number       : {spec.serial}\n"
            "Model revision number           : B0\n"
            "Motherboard revision number     : A0\n"
            f"Model number                    : {spec.model}\n"
            f"System serial number            : {spec.serial}\n"
            "Top Assembly Part Number        : 68-4816-02\n"
            "Top Assembly Revision Number    : A0\n"
            "Version ID                      : V04\n"
            "Hardware Board Revision Number  : 0x04\n\n\n"
            "Switch Ports Model                     SW Version            SW Image"
            "                 \n"
            "------ ----- -----                     ----------            ----------"
            "               \n"
            f"*    1 {gig + fast + ten:<5} {spec.model:<25} {release:<21} {image:<25}\n\n\n"
            "Configuration register is 0xF\n\n")

    def _inventory(self) -> str:
        spec = self.device.spec
        return (f'NAME: "1", DESCR: "{spec.model}"\n'
                f"PID: {spec.model:<18}, VID: V04  , SN: {spec.serial}\n\n")

    def _hosts(self) -> str:
        domain = next((c.text.split()[-1] for c in self.device.engine.root.children
                       if re.match(r"^ip domain[ -]name ", c.text)), "")
        servers = [c.text.split()[2] for c in self.device.engine.root.children
                   if c.text.startswith("ip name-server ")]
        return (f"Default domain is {domain or 'not set'}\n"
                "Name/address lookup uses domain service\n"
                f"Name servers are {', '.join(servers) or '255.255.255.255'}\n\n"
                "Codes: UN - unknown, EX - expired, OK - OK, ?? - revalidate\n"
                "       temp - temporary, perm - permanent\n"
                "       NA - Not Applicable None - Not defined\n\n"
                "Host                      Port  Flags      Age Type   Address(es)\n")

    def _int_status(self) -> str:
        ports = _ports(self)
        up = self._up(ports)
        rows = ["", "Port      Name               Status       Vlan       Duplex  Speed Type "]
        # physical ports first, then port-channels, as the switch lists them
        for p in sorted(ports, key=lambda p: p.name.startswith("Port-channel")):
            if p.mode == "svi":
                continue
            state = self._state(p, up)
            vlan = "trunk" if p.mode == "trunk" else "routed" if p.mode == "routed" \
                else str(p.access_vlan)
            if p.channel is not None:
                vlan = "trunk" if p.mode == "trunk" else vlan
            fast = p.name.startswith("FastEthernet")
            duplex, speed = (("a-full", "a-100" if fast else "a-1000") if state == "connected"
                             else ("auto", "auto"))
            rows.append(f"{short(p.name):<9} {p.description[:18]:<18} {state:<12} {vlan:<10} "
                        f"{duplex:>6} {speed:>6} {self._media(p)}")
        return "\n".join(rows) + "\n"

    def _media(self, p: IosPort) -> str:
        if p.name.startswith("Port-channel"):
            return ""
        if p.name.startswith("TenGigabitEthernet"):
            return "SFP-10GBase-SR" if p.name in self._up(_ports(self)) else "Not Present"
        if p.name.startswith("FastEthernet"):
            return "10/100BaseTX"
        num = int(re.findall(r"\d+", p.name)[-1])
        if "2960X" in self.device.spec.model.upper() and num > 48:
            return "1000BaseSX SFP" if p.name in self._up(_ports(self)) else "Not Present"
        return "10/100/1000BaseTX"

    def _ip_int_brief(self) -> str:
        ports = _ports(self)
        up = self._up(ports)
        rows = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for p in ports:
            addr = p.address.split()[0] if p.address else "unassigned"
            method = "NVRAM" if p.address else "unset"
            status = ("administratively down" if p.shutdown else
                      "up" if p.name in up else "down")
            proto = "up" if p.name in up else "down"
            rows.append(f"{p.name:<22} {addr:<15} YES {method:<6} {status:<21} {proto}")
        return "\n".join(rows) + "\n"

    def _ip_interface(self) -> str:
        ports = _ports(self)
        up = self._up(ports)
        out = []
        for p in ports:
            status = ("administratively down" if p.shutdown else
                      "up" if p.name in up else "down")
            out.append(f"{p.name} is {status}, line protocol is "
                       f"{'up' if p.name in up else 'down'}\n")
            if p.address:
                ip, mask = p.address.split()
                out.append(f"  Internet address is {ip}/{_prefix(mask)}\n"
                           "  Broadcast address is 255.255.255.255\n")
            else:
                out.append("  Internet protocol processing disabled\n")
        return "".join(out)

    def _interfaces_of(self, what: str) -> str:
        ports = _ports(self)
        up = self._up(ports)
        arg = what.split(None, 1)[1] if " " in what else ""
        if arg:
            want = canon(arg)
            ports = [p for p in ports if p.name == want]
            if not ports:
                return _invalid("show interfaces " + arg, self.prompt())
        base = int(base_mac(self.device.spec.hostname), 16)
        out = []
        for i, p in enumerate(ports):
            state = self._state(p, up)
            if p.mode == "svi":
                head = (f"{p.name} is {'administratively down' if p.shutdown else 'up'}, "
                        f"line protocol is {'down' if p.shutdown else 'up'} \n")
                hw = "EtherSVI"
            else:
                status = {"disabled": "administratively down", "connected": "up",
                          "notconnect": "down"}[state]
                head = (f"{p.name} is {status}, line protocol is "
                        f"{'up' if state == 'connected' else 'down'} ({state}) \n")
                hw = ("EtherChannel" if p.name.startswith("Port-channel") else
                      "Fast Ethernet" if p.name.startswith("FastEthernet") else
                      "Ten Gigabit Ethernet" if p.name.startswith("Ten") else "Gigabit Ethernet")
            mac = mac_cisco(f"{base + i + 1:012x}")
            bw = (100000 if p.name.startswith("FastEthernet") else
                  10000000 if p.name.startswith("Ten") else 1000000)
            if state != "connected" and p.mode != "svi":
                bw = 10000 if not p.name.startswith("Ten") else 10000000
            text = head + f"  Hardware is {hw}, address is {mac} (bia {mac})\n"
            if p.description:
                text += f"  Description: {p.description}\n"
            if p.address:
                ip, mask = p.address.split()
                text += f"  Internet address is {ip}/{_prefix(mask)}\n"
            text += (f"  MTU 1500 bytes, BW {bw} Kbit/sec, DLY 10 usec, \n"
                     "     reliability 255/255, txload 1/255, rxload 1/255\n"
                     "  Encapsulation ARPA, loopback not set\n"
                     "  Keepalive set (10 sec)\n")
            if p.mode != "svi":
                text += ("  Full-duplex, 1000Mb/s, media type is 10/100/1000BaseTX\n"
                         if state == "connected" else
                         "  Auto-duplex, Auto-speed, media type is 10/100/1000BaseTX\n")
                text += "  input flow-control is off, output flow-control is unsupported \n"
            text += ("  ARP type: ARPA, ARP Timeout 04:00:00\n"
                     "  Last input never, output 00:00:01, output hang never\n"
                     '  Last clearing of "show interface" counters never\n'
                     "  Input queue: 0/75/0/0 (size/max/drops/flushes); Total output drops: 0\n"
                     "  Queueing strategy: fifo\n"
                     "  Output queue: 0/40 (size/max)\n"
                     "  5 minute input rate 0 bits/sec, 0 packets/sec\n"
                     "  5 minute output rate 0 bits/sec, 0 packets/sec\n"
                     "     0 packets input, 0 bytes, 0 no buffer\n"
                     "     Received 0 broadcasts (0 multicasts)\n"
                     "     0 runts, 0 giants, 0 throttles \n"
                     "     0 input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored\n"
                     "     0 packets output, 0 bytes, 0 underruns\n"
                     "     0 output errors, 0 collisions, 1 interface resets\n"
                     "     0 unknown protocol drops\n"
                     "     0 output buffer failures, 0 output buffers swapped out\n")
            out.append(text)
        return "".join(out)

    def _vlan(self, full: bool = False, only: int | None = None) -> str:
        members: dict[int, list[str]] = {}
        for p in _ports(self):
            if p.mode == "access" and p.channel is None:
                members.setdefault(p.access_vlan, []).append(short(p.name))
        names = self._vlans()
        rows = ["", "VLAN Name                             Status    Ports",
                "---- -------------------------------- --------- -------------------------------"]
        for vid, name in names.items():
            if only is not None and vid != only:
                continue
            ports = members.get(vid, [])
            chunks = [", ".join(ports[i:i + 4]) for i in range(0, len(ports), 4)] or [""]
            rows.append(f"{vid:<4} {name[:32]:<32} {'active':<9} {chunks[0]}".rstrip())
            rows += [" " * 48 + c for c in chunks[1:]]
        if only is None:
            for vid, name in ((1002, "fddi-default"), (1003, "token-ring-default"),
                              (1004, "fddinet-default"), (1005, "trnet-default")):
                rows.append(f"{vid:<4} {name:<32} act/unsup ")
        elif only not in names:
            return f"VLAN id {only} not found in current VLAN database\n"
        if full:
            rows += ["", "VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode "
                     "Trans1 Trans2",
                     "---- ----- ---------- ----- ------ ------ -------- ---- -------- "
                     "------ ------"]
            for vid in names:
                if only is None or vid == only:
                    rows.append(f"{vid:<4} enet  {100000 + vid:<10} 1500  -      -      -"
                                "        -    -        0      0   ")
        return "\n".join(rows) + "\n"

    def _cdp_detail(self) -> str:
        out = []
        for n in neighbours(self.device.spec.world, "cdp"):
            caps = " ".join(cdp_caps(n.get("capabilities") or []))
            addr = n.get("address")
            ip = f"  IP address: {addr}\n" if addr else ""
            out.append(
                "-------------------------\n"
                f"Device ID: {n['name']}\n"
                f"Entry address(es): \n{ip}"
                f"Platform: {n.get('platform', '')},  Capabilities: {caps} \n"
                f"Interface: {canon(str(n['port']))},  Port ID (outgoing port): "
                f"{n.get('port_id', '')}\n"
                "Holdtime : 137 sec\n\n"
                f"Version :\n{n.get('version') or n.get('platform', '')}\n\n"
                "advertisement version: 2\n"
                "Duplex: full\n"
                f"Management address(es): \n{ip}\n")
        return "".join(out) + (f"\nTotal cdp entries displayed : {len(out)}\n")

    def _cdp_brief(self) -> str:
        rows = ["Capability Codes: R - Router, T - Trans Bridge, B - Source Route Bridge",
                "                  S - Switch, H - Host, I - IGMP, r - Repeater, P - Phone, ",
                "                  D - Remote, C - CVTA, M - Two-port Mac Relay ", "",
                "Device ID        Local Intrfce     Holdtme    Capability  Platform  Port ID"]
        for n in neighbours(self.device.spec.world, "cdp"):
            caps = " ".join(_CDP_CODE[c] for c in cdp_caps(n.get("capabilities") or []))
            local = re.sub(r"^([A-Za-z]{3})[A-Za-z-]*", r"\1 ", canon(str(n["port"])))
            plat = str(n.get("platform", "")).replace("cisco ", "")[:9]
            port_id = re.sub(r"^([A-Za-z]{3})[A-Za-z-]*(\d)", r"\1 \2", str(n.get("port_id", "")))
            name = str(n["name"])
            if len(name) > 16:
                rows.append(name)
                name = ""
            rows.append(f"{name:<16} {local:<17} {137:<10} {caps:<11} {plat:<9} {port_id}")
        rows += ["", f"Total cdp entries displayed : {len(rows) - 5}"]
        return "\n".join(rows) + "\n"

    def _lldp_detail(self) -> str:
        out = []
        for n in neighbours(self.device.spec.world, "lldp"):
            caps = lldp_caps(n.get("capabilities") or [])
            chassis = n.get("chassis_id") or ""
            with contextlib.suppress(ValueError):
                chassis = mac_cisco(chassis)
            addr = n.get("address")
            out.append(
                "------------------------------------------------\n"
                f"Local Intf: {short(canon(str(n['port'])))}\n"
                f"Chassis id: {chassis}\n"
                f"Port id: {n.get('port_id', '')}\n"
                f"Port Description: {n.get('port_description') or n.get('port_id', '')}\n"
                f"System Name: {n['name']}\n\n"
                "System Description: \n"
                f"{n.get('version') or n.get('platform', '')}\n\n"
                "Time remaining: 101 seconds\n"
                f"System Capabilities: {caps}\n"
                f"Enabled Capabilities: {caps}\n"
                "Management Addresses:\n"
                + (f"    IP: {addr}\n" if addr else "")
                + "Auto Negotiation - supported, enabled\n"
                "Physical media capabilities:\n"
                "    1000baseT(FD)\n"
                "    100base-TX(FD)\n"
                "Media Attachment Unit type: 30\n"
                "Vlan ID: - not advertised\n\n")
        return "\n" + "".join(out) + f"\nTotal entries displayed: {len(out)}\n\n"

    def _lldp_brief(self) -> str:
        rows = ["", "Capability codes:",
                "    (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device",
                "    (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other", "",
                "Device ID           Local Intf     Hold-time  Capability      Port ID"]
        found = neighbours(self.device.spec.world, "lldp")
        for n in found:
            caps = lldp_caps(n.get("capabilities") or [])
            rows.append(f"{str(n['name'])[:20]:<20}{short(canon(str(n['port']))):<15}"
                        f"{120:<11}{caps:<16}{n.get('port_id', '')}")
        rows += ["", f"Total entries displayed: {len(found)}", ""]
        return "\n".join(rows) + "\n"

    def _mac_entries(self, dynamic_only: bool) -> list[tuple[str, str, str, str]]:
        rows: list[tuple[str, str, str, str]] = []
        if not dynamic_only:
            rows += [("All", mac_cisco(m), "STATIC", "CPU") for m in (
                "0100.0ccc.cccc", "0100.0ccc.cccd", "0180.c200.0000", "0180.c200.0001")]
        for m in world_macs(self.device.spec.world):
            rows.append((str(m["vlan"]), mac_cisco(str(m["mac"])), "DYNAMIC",
                         short(canon(str(m["port"])))))
        return rows

    def _mac_table(self, dynamic_only: bool) -> str:
        rows = ["          Mac Address Table", "-------------------------------------------",
                "", "Vlan    Mac Address       Type        Ports",
                "----    -----------       --------    -----"]
        entries = self._mac_entries(dynamic_only)
        rows += [f"{v:>4}    {m:<17} {t:<11} {p}" for v, m, t, p in entries]
        rows.append(f"Total Mac Addresses for this criterion: {len(entries)}")
        return "\n".join(rows) + "\n"

    def _mac_old(self, cmd: str, dynamic_only: bool) -> str:
        # 12.2 answers the hyphenated form too; 15.x dropped it
        if not self._release().startswith("12."):
            return _invalid(cmd, self.prompt())
        return self._mac_table(dynamic_only)

    def _arp(self) -> str:
        rows = ["Protocol  Address          Age (min)  Hardware Addr   Type   Interface"]
        base = int(base_mac(self.device.spec.hostname), 16)
        for i, p in enumerate(_ports(self)):
            if p.address and not p.shutdown:
                rows.append(f"Internet  {p.address.split()[0]:<16} {'-':>5}   "
                            f"{mac_cisco(f'{base + i + 1:012x}')}  ARPA   {p.name}")
        for a in self.device.spec.world.get("arp") or []:
            rows.append(f"Internet  {a['address']:<16} {a.get('age', 12):>5}   "
                        f"{mac_cisco(str(a['mac']))}  ARPA   {canon(str(a['interface']))}")
        return "\n".join(rows) + "\n"


def _pipe(text: str, pipe: str) -> str:
    """``| include/exclude/begin REGEX`` on any show output."""
    if not pipe:
        return text
    verb, _, pattern = pipe.partition(" ")
    try:
        rx = re.compile(pattern.strip())
    except re.error:
        rx = re.compile(re.escape(pattern.strip()))
    lines = text.splitlines()
    if "include".startswith(verb) and verb:
        lines = [ln for ln in lines if rx.search(ln)]
    elif "exclude".startswith(verb) and verb:
        lines = [ln for ln in lines if not rx.search(ln)]
    elif "begin".startswith(verb) and verb:
        start = next((i for i, ln in enumerate(lines) if rx.search(ln)), len(lines))
        lines = lines[start:]
    else:
        return INVALID + "\n"
    return "".join(ln + "\n" for ln in lines)
