"""A real FreeRADIUS 3 serves the generated policy: every group gets its zone's VLAN.

Debian's ``freeradius`` runs from a private copy of ``/etc/freeradius/3.0`` with the
handover bundle's ``radius/`` files installed exactly as ``radius/README.md`` says, bound
to 127.0.0.1 on free high ports. ``radclient``/``radtest`` then ask it the way a Catalyst
does (PAP stands in for the 802.1X users; MAB as User-Name = User-Password = the MAC with
``Service-Type = Call-Check``). Expected VLANs are read from the inventory YAML, not from
the code under test.

Without FreeRADIUS (or root, which the stock EAP key needs) the tests skip, except under
``CI=true``: CI installs ``freeradius freeradius-utils``, so there a missing server is a
failure, never a silent skip.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from nornir_tasks.intent.loader import load_intent
from nornir_tasks.radius import build_radius

INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
STOCK = Path("/etc/freeradius/3.0")
SERVER = shutil.which("freeradius") or shutil.which("radiusd")
RADCLIENT = shutil.which("radclient")
RADTEST = shutil.which("radtest")
#: The stock config's client for 127.0.0.1; it is what radclient talks to here.
LOCAL_SECRET = "testing123"
#: Stands in for the vault's RADIUS key when installing the generated clients file.
TEST_KEY = "fellesnett-test-key"
#: Short, so a hung server fails the test in seconds, not minutes.
TIMEOUT = 2.0
STARTUP_DEADLINE = 20.0

PASSWORD = "Korrekt-Hest-42"
#: name -> groups. Users authenticate with PASSWORD; MACs (12 hex digits, as a Catalyst
#: sends them) by MAB.
USERS: dict[str, list[str]] = {
    "eva.elev": ["elever"],
    "tor.laerer": ["laerere"],
    "anne.admin": ["administrasjon"],
    "per.begge": ["administrasjon", "ansatte"],  # two groups: the first listed wins
    "nils.ingen": [],
}
MACS: dict[str, list[str]] = {
    "001b54aa0001": ["ip-telefoner"],
    "0017c8bb0002": ["skrivere"],
}
UNKNOWN_MAC = "02deadbeef01"
TUNNEL = ("Tunnel-Type", "Tunnel-Medium-Type", "Tunnel-Private-Group-Id")


# --------------------------------------------------------------------------- expectations


def _global(section: str) -> Any:
    for path in sorted((INVENTORY / "group_vars" / "all").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if section in data:
            return data[section]
    raise KeyError(section)


def _vlan(zone: str) -> str:
    return str(_global("zones")[zone]["vlan"])


def expected_reply(groups: list[str], method: str) -> dict[str, list[str]]:
    """What the switch must receive, from the YAML: first listed group of the method."""
    listed = [g for g in _global("authorization")["groups"] if g["method"] == method]
    for g in listed:
        if g["group"] in groups:
            reply = _tunnel(_vlan(g["zone"]))
            if g.get("voice"):
                reply["Cisco-AVPair"] = ["device-traffic-class=voice"]
            return reply
    return _tunnel(_vlan(_global("zone_policy")["restricted_zone"]))


def _tunnel(vlan: str) -> dict[str, list[str]]:
    return {"Tunnel-Type": ["VLAN"], "Tunnel-Medium-Type": ["IEEE-802"],
            "Tunnel-Private-Group-Id": [vlan]}


# --------------------------------------------------------------------------- the server


def _unavailable(reason: str) -> None:
    """Skip with a reason, or fail under CI, which is meant to have FreeRADIUS."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def _free_udp_ports(n: int) -> list[int]:
    """Ports the kernel has just handed out, so no clash with a system FreeRADIUS."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                 for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def _replace_once(text: str, pattern: str, repl: str, what: str) -> str:
    """re.sub that insists on exactly one hit: a changed stock file fails loudly."""
    new, n = re.subn(pattern, repl, text, count=1, flags=re.MULTILINE)
    assert n == 1, f"stock FreeRADIUS config changed: {what} not found"
    return new


def _insert(text: str, section: str, anchor: str, line: str, after: bool) -> str:
    """Insert ``line`` next to the first ``anchor`` line inside top-level ``section``."""
    start = text.index(f"\n{section} {{\n")
    at = text.index(f"\n{anchor}\n", start) + (len(anchor) + 1 if after else 0)
    return text[:at] + f"\n\t{line}" + text[at:]


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


@dataclass(frozen=True)
class Radius:
    raddb: Path
    auth_port: int
    log: Path

    def log_tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-30:])


def install(raddb: Path, bundle: dict[str, str]) -> None:
    """Install the bundle into a copied raddb, step by step as radius/README.md says."""
    src = {path.removeprefix("radius/freeradius/"): text for path, text in bundle.items()
           if path.startswith("radius/freeradius/")}
    # 1. dictionary
    (raddb / "dictionary.fellesnett").write_text(src["dictionary.fellesnett"])
    with (raddb / "dictionary").open("a") as f:
        f.write("\n$INCLUDE dictionary.fellesnett\n")
    # 2. policy
    (raddb / "policy.d" / "fellesnett").write_text(src["policy.d/fellesnett"])
    # 3. default server: MAB accept after files, VLAN in post-auth before the REJECT part
    default = raddb / "sites-enabled" / "default"
    text = default.read_text()
    text = _insert(text, "authorize", "\tfiles", "fellesnett_mab", after=True)
    text = _insert(text, "post-auth", "\tPost-Auth-Type REJECT {", "fellesnett_authorization",
                   after=False)
    default.write_text(text)
    # 4. inner tunnel: the policy first in post-auth, and the copy to the outer reply on
    inner = raddb / "sites-enabled" / "inner-tunnel"
    text = inner.read_text()
    start = text.index("\npost-auth {\n")
    text = (text[:start] + "\npost-auth {\n\tfellesnett_authorization"
            + text[start + len("\npost-auth {"):])
    at = text.index("\tif (0) {", start)
    inner.write_text(text[:at] + "\tif (1) {" + text[at + len("\tif (0) {"):])
    # 5. clients, with the placeholder replaced as the installer would from the vault
    clients = re.sub(r"<<secret:[a-z0-9_]+>>", TEST_KEY, src["clients.fellesnett.conf"])
    (raddb / "clients.fellesnett.conf").write_text(clients)
    with (raddb / "clients.conf").open("a") as f:
        f.write("\n$INCLUDE clients.fellesnett.conf\n")
    # 6. group membership in the users file (the directory's job in production)
    lines = [f'{name}\tCleartext-Password := "{PASSWORD}"'
             + "".join(f', Fellesnett-Group += "{g}"' for g in groups)
             for name, groups in USERS.items()]
    lines += [f"{mac}\t" + ", ".join(f'Fellesnett-Group += "{g}"' for g in groups)
              for mac, groups in MACS.items()]
    users = raddb / "mods-config" / "files" / "authorize"
    users.write_text("\n".join(lines) + "\n\n" + users.read_text())


def run_here(raddb: Path, work: Path, ports: list[int]) -> None:
    """Make the copy self-contained: its own dirs, loopback only, our ports, no setuid."""
    conf = raddb / "radiusd.conf"
    text = conf.read_text()
    for key, value in (("raddbdir", raddb), ("logdir", work / "log"), ("run_dir", work / "run")):
        (work / "log").mkdir(exist_ok=True)
        (work / "run").mkdir(exist_ok=True)
        text = _replace_once(text, rf"^{key} = .*$", f"{key} = {value}", key)
    # Already unprivileged enough for a test; freerad could not read the tmp dir.
    text = _replace_once(text, r"^(\s*)user = freerad$", r"\1#user = freerad", "user")
    text = _replace_once(text, r"^(\s*)group = freerad$", r"\1#group = freerad", "group")
    conf.write_text(text)
    default = raddb / "sites-enabled" / "default"
    text = _without_sections(default.read_text(), "listen")
    listen = "".join(f"listen {{\n\ttype = {kind}\n\tipaddr = 127.0.0.1\n\tport = {port}\n}}\n"
                     for kind, port in (("auth", ports[0]), ("acct", ports[1])))
    default.write_text(_replace_once(text, r"^server default \{\n", "server default {\n"
                                     + listen, "server default"))
    inner = raddb / "sites-enabled" / "inner-tunnel"
    inner.write_text(_replace_once(inner.read_text(), r"^(\s*)port = 18120$",
                                   rf"\g<1>port = {ports[2]}", "inner-tunnel port"))


def radclient(server: Radius, attrs: dict[str, str], code: str = "auth",
              timeout: float = TIMEOUT) -> tuple[str, dict[str, list[str]]]:
    """Send one request; the reply's packet type and attributes (tags dropped)."""
    request = "\n".join(f'{k} = "{v}"' if not v.startswith("0x") else f"{k} = {v}"
                        for k, v in attrs.items())
    assert RADCLIENT
    proc = subprocess.run(
        [RADCLIENT, "-x", "-t", str(timeout), "-r", "1", "-d", str(server.raddb),
         f"127.0.0.1:{server.auth_port}", code, LOCAL_SECRET],
        input=request, capture_output=True, text=True, timeout=timeout * 3 + 1)
    return parse_reply(proc.stdout + proc.stderr)


def parse_reply(output: str) -> tuple[str, dict[str, list[str]]]:
    """``Received Access-Accept ...`` and its tab-indented attributes, from radclient -x."""
    kind, reply = "no reply", dict[str, list[str]]()
    lines = output.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^Received (\S+) Id", line)
        if not m:
            continue
        kind, reply = m.group(1), {}
        for attr in lines[i + 1:]:
            a = re.match(r'^\t([A-Za-z0-9-]+)(?::\d+)? = "?(.*?)"?$', attr)
            if not a:
                break
            reply.setdefault(a.group(1), []).append(a.group(2))
    return kind, reply


def _wait_ready(server: Radius, proc: subprocess.Popen[bytes]) -> None:
    """Poll with Status-Server until the server answers (it is up when it replies)."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"freeradius exited with {proc.returncode}:\n{server.log_tail()}")
        kind, _ = radclient(server, {"Message-Authenticator": "0x00"}, code="status",
                            timeout=0.5)
        if kind != "no reply":
            return
        time.sleep(0.1)
    pytest.fail(f"freeradius did not answer within {STARTUP_DEADLINE}s:\n{server.log_tail()}")


@pytest.fixture(scope="module")
def radius(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Radius]:
    if SERVER is None or RADCLIENT is None or RADTEST is None:
        _unavailable("FreeRADIUS is not installed "
                     "(apt-get install -y freeradius freeradius-utils)")
    if not STOCK.is_dir():
        _unavailable(f"no stock FreeRADIUS config at {STOCK}")
    if os.geteuid() != 0:
        _unavailable("FreeRADIUS's stock EAP module needs root to read its TLS key")
    assert SERVER
    work = tmp_path_factory.mktemp("freeradius")
    # Registered before anything can fail, so the copy goes even if startup breaks.
    request.addfinalizer(lambda: shutil.rmtree(work, ignore_errors=True))
    raddb = work / "raddb"
    shutil.copytree(STOCK, raddb, symlinks=True)
    install(raddb, build_radius(load_intent(INVENTORY)))
    ports = _free_udp_ports(3)
    run_here(raddb, work, ports)
    server = Radius(raddb=raddb, auth_port=ports[0], log=work / "radius.log")
    # -f: foreground (we own the process), -l: log to a file rather than flood stdout.
    proc = subprocess.Popen([SERVER, "-f", "-d", str(raddb), "-l", str(server.log)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    request.addfinalizer(stop)
    _wait_ready(server, proc)
    yield server


# --------------------------------------------------------------------------- the tests


def pap(name: str, password: str = PASSWORD) -> dict[str, str]:
    """An 802.1X-like request as far as authorisation is concerned (PAP stands in for EAP)."""
    return {"User-Name": name, "User-Password": password, "Service-Type": "Framed-User",
            "NAS-Port-Type": "Ethernet", "NAS-IP-Address": "127.0.0.1",
            "Message-Authenticator": "0x00"}


def mab(mac: str) -> dict[str, str]:
    """What a Catalyst sends for MAB: the MAC as user name and password, Call-Check."""
    dashed = "-".join(mac[i:i + 2] for i in range(0, 12, 2)).upper()
    return {"User-Name": mac, "User-Password": mac, "Calling-Station-Id": dashed,
            "Service-Type": "Call-Check", "NAS-Port-Type": "Ethernet",
            "NAS-IP-Address": "127.0.0.1", "Message-Authenticator": "0x00"}


@pytest.mark.parametrize("name", sorted(USERS))
def test_user_gets_the_vlan_of_their_group_zone(radius: Radius, name: str) -> None:
    kind, reply = radclient(radius, pap(name))
    assert kind == "Access-Accept", radius.log_tail()
    assert reply == expected_reply(USERS[name], "dot1x")


@pytest.mark.parametrize("mac", sorted(MACS))
def test_device_gets_the_vlan_of_its_group_zone(radius: Radius, mac: str) -> None:
    kind, reply = radclient(radius, mab(mac))
    assert kind == "Access-Accept", radius.log_tail()
    assert reply == expected_reply(MACS[mac], "mab")


def test_phone_is_put_in_the_voice_domain(radius: Radius) -> None:
    phone = next(m for m, groups in MACS.items() if "ip-telefoner" in groups)
    _, reply = radclient(radius, mab(phone))
    assert reply["Cisco-AVPair"] == ["device-traffic-class=voice"]
    assert reply["Tunnel-Private-Group-Id"] == [_vlan("voice")]


def test_unknown_mac_lands_in_the_restricted_zone(radius: Radius) -> None:
    kind, reply = radclient(radius, mab(UNKNOWN_MAC))
    assert kind == "Access-Accept", radius.log_tail()
    assert reply == _tunnel(_vlan(_global("zone_policy")["restricted_zone"]))


def test_user_in_no_group_lands_in_the_restricted_zone(radius: Radius) -> None:
    _, reply = radclient(radius, pap("nils.ingen"))
    assert reply == _tunnel(_vlan(_global("zone_policy")["restricted_zone"]))


@pytest.mark.parametrize("request_attrs", [pap("eva.elev", "feil-passord"),
                                           pap("ukjent.bruker")],
                         ids=["wrong-password", "unknown-user"])
def test_failed_802_1x_login_is_rejected(radius: Radius, request_attrs: dict[str, str]
                                         ) -> None:
    kind, reply = radclient(radius, request_attrs)
    assert kind == "Access-Reject"
    assert not set(TUNNEL) & set(reply)


def test_a_mac_registered_as_device_is_no_802_1x_user(radius: Radius) -> None:
    """Without Call-Check a MAC is an ordinary user name with no password: rejected."""
    phone = next(iter(MACS))
    kind, _ = radclient(radius, pap(phone, phone))
    assert kind == "Access-Reject"


def test_radtest_shows_the_vlan(radius: Radius) -> None:
    """The operator's check from radius/README.md, verbatim (radtest sends no Service-Type)."""
    assert RADTEST
    proc = subprocess.run(
        [RADTEST, "-d", str(radius.raddb), "tor.laerer", PASSWORD,
         f"127.0.0.1:{radius.auth_port}", "0", LOCAL_SECRET],
        capture_output=True, text=True, timeout=TIMEOUT * 3)
    kind, reply = parse_reply(proc.stdout)
    assert kind == "Access-Accept", proc.stdout + proc.stderr
    assert reply == expected_reply(USERS["tor.laerer"], "dot1x")
