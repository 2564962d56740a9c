"""Build and tear down the lab: network namespaces, a private Open vSwitch, nftables, and
the processes the lab runs inside them (an agent per namespace, the real daemons).

Everything a run creates carries its own random prefix (namespaces ``<prefix>-...``, a
temp dir ``fellesnett-lab-<prefix>-*``), so parallel runs never collide and teardown only
ever touches what this run made. No interface is created in the machine's own namespace:
veths are created from inside the switch and core namespaces straight into their peers,
and ovs-vswitchd itself runs in the switch namespace, so no lab packet can reach the
host's uplink.

The kernel here has no 802.1Q (no VLAN links, no VRFs, no OVS kernel datapath), so the
switches are OVS bridges on the userspace datapath (``datapath_type=netdev``), whose
access and trunk ports push and pop real 802.1Q tags; TCP across that datapath needs
transmit checksum offload off on every veth end that OVS touches.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from nornir_tasks.lab import services
from nornir_tasks.lab.firewall import (
    INTERNET_RULE_PRIORITY,
    RULE_PRIORITY,
    UNREACHABLE_METRIC,
)
from nornir_tasks.lab.firewall import NAMESPACE as FIREWALL_NS
from nornir_tasks.lab.nft import chains_to_nft, sink_nft
from nornir_tasks.lab.plan import DirectNs, HostNs, LabPlan
from nornir_tasks.lab.probes import Listener

REQUIRED_TOOLS = ("ip", "nft", "ethtool", "tcpdump", "ovsdb-tool", "ovsdb-server",
                  "ovs-vswitchd", "ovs-vsctl")
APT = f"iproute2 nftables openvswitch-switch ethtool tcpdump {services.APT}"
SCHEMAS = (Path("/usr/share/openvswitch/vswitch.ovsschema"),
           Path("/usr/local/share/openvswitch/vswitch.ovsschema"))
NETNS_DIR = Path("/run/netns")
POLL_TIMEOUT = 10.0  # first contact with the gateway (ARP, OVS learning) before probing
START_TIMEOUT = 20.0
OVS_NICE = -10


class LabEnvironmentError(Exception):
    """The machine cannot build the lab (no root, a tool missing, a step failed): exit 2."""


def schema_path() -> Path | None:
    return next((p for p in SCHEMAS if p.is_file()), None)


def missing_prerequisites(check_netns: bool = True) -> list[str]:
    """Why this machine cannot run the lab; empty when it can."""
    missing = []
    if os.geteuid() != 0:
        missing.append("needs root (network namespaces, Open vSwitch, nftables)")
    tools = [t for t in REQUIRED_TOOLS if shutil.which(t) is None] + services.missing_tools()
    if tools:
        missing.append(f"missing tools: {', '.join(tools)} (apt-get install -y {APT})")
    if schema_path() is None:
        missing.append("Open vSwitch schema vswitch.ovsschema not found (openvswitch-switch)")
    if not Path("/dev/net/tun").exists():
        missing.append("/dev/net/tun is missing (OVS userspace bridges need it)")
    if check_netns and not missing:
        name = f"fl{secrets.token_hex(3)}-check"
        add = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
        if add.returncode != 0:
            missing.append(f"cannot create a network namespace: {add.stderr.strip()}")
        else:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return missing


def _run(cmd: list[str], input: str | None = None, timeout: float = 60.0,
         env: dict[str, str] | None = None) -> str:
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True,
                              timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabEnvironmentError(f"{' '.join(cmd[:5])}: {exc}") from None
    if proc.returncode != 0:
        raise LabEnvironmentError(f"{' '.join(cmd[:5])} failed: "
                                  f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc.stdout


class Agent:
    """One ``nornir_tasks.lab.agent`` process inside a namespace, spoken to in JSON lines."""

    def __init__(self, namespace: str, proc: subprocess.Popen[bytes]) -> None:
        self.namespace = namespace
        self.proc = proc
        self._buf = b""

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def receive(self, deadline: float) -> dict[str, Any]:
        """The next JSON line, or LabEnvironmentError at ``deadline`` (monotonic)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise LabEnvironmentError(f"agent in {self.namespace} did not answer")
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise LabEnvironmentError(f"agent in {self.namespace} exited "
                                              f"(code {self.proc.poll()})")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        data: dict[str, Any] = json.loads(line)
        return data


class Lab:
    """One lab run: build from a plan, probe, tear down (see :mod:`nornir_tasks.lab.runner`)."""

    def __init__(self, plan: LabPlan, prefix: str | None = None) -> None:
        self.plan = plan
        # 'fl' + 6 hex: short, because interface-related names are capped at 15 bytes
        self.prefix = prefix or f"fl{secrets.token_hex(3)}"
        self.workdir = Path(tempfile.mkdtemp(prefix=f"fellesnett-lab-{self.prefix}-"))
        self.env = {**os.environ, "OVS_RUNDIR": str(self.workdir),
                    "OVS_DBDIR": str(self.workdir), "OVS_LOGDIR": str(self.workdir)}
        # the agents import this package; make that work from a source checkout too
        root = str(Path(__file__).resolve().parents[2])
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        self.namespaces: list[str] = []  # created (or being created) by this run
        self.daemons: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.agents: dict[str, Agent] = {}
        self.captures: dict[str, tuple[subprocess.Popen[bytes], Path, Path]] = {}
        self._files: list[IO[bytes]] = []
        self.nft_text = ""
        self.started: dict[str, subprocess.Popen[bytes]] = {}  # real daemons, by name
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ names
    def ns(self, logical: str) -> str:
        return f"{self.prefix}-{logical}"

    @property
    def db(self) -> str:
        return f"unix:{self.workdir / 'db.sock'}"

    def _exec(self, logical: str, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", self.ns(logical), *cmd]

    # ------------------------------------------------------------------ build
    def build(self) -> None:
        names = [self.ns(n) for n in self.plan.namespaces]
        clash = [n for n in names if (NETNS_DIR / n).exists()]
        if clash:
            raise LabEnvironmentError(f"namespace {clash[0]} already exists")
        self.namespaces = names  # recorded first: teardown deletes whichever exist
        _run(["ip", "-batch", "-"], input="".join(f"netns add {n}\n" for n in names))
        self._start_ovs()
        (self.workdir / "sink.nft").write_text(sink_nft())  # every end namespace loads it
        self._shell("sw", self._switch_script())
        self._shell("core", self._core_script())
        if self.plan.firewall is not None:
            # the policy as it ships, byte for byte: the namespace loads this very file.
            # Before the end namespaces: the internet's link starts here
            (self.workdir / "fellesnett.nft").write_text(self.plan.firewall.text)
            self._shell(FIREWALL_NS, self._firewall_script())
        # the end namespaces are independent of each other: configure them in parallel
        procs = []
        for host in self.plan.hosts:
            procs.append(self._shell_async(host.name, self._host_script(host)))
        for d in self.plan.direct:
            procs.append(self._shell_async(d.name, self._direct_script(d)))
        for name, proc in procs:
            _, err = proc.communicate(timeout=60)
            if proc.returncode != 0:
                raise LabEnvironmentError(f"configuring {name} failed: {err.decode().strip()}")
        _run(["ovs-vsctl", f"--db={self.db}", "--timeout=20", *self._vsctl_args()],
             env=self.env)
        self.nft_text = chains_to_nft(self.plan.chains)
        rules = self.workdir / "core.nft"
        rules.write_text(self.nft_text)
        _run(self._exec("core", "nft", "-f", str(rules)))

    def _spawn(self, label: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{label}.stderr").open("wb")
        self._files.append(log)
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    env=self.env)
        except OSError as exc:
            raise LabEnvironmentError(f"cannot start {cmd[0]}: {exc}") from None
        self.daemons.append((label, proc))
        return proc

    def _start_ovs(self) -> None:
        """A private ovsdb-server and ovs-vswitchd (never the system's), in the temp dir."""
        wd = self.workdir
        schema = schema_path()
        if schema is None:
            raise LabEnvironmentError("Open vSwitch schema not found")
        _run(["ovsdb-tool", "create", str(wd / "conf.db"), str(schema)], env=self.env)
        server = self._spawn("ovsdb-server", [
            "ovsdb-server", str(wd / "conf.db"), f"--remote=punix:{wd / 'db.sock'}",
            f"--unixctl={wd / 'ovsdb-server.ctl'}", f"--pidfile={wd / 'ovsdb-server.pid'}",
            f"--log-file={wd / 'ovsdb-server.log'}", "-vconsole:off"])
        deadline = time.monotonic() + START_TIMEOUT
        while not (wd / "db.sock").exists():  # poll: the socket appears when it serves
            if server.poll() is not None or time.monotonic() > deadline:
                raise LabEnvironmentError(f"ovsdb-server did not start; see {wd}")
            time.sleep(0.02)
        _run(["ovs-vsctl", f"--db={self.db}", "--no-wait", "init"], env=self.env)
        # in the switch namespace: the veth ends it opens live there, not on the host.
        # Niced up: every switch of the lab is this one thread, reading each port through
        # a socket buffer of a few hundred frames; descheduled for a few milliseconds on
        # a busy machine, it would drop frames (the buffer size is a host-wide setting)
        self._spawn("ovs-vswitchd", self._exec(
            "sw", "nice", "-n", str(OVS_NICE), "ovs-vswitchd", self.db,
            f"--unixctl={wd / 'ovs-vswitchd.ctl'}", f"--pidfile={wd / 'ovs-vswitchd.pid'}",
            f"--log-file={wd / 'ovs-vswitchd.log'}", "-vconsole:off"))

    def _shell_async(self, logical: str, script: str) -> tuple[str, subprocess.Popen[bytes]]:
        path = self.workdir / f"setup-{logical}.sh"
        path.write_text(script)  # kept in the temp dir: --keep leaves them for debugging
        proc = subprocess.Popen(self._exec(logical, "sh", "-e", str(path)),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        return logical, proc

    def _shell(self, logical: str, script: str) -> None:
        name, proc = self._shell_async(logical, script)
        _, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            raise LabEnvironmentError(f"configuring {name} failed: {err.decode().strip()}")

    @staticmethod
    def _sysctls(forward: bool) -> list[str]:
        # IPv6 off: its neighbour discovery would only add noise on the trunks. Forwarding
        # is explicit, whatever this machine's own namespace has (new ones inherit it).
        return ["[ -d /proc/sys/net/ipv6 ] && { echo 1 > /proc/sys/net/ipv6/conf/all/"
                "disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; } "
                "|| true",
                f"echo {int(forward)} > /proc/sys/net/ipv4/ip_forward"]

    def _switch_script(self) -> str:
        lines = self._sysctls(False)
        ports = []
        for sw in self.plan.switches:
            for h in sw.hosts:
                lines.append(f"ip link add {h.switch_port} type veth peer name eth0 "
                             f"netns {self.ns(h.name)}")
                ports.append(h.switch_port)
            lines.append(f"ip link add {sw.trunk_site} type veth peer name {sw.trunk_core}")
            ports += [sw.trunk_site, sw.trunk_core]
        for leg in self.plan.core_legs:
            lines.append(f"ip link add {leg.switch_port} type veth peer name {leg.interface} "
                         f"netns {self.ns('core')}")
            ports.append(leg.switch_port)
        for p in ports:
            lines += [f"ip link set {p} up", f"ethtool -K {p} tx off >/dev/null"]
        return "\n".join(lines) + "\n"

    def _core_script(self) -> str:
        lines = [*self._sysctls(True), "ip link set lo up"]
        for leg in self.plan.core_legs:
            lines += [f"ip addr add {leg.gateway} dev {leg.interface}",
                      f"ip link set {leg.interface} up",
                      f"ethtool -K {leg.interface} tx off >/dev/null"]
        lines += self._direct_links("core")
        for net in self.plan.unreachable:
            # internal prefixes not in the lab end here, never at the 'internet'
            lines.append(f"ip route add unreachable {net}")
        lines += self._core_firewall_lines()
        return "\n".join(lines) + "\n"

    def _direct_links(self, behind: str) -> list[str]:
        """This side of the links of the namespaces behind ``behind``."""
        lines = []
        for d in self.plan.direct:
            if d.behind == behind:
                lines += [f"ip link add {d.interface} type veth peer name eth0 netns "
                          f"{self.ns(d.name)}",
                          f"ip addr add {d.core_address} dev {d.interface}",
                          f"ip link set {d.interface} up"]
        return lines

    def _core_firewall_lines(self) -> list[str]:
        """The core's side of the stateful pairs: a leg per zone towards the firewall, and
        per zone a table standing for its VRF's routes through the firewall (added by the
        firewall's script, once its end of the legs is up), behind which the other
        zone's pool is unreachable: the pair is never leaked at the core."""
        fw = self.plan.firewall
        if fw is None:
            return []
        # the pair's packets leave on one leg and come back on another: no reverse-path
        # filter may take that for spoofing (as on a core, where they are in other VRFs)
        lines = ["echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter",
                 "echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter"]
        for g in fw.legs:
            lines += [f"ip link add {g.core_interface} type veth peer name {g.interface} "
                      f"netns {self.ns(FIREWALL_NS)}",
                      f"ip addr add {g.core_address} dev {g.core_interface}",
                      f"ip link set {g.core_interface} up"]
        for zone, table in fw.tables.items():
            lines += [f"ip route add unreachable {net} table {table} metric "
                      f"{UNREACHABLE_METRIC}" for net in fw.partners.get(zone, ())]
        lines += [f"ip rule add iif {iface} lookup {table} pref {RULE_PRIORITY}"
                  for iface, table in self.plan.firewall_rules]
        lines += [f"ip rule add iif {iface} lookup {table} pref {INTERNET_RULE_PRIORITY}"
                  for iface, table in self.plan.internet_rules]
        return lines

    def _firewall_script(self) -> str:
        """The firewall: its legs, its routes (README), the generated policy, the link
        to the internet."""
        fw = self.plan.firewall
        assert fw is not None
        lines = [*self._sysctls(True), "ip link set lo up",
                 "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter",
                 "echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter"]
        for g in fw.legs:
            lines += [f"ip addr add {g.address} dev {g.interface}",
                      f"ip link set {g.interface} up"]
        lines += [f"ip route add {r.prefix} via {r.next_hop}" for r in fw.routes]
        lines += self._direct_links(FIREWALL_NS)
        lines.append(f"nft -f {self.workdir / 'fellesnett.nft'}")
        # Linux's default, said out loud: verify's reader assumes that TCP is tracked
        # loosely (a connection may be picked up from any segment a rule accepts)
        lines.append("echo 1 > /proc/sys/net/netfilter/nf_conntrack_tcp_loose")
        # the core's VRF routes into the firewall need this end of the legs up
        for r in fw.core_routes:
            table = (fw.internet_tables if r.prefix.prefixlen == 0 else fw.tables).get(r.zone)
            if table is not None:
                lines.append(f"ip -n {self.ns('core')} route add {r.prefix} via "
                             f"{r.next_hop} table {table}")
        return "\n".join(lines) + "\n"

    def _host_script(self, h: HostNs) -> str:
        lines = [*self._sysctls(False), "ip link set lo up",
                 f"ip addr add {h.address} dev eth0", "ip link set eth0 up",
                 "ethtool -K eth0 tx off >/dev/null", f"ip route add default via {h.gateway}",
                 f"nft -f {self.workdir / 'sink.nft'}"]
        return "\n".join(lines) + "\n"

    def _direct_script(self, d: DirectNs) -> str:
        lines = [*self._sysctls(False), "ip link set lo up"]
        lines += [f"ip addr add {a}/32 dev lo" for a in d.loopback]
        src = f" src {d.source}" if d.source is not None else ""
        lines += [f"ip addr add {d.address} dev eth0", "ip link set eth0 up",
                  f"ip route add default via {d.core_address.ip}{src}",
                  f"nft -f {self.workdir / 'sink.nft'}"]
        # the routes towards it need the link up at both ends: added from here
        lines += [f"ip -n {self.ns(d.behind)} route add {net} via {d.address.ip}"
                  for net in d.routes]
        return "\n".join(lines) + "\n"

    def _vsctl_args(self) -> list[str]:
        args: list[str] = []
        for bridge in [b for s in self.plan.switches for b in (s.bridge, s.core_bridge)]:
            args += ["--", "add-br", bridge, "--", "set", "bridge", bridge,
                     "datapath_type=netdev"]
        for sw in self.plan.switches:
            for h in sw.hosts:
                args += ["--", "add-port", sw.bridge, h.switch_port, f"tag={h.vlan}"]
            trunks = ",".join(str(v) for v in sw.vlans)
            # a trunk carries exactly the site's zone VLANs, tagged (no native VLAN)
            args += ["--", "add-port", sw.bridge, sw.trunk_site, f"trunks={trunks}",
                     "--", "add-port", sw.core_bridge, sw.trunk_core, f"trunks={trunks}"]
        for leg in self.plan.core_legs:
            bridge = self.plan.switches[self.plan.sites.index(leg.site)].core_bridge
            args += ["--", "add-port", bridge, leg.switch_port, f"tag={leg.vlan}"]
        return args

    def trunk_config(self) -> dict[str, list[int]]:
        """What OVS says each site trunk carries (read back, not taken from the plan)."""
        args: list[str] = []
        for sw in self.plan.switches:
            args += ["--", "get", "port", sw.trunk_site, "trunks"]
        out = _run(["ovs-vsctl", f"--db={self.db}", "--timeout=10", *args], env=self.env)
        lines = out.strip().splitlines()
        return {sw.trunk_site: [int(v) for v in re.findall(r"\d+", line)]
                for sw, line in zip(self.plan.switches, lines, strict=True)}

    # ------------------------------------------------------------------ agents
    def start_agents(self, listeners: Mapping[str, Sequence[Listener]]) -> None:
        """One agent in every namespace that holds an endpoint, with its listeners."""
        names = sorted({e.namespace for e in self.plan.endpoints})
        for name in names:
            listen = [f"--listen={ln.proto}:{ln.address}:{ln.port}"
                      for ln in listeners.get(name, [])]
            err = (self.workdir / f"agent-{name}.stderr").open("wb")
            self._files.append(err)
            try:
                proc = subprocess.Popen(
                    self._exec(name, sys.executable, "-m", "nornir_tasks.lab.agent", *listen),
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=self.env)
            except OSError as exc:
                raise LabEnvironmentError(f"cannot start the agent in {name}: {exc}") from None
            self.agents[name] = Agent(name, proc)
        deadline = time.monotonic() + START_TIMEOUT
        for agent in self.agents.values():
            ready = agent.receive(deadline)
            if not ready.get("ready"):
                raise LabEnvironmentError(f"agent in {agent.namespace}: {ready.get('error')}")

    def ask(self, requests: Mapping[str, dict[str, Any]],
            timeout: float) -> dict[str, dict[str, Any]]:
        """One request to each named agent, all sent before any answer is read (so every
        namespace works at the same time); the answers by namespace."""
        for name, req in requests.items():
            self.agents[name].send(req)
        deadline = time.monotonic() + timeout + 30
        return {name: self.agents[name].receive(deadline) for name in requests}

    def ask_all(self, req: dict[str, Any], timeout: float = 10.0) -> dict[str, dict[str, Any]]:
        return self.ask({name: req for name in self.agents}, timeout)

    def poll(self) -> None:
        """Every namespace reaches its gateway before the first probe (ARP, MAC learning,
        OVS flow set-up), so no probe pays for the network's first packet."""
        batches: dict[str, list[dict[str, Any]]] = {}
        targets: dict[int, str] = {}
        pid = 60000  # ids apart from the probes' (they also seed the ICMP identifier)
        for h in self.plan.hosts:
            pid += 1
            batches.setdefault(h.name, []).append({
                "id": pid, "proto": "icmp", "src": str(h.address.ip), "dst": str(h.gateway),
                "port": None, "timeout": POLL_TIMEOUT})
            targets[pid] = f"{h.name} -> gateway {h.gateway}"
        for d in self.plan.direct:
            pid += 1
            batches.setdefault(d.name, []).append({
                "id": pid, "proto": "icmp", "src": str(d.address.ip),
                "dst": str(d.core_address.ip), "port": None, "timeout": POLL_TIMEOUT})
            targets[pid] = f"{d.name} -> {d.behind} {d.core_address.ip}"
        answers = self.ask({n: {"probes": b} for n, b in batches.items()}, POLL_TIMEOUT)
        dead = [targets[int(r["id"])] for a in answers.values() for r in a["results"]
                if not r["reached"]]
        if dead:
            raise LabEnvironmentError(
                f"no answer from the gateway: {', '.join(sorted(dead))} (the switches do "
                f"not forward; see {self.workdir}/ovs-vswitchd.log)")

    # ------------------------------------------------------------------ daemons
    def spawn_in(self, logical: str, label: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        """A process of this run inside one of its namespaces (stopped at teardown)."""
        return self._spawn(label, self._exec(logical, *cmd))

    def run_in(self, logical: str, cmd: list[str], timeout: float) -> tuple[int, str]:
        """Run a command in a namespace to its end: (exit code, stdout and stderr)."""
        try:
            proc = subprocess.run(self._exec(logical, *cmd), capture_output=True, text=True,
                                  timeout=timeout, env=self.env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            out = (exc.stdout or b"") + (exc.stderr or b"")
            text = out.decode(errors="replace") if isinstance(out, bytes) else str(out)
            return 124, text + f"\ntimed out after {timeout:.0f} s"
        except OSError as exc:
            return 127, str(exc)
        return proc.returncode, proc.stdout + proc.stderr

    def counters(self) -> dict[str, int]:
        """Packets counted by the core's local hooks, by ``<hook> <chain>`` (the relay's
        packets through the zones' chains)."""
        try:
            out = _run(self._exec("core", "nft", "-j", "list", "ruleset"))
        except LabEnvironmentError:
            return {}
        counts: dict[str, int] = {}
        for item in json.loads(out).get("nftables", []):
            rule = item.get("rule")
            if not rule or rule.get("chain") not in ("input", "output"):
                continue
            packets = next((e["counter"]["packets"] for e in rule["expr"] if "counter" in e), 0)
            target = next((e["jump"]["target"] for e in rule["expr"] if "jump" in e), "?")
            counts[f"{rule['chain']} {target}"] = int(packets)
        return counts

    def flush_firewall(self) -> None:
        """Forget every connection the town-hall firewall has seen (no-op without
        one): a crafted reply must meet a firewall that has seen no connection."""
        if self.plan.firewall is None:
            return
        code, out = self.run_in(FIREWALL_NS, [sys.executable, "-m",
                                              "nornir_tasks.lab.conntrack"], 10)
        if code:
            raise LabEnvironmentError(f"cannot flush the firewall's connections: {out.strip()}")

    # ------------------------------------------------------------------ evidence
    def start_captures(self) -> None:
        """tcpdump on each site trunk: the frames must carry real 802.1Q tags."""
        for sw in self.plan.switches:
            out = self.workdir / f"trunk-{sw.trunk_site}.txt"
            err = self.workdir / f"trunk-{sw.trunk_site}.stderr"
            fo, fe = out.open("wb"), err.open("wb")
            self._files += [fo, fe]
            proc = subprocess.Popen(self._exec("sw", "tcpdump", "-e", "-nn", "-l", "-i",
                                               sw.trunk_site, "vlan"),
                                    stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
            self.captures[sw.trunk_site] = (proc, out, err)
        deadline = time.monotonic() + START_TIMEOUT
        for name, (proc, _, err) in self.captures.items():
            while b"listening on" not in err.read_bytes():  # poll until it captures
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise LabEnvironmentError(f"tcpdump on {name} did not start: "
                                              f"{err.read_text().strip()}")
                time.sleep(0.02)

    def stop_captures(self) -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {}
        for name, (proc, out, _) in self.captures.items():
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            tags = {int(v) for v in re.findall(r"\bvlan (\d+)", out.read_text())}
            seen[name] = sorted(tags)
        self.captures.clear()
        return seen

    def conntrack_entries(self, logical: str = "core") -> int | None:
        """Connections a namespace's kernel tracks: 0 in the core when its ruleset is
        truly stateless; in the firewall, the connections it has seen."""
        try:
            out = _run(self._exec(logical, "cat", "/proc/sys/net/netfilter/nf_conntrack_count"))
        except LabEnvironmentError:
            return None  # no conntrack in this kernel at all: stateless by construction
        return int(out.strip())

    # ------------------------------------------------------------------ teardown
    def teardown(self) -> list[str]:
        """Stop every process this run started and delete everything it created.

        Never raises; returns what could not be cleaned up.
        """
        problems: list[str] = []
        procs = [*(("agent " + a.namespace, a.proc) for a in self.agents.values()),
                 *((f"tcpdump {n}", c[0]) for n, c in self.captures.items()),
                 *reversed(self.daemons)]
        for agent in self.agents.values():
            with contextlib.suppress(OSError):
                if agent.proc.stdin is not None:
                    agent.proc.stdin.close()  # EOF: the agent leaves by itself
        for _label, proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.send_signal(signal.SIGTERM)
        for label, proc in procs:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                try:
                    proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    problems.append(f"{label} (pid {proc.pid}) did not stop")
            if proc.stdout is not None:
                proc.stdout.close()
        for name in reversed(self.namespaces):
            if not (NETNS_DIR / name).exists():
                continue
            # anything still running inside one of this run's namespaces is this run's
            pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True,
                                  text=True).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            done = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
            if done.returncode != 0:
                problems.append(f"ip netns del {name}: {done.stderr.strip()}")
        for f in self._files:
            with contextlib.suppress(OSError):
                f.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.workdir.exists():
            problems.append(f"could not remove {self.workdir}")
        return problems

    def keep(self) -> Path:
        """Leave everything up (``--keep``) and write the commands that tear it down."""
        for agent in self.agents.values():
            with contextlib.suppress(OSError):
                if agent.proc.stdin is not None:
                    agent.proc.stdin.close()
        for proc, _, _ in self.captures.values():
            proc.terminate()
        lines = ["#!/bin/sh", "# tears down a lab left up by 'fellesnett lab --keep'"]
        lines += [f"kill {proc.pid} 2>/dev/null  # {label}" for label, proc in self.daemons]
        lines += [f"ip netns pids {n} 2>/dev/null | xargs -r kill -9; ip netns del {n}"
                  for n in reversed(self.namespaces)]
        lines.append(f"rm -rf {self.workdir}")
        script = self.workdir / "teardown.sh"
        script.write_text("\n".join(lines) + "\n")
        script.chmod(0o755)
        return script
