"""The IOS-XE / C9800 exec and config CLI of a simulated device, and its fakenos shell.

:class:`Device` is one simulated box (one shared :class:`ConfigEngine`, guarded by a
lock); :class:`CliSession` turns the lines one SSH session types into what IOS would
print. :class:`FellesnettShell` adapts a session to fakenos' shell interface and is
registered as ``fakenos`` shell plugin ``"FellesnettIOS"``; the simulators themselves run
it on :mod:`nornir_tasks.sim.server`, a faster transport than fakenos' byte-per-10-ms one.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir_tasks.sim import faults
from nornir_tasks.sim.engine import INVALID, ConfigEngine, ConfigSession, learn, parse


@dataclass(frozen=True)
class SimDevice:
    """What a simulator needs to know about a device."""

    hostname: str
    config: str
    flavour: str = "ios-xe"  # or "c9800", "ios-classic", "aruba-os-switch"
    model: str = "C9300-48P"
    serial: str = "FOC0000X0AA"
    #: the release `show version` reports (the inventory's `device_models[model].software`);
    #: the fault plan's ``software`` key overrides it for one device
    software: str = "17.9.4a"
    #: what is plugged in (legacy personalities): ``neighbours``, ``macs``, ``arp``,
    #: ``vlan_names``, ``up``; plain data, since workers get it as JSON
    world: dict[str, Any] = field(default_factory=dict)


class DropConnection(Exception):  # noqa: N818 - a signal, not an error
    """The fault plan says: close the connection now."""


class Hang(Exception):  # noqa: N818
    """The fault plan says: stop answering."""


class Device:
    """One simulated device: its config (shared by all sessions) and its fault view."""

    def __init__(self, spec: SimDevice, state_dir: Path | None = None) -> None:
        self.spec = spec
        self.engine = ConfigEngine(spec.hostname, spec.config)
        self.lock = threading.Lock()
        self.state_dir = state_dir
        self.faults = faults.FaultView(state_dir)
        self.booted = time.time() - 37 * 86400 - 3 * 3600 - 60

    def dump(self) -> None:
        """Leave the running config on disk, so a crash leaves evidence."""
        if self.state_dir is None:
            return
        out = self.state_dir / "running"
        out.mkdir(exist_ok=True)
        tmp = out / f".{self.spec.hostname}.tmp"
        tmp.write_text(self.engine.running_config())
        tmp.replace(out / f"{self.spec.hostname}.cfg")


def _uptime(seconds: float) -> str:
    minutes = int(seconds // 60)
    weeks, rest = divmod(minutes, 7 * 1440)
    days, rest = divmod(rest, 1440)
    hours, mins = divmod(rest, 60)
    parts = [(weeks, "week"), (days, "day"), (hours, "hour"), (mins, "minute")]
    return ", ".join(f"{n} {w}{'s' if n != 1 else ''}" for n, w in parts if n)


def padded_version(release: str) -> str:
    """IOS-XE prints the release zero-padded in its first ``show version`` line.

    >>> padded_version("17.12.4"), padded_version("17.9.4a")
    ('17.12.04', '17.09.04a')
    """
    head, *rest = release.split(".")
    padded = [f"{int(m[1]):02d}{m[2]}" if (m := re.match(r"^(\d+)(.*)$", p)) else p
              for p in rest]
    return ".".join([head, *padded])


def _invalid(command: str, prompt: str) -> str:
    return f"{' ' * (len(prompt) + len(command.split()[0]))}^\n{INVALID}\n"


class CliSession:
    """One SSH session: exec mode, config mode, fault triggers."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.config: ConfigSession = device.engine.session()
        self.config_lines = 0
        self.fired = False
        self.closed = False

    # -- prompts --------------------------------------------------------------------
    @property
    def hostname(self) -> str:
        for child in self.device.engine.root.children:
            if child.text.startswith("hostname "):
                return child.text.split()[1]
        return self.device.spec.hostname

    def prompt(self) -> str:
        return f"{self.hostname}{self.config.prompt_suffix()}#"

    def fault(self) -> dict[str, Any]:
        return self.device.faults.get(self.device.spec.hostname)

    def _fire(self) -> None:
        if not self.fired and self.device.state_dir is not None:
            self.fired = True
            faults.consume(self.device.state_dir, self.device.spec.hostname)

    def on_login(self) -> None:
        """Faults that act right after login (N=0)."""
        fault = self.fault()
        if fault.get("hang_after_lines") == 0:
            self._fire()
            raise Hang
        if fault.get("drop_after_lines") == 0:
            self._fire()
            raise DropConnection

    # -- the command loop -----------------------------------------------------------
    def handle(self, line: str) -> str:
        """Output for one typed line (without the echo and the next prompt)."""
        if self.config.in_config:
            return self._config_line(line)
        return self._exec(line.strip())

    def _config_line(self, line: str) -> str:
        fault = self.fault()
        stripped = line.strip()
        reject = fault.get("reject_line")
        if reject and stripped and re.search(str(reject), stripped):
            self._fire()
            return f"{' ' * len(self.prompt())}^\n{INVALID}\n"
        with self.device.lock:
            err = self.config.apply(line)
            if not self.config.in_config:
                self.device.dump()
        if stripped and not stripped.startswith("!") and stripped != "end":
            self.config_lines += 1
        for name, exc in (("drop_after_lines", DropConnection), ("hang_after_lines", Hang)):
            limit = fault.get(name)
            if limit is not None and self.config_lines >= int(limit):
                self._fire()
                with self.device.lock:
                    self.device.dump()
                raise exc
        return f"{' ' * len(self.prompt())}^\n{err}\n" if err else ""

    def _exec(self, cmd: str) -> str:
        words = cmd.split()
        if not words:
            return ""
        engine = self.device.engine
        verb = words[0].lower()
        if verb in ("terminal", "term"):
            return ""
        if verb in ("enable", "en"):
            return ""
        if verb in ("exit", "logout", "quit", "disable"):
            self.closed = verb != "disable"
            return ""
        if re.match(r"^conf(igure)?( t(erminal)?)?$", cmd):
            self.config.enter_config()
            return "Enter configuration commands, one per line.  End with CNTL/Z.\n"
        if re.match(r"^(wr(ite)?( mem(ory)?)?|copy run(ning-config)? start(up-config)?)$", cmd):
            with self.device.lock:
                engine.write_memory()
                self.device.dump()
            return "Building configuration...\n[OK]\n"
        if verb in ("sh", "show"):
            return self._show(cmd, words[1:])
        return _invalid(cmd, self.prompt())

    def _show(self, cmd: str, args: list[str]) -> str:
        engine = self.device.engine
        spec = self.device.spec
        what = " ".join(args).split("|")[0].strip()
        pipe = cmd.split("|", 1)[1].strip() if "|" in cmd else ""
        if re.match(r"^run(ning-config)?( all)?$", what):
            with self.device.lock:
                if pipe.startswith(("section ", "s ")):
                    return engine.section(pipe.split(" ", 1)[1])
                if pipe.startswith(("include ", "i ", "inc ")):
                    return engine.include(pipe.split(" ", 1)[1])
                return engine.running_config()
        if re.match(r"^start(up-config)?$", what):
            with self.device.lock:
                return engine.startup_config()
        if re.match(r"^ver(sion)?$", what):
            return self._version()
        if what.startswith("inv"):
            return (f'NAME: "Chassis", DESCR: "Cisco {spec.model} Chassis"\n'
                    f"PID: {spec.model}, VID: V02, SN: {spec.serial}\n\n")
        if what.startswith("ip int") and "br" in what:
            return self._ip_int_brief()
        if what.startswith("int"):
            return self._interfaces()
        if what.startswith("hosts"):
            domain = next((c.text.split()[-1] for c in engine.root.children
                           if c.text.startswith("ip domain name ")), "")
            return (f"Default domain is {domain or 'not set'}\n"
                    "Name/address lookup uses domain service\n")
        if what.startswith("clock"):
            return time.strftime("*%H:%M:%S.000 CET %a %b %d %Y\n")
        if what.startswith("priv"):
            return "Current privilege level is 15\n"
        if what.startswith("users"):
            return "    Line       User       Host(s)              Idle       Location\n"
        if what.startswith("archive"):
            return "The maximum archive configurations allowed is 10.\n"
        return _invalid(cmd, self.prompt())

    def _version(self) -> str:
        spec = self.device.spec
        release = str(self.fault().get("software") or spec.software)
        uptime = _uptime(time.time() - self.device.booted)
        if spec.flavour == "c9800":
            sw = "C9800_IOSXE-K9"
            platform = (f"cisco {spec.model} (KATAR) processor (revision KATAR) "
                        "with 32768K/6147K bytes of memory.")
        else:
            sw = "CAT9K_IOSXE"
            platform = f"cisco {spec.model} (X86) processor with 1392780K/6147K bytes of memory."
        return (
            f"Cisco IOS XE Software, Version {padded_version(release)}\n"
            f"Cisco IOS Software [Cupertino], Catalyst L3 Switch Software ({sw}), "
            f"Version {release}, RELEASE SOFTWARE (fc3)\n"
            "Technical Support: http://www.cisco.com/techsupport\n"
            "Copyright (c) 1986-2023 by Cisco Systems, Inc.\n\n"
            f"ROM: IOS-XE ROMMON\n\n{self.hostname} uptime is {uptime}\n"
            "System returned to ROM by Reload Command\n"
            'System image file is "flash:packages.conf"\n\n'
            f"{platform}\nProcessor board ID {spec.serial}\n"
            "1 Virtual Ethernet interface\n52 Gigabit Ethernet interfaces\n"
            "2048K bytes of non-volatile configuration memory.\n\n"
            f"Model Number                       : {spec.model}\n"
            f"System Serial Number               : {spec.serial}\n\n"
            "Configuration register is 0x102\n\n")

    def _interface_nodes(self) -> list[tuple[str, str, bool]]:
        out = []
        for child in self.device.engine.root.children:
            if child.kind == "if":
                name = child.text.split(" ", 1)[1]
                addr = next((c.text.split()[2] for c in child.children
                             if c.text.startswith("ip address ")), "unassigned")
                shut = any(c.text == "shutdown" for c in child.children)
                out.append((name, addr, shut))
        return out

    def _ip_int_brief(self) -> str:
        rows = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for name, addr, shut in self._interface_nodes():
            status = "administratively down" if shut else "up"
            proto = "down" if shut else "up"
            rows.append(f"{name:<22} {addr:<15} YES NVRAM  {status:<21} {proto}")
        return "\n".join(rows) + "\n"

    def _interfaces(self) -> str:
        out = []
        for name, addr, shut in self._interface_nodes():
            state = "administratively down" if shut else "up"
            out.append(f"{name} is {state}, line protocol is {'down' if shut else 'up'}\n"
                       "  Hardware is Gigabit Ethernet, address is 00a1.b2c3.d4e5 "
                       "(bia 00a1.b2c3.d4e5)\n"
                       + (f"  Internet address is {addr}/24\n" if addr != "unassigned" else "")
                       + "  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,\n")
        return "".join(out)


def make_device(spec: SimDevice, state_dir: Path | None = None) -> Device:
    """The simulated box for ``spec``: ArubaOS-Switch keeps a config engine of its own."""
    if spec.flavour == "aruba-os-switch":
        from nornir_tasks.sim.procurve import ProCurveDevice

        return ProCurveDevice(spec, state_dir)
    device = Device(spec, state_dir)
    for path in spec.world.get("vocabulary", ()):
        # commands IOS knows that this config has not shown the engine (legacy_world.py)
        learn(device.engine.vocab, parse(Path(path).read_text()))
    return device


def new_session(device: Device) -> CliSession:
    """One SSH session on ``device``, in the personality of its flavour."""
    if device.spec.flavour == "ios-classic":
        from nornir_tasks.sim.legacy_ios import LegacyIosSession

        return LegacyIosSession(device)
    if device.spec.flavour == "aruba-os-switch":
        from nornir_tasks.sim.procurve import ProCurveSession

        return ProCurveSession(device)
    return CliSession(device)


class FellesnettShell:
    """A fakenos shell plugin running :class:`CliSession` (stateful, unlike CMDShell).

    fakenos builds one shell per connection with ``stdin``/``stdout`` taps; pass the
    :class:`Device` through the host's shell ``configuration`` as ``device``.
    """

    def __init__(self, stdin: Any, stdout: Any, nos: Any = None,
                 nos_inventory_config: Any = None, is_running: Any = None,
                 device: Device | None = None, **_: Any) -> None:
        if device is None:
            raise ValueError("FellesnettShell needs configuration: {device: Device}")
        self.stdin, self.stdout = stdin, stdout
        self.session = CliSession(device)
        self.running = True

    def start(self) -> None:
        self.stdout.write(self.session.prompt())
        while self.running and not self.session.closed:
            line = self.stdin.readline()
            if line is None:
                break
            try:
                out = self.session.handle(line.rstrip("\r\n"))
            except (DropConnection, Hang):
                break
            self.stdout.write(out.replace("\n", "\r\n") + self.session.prompt())

    def stop(self) -> None:
        self.running = False


def register_fakenos_plugin() -> None:
    """Make ``FellesnettIOS`` available to ``fakenos.FakeNOS`` inventories."""
    from fakenos.plugins.shell import shell_plugins  # type: ignore[import-untyped]

    shell_plugins["FellesnettIOS"] = FellesnettShell
