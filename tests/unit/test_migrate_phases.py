"""Phased migration of a legacy switch: the real alta-skole pair, applied offline.

The legacy 2960-X config (tests/fixtures/legacy) is migrated to the config fellesnett
renders for alta-skole-acc01 (same GigabitEthernet1/0/1-48 port names). Each phase is
applied with the simulator's :class:`ConfigEngine`, as a device would, and checked:
pre-stage touches no port and removes nothing, the end state has no remediation left
against the intended config, and the rollback from every boundary gives the legacy back.

The engine is taught the commands of both configs (a real IOS knows them); its gaps (not
the phases') are named:

* after a ``no`` of a default-on command it does not know (``no service pad``) it shows
  nothing, and it shows ``logging console`` where IOS shows nothing (the default);
* a routed port it has removed for ``default interface FastEthernet0`` comes back without
  the ``no ip address`` IOS shows on a defaulted routed port (hier_config's rollback rightly
  sends none).

Only the rollback from after clean-up meets these, and differs from legacy by exactly them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nornir_tasks.build import render_host
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.live.remediation import SecretLineSkipped, converged
from nornir_tasks.live.secrets import MASK, SecretStore, secret_names
from nornir_tasks.migrate.phases import ROLES, PhasedChange, is_port, phases
from nornir_tasks.sim.engine import ConfigEngine, Node, learn, parse

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "fixtures" / "legacy" / "cisco_ios" / "alta-skole-sw01.cfg"
HOST = "alta-skole-acc01"
# what the engine shows after the clean-up's rollback that IOS would not (see the docstring)
ENGINE_ROLLBACK_GAPS = {("logging console",), ("no service pad",),
                        ("interface FastEthernet0", "no ip address")}


def lineages(text: str) -> list[tuple[str, ...]]:
    """Every line with its parents, sorted: the config as a multiset, order aside
    (the engine appends what is added back; IOS prints its own order)."""
    out: list[tuple[str, ...]] = []

    def walk(node: Node, chain: tuple[str, ...]) -> None:
        for child in node.children:
            out.append((*chain, child.text))
            walk(child, (*chain, child.text))

    walk(parse(text), ())
    return sorted(out)


def port_lineages(text: str) -> list[tuple[str, ...]]:
    return [ln for ln in lineages(text)
            if ln[0].startswith("interface ") and is_port(ln[0].split()[1])]


@dataclass(frozen=True)
class Boundary:
    title: str
    rejected: list[tuple[str, str]]     # commands the engine refused in this step
    state: str                          # running config after the step
    rollback_rejected: list[tuple[str, str]]
    rolled_back: str                    # running config after the rollback from here


@dataclass(frozen=True)
class Run:
    legacy: str
    intended: str
    store: SecretStore
    change: PhasedChange
    start: str
    boundaries: list[Boundary]


def _engine(text: str, *teach: str) -> ConfigEngine:
    engine = ConfigEngine("alta", text)
    for t in teach:
        learn(engine.vocab, parse(t))  # the device knows every command of both configs
    return engine


def _send(engine: ConfigEngine, commands: list[str]) -> list[tuple[str, str]]:
    session = engine.session()
    session.enter_config()
    return session.apply_all(commands)


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    legacy = LEGACY.read_text()
    intended = render_host(load_intent(ROOT / "inventory"), HOST)
    store = SecretStore({f"FELLESNETT_SECRET_{n.upper()}": f"Test-{n}-1"
                         for n in secret_names(intended)})
    change = phases(legacy, intended, store)
    device = _engine(legacy, intended)
    start = device.running_config()
    boundaries = []
    for title, commands in change.steps():
        rejected = _send(device, commands)
        state = device.running_config()
        other = _engine(state, intended, legacy)
        rb_rejected = _send(other, change.rollback(state))
        boundaries.append(Boundary(title, rejected, state, rb_rejected,
                                   other.running_config()))
    yield Run(legacy, intended, store, change, start, boundaries)


# ---------------------------------------------------------------------------- convergence


def test_the_pair_is_a_real_migration(run: Run) -> None:
    assert len(converged(run.legacy, run.intended, masked=True)) > 1000
    assert len(run.change.move) >= 3
    assert [b.title.split()[0] for b in run.boundaries] == (
        ["pre-stage"] + ["move"] * len(run.change.move) + ["clean-up"])


def test_every_command_is_accepted(run: Run) -> None:
    assert [(b.title, b.rejected) for b in run.boundaries if b.rejected] == []


def test_all_phases_converge_to_the_intended_config(run: Run) -> None:
    assert converged(run.boundaries[-1].state, run.intended, masked=True) == []


def test_no_phase_alone_converges(run: Run) -> None:
    """The clean-up is needed: the state before it still differs (by removals only)."""
    before_cleanup = converged(run.boundaries[-2].state, run.intended, masked=True)
    assert before_cleanup
    top = [ln for ln in before_cleanup if not ln.startswith(" ")]
    assert "no vlan 10" in top and "no interface Vlan99" in top


# ---------------------------------------------------------------------------- pre-stage


def test_prestage_touches_no_port(run: Run) -> None:
    after = run.boundaries[0].state
    assert port_lineages(after) == port_lineages(run.start)
    headers = [c for c in run.change.prestage if not c.startswith(" ")]
    assert not [h for h in headers
                if h.startswith(("interface ", "default interface", "no interface"))
                and is_port(h.split()[-1])]


def test_prestage_removes_nothing(run: Run) -> None:
    legacy_tops = {ln[0] for ln in lineages(run.legacy)}
    header = ""
    for cmd in run.change.prestage:
        if not cmd.startswith(" "):
            header = cmd
            assert not cmd.startswith("no "), cmd
        elif cmd.strip().startswith("no "):
            assert header not in legacy_tops, (header, cmd)  # only inside new sections
    # on the device: every legacy line is still there, or replaced by its new value
    after = set(lineages(run.boundaries[0].state))
    gone = sorted(set(lineages(run.start)) - after)
    assert [ln[-1].split("\n")[0] for ln in gone] == [
        "aaa authentication login default local", "aaa authorization exec default local",
        "banner motd ^C", "logging buffered 16384",
        "service timestamps debug datetime msec localtime",
        "service timestamps log datetime msec localtime",
        "snmp-server contact drift@leverandor.no",
        "snmp-server location Alta skole, teknisk rom"]
    for ln in gone:  # each one replaced by the new value of the same command
        words = ln[-1].split()[:2]
        assert [n for n in after - set(lineages(run.start)) if n[-1].split()[:2] == words], ln


def test_prestage_stages_the_new_design(run: Run) -> None:
    pre = run.change.prestage
    for line in ("vlan 110", "vrf definition MGMT", "interface Vlan100",
                 "aaa group server radius RADIUS-GROUP", "dot1x system-auth-control",
                 "policy-map type control subscriber PMAP_DefaultWiredDot1xClosedAuth_1X_MAB",
                 "class-map type control subscriber match-all DOT1X_FAILED",
                 "service-template DefaultCriticalAuthVlan_SRV_TEMPLATE",
                 "ip access-list standard MGMT-ACCESS", "ntp server vrf MGMT 10.11.0.123",
                 "ip dhcp snooping"):
        assert line in pre, line
    for cutover in ("ip routing", "hostname alta-skole-acc01", "line vty 0 4"):
        assert cutover not in pre, cutover


# ---------------------------------------------------------------------------- move


def test_batches_ordered_access_ap_uplink_and_sized(run: Run) -> None:
    move = run.change.move
    ranks = [ROLES.index(b.role) for b in move]
    assert ranks == sorted(ranks)
    assert {b.role for b in move} == set(ROLES)
    assert move[-1].role == "uplink" and move[-1].ports == ("TenGigabitEthernet1/1/1",)
    assert all(1 <= len(b.ports) <= 8 for b in move)
    assert [b.cutover for b in move] == [False] * (len(move) - 1) + [True]
    ap = [p for b in move if b.role == "ap" for p in b.ports]
    # AP now (41-44) or AP to be (37-38): moved after every access port
    assert sorted(ap) == sorted(f"GigabitEthernet1/0/{n}" for n in (37, 38, 41, 42, 43, 44))


def test_each_batch_touches_exactly_its_ports(run: Run) -> None:
    seen: list[str] = []
    for b in run.change.move:
        headers = [c.split()[1] for c in b.commands if c.startswith("interface ")]
        assert headers == list(b.ports)
        seen += headers
    assert len(seen) == len(set(seen))
    intended_ports = {ln[0].split()[1] for ln in port_lineages(run.intended)}
    legacy_ports = {ln[0].split()[1] for ln in port_lineages(run.legacy)}
    # every port the intended config has and whose config changes is moved once;
    # ports only the legacy has are left for the clean-up
    assert set(seen) <= intended_ports
    assert {"GigabitEthernet1/0/1", "GigabitEthernet1/0/48"} <= set(seen)
    assert not set(seen) & (legacy_ports - intended_ports)


def test_batches_move_ports_one_batch_at_a_time(run: Run) -> None:
    """After batch k, the ports of later batches are still as they were."""
    start = set(port_lineages(run.start))
    for k, b in enumerate(run.change.move):
        later = {p for lb in run.change.move[k + 1:] for p in lb.ports}
        state = port_lineages(run.boundaries[k + 1].state)
        untouched = {ln for ln in state if ln[0].split()[1] in later}
        assert untouched == {ln for ln in start if ln[0].split()[1] in later}, b.ports


def test_cutover_follows_the_uplink_in_the_last_batch(run: Run) -> None:
    last = run.change.move[-1].commands
    uplink_end = last.index("interface TenGigabitEthernet1/1/1")
    for line in ("ip routing", "hostname alta-skole-acc01", "line vty 0 4",
                 "  access-class MGMT-ACCESS in vrf-also"):
        assert last.index(line) > uplink_end, line
    assert not any(c.strip().startswith("no ") for c in last[last.index("ip routing"):])


@pytest.mark.parametrize("size", [1, 5, 8, 100])
def test_batch_size_is_respected(run: Run, size: int) -> None:
    change = phases(run.legacy, run.intended, run.store, batch_size=size)
    assert all(len(b.ports) <= size for b in change.move)
    ports = [p for b in change.move for p in b.ports]
    assert sorted(ports) == sorted(p for b in run.change.move for p in b.ports)
    roles = [b.role for b in change.move]
    assert roles == sorted(roles, key=ROLES.index)
    per_role = {r: sum(1 for b in run.change.move for _ in b.ports if b.role == r)
                for r in ROLES}
    assert len(change.move) == sum(-(-n // size) for n in per_role.values())
    assert change.prestage == run.change.prestage and change.cleanup == run.change.cleanup


def test_batch_size_must_be_positive(run: Run) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        phases(run.legacy, run.intended, run.store, batch_size=0)


# ---------------------------------------------------------------------------- clean-up


def test_cleanup_removes_the_legacy(run: Run) -> None:
    clean = run.change.cleanup
    for line in ("no vlan 10", "no vlan 999", "no interface Vlan99", "no ip http server",
                 "no snmp-server community sk0leRO RO 10", "no ip default-gateway 10.200.99.1",
                 "no interface Port-channel1", "default interface GigabitEthernet1/0/49",
                 "  no password 7 0822455D0A16", "service pad"):
        assert line in clean, line
    # removals that the new value already replaced would wipe the new value on IOS
    for prefix in ("no hostname", "no snmp-server location", "no logging buffered",
                   "no aaa authentication login", "no banner", "  no access-class"):
        assert not any(c.startswith(prefix) for c in clean), prefix
    assert not any(c.startswith("no interface GigabitEthernet") for c in clean)


# ---------------------------------------------------------------------------- rollback


def test_rollback_from_every_boundary_restores_the_legacy(run: Run) -> None:
    expected = lineages(run.start)
    for b in run.boundaries:
        assert b.rollback_rejected == [], b.title
        back = lineages(b.rolled_back)
        if b.title == "clean-up":
            extra = set(back) - set(expected)
            missing = set(expected) - set(back)
            assert extra | missing == ENGINE_ROLLBACK_GAPS
            continue
        assert back == expected, b.title
        assert converged(b.rolled_back, run.legacy, masked=False) == [], b.title
        assert converged(run.legacy, b.rolled_back, masked=False) == [], b.title


def test_rollback_restores_hashes_not_placeholders(run: Run) -> None:
    after = run.boundaries[-1]
    rollback = run.change.rollback(after.state)
    assert "username netadm privilege 15 secret 5 $1$y6Nb$yqR0i2sXy5sE0PqFQ0v7b1" in rollback
    assert "snmp-server community sk0leRO RO 10" in rollback
    assert not any("<<secret" in c or "Test-" in c for c in rollback)
    assert not any(c.startswith("no banner") and "\n" in c for c in rollback)


# ---------------------------------------------------------------------------- secrets


def test_secrets_are_filled_and_masked_for_display(run: Run) -> None:
    sent = [c for _, cmds in run.change.steps() for c in cmds]
    assert not any("<<secret" in c for c in sent)
    assert "  key 0 Test-tacacs_key-1" in run.change.prestage
    shown = run.change.display()
    assert not any("Test-" in line for line in shown)
    assert "  key 7 <<secret:tacacs_key>>" not in shown and f"  key {MASK}" in shown
    assert f"no snmp-server community {MASK} RO 10" in shown
    assert sum(1 for line in shown if line.startswith("! ")) == len(run.change.steps())


def test_without_a_store_secret_lines_raise_or_are_skipped(run: Run) -> None:
    with pytest.raises(SecretLineSkipped):
        phases(run.legacy, run.intended, None)
    skipped: list[str] = []
    change = phases(run.legacy, run.intended, None, skipped=skipped)
    assert change.skipped is skipped and f"key {MASK}" in skipped
    assert not any("<<secret" in c for _, cmds in change.steps() for c in cmds)
    assert change.display() == run.change.display()


# ---------------------------------------------------------------------------- the rule, small


def test_traffic_cutting_globals_and_existing_svis_wait_for_the_cutover() -> None:
    legacy = ("spanning-tree mode pvst\naccess-list 10 permit 10.1.1.0 0.0.0.255\n"
              "interface Vlan99\n ip address 10.9.9.2 255.255.255.0\n"
              "interface GigabitEthernet1/0/1\n switchport access vlan 10\n")
    intended = ("spanning-tree mode rapid-pvst\naccess-list 10 permit 10.1.1.0 0.0.0.255\n"
                "access-list 10 permit 10.2.2.0 0.0.0.255\naccess-list 20 permit 10.3.3.3\n"
                "interface Vlan99\n ip address 10.9.9.3 255.255.255.0\n"
                "interface Vlan200\n ip address 10.20.0.1 255.255.255.0\n no ip redirects\n"
                "interface GigabitEthernet1/0/1\n switchport access vlan 10\n"
                " spanning-tree portfast\n")
    change = phases(legacy, intended, SecretStore({}))
    assert change.prestage == ["access-list 20 permit 10.3.3.3", "interface Vlan200",
                               "  ip address 10.20.0.1 255.255.255.0", "  no ip redirects",
                               "  exit"]
    [batch] = change.move
    assert batch.cutover and batch.ports == ("GigabitEthernet1/0/1",)
    assert batch.commands[:3] == ["interface GigabitEthernet1/0/1", "  spanning-tree portfast",
                                  "  exit"]
    cut = batch.commands[3:]
    assert "spanning-tree mode rapid-pvst" in cut
    assert "access-list 10 permit 10.2.2.0 0.0.0.255" in cut
    at = cut.index("interface Vlan99")
    assert cut[at:at + 3] == ["interface Vlan99", "  ip address 10.9.9.3 255.255.255.0", "  exit"]
    # `no spanning-tree mode pvst` would put the switch back to the default mode: dropped
    assert change.cleanup == []


def test_only_globals_make_a_portless_cutover_step() -> None:
    change = phases("hostname a\nvtp mode server\n", "hostname a\nvtp mode transparent\n",
                    SecretStore({}))
    assert change.prestage == [] and change.cleanup == []
    assert [(b.ports, b.commands, b.cutover) for b in change.move] == [
        ((), ["vtp mode transparent"], True)]
