"""HPE ArubaOS-Switch (ProCurve 2530/2920/5400, 16.x): config engine and CLI.

ProCurve config is not a tree of IOS lines: a VLAN context holds the port lists
(``untagged 1-20,25``, ``tagged 49-52,Trk1``) and a port has exactly one untagged VLAN,
so putting a port untagged in one VLAN takes it out of the one it was in, and
``no untagged`` returns it to VLAN 1. The engine keeps those lists as sets and prints them
back compressed into ranges, in the switch's order, so a loaded config prints back line
for line.

>>> e = ProCurveEngine('hostname "sw"\\nvlan 1\\n   name "DEFAULT_VLAN"\\n   untagged 1-8\\n'
...                    '   exit\\n', "J9774A")
>>> e.apply(("vlan", "20"), "untagged 5")
>>> [ln.strip() for ln in e.text().splitlines() if "untagged" in ln]
['no untagged 5', 'untagged 1-4,6-8', 'untagged 5']
>>> e.apply(("vlan", "20"), "no untagged 5")
>>> [ln.strip() for ln in e.text().splitlines() if "untagged" in ln]
['untagged 1-8']
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nornir_tasks.legacy.aruba_os_switch import port_key, port_list, unquote
from nornir_tasks.sim.legacy_ios import base_mac, lldp_caps, mac12, neighbours, world_macs
from nornir_tasks.sim.shell import CliSession, Device, DropConnection, Hang, SimDevice

INVALID = "Invalid input: {}"
HEADER = re.compile(r"^; (\S+) Configuration Editor; Created on release #(\S+)")
#: front-panel ports of the models the municipality runs (uplink SFPs included)
PORT_COUNT = {"J9772A": 52, "J9773A": 28, "J9774A": 10, "J9775A": 52, "J9776A": 28,
              "J9777A": 10, "J9778A": 10, "J9779A": 28, "J9726A": 24, "J9727A": 24,
              "J9728A": 48, "J9729A": 48, "J9623A": 28, "J9625A": 28, "J9626A": 52}
PRODUCT = {"J9772A": "2530-48G-PoEP", "J9773A": "2530-24G-PoEP", "J9774A": "2530-8G-PoEP",
           "J9775A": "2530-48G", "J9776A": "2530-24G", "J9777A": "2530-8G",
           "J9726A": "2920-24G", "J9727A": "2920-24G-PoE+", "J9728A": "2920-48G",
           "J9729A": "2920-48G-PoE+", "J9623A": "2620-24"}
_SINGLE = ("hostname", "snmp-server contact", "snmp-server location", "ip default-gateway",
           "time timezone", "time daylight-time-rule", "console idle-timeout",
           "password manager", "password operator", "sntp server priority \\d+",
           "snmp-server community \\S+", "module \\d+", "trunk \\S+", "ip route \\S+ \\S+")
_QUOTED = ("hostname", "name", "snmp-server contact", "snmp-server location")
_VLAN_WORDS = {"name", "untagged", "tagged", "ip", "voice", "jumbo", "ipv6", "forbid", "qos",
               "monitor", "dhcp-snooping"}
_ETH_WORDS = {"name", "disable", "enable", "speed-duplex", "flow-control", "lacp",
              "power-over-ethernet", "untagged", "tagged", "unknown-vlans", "mdix-mode",
              "broadcast-limit", "rate-limit", "loop-protect", "bandwidth-min"}

Ctx = tuple[str, str]  # ("config", "") | ("vlan", "20") | ("eth", "5")


def compress(ports: set[str] | list[str]) -> str:
    """Ports as the switch prints a list: sorted, consecutive runs as ranges.

    >>> compress(["Trk1", "3", "1", "2", "5", "A2", "A1"])
    '1-3,5,A1-A2,Trk1'
    """
    out: list[str] = []
    run: list[tuple[str, int]] = []

    def flush() -> None:
        if run:
            (p, lo), (_, hi) = run[0], run[-1]
            out.append(f"{p}{lo}" if lo == hi else f"{p}{lo}-{p}{hi}")
            run.clear()

    for name in sorted(set(ports), key=port_key):
        m = re.match(r"^([A-Za-z]*)(\d+)$", name)
        if m is None:
            flush()
            out.append(name)
            continue
        item = (m[1], int(m[2]))
        if run and (run[-1][0] != item[0] or run[-1][1] + 1 != item[1]):
            flush()
        run.append(item)
    flush()
    return ",".join(out)


@dataclass
class Block:
    """A ``vlan N`` or ``interface X`` context; ``lines`` are its other lines in order."""

    kind: str  # vlan | interface
    key: str
    name: str | None = None
    lines: list[str] = field(default_factory=list)
    untagged: set[str] = field(default_factory=set)
    tagged: set[str] = field(default_factory=set)
    no_untagged: set[str] = field(default_factory=set)

    def render(self) -> list[str]:
        out = [f"{self.kind} {self.key}"]
        if self.name is not None:
            out.append(f'   name "{self.name}"')
        for word, ports in (("no untagged", self.no_untagged), ("untagged", self.untagged),
                            ("tagged", self.tagged)):
            if ports:
                out.append(f"   {word} {compress(ports)}")
        return out + [f"   {ln}" for ln in self.lines] + ["   exit"]


Item = str | Block


class ProCurveEngine:
    """One switch's running and startup config (a header, global lines and contexts)."""

    def __init__(self, text: str, model: str = "") -> None:
        self.header: list[str] = []
        self.items: list[Item] = []
        self._parse(text)
        m = HEADER.match(self.header[0]) if self.header else None
        self.model = model or (m[1] if m else "J9775A")
        self.release = m[2] if m else "YA.16.10.0009"
        self.startup: tuple[list[str], list[Item]] = copy.deepcopy((self.header, self.items))

    def _parse(self, text: str) -> None:
        lines = text.splitlines()
        while lines and (not lines[0].strip() or lines[0].startswith("Running configuration")):
            lines.pop(0)
        while lines and (lines[0].startswith(";") or not lines[0].strip()):
            self.header.append(lines.pop(0))
        block: Block | None = None
        for raw in lines:
            text_ = raw.strip()
            if not text_:
                continue
            if block is not None and raw.startswith(" "):
                if text_ == "exit":
                    block = None
                else:
                    self._block_line(block, text_)
                continue
            block = None
            m = re.match(r"^(vlan|interface) (\S+)$", text_)
            if m:
                block = Block(m[1], m[2])
                self.items.append(block)
            else:
                self.items.append(text_)

    # -- views --------------------------------------------------------------------------
    def text(self, startup: bool = False) -> str:
        header, items = self.startup if startup else (self.header, self.items)
        out = list(header)
        for item in items:
            out += [item] if isinstance(item, str) else item.render()
        return "".join(ln + "\n" for ln in out)

    def write_memory(self) -> None:
        self.startup = copy.deepcopy((self.header, self.items))

    @property
    def dirty(self) -> bool:
        return self.text() != self.text(startup=True)

    def hostname(self) -> str:
        line = next((i for i in self.items if isinstance(i, str) and i.startswith("hostname ")),
                    'hostname "HP-Switch"')
        return unquote(line.split(None, 1)[1])

    def global_value(self, key: str) -> str:
        line = next((i for i in self.items if isinstance(i, str) and i.startswith(key + " ")),
                    "")
        return unquote(line[len(key) + 1:]) if line else ""

    def vlans(self) -> dict[int, Block]:
        return {int(b.key): b for b in self.items if isinstance(b, Block) and b.kind == "vlan"}

    def interfaces(self) -> dict[str, Block]:
        return {b.key: b for b in self.items if isinstance(b, Block) and b.kind == "interface"}

    def trunks(self) -> dict[str, list[str]]:
        """``Trk1`` -> member ports, from ``trunk 25-26 trk1 lacp``."""
        out: dict[str, list[str]] = {}
        for item in self.items:
            if isinstance(item, str) and (m := re.match(r"^trunk (\S+) (trk\d+)", item)):
                out[m[2].capitalize()] = port_list(m[1])
        return out

    def ports(self) -> list[str]:
        """Physical ports: the model's front panel plus any a list names."""
        seen = {str(n) for n in range(1, PORT_COUNT.get(self.model, 28) + 1)}
        for b in self.vlans().values():
            seen |= b.untagged | b.tagged | b.no_untagged
        seen |= set(self.interfaces())
        for members in self.trunks().values():
            seen |= set(members)
        return sorted((p for p in seen if not p.startswith("Trk")), key=port_key)

    def untagged_vlan(self, port: str) -> int | None:
        return next((vid for vid, b in self.vlans().items() if port in b.untagged), None)

    # -- config mode --------------------------------------------------------------------
    def apply(self, ctx: Ctx, line: str) -> str | None:
        """Apply one line in context ``ctx``; None, or the switch's error text."""
        text = " ".join(line.split())
        if ctx[0] == "vlan":
            block = self._vlan(int(ctx[1]))
            return self._block_line(block, text)
        if ctx[0] == "eth":
            return self._block_line(self._interface(ctx[1]), text)
        return self._global(text)

    def belongs(self, ctx: Ctx, text: str) -> bool:
        """Whether ``text`` is a line of context ``ctx`` (else it is a global line)."""
        words = text.split()
        if words and words[0] == "no":
            words = words[1:]
        if not words:
            return False
        return words[0] in (_VLAN_WORDS if ctx[0] == "vlan" else
                            _ETH_WORDS if ctx[0] == "eth" else set())

    def _global(self, text: str) -> str | None:
        neg = text.startswith("no ")
        pos = text[3:] if neg else text
        m = re.match(r"^vlan (\d+)(?: (.+))?$", pos)
        if m:
            vid = int(m[1])
            if not 1 <= vid <= 4094:
                return INVALID.format(m[1])
            if neg and not m[2]:
                return self._drop_vlan(vid)
            block = self._vlan(vid)
            return self._block_line(block, ("no " if neg else "") + m[2]) if m[2] else None
        m = re.match(r"^interface (\S+)(?: (.+))?$", pos)
        if m:
            if not re.match(r"^([A-Za-z]?\d+|Trk\d+)$", m[1]):
                return INVALID.format(m[1])
            block = self._interface(m[1])
            return self._block_line(block, ("no " if neg else "") + m[2]) if m[2] else None
        pos = _quote(pos)
        items = self.items
        if neg:
            gone = [i for i in items
                    if isinstance(i, str) and (i == pos or i.startswith(pos + " "))]
            if gone:
                self.items = [i for i in items if not any(i is g for g in gone)]
            elif "no " + pos not in items:
                items.append("no " + pos)
            return None
        if "no " + pos in items:
            items.remove("no " + pos)
            return None
        key = next((k for k in _SINGLE if re.match(f"^{k}( |$)", pos)), None)
        if key is not None:
            rx = re.compile(f"^{re.match(f'^{key}', pos)[0]}( |$)")  # type: ignore[index]
            idx = next((n for n, i in enumerate(items) if isinstance(i, str) and rx.match(i)),
                       None)
            if idx is not None:
                items[idx] = pos
                return None
        if pos not in items:
            items.append(pos)
        return None

    def _vlan(self, vid: int) -> Block:
        found = self.vlans().get(vid)
        if found is not None:
            return found
        block = Block("vlan", str(vid), f"VLAN{vid}", ["no ip address"])
        after = [n for n, i in enumerate(self.items)
                 if isinstance(i, Block) and i.kind == "vlan" and int(i.key) < vid]
        before = [n for n, i in enumerate(self.items)
                  if isinstance(i, Block) and i.kind == "vlan" and int(i.key) > vid]
        at = after[-1] + 1 if after else before[0] if before else self._after_blocks()
        self.items.insert(at, block)
        return block

    def _interface(self, name: str) -> Block:
        found = self.interfaces().get(name)
        if found is not None:
            return found
        block = Block("interface", name)
        key = port_key(name)
        after = [n for n, i in enumerate(self.items) if isinstance(i, Block)
                 and i.kind == "interface" and port_key(i.key) < key]
        before = [n for n, i in enumerate(self.items) if isinstance(i, Block)
                  and i.kind == "interface" and port_key(i.key) > key]
        at = after[-1] + 1 if after else before[0] if before else self._after_blocks()
        self.items.insert(at, block)
        return block

    def _after_blocks(self) -> int:
        last = [n for n, i in enumerate(self.items) if isinstance(i, Block)]
        return last[-1] + 1 if last else len(self.items)

    def _drop_vlan(self, vid: int) -> str | None:
        block = self.vlans().get(vid)
        if vid == 1:
            return "The default VLAN cannot be deleted."
        if block is not None:
            self._to_default(block.untagged)
            self.items.remove(block)
        return None

    def _to_default(self, ports: set[str]) -> None:
        default = self.vlans().get(1)
        for port in list(ports):
            for b in self.vlans().values():
                b.untagged.discard(port)
            if default is not None:
                default.untagged.add(port)
                default.no_untagged.discard(port)

    def _block_line(self, block: Block, text: str) -> str | None:
        neg = text.startswith("no ")
        pos = text[3:] if neg else text
        words = pos.split()
        if not words:
            return None
        if words[0] in ("untagged", "tagged") and len(words) == 2:
            try:
                ports = port_list(words[1])
            except ValueError:
                return INVALID.format(words[1])
            if block.kind == "interface":
                return INVALID.format(words[1])
            self._members(block, words[0], set(ports), neg)
            return None
        if block.kind == "interface" and words[0] in ("untagged", "tagged") and \
                len(words) == 3 and words[1] == "vlan" and words[2].isdigit():
            self._members(self._vlan(int(words[2])), words[0], {block.key}, neg)
            return None
        if words[0] == "name":
            block.name = None if neg else unquote(pos.split(None, 1)[1]) if len(words) > 1 \
                else block.name
            return None
        if block.kind == "interface" and words == ["enable"] and not neg:
            block.lines = [ln for ln in block.lines if ln != "disable"]
            return None
        if words[:2] == ["ip", "address"]:
            new = "no ip address" if neg else pos
            idx = next((n for n, ln in enumerate(block.lines)
                        if ln.startswith(("ip address", "no ip address"))), None)
            if idx is None:
                block.lines.append(new)
            else:
                block.lines[idx] = new
            return None
        if neg:
            block.lines = [ln for ln in block.lines if ln != pos and not ln.startswith(pos + " ")]
        elif pos not in block.lines:
            block.lines.append(pos)
        return None

    def _members(self, vlan: Block, word: str, ports: set[str], neg: bool) -> None:
        vid = int(vlan.key)
        default = self.vlans().get(1)
        if word == "tagged":
            if neg:
                vlan.tagged -= ports
            else:
                vlan.tagged |= ports
                vlan.untagged -= ports
            return
        if neg:
            if vid == 1:
                vlan.untagged -= ports
                vlan.no_untagged |= ports
            else:
                self._to_default(ports & vlan.untagged)
            return
        for b in self.vlans().values():
            b.untagged -= ports
        vlan.untagged |= ports
        vlan.tagged -= ports
        if vid == 1:
            vlan.no_untagged -= ports
        elif default is not None:
            default.no_untagged |= ports


def _quote(text: str) -> str:
    """Names the switch stores quoted: ``hostname sw1`` -> ``hostname "sw1"``."""
    for key in _QUOTED:
        if text.startswith(key + " ") and key != "name":
            value = text[len(key) + 1:]
            return f'{key} "{unquote(value)}"'
    return text


class ProCurveDevice(Device):
    """A simulated ArubaOS-Switch: :attr:`pc` holds its config."""

    def __init__(self, spec: SimDevice, state_dir: Path | None = None) -> None:
        super().__init__(replace(spec, config=""), state_dir)
        self.spec = spec
        self.pc = ProCurveEngine(spec.config, spec.model if spec.model in PORT_COUNT else "")

    def dump(self) -> None:
        if self.state_dir is None:
            return
        out = self.state_dir / "running"
        out.mkdir(exist_ok=True)
        tmp = out / f".{self.spec.hostname}.tmp"
        tmp.write_text(self.pc.text())
        tmp.replace(out / f"{self.spec.hostname}.cfg")


_BANNER = ("\n{product} Switch {model}\nSoftware revision {release}\n\n"
           "(C) Copyright 2019 Hewlett Packard Enterprise Development LP\n\n"
           "                   RESTRICTED RIGHTS LEGEND\n"
           " Confidential computer software. Valid license from Hewlett Packard Enterprise\n"
           " Development LP required for possession, use or copying.\n\n"
           "We'd like to keep you up to date about:\n"
           "  * Software feature updates\n  * New product announcements\n"
           "  * Special events\n\nPlease register your products now at:  www.hpe.com/networking\n"
           "\n\nPress any key to continue")


class ProCurveSession(CliSession):
    """One SSH session on an ArubaOS-Switch: the banner, manager and config contexts."""

    def __init__(self, device: Device) -> None:
        super().__init__(device)
        assert isinstance(device, ProCurveDevice)
        self.pc_device = device
        self.ctx: Ctx | None = None
        self.asking = "key"  # "" | key | save | logout

    @property
    def engine_pc(self) -> ProCurveEngine:
        return self.pc_device.pc

    @property
    def hostname(self) -> str:
        return self.engine_pc.hostname()

    def prompt(self) -> str:
        if self.asking == "key":
            pc = self.engine_pc
            return _BANNER.format(product=PRODUCT.get(pc.model, "ArubaOS-Switch"),
                                  model=pc.model, release=self._release()).replace("\n", "\r\n")
        if self.asking == "save":
            return "Do you want to save current configuration [y/n/^C]? "
        if self.asking == "logout":
            return "Do you want to log out [y/n]? "
        suffix = "" if self.ctx is None else "(config)" if self.ctx[0] == "config" else \
            f"({self.ctx[0]}-{self.ctx[1]})"
        return f"{self.hostname}{suffix}# "

    def _release(self) -> str:
        return str(self.fault().get("software") or self.device.spec.software
                   or self.engine_pc.release)

    def handle(self, line: str) -> str:
        text = line.strip()
        if self.asking == "key":
            self.asking = ""
            return ""
        if self.asking in ("save", "logout"):
            return self._answer(text.lower())
        if self.ctx is not None and not re.match(r"^(show|sh|write|wr)\b", text):
            return self._config_line(text)
        return self._exec(text)

    def _answer(self, answer: str) -> str:
        if answer.startswith("y") and self.asking == "save":
            with self.device.lock:
                self.engine_pc.write_memory()
            self.asking = "logout"
        elif self.asking == "save" and answer.startswith("n"):
            self.asking = "logout"
        elif self.asking == "logout" and answer.startswith("y"):
            self.asking = ""
            self.closed = True
        elif self.asking == "logout":
            self.asking = ""
        return ""

    def _config_line(self, text: str) -> str:
        assert self.ctx is not None
        fault = self.fault()
        reject = fault.get("reject_line")
        if reject and text and re.search(str(reject), text):
            self._fire()
            return INVALID.format(text.split()[0]) + "\n"
        if not text:
            return ""
        if text == "end":
            self.ctx = None
            return ""
        if text == "exit":
            self.ctx = None if self.ctx[0] == "config" else ("config", "")
            return ""
        ctx = self.ctx if self.engine_pc.belongs(self.ctx, text) else ("config", "")
        with self.device.lock:
            err = self.engine_pc.apply(ctx, text)
            self.device.dump()
        if err is None:
            m = re.match(r"^(vlan|interface) (\S+)$", text)
            self.ctx = (("vlan" if m[1] == "vlan" else "eth"), m[2]) if m else ctx
        self.config_lines += 1
        for name, exc in (("drop_after_lines", DropConnection), ("hang_after_lines", Hang)):
            limit = fault.get(name)
            if limit is not None and self.config_lines >= int(limit):
                self._fire()
                raise exc
        return err + "\n" if err else ""

    def _exec(self, cmd: str) -> str:
        words = cmd.split()
        if not words:
            return ""
        verb = words[0].lower()
        if verb in ("terminal", "no", "page", "enable", "en"):
            return ""
        if verb in ("exit", "logout"):
            self.asking = "save" if self.engine_pc.dirty else "logout"
            return ""
        if re.match(r"^conf(ig(ure)?)?( t(erminal)?)?$", cmd):
            self.ctx = ("config", "")
            return ""
        if re.match(r"^wr(ite)? mem(ory)?$", cmd):
            with self.device.lock:
                self.engine_pc.write_memory()
                self.device.dump()
            return ""
        if verb in ("sh", "show"):
            out = self._pc_show(" ".join(words[1:]).lower())
            if out is not None:
                return out
        return INVALID.format(words[-1] if verb in ("sh", "show") else words[0]) + "\n"

    # -- show ---------------------------------------------------------------------------
    def _pc_show(self, what: str) -> str | None:
        pc = self.engine_pc
        table: list[tuple[str, Any]] = [
            (r"^run(ning-config)?$", lambda: "\nRunning configuration:\n\n" + pc.text()),
            (r"^conf(ig)?$", lambda: "\nStartup configuration:\n\n" + pc.text(startup=True)),
            (r"^syst(em)?( info(rmation)?)?$", self._system),
            (r"^ver(sion)?$", self._version),
            (r"^vl(ans?)?$", self._vlans),
            (r"^lldp i(nfo)? r(emote-device)?$", self._lldp),
            (r"^lldp i(nfo)? r(emote-device)? \S+$", lambda: self._lldp_detail(what.split()[-1])),
            (r"^mac-a(ddress)?$", self._macs),
            (r"^int(erfaces)? b(rief)?$", self._int_brief),
            (r"^arp$", self._arp),
        ]
        for pattern, fn in table:
            if re.match(pattern, what):
                return str(fn())
        return None

    def _up(self) -> set[str]:
        world = self.device.spec.world
        pc = self.engine_pc
        up = {str(p) for p in world.get("up") or []}
        up |= {str(n["port"]) for n in world.get("neighbours") or []}
        up |= {str(m["port"]) for m in world_macs(world)}
        for trk, members in pc.trunks().items():
            if trk in up or up & set(members):
                up |= {trk, *members}
        disabled = {k for k, b in pc.interfaces().items() if "disable" in b.lines}
        return up - disabled

    def _system(self) -> str:
        pc = self.engine_pc
        spec = self.device.spec
        mac = base_mac(spec.hostname, "9457a5")
        days = int((time.time() - self.device.booted) // 86400)
        tz = pc.global_value("time timezone") or "0"
        rule = (pc.global_value("time daylight-time-rule") or "none").title()
        return (
            "\n Status and Counters - General System Information\n\n"
            f"  System Name        : {self.hostname}\n"
            f"  System Contact     : {pc.global_value('snmp-server contact')}\n"
            f"  System Location    : {pc.global_value('snmp-server location')}\n\n"
            "  MAC Age Time (sec) : 300\n\n"
            f"  Time Zone          : {tz}\n"
            f"  Daylight Time Rule : {rule}\n\n"
            f"  Software revision  : {self._release():<20} Base MAC Addr      : "
            f"{mac[:6]}-{mac[6:]}\n"
            f"  ROM Version        : {self._release()[:2]}.16.03            Serial Number      : "
            f"{spec.serial}\n\n"
            f"  Up Time            : {days} days              Memory   - Total   : 339,738,624\n"
            "  CPU Util (%)       : 3                               Free    : 176,541,612\n\n"
            "  IP Mgmt  - Pkts Rx : 1,234,567            Packet   - Total   : 6600\n"
            "             Pkts Tx : 1,000,111            Buffers    Free    : 4324\n"
            "                                                       Lowest  : 4180\n"
            "                                                       Missed  : 0\n\n")

    def _version(self) -> str:
        release = self._release()
        return ("Image stamp:    /ws/swbuildm/rel_ukiah_qaoff/code/build/bom(swbuildm_rel_ukiah)\n"
                "                Jun  4 2020 14:56:47\n"
                f"                {release}\n"
                "                1223\n"
                "Boot Image:     Primary\n\n"
                f"Boot ROM Version:    {release[:2]}.16.03\n"
                "Active Boot ROM:     Primary\n\n")

    def _vlans(self) -> str:
        rows = ["", " Status and Counters - VLAN Information", "",
                "  Maximum VLANs to support : 256", "  Primary VLAN : DEFAULT_VLAN",
                "  Management VLAN :", "",
                "  VLAN ID Name                             | Status     Voice Jumbo",
                "  ------- -------------------------------- + ---------- ----- -----"]
        for vid, b in self.engine_pc.vlans().items():
            voice = "Yes" if "voice" in b.lines else "No"
            jumbo = "Yes" if "jumbo" in b.lines else "No"
            rows.append(f"  {vid:<7} {(b.name or f'VLAN{vid}'):<32} | Port-based {voice:<5} "
                        f"{jumbo}")
        return "\n".join(rows) + "\n\n"

    def _lldp(self) -> str:
        rows = ["", " LLDP Remote Devices Information", "",
                "  LocalPort | ChassisId          PortId             PortDescr SysName           ",
                "  --------- + ------------------ ------------------ --------- ------------------"]
        for n in neighbours(self.device.spec.world, "lldp"):
            name = str(n["name"])
            name = name if len(name) <= 18 else name[:15] + "..."
            descr = str(n.get("port_description") or n.get("port_id", ""))[:9]
            rows.append(f"  {str(n['port']):<9} | {_hp_mac(n.get('chassis_id', '')):<18} "
                        f"{str(n.get('port_id', ''))[:18]:<18} {descr:<9} {name:<18}")
        return "\n".join(rows) + "\n \n"

    def _lldp_detail(self, ports: str) -> str:
        wanted = None if ports in ("all", "detail") else set(port_list(ports))
        out = ["", " LLDP Remote Device Information Detail", ""]
        for n in neighbours(self.device.spec.world, "lldp"):
            if wanted is not None and str(n["port"]) not in wanted:
                continue
            caps = ", ".join(_HP_CAPS.get(c.lower(), c) for c in n.get("capabilities") or []
                             if c.lower() != "igmp")
            addr = n.get("address")
            port_id = str(n.get("port_id", ""))
            port_type = "local"
            if re.fullmatch(r"[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}", port_id):
                d = mac12(port_id)
                port_type, port_id = "mac-address", " ".join(d[i:i + 2] for i in range(0, 12, 2))
            out += [f"  Local Port   : {n['port']}",
                    "  ChassisType  : mac-address",
                    f"  ChassisId    : {_hp_mac(n.get('chassis_id', ''))}",
                    f"  PortType     : {port_type}",
                    f"  PortId       : {port_id}",
                    f"  SysName      : {n['name']}",
                    f"  System Descr : {n.get('version') or n.get('platform', '')}",
                    f"  PortDescr    : {n.get('port_description') or n.get('port_id', '')}",
                    f"  Pvid         : {n.get('vlan', '')}", "",
                    f"  System Capabilities Supported  : {caps}",
                    f"  System Capabilities Enabled    : {caps}", "",
                    "  Remote Management Address"]
            if addr:
                out += ["     Type    : ipv4", f"     Address : {addr}"]
            out += ["", "-" * 78]
        return "\n".join(out) + "\n"

    def _macs(self) -> str:
        rows = ["", " Status and Counters - Port Address Table", "",
                "  MAC Address       Port                            VLAN",
                "  ----------------- ------------------------------- ----"]
        for m in world_macs(self.device.spec.world):
            rows.append(f"  {_hp_mac(str(m['mac'])):<17} {str(m['port']):<31} {m['vlan']}")
        return "\n".join(rows) + "\n\n"

    def _int_brief(self) -> str:
        pc = self.engine_pc
        up = self._up()
        member = {p: t for t, ms in pc.trunks().items() for p in ms}
        disabled = {k for k, b in pc.interfaces().items() if "disable" in b.lines}
        rows = ["", " Status and Counters - Port Status", "",
                "                   | Intrusion                           MDI  Flow",
                "  Port  Type       | Alert     Enabled Status Mode       Mode Ctrl",
                "  ----- ---------- + --------- ------- ------ ---------- ---- ----"]
        for p in pc.ports():
            name = f"{p}-{member[p]}" if p in member else p
            on = p in up
            rows.append(f"  {name:<5} {'100/1000T':<10} | No        "
                        f"{'No' if p in disabled else 'Yes':<7} {'Up' if on else 'Down':<6} "
                        f"{'1000FDx' if on else '1000FDx':<10} {'MDIX' if on else 'MDI':<4} off")
        return "\n".join(rows) + "\n\n"

    def _arp(self) -> str:
        rows = ["", " IP ARP table", "",
                "  IP Address      MAC Address       Type    Port",
                "  --------------- ----------------- ------- ----"]
        for a in self.device.spec.world.get("arp") or []:
            rows.append(f"  {a['address']:<15} {_hp_mac(str(a['mac'])):<17} dynamic "
                        f"{str(a['interface']):<4}")
        return "\n".join(rows) + "\n \n"


_HP_CAPS = {"bridge": "bridge", "router": "router", "telephone": "telephone",
            "phone": "telephone", "wlan": "wlan-access-point", "station": "station-only",
            "switch": "bridge"}


def _hp_mac(mac: str) -> str:
    """A MAC as ArubaOS-Switch prints it.

    >>> _hp_mac("00:1a:2b:3c:4d:5e")
    '001a2b-3c4d5e'
    """
    try:
        d = mac12(mac)
    except ValueError:
        return mac
    return f"{d[:6]}-{d[6:]}"


__all__ = ["ProCurveDevice", "ProCurveEngine", "ProCurveSession", "compress", "lldp_caps"]
