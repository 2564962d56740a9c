"""The real daemons and clients of the required flows: their config files and command
lines, how to tell that a daemon is ready, and how to judge what a client printed.

Everything is written into the run's temp dir; nothing of the machine's own
configuration is used or changed (FreeRADIUS runs from a copy of the stock config).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from nornir_tasks.intent.loader import Intent
from nornir_tasks.lab.required import Daemon, RequiredProbe
from nornir_tasks.radius import build_radius

FREERADIUS_STOCK = Path("/etc/freeradius/3.0")
SSH_OK = "fellesnett-lab-ssh-ok"
#: the daemons' and clients' programs, for the prerequisites check
TOOLS = ("dnsmasq", "udhcpc", "radtest", "radclient", "sshd", "ssh", "ssh-keygen")
APT = ("dnsmasq-base udhcpc openssh-server openssh-client freeradius freeradius-utils")
#: what a daemon's log says once it serves
READY = {"dhcp-server": "started, version", "dhcp-relay": "started, version",
         "dns": "started, version", "radius": "Ready to process requests",
         "sshd": "Server listening on"}


def freeradius() -> str | None:
    return shutil.which("freeradius") or shutil.which("radiusd")


def missing_tools() -> list[str]:
    out = [t for t in TOOLS if shutil.which(t) is None]
    if freeradius() is None:
        out.append("freeradius")
    if not FREERADIUS_STOCK.is_dir():
        out.append(f"{FREERADIUS_STOCK} (freeradius)")
    return out


@dataclass(frozen=True)
class Credentials:
    """Made up per run: the RADIUS client key and test user, the NOC's SSH key."""

    radius_key: str
    radius_user: str
    radius_password: str
    ssh_key: Path

    @staticmethod
    def new(workdir: Path) -> Credentials:
        return Credentials(secrets.token_hex(12), "fellesnett-lab",
                           secrets.token_hex(12), workdir / "noc_ed25519")


def log_path(workdir: Path, daemon: Daemon) -> Path:
    return workdir / f"daemon-{daemon.name}.log"


def keygen_commands(workdir: Path, creds: Credentials) -> list[list[str]]:
    """The sshd host key and the NOC's login key."""
    return [["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(p)]
            for p in (workdir / "ssh_host_ed25519", creds.ssh_key)]


def daemon_command(intent: Intent, daemon: Daemon, workdir: Path,
                   creds: Credentials) -> list[str]:
    """Write the daemon's files; the command that runs it in the foreground."""
    log = log_path(workdir, daemon)
    pid = workdir / f"daemon-{daemon.name}.pid"
    # dnsmasq: no config file, no /etc/hosts, no resolv.conf: only what is given here
    dnsmasq = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--user=root",
               f"--pid-file={pid}", f"--log-facility={log}"]
    if daemon.kind == "dhcp-server":
        # --no-ping: the server would ping an address before offering it, and the zones'
        # ACLs rightly drop that ping
        return [*dnsmasq, "--port=0", "--no-ping", "--log-dhcp",
                f"--dhcp-leasefile={workdir / 'dhcp.leases'}",
                *(f"--dhcp-range={r}" for r in daemon.params["ranges"])]
    if daemon.kind == "dhcp-relay":
        return [*dnsmasq, "--port=0", "--log-dhcp",
                *(f"--dhcp-relay={r}" for r in daemon.params["relays"])]
    if daemon.kind == "dns":
        return [*dnsmasq, "--no-resolv", "--no-hosts", "--bind-interfaces",
                f"--listen-address={daemon.address}",
                *(f"--host-record={r}" for r in daemon.params["records"])]
    if daemon.kind == "radius":
        raddb = _freeradius_config(intent, workdir / "raddb", workdir, daemon.address, creds)
        server = freeradius() or "freeradius"
        return [server, "-f", "-d", str(raddb), "-l", str(log)]
    if daemon.kind == "sshd":
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege-separation dir
        keys = workdir / "authorized_keys"
        keys.write_text(Path(f"{creds.ssh_key}.pub").read_text())
        config = workdir / f"{daemon.name}.conf"
        config.write_text("\n".join([
            f"ListenAddress {daemon.address}:22",
            f"HostKey {workdir / 'ssh_host_ed25519'}", f"PidFile {pid}",
            f"AuthorizedKeysFile {keys}", "PermitRootLogin prohibit-password",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
            # the keys live in the run's temp dir under /tmp: no home-directory checks
            "StrictModes no", "PrintMotd no", "UseDNS no", ""]))
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"  # sshd re-executes itself: absolute
        return [sshd, "-D", "-f", str(config), "-E", str(log)]
    raise ValueError(f"unknown daemon kind {daemon.kind!r}")


def client_command(probe: RequiredProbe, creds: Credentials) -> list[str]:
    """The real client of one required probe, run in ``probe.namespace``."""
    p = probe.params
    py = [sys.executable, "-m", "nornir_tasks.lab.clients"]
    if probe.kind == "dhcp":
        # -q: quit once bound; -n: give up after the tries; the script is a no-op, so the
        # host keeps its own address and only the lease is read
        return ["udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "4", "-T", "1",
                "-s", "/bin/true"]
    if probe.kind == "dns":
        return [*py, "dns", "--server", p["server"], "--source", p["source"],
                "--name", p["name"], "--expect", p["expect"], *(["--tcp"] if p["tcp"] else [])]
    if probe.kind == "capwap":
        return [*py, "udp-echo", "--server", p["server"], "--port", p["port"],
                "--source", p["source"]]
    if probe.kind == "radius":
        # the NAS address the request names is the device's own (the last argument)
        return ["radtest", "-t", "pap", creds.radius_user, creds.radius_password,
                p["server"], "0", creds.radius_key, "0", p["nas"]]
    if probe.kind == "ssh":
        opts = ["BatchMode=yes", "StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null",
                "ConnectTimeout=5", "ConnectionAttempts=2", "LogLevel=ERROR",
                "IdentitiesOnly=yes"]
        return ["ssh", "-F", "/dev/null", "-i", str(creds.ssh_key), "-b", p["source"],
                *(a for o in opts for a in ("-o", o)), f"root@{p['server']}", "echo", SSH_OK]
    raise ValueError(f"unknown probe kind {probe.kind!r}")


def judge(probe: RequiredProbe, code: int, output: str) -> tuple[bool, str]:
    """Did the exchange work, and what to show for it."""
    text = output.strip()
    if probe.kind == "dhcp":
        m = re.search(r"lease of (\S+) obtained", text)
        if m is None:
            return False, _last(text) or f"no lease (exit {code})"
        lease = ipaddress.IPv4Address(m.group(1))
        prefix = ipaddress.IPv4Network(probe.params["prefix"])
        if lease not in prefix:
            return False, f"lease {lease} is not in the site's prefix {prefix}"
        return True, f"lease {lease} in {prefix}"
    if probe.kind == "radius":
        m = re.search(r"Received (Access-\w+)", text)
        if m and m.group(1) == "Access-Accept":
            return True, "Access-Accept"
        return False, m.group(1) if m else _last(text) or f"no answer (exit {code})"
    if probe.kind == "ssh":
        if code == 0 and SSH_OK in text:
            return True, "logged in, command ran"
        return False, _last(text) or f"ssh exit {code}"
    return code == 0, _last(text) or f"exit {code}"


def _last(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


# --------------------------------------------------------------------------- FreeRADIUS


def _replace_once(text: str, pattern: str, repl: str, what: str) -> str:
    new, n = re.subn(pattern, repl, text, count=1, flags=re.MULTILINE)
    if n != 1:
        raise ValueError(f"stock FreeRADIUS config changed: {what} not found")
    return new


def _without_sections(text: str, name: str) -> str:
    """Drop every ``name { ... }`` section that opens at the start of a line."""
    out: list[str] = []
    depth = 0
    for line in text.splitlines(keepends=True):
        code = line.split("#", 1)[0]
        if depth == 0 and re.match(rf"^{name}\s*\{{", code):
            depth = code.count("{") - code.count("}")
            continue
        if depth:
            depth += code.count("{") - code.count("}")
            continue
        out.append(line)
    return "".join(out)


def _freeradius_config(intent: Intent, raddb: Path, workdir: Path, address: str,
                       creds: Credentials) -> Path:
    """A copy of the stock config that listens on the service address only, knows the
    generated client list (the management zone, with this run's key) and one user."""
    shutil.copytree(FREERADIUS_STOCK, raddb, symlinks=True)
    for sub in ("log", "run"):
        (workdir / f"radius-{sub}").mkdir(exist_ok=True)
    conf = raddb / "radiusd.conf"
    text = conf.read_text()
    for key, value in (("raddbdir", raddb), ("logdir", workdir / "radius-log"),
                       ("run_dir", workdir / "radius-run")):
        text = _replace_once(text, rf"^{key} = .*$", f"{key} = {value}", key)
    text = _replace_once(text, r"^(\s*)user = freerad$", r"\1#user = freerad", "user")
    text = _replace_once(text, r"^(\s*)group = freerad$", r"\1#group = freerad", "group")
    conf.write_text(text)
    default = raddb / "sites-enabled" / "default"
    listen = "".join(f"listen {{\n\ttype = {kind}\n\tipaddr = {address}\n\tport = {port}\n}}\n"
                     for kind, port in (("auth", 1812), ("acct", 1813)))
    default.write_text(_replace_once(_without_sections(default.read_text(), "listen"),
                                     r"^server default \{\n", "server default {\n" + listen,
                                     "server default"))
    bundle = build_radius(intent)
    clients = re.sub(r"<<secret:[a-z0-9_]+>>", creds.radius_key,
                     bundle["radius/freeradius/clients.fellesnett.conf"])
    (raddb / "clients.fellesnett.conf").write_text(clients)
    with (raddb / "clients.conf").open("a") as f:
        f.write("\n$INCLUDE clients.fellesnett.conf\n")
    users = raddb / "mods-config" / "files" / "authorize"
    users.write_text(f'{creds.radius_user}\tCleartext-Password := "{creds.radius_password}"\n\n'
                     + users.read_text())
    return raddb
