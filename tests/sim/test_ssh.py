"""Simulators over real SSH: netmiko, napalm, faults, manager and CLI lifecycle."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from netmiko import ConnectHandler

from nornir_tasks.cli import main
from nornir_tasks.errors import UsageError
from nornir_tasks.sim.faults import clear_faults, read_faults, set_fault
from nornir_tasks.sim.manager import SimState, load_state, start, status, stop
from nornir_tasks.sim.seed import seed_config
from nornir_tasks.sim.shell import SimDevice

GOLDEN = Path(__file__).parents[1] / "golden"
ACC, WLC = "alta-skole-acc01", "radhuset-wlc01"


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimState]:
    state_dir = tmp_path_factory.mktemp("sim")
    devices = {
        ACC: SimDevice(ACC, seed_config(ACC, (GOLDEN / f"{ACC}.cfg").read_text())),
        WLC: SimDevice(WLC, seed_config(WLC, (GOLDEN / f"{WLC}.cfg").read_text()),
                       flavour="c9800", model="C9800-40-K9"),
        "spare": SimDevice("spare", "hostname spare\n"),
    }
    state = start(devices, state_dir, processes=2)
    try:
        yield state
    finally:
        stop(state_dir)
        for pid in state.pids:
            assert not os.path.exists(f"/proc/{pid}") or _zombie(pid)


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split(")")[-1].split()[0] == "Z"


@pytest.fixture(autouse=True)
def _no_faults(sim: SimState) -> Iterator[None]:
    clear_faults(sim.state_dir)
    yield
    clear_faults(sim.state_dir)


def connect(sim: SimState, host: str, **kw: object) -> ConnectHandler:
    return ConnectHandler(device_type="cisco_xe", host="127.0.0.1", port=sim.port(host),
                          username=sim.username, password=sim.password, **kw)


def test_state_file(sim: SimState) -> None:
    path = sim.state_dir / "state.json"
    assert path.stat().st_mode & 0o777 == 0o600
    data = json.loads(path.read_text())
    assert set(data) == {"username", "password", "hosts", "pids", "started"}
    assert data["hosts"][WLC] == {"host": "127.0.0.1", "port": sim.port(WLC),
                                  "flavour": "c9800"}
    assert len(data["pids"]) == 2
    assert load_state(sim.state_dir).password == sim.password
    assert status(sim.state_dir)["running"] is True


def test_netmiko_config_persists_across_sessions(sim: SimState) -> None:
    conn = connect(sim, ACC)
    assert "Cisco IOS XE Software, Version 17.09.04a" in conn.send_command("show version")
    out = conn.send_config_set(["interface GigabitEthernet1/0/7", " description sim-test",
                                "vlan 777", " name SIMTEST", "hostname alta-skole-acc01"])
    assert "Invalid" not in out
    assert "[OK]" in conn.save_config()
    conn.disconnect()
    conn = connect(sim, ACC)
    assert conn.send_command("show running-config | section ^vlan 777") == \
        "vlan 777\n name SIMTEST"
    assert "description sim-test" in conn.send_command(
        "show running-config | section GigabitEthernet1/0/7$")
    assert "vlan 777" in conn.send_command("show startup-config")
    assert "% Invalid input detected" in conn.send_command("show bogus")
    conn.disconnect()
    assert "vlan 777" in (sim.state_dir / "running" / f"{ACC}.cfg").read_text()


def test_napalm_getters(sim: SimState) -> None:
    from napalm import get_network_driver

    driver = get_network_driver("ios")("127.0.0.1", sim.username, sim.password,
                                       optional_args={"port": sim.port(WLC)})
    driver.open()
    try:
        facts = driver.get_facts()
        running = driver.get_config(retrieve="running")["running"]
    finally:
        driver.close()
    assert facts["hostname"] == WLC
    assert facts["model"] == "C9800-40-K9"
    assert facts["fqdn"] == f"{WLC}.fellesnett.alta.kommune.no"
    assert "Vlan100" in facts["interface_list"]
    assert "wlan gjest 2 Alta-Gjest" in running and "<<secret" not in running


def test_fault_reject_line(sim: SimState) -> None:
    set_fault(sim.state_dir, "spare", reject_line=r"^ntp server")
    conn = connect(sim, "spare")
    out = conn.send_config_set(["ntp server 10.1.1.1", "logging host 10.2.2.2"])
    assert "% Invalid input detected" in out
    run = conn.send_command("show running-config")
    conn.disconnect()
    assert "logging host 10.2.2.2" in run and "ntp server 10.1.1.1" not in run


def test_fault_refuse_login_once(sim: SimState) -> None:
    set_fault(sim.state_dir, "spare", refuse_login=True, times=1)
    with pytest.raises(Exception, match="(?i)auth"):
        connect(sim, "spare")
    assert read_faults(sim.state_dir) == {}  # disarmed itself
    connect(sim, "spare").disconnect()


def test_fault_down(sim: SimState) -> None:
    set_fault(sim.state_dir, "spare", down=True)
    with pytest.raises(Exception):  # noqa: B017 - netmiko wraps it in several types
        connect(sim, "spare", conn_timeout=3)


def test_fault_drop_leaves_half_configured_device(sim: SimState) -> None:
    set_fault(sim.state_dir, "spare", drop_after_lines=2, times=1)
    conn = connect(sim, "spare")
    with pytest.raises(Exception):  # noqa: B017 - the socket dies under netmiko
        conn.send_config_set(["vlan 801", "name A", "vlan 802", "name B"])
    conn = connect(sim, "spare")
    run = conn.send_command("show running-config")
    conn.disconnect()
    assert "vlan 801" in run and "vlan 802" not in run


def test_fault_hang(sim: SimState) -> None:
    set_fault(sim.state_dir, "spare", hang_after_lines=0)
    t0 = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 - netmiko times out finding the prompt
        connect(sim, "spare", conn_timeout=3, auth_timeout=3, banner_timeout=3,
                read_timeout_override=2)
    assert time.monotonic() - t0 < 30


def test_raw_ssh_exit_is_polite(sim: SimState) -> None:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", port=sim.port("spare"), username=sim.username,
                   password=sim.password, look_for_keys=False, allow_agent=False)
    chan = client.invoke_shell()
    chan.send(b"show clock\nexit\n")
    data = b""
    while not chan.exit_status_ready() or chan.recv_ready():
        data += chan.recv(4096)
        if not data:
            break
    client.close()
    assert b"spare#" in data


def test_start_refuses_when_running_and_stop_is_idempotent(tmp_path: Path) -> None:
    devices = {"a": SimDevice("a", "hostname a\n")}
    state = start(devices, tmp_path)
    try:
        with pytest.raises(UsageError, match="already running"):
            start(devices, tmp_path)
    finally:
        assert stop(tmp_path) == 1
    assert stop(tmp_path) == 0
    with pytest.raises(UsageError, match="fellesnett sim start"):
        load_state(tmp_path)
    # the workers are gone (zombies at most, until reaped); their ports may be reused by
    # anyone, so a refused connection would prove nothing on a busy machine
    for pid in state.pids:
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "\nState:\tZ" in status.read_text()


def test_cli_start_status_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = Path(__file__).parents[2] / "inventory"
    sd = str(tmp_path / "s")
    args = ["--sim-dir", sd]
    assert main(["sim", "start", "-i", str(inv), "--limit", "radhuset-acc01", *args]) == 0
    try:
        out = capsys.readouterr().out
        assert "started 1 simulated devices" in out
        assert main(["sim", "start", "-i", str(inv), "--limit", "radhuset-acc01", *args]) == 2
        assert "already running" in capsys.readouterr().err
        assert main(["sim", "status", "--json", *args]) == 0
        assert json.loads(capsys.readouterr().out)["devices"] == 1
    finally:
        assert main(["sim", "stop", *args]) == 0
    assert "stopped 1" in capsys.readouterr().out
    assert main(["sim", "status", *args]) == 0
    assert "no simulators running" in capsys.readouterr().out
