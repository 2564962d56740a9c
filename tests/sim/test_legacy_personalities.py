"""Legacy personalities over real SSH: IOS classic (netmiko cisco_ios, NAPALM ios) and
ArubaOS-Switch (netmiko hp_procurve), seeded from tests/fixtures/legacy/world.yml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from netmiko import ConnectHandler

from nornir_tasks.legacy import read_config
from nornir_tasks.sim.faults import clear_faults, set_fault
from nornir_tasks.sim.legacy_world import load_world
from nornir_tasks.sim.manager import SimState, start, stop

WORLD = Path(__file__).parents[1] / "fixtures" / "legacy" / "world.yml"
SKOLE, BHG = "ALTA-SKOLE-SW01", "BOSSEKOP-BHG-SW01"
HELSE, TORG = "HELSESTASJON-SW01", "SERVICETORGET-SW01"


def world_mac(host: str, port: str) -> str:
    """The (Cisco dotted) MAC the world file puts on ``port`` of ``host``."""
    return next(str(m["mac"]) for m in load_world(WORLD)[host].world["macs"]
                if m["port"] == port)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimState]:
    state_dir = tmp_path_factory.mktemp("legacy-sim")
    state = start(load_world(WORLD), state_dir, processes=2)
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


def connect(sim: SimState, host: str) -> Any:
    kind = "hp_procurve" if sim.hosts[host]["flavour"] == "aruba-os-switch" else "cisco_ios"
    return ConnectHandler(device_type=kind, host="127.0.0.1", port=sim.port(host),
                          username=sim.username, password=sim.password)


def rows(conn: Any, command: str) -> list[dict[str, Any]]:
    out = conn.send_command(command, use_textfsm=True)
    assert isinstance(out, list), f"{command!r} did not parse:\n{out}"
    return out


# -- what the survey reads back ------------------------------------------------------------
# (first: the tests below change the configs)
@pytest.mark.parametrize("host", [SKOLE, BHG, HELSE, TORG])
def test_sim_running_config_reads_as_seed(sim: SimState, host: str) -> None:
    seed = load_world(WORLD)[host]
    conn = connect(sim, host)
    try:
        text = conn.send_command("show running-config")
    finally:
        conn.disconnect()
    if seed.flavour == "aruba-os-switch":
        text = text[text.index(";"):]  # the survey drops the "Running configuration:" line
    got, want = read_config(text, "sim"), read_config(seed.config, "seed")
    assert got.vlans == want.vlans
    assert got.ports == want.ports
    assert got.hostname == want.hostname


# -- IOS classic --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def skole(sim: SimState) -> Iterator[Any]:
    conn = connect(sim, SKOLE)
    yield conn
    conn.disconnect()


def test_ios_version_and_inventory(skole: Any) -> None:
    ver = rows(skole, "show version")[0]
    assert ver["version"] == "15.2(7)E4"
    assert ver["software_image"] == "C2960X-UNIVERSALK9-M"
    assert ver["hardware"] == ["WS-C2960X-48FPD-L"] and ver["serial"] == ["FOC1923X1AB"]
    assert ver["config_register"] == "0xF" and ver["hostname"] == SKOLE
    assert rows(skole, "show inventory")[0]["sn"] == "FOC1923X1AB"


def test_ios_interfaces_status_follows_world(skole: Any) -> None:
    status = {r["port"]: r for r in rows(skole, "show interfaces status")}
    assert status["Gi1/0/1"]["status"] == "connected"  # a PC's MAC
    assert status["Gi1/0/41"]["status"] == "connected"  # an AP by CDP/LLDP
    assert status["Gi1/0/22"]["status"] == "notconnect"  # nothing plugged in
    assert status["Gi1/0/45"]["status"] == "disabled"  # shutdown
    assert status["Gi1/0/41"]["vlan_id"] == "60" and status["Po1"]["vlan_id"] == "trunk"
    assert status["Gi1/0/25"]["name"] == "Laererarbeidsplass"[:18]
    brief = {r["interface"]: r for r in rows(skole, "show ip interface brief")}
    assert brief["Vlan99"]["ip_address"] == "10.200.99.11"
    assert brief["GigabitEthernet1/0/45"]["status"] == "administratively down"
    full = {r["interface"]: r for r in rows(skole, "show interfaces")}
    assert full["GigabitEthernet1/0/41"]["description"] == "AP 1"
    assert full["GigabitEthernet1/0/22"]["link_status"] == "down"


def test_ios_neighbours_macs_arp_vlans(skole: Any) -> None:
    cdp = {r["local_interface"]: r for r in rows(skole, "show cdp neighbors detail")}
    assert cdp["GigabitEthernet1/0/41"]["neighbor_name"] == "ALTA-SKOLE-AP01"
    assert cdp["GigabitEthernet1/0/41"]["platform"] == "cisco AIR-AP2802I-E-K9"
    assert cdp["GigabitEthernet1/0/44"]["platform"] == "cisco C9120AXI-E"
    assert cdp["GigabitEthernet1/0/25"]["platform"] == "Cisco IP Phone 8841"
    assert cdp["GigabitEthernet1/0/49"]["neighbor_name"] == "ALTA-DIST-01"
    lldp = {r["local_interface"]: r for r in rows(skole, "show lldp neighbors detail")}
    assert lldp["Gi1/0/42"]["neighbor_name"] == "ALTA-SKOLE-AP02"
    assert lldp["Gi1/0/42"]["mgmt_address"] == "10.200.60.22"
    brief = {r["local_interface"]: r for r in rows(skole, "show lldp neighbors")}
    assert brief["Gi1/0/50"]["neighbor_interface"] == "GigabitEthernet2/0/13"
    macs = rows(skole, "show mac address-table")
    assert {"vlan_id": "10", "destination_address": world_mac(SKOLE, "Gi1/0/1"),
            "destination_port": ["Gi1/0/1"], "type": "DYNAMIC"} in macs
    dynamic = rows(skole, "show mac address-table dynamic")
    assert all(r["type"] == "DYNAMIC" for r in dynamic) and len(dynamic) == 46
    arp = {r["ip_address"]: r for r in rows(skole, "show ip arp")}
    assert arp["10.200.99.1"]["mac_address"] == "0000.0c9f.f063"
    assert {r["address"] for r in rows(skole, "show arp")} >= {"10.200.99.1", "10.200.99.11"}
    vlans = {r["vlan_id"]: r for r in rows(skole, "show vlan brief")}
    assert vlans["60"]["vlan_name"] == "AP-MGMT"
    assert vlans["60"]["interfaces"] == ["Gi1/0/41", "Gi1/0/42", "Gi1/0/43", "Gi1/0/44"]
    assert {r["vlan_id"] for r in rows(skole, "show vlan")} == set(vlans)


def test_ios_vtp_client_names_come_from_world(sim: SimState) -> None:
    conn = connect(sim, BHG)
    try:
        vlans = {r["vlan_id"]: r["vlan_name"] for r in rows(conn, "show vlan brief")}
        assert vlans["10"] == "BARNEHAGE" and vlans["99"] == "SWITCH-MGMT"
        ver = rows(conn, "show version")[0]
        assert ver["version"] == "12.2(55)SE12" and ver["software_image"] == "C2960-LANBASEK9-M"
        # 12.2 still answers the hyphenated form
        assert rows(conn, "show mac-address-table")
    finally:
        conn.disconnect()


def test_napalm_ios_getters(sim: SimState) -> None:
    from napalm import get_network_driver

    drv = get_network_driver("ios")(
        "127.0.0.1", sim.username, sim.password,
        optional_args={"port": sim.port(SKOLE), "global_delay_factor": 0.2})
    drv.open()
    try:
        facts = drv.get_facts()
        assert (facts["model"], facts["serial_number"], facts["hostname"]) == (
            "WS-C2960X-48FPD-L", "FOC1923X1AB", SKOLE)
        assert "Version 15.2(7)E4" in facts["os_version"]
        assert facts["fqdn"] == f"{SKOLE}.skole.alta.local"
        assert "GigabitEthernet1/0/48" in facts["interface_list"]
        ifs = drv.get_interfaces()
        assert ifs["GigabitEthernet1/0/41"]["is_up"] and ifs["GigabitEthernet1/0/41"][
            "description"] == "AP 1"
        assert not ifs["GigabitEthernet1/0/45"]["is_enabled"]
        assert not ifs["GigabitEthernet1/0/22"]["is_up"]
        lldp = drv.get_lldp_neighbors()
        assert lldp["GigabitEthernet1/0/43"] == [{"port": "GigabitEthernet0",
                                                  "hostname": "ALTA-SKOLE-AP03"}]
        detail = drv.get_lldp_neighbors_detail()
        assert detail["GigabitEthernet1/0/49"][0]["remote_system_capab"] == ["bridge", "router"]
        macs = drv.get_mac_address_table()
        pc = world_mac(SKOLE, "Gi1/0/1").replace(".", "").upper()
        # NAPALM keeps the interface as printed unless optional_args canonical_int is set
        assert {"mac": ":".join(pc[i:i + 2] for i in range(0, 12, 2)), "interface": "Gi1/0/1",
                "vlan": 10, "static": False, "active": True, "moves": -1,
                "last_move": -1.0} in macs
        arp = drv.get_arp_table()
        assert {"interface": "Vlan99", "mac": "00:00:0C:9F:F0:63", "ip": "10.200.99.1",
                "age": 12.0} in arp
        vlans = drv.get_vlans()
        assert vlans["50"]["name"] == "SKRIVERE"
        assert "GigabitEthernet1/0/37" in vlans["50"]["interfaces"]
        cfg = drv.get_config()
        assert cfg["running"].startswith("!") and "hostname ALTA-SKOLE-SW01" in cfg["running"]
        assert cfg["startup"] == cfg["running"]
    finally:
        drv.close()


def test_ios_config_change_seen_by_second_session_and_saved(sim: SimState) -> None:
    conn = connect(sim, BHG)
    try:
        conn.send_config_set(["interface FastEthernet0/20", "switchport access vlan 60",
                              "switchport mode access"])
        other = connect(sim, BHG)
        try:
            run = other.send_command("show running-config")
            assert "interface FastEthernet0/20\n switchport access vlan 60\n" in run
            assert "switchport access vlan 60" not in other.send_command(
                "show startup-config").split("interface FastEthernet0/20")[1].split("!")[0]
            other.send_command("write memory", expect_string=r"#")
            start_ = other.send_command("show startup-config")
            assert start_ == other.send_command("show running-config")
        finally:
            other.disconnect()
    finally:
        conn.disconnect()


def test_ios_reject_line_fault(sim: SimState) -> None:
    set_fault(sim.state_dir, SKOLE, reject_line="^vlan 777$")
    conn = connect(sim, SKOLE)
    try:
        out = conn.send_config_set(["vlan 777", "vlan 778"])
        assert "% Invalid input" in out
        run = conn.send_command("show running-config")
        assert "vlan 778" in run and "vlan 777" not in run
    finally:
        conn.disconnect()


# -- ArubaOS-Switch ---------------------------------------------------------------------
def test_procurve_show_commands(sim: SimState) -> None:
    conn = connect(sim, HELSE)
    try:
        system = rows(conn, "show system")[0]
        assert (system["name"], system["software_version"], system["serial"]) == (
            HELSE, "WB.16.10.0012", "SG74JQN0C1")
        assert system["location"] == "Kjeller"
        version = conn.send_command("show version")
        assert "WB.16.10.0012" in version
        vlans = {r["vlan_id"]: r for r in rows(conn, "show vlans")}
        assert vlans["140"]["vlan_name"] == "HELSE-MEDISINSK" and vlans["120"]["voice"] == "Yes"
        lldp = {r["local_interface"]: r for r in rows(conn, "show lldp info remote-device")}
        assert lldp["25"]["neighbor_name"] == "ALTA-DIST-01"
        assert lldp["1"]["neighbor_name"] == "MITEL-HELSE-01"
        detail = {r["local_interface"]: r for r in rows(conn, "show lldp info remote-device 1-2")}
        assert detail["2"]["neighbor_description"].startswith("Mitel 6867i")
        assert detail["2"]["capabilities"] == "bridge, telephone"
        macs = rows(conn, "show mac-address")
        assert {"mac_address": "00000c-9ff0c7", "port": "Trk1", "vlan_id": "199"} in macs
        assert any(r["port"] == "17" and r["vlan_id"] == "140" for r in macs)
        ports = {r["port"]: r for r in rows(conn, "show interfaces brief")}
        assert ports["1"]["status"] == "Up" and ports["22"]["status"] == "Down"
        assert ports["25-Trk1"]["status"] == "Up" and ports["26-Trk1"]["enabled"] == "No"
        arp = rows(conn, "show arp")
        assert arp == [{"ip_address": "10.100.99.1", "mac_address": "00000c-9ff0c7",
                        "type": "dynamic", "port": "Trk1"}]
    finally:
        conn.disconnect()


def test_procurve_untagged_moves_port_and_write_memory(sim: SimState) -> None:
    conn = connect(sim, TORG)
    try:
        out = conn.send_config_set(["vlan 20", 'name "GJEST"', "untagged 5"])
        assert "Invalid" not in out
        other = connect(sim, TORG)
        try:
            run = other.send_command("show running-config")
            assert 'vlan 20\n   name "GJEST"\n   untagged 5\n   no ip address\n   exit' in run
            assert "   untagged 1-4,6-20\n" in run  # out of VLAN 110
            assert run != other.send_command("show config").replace("Startup", "Running")
            conn.send_config_set(["vlan 20", "no untagged 5"])
            run = other.send_command("show running-config")
            assert "   no untagged 1-4,6-50\n   untagged 5\n" in run  # back in VLAN 1
            other.send_command("write memory")
            assert other.send_command("show config").replace("Startup", "Running") == run
        finally:
            other.disconnect()
    finally:
        conn.disconnect()


def test_procurve_reject_line_fault(sim: SimState) -> None:
    set_fault(sim.state_dir, HELSE, reject_line="^vlan 777$")
    conn = connect(sim, HELSE)
    try:
        out = conn.send_config_set(["vlan 777", "vlan 778"])
        assert "Invalid input: vlan" in out
        run = conn.send_command("show running-config")
        assert "vlan 778" in run and "vlan 777" not in run
    finally:
        conn.disconnect()
