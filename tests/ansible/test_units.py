"""nornir_tasks.ansible: the Python behind the plugins, without Ansible running."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ansible_helpers import ROOT

from nornir_tasks.ansible import AnsibleInputError, actions, connection, engine, live
from nornir_tasks.build import render_host
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.live.outcome import HostOutcome, Status
from nornir_tasks.live.remediation import plan
from nornir_tasks.live.report import diff_markdown

INV = ROOT / "inventory"


def test_intent_loaded_once_per_process_while_files_are_unchanged() -> None:
    first = engine.intent_for(INV)
    loads = engine.LOADS
    assert engine.intent_for(INV) is first
    assert loads == engine.LOADS


def test_render_is_render_host(tmp_path: Path) -> None:
    engine.preload(INV)
    intent = load_intent(INV)
    for host in ("radhuset-core01", "radhuset-wlc01", "alta-skole-acc01"):
        r = engine.render(INV, host)
        assert r.text == render_host(intent, host)
        assert r.relpath == f"configs/{intent.device_site[host]}/{host}.cfg"


@pytest.mark.parametrize("host,msg", [("alta-skole-ap01", "gets no config of its own"),
                                      ("nosuch-sw01", "not a device of the intent")])
def test_render_refuses_hosts_without_config(host: str, msg: str) -> None:
    res = actions.guarded(actions.render, {"intent_dir": str(INV), "output_dir": "/nonexistent"},
                          {"inventory_hostname": host}, False, False)
    assert res["failed"] and msg in res["msg"]


def test_bad_intent_dir_is_a_message(tmp_path: Path) -> None:
    res = actions.guarded(actions.render, {"intent_dir": str(tmp_path), "output_dir": "x"},
                          {"inventory_hostname": "a"}, False, False)
    assert res == {"failed": True, "msg": f"{tmp_path}: not a fellesnett inventory (no hosts.yml)"}


def test_write_text_check_mode_and_diff(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b.cfg"
    res = engine.write_text(path, "x\n", check=True, want_diff=True)
    assert res["changed"] and res["diff"]["after"] == "x\n" and not path.exists()
    assert engine.write_text(path, "x\n", check=False, want_diff=False)["changed"]
    assert path.read_text() == "x\n"
    assert not engine.write_text(path, "x\n", check=False, want_diff=True)["changed"]


def test_render_action_writes_once(tmp_path: Path) -> None:
    args = {"intent_dir": str(INV), "output_dir": str(tmp_path), "structured": True}
    hv = {"inventory_hostname": "barnevernet-sw01"}
    first = actions.render(args, hv, False, False)
    assert first["changed"] and first["structured_config"]["hostname"] == "barnevernet-sw01"
    assert (tmp_path / first["relpath"]).read_bytes() == \
        (ROOT / "tests/golden/barnevernet-sw01.cfg").read_bytes()
    assert not actions.render(args, hv, False, False)["changed"]


def test_normalise_running_drops_what_napalm_drops() -> None:
    out = "Building configuration...\n\nCurrent configuration : 10 bytes\n!\nhostname a\nend\n"
    assert live.normalise_running([out]) == "!\nhostname a\nend"
    with pytest.raises(AnsibleInputError):
        live.normalise_running("")
    with pytest.raises(AnsibleInputError):
        live.normalise_running("% Invalid input detected at '^' marker.")


RUNNING = ("hostname a\nenable secret 9 $9$x$y\nsnmp-server community public RO\n"
           "ip http server\nend\n")
INTENDED = "hostname a\nenable secret 9 <<secret:enable_secret>>\n"


def test_plan_action_is_the_fellesnett_remediation(tmp_path: Path) -> None:
    intended = tmp_path / "a.cfg"
    intended.write_text(INTENDED)
    push = tmp_path / "work" / "a.push"
    args = {"mode": "push", "running": [RUNNING], "intended_file": str(intended),
            "push_file": str(push), "rotate_secrets": []}
    res = actions.plan(args, {"inventory_hostname": "a"}, False, True)
    p = plan(RUNNING.rstrip("\n"), INTENDED)
    assert res["changed"] and res["remediation"] == p.display() and res["secret"]
    assert res["diff"]["prepared"] == "\n".join(p.display())
    # the device's own line is sent to remove the community; never a placeholder
    assert push.read_text().splitlines() == p.push_commands(None)
    assert sorted(p.push_commands(None)) == ["no ip http server",
                                             "no snmp-server community public RO"]
    assert stat.S_IMODE(push.stat().st_mode) == 0o600
    assert stat.S_IMODE(push.parent.stat().st_mode) == 0o700
    actions.plan({"mode": "discard", "push_file": str(push)}, {}, False, False)
    assert not push.exists()


def test_plan_check_mode_writes_no_push_file(tmp_path: Path) -> None:
    intended = tmp_path / "a.cfg"
    intended.write_text(INTENDED)
    push = tmp_path / "a.push"
    res = actions.plan({"mode": "push", "running": RUNNING, "intended_file": str(intended),
                        "push_file": str(push)}, {"inventory_hostname": "a"}, True, False)
    assert res["changed"] and res["push_file"] is None and not push.exists()


def test_missing_secret_is_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FELLESNETT_SECRET_ENABLE_SECRET", raising=False)
    monkeypatch.delenv("FELLESNETT_VAULT", raising=False)
    intended = tmp_path / "a.cfg"
    intended.write_text(INTENDED)
    res = actions.guarded(actions.plan, {"mode": "push", "running": "hostname a\n",
                                         "intended_file": str(intended),
                                         "push_file": str(tmp_path / "p")},
                          {"inventory_hostname": "a"}, False, False)
    assert res["failed"] and "FELLESNETT_SECRET_ENABLE_SECRET" in res["msg"]


def test_verify_and_rollback_modes() -> None:
    res = actions.guarded(actions.plan, {"mode": "verify", "running": "hostname b\n",
                                         "intent_dir": str(INV)},
                          {"inventory_hostname": "barnevernet-sw01"}, False, False)
    assert res["failed"] and "still differ after the push" in res["msg"]
    res = actions.plan({"mode": "rollback_verify", "running": "hostname a\nip http server\n",
                        "target": "hostname a\n"}, {}, False, False)
    assert res["failed"] and "ROLLBACK INCOMPLETE" in res["msg"]
    res = actions.plan({"mode": "rollback", "running": "hostname a\nip http server\n",
                        "target": "hostname a\n"}, {}, True, False)
    assert res == {"changed": True, "commands": 1, "push_file": None}


def test_report_is_fellesnett_diff_markdown(tmp_path: Path) -> None:
    results = {"b": {"changes": 1, "remediation": ["no ip http server"]},
               "a": {"changes": 0, "remediation": []},
               "c": {"failed": True, "msg": "unreachable: timed out"}}
    res = actions.report({"results": results, "report_dir": str(tmp_path)}, {}, False, False)
    expected = diff_markdown([HostOutcome("a", Status.unchanged),
                              HostOutcome("b", Status.pending, 1, ["no ip http server"]),
                              HostOutcome("c", Status.failed, error="unreachable: timed out")])
    assert (tmp_path / "drift.md").read_text() == expected
    assert res["changed"] and res["drift"] == 1
    assert not actions.report({"results": results, "report_dir": str(tmp_path)}, {}, False,
                              False)["changed"]


def test_connection_vars(tmp_path: Path) -> None:
    real = connection.host_vars("sw1", "access", tmp_path,
                                {"FELLESNETT_USERNAME": "u", "FELLESNETT_PASSWORD": "p"})
    assert real["ansible_network_os"] == "cisco.ios.ios" and real["ansible_user"] == "u"
    assert "ansible_host" not in real  # the inventory's management address stays
    assert connection.host_vars("ap1", "ap", tmp_path, {}) == {}
    with pytest.raises(AnsibleInputError, match="no simulators running"):
        connection.host_vars("sw1", "access", tmp_path,
                             {"FELLESNETT_SIM": "1", "FELLESNETT_SIM_DIR": str(tmp_path)})


def test_connection_vars_for_simulators(tmp_path: Path) -> None:
    import json

    (tmp_path / "state.json").write_text(json.dumps({
        "username": "fellesnett", "password": "pw", "pids": [os.getpid()], "started": "x",
        "hosts": {"sw1": {"host": "127.0.0.1", "port": 40001}}}))
    env = {"FELLESNETT_SIM": "1", "FELLESNETT_SIM_DIR": str(tmp_path)}
    sim = connection.host_vars("sw1", "access", tmp_path, env)
    assert (sim["ansible_host"], sim["ansible_port"], sim["ansible_password"]) == \
        ("127.0.0.1", 40001, "pw")
    missing = connection.host_vars("sw2", "access", tmp_path, env)
    assert missing["fellesnett_sim_missing"] and missing["ansible_port"] == 9
    assert missing["ansible_host"] == "127.0.0.1"


def test_mask_text_hides_secrets_in_error_messages() -> None:
    msg = 'Task failed: b"username a secret 0 hunter2\\r\\n% Invalid input"'
    assert "hunter2" not in live.mask_text(msg)
