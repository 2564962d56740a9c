"""Offline: masking, remediation plans, secret resolution. No device involved."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import Intent
from nornir_tasks.live.backups import BackupRepo, scrub
from nornir_tasks.live.inventory import device_access
from nornir_tasks.live.lock import device_locks
from nornir_tasks.live.outcome import HostOutcome, Status, counts, exit_code
from nornir_tasks.live.remediation import SecretLineSkipped, converged, plan, rollback_commands
from nornir_tasks.live.report import summary_table
from nornir_tasks.live.secrets import MASK, SecretStore, mask_config, read_vault

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CORE = (GOLDEN / "radhuset-core01.cfg").read_text()
WLC = (GOLDEN / "radhuset-wlc01.cfg").read_text()

HASHES = {
    "secret": "9 $9$Zq3lX2ab8cDeFg$TjRkQw1yS0eUvBn5mLpOa9iXcZ3bV7nM2qW4eR6tY8u",
    "key": "7 0822455D0A16544541",
    "server-key": "7 104D000A0618",
    "password": "8 $8$kdAQj3vhrVyE$xBQH",
    "set-key ascii": "8 YeaLEQhG",
}


def as_device(intended: str) -> str:
    """What a device shows for an intended config: hashes where placeholders were."""
    def one(m: re.Match[str]) -> str:
        return f"{m['kw']} {HASHES[m['kw']]}"
    return re.sub(r"(?P<kw>set-key ascii|server-key|secret|password|key) \d <<secret:\w+>>",
                  one, intended)


@pytest.mark.parametrize("config", [CORE, WLC], ids=["core", "wlc"])
def test_masking_makes_device_and_intent_equal(config: str) -> None:
    device = as_device(config)
    assert "<<secret:" in config and "<<secret:" not in device
    assert mask_config(device).text == mask_config(config).text
    assert plan(device, config).empty
    assert converged(device, config, masked=True) == []


def test_a_changed_hash_is_not_a_change_but_a_missing_secret_line_is() -> None:
    device = as_device(CORE).replace("TjRkQw1yS0eUvBn5", "AAAAAAAAAAAAAAAA")
    assert plan(device, CORE).empty
    without = "\n".join(line for line in as_device(CORE).splitlines()
                        if not line.startswith("enable secret"))
    p = plan(without, CORE)
    assert p.display() == [f"enable secret {MASK}"]
    store = SecretStore({"FELLESNETT_SECRET_ENABLE_SECRET": "Ny-Hemmelighet"})
    assert p.push_commands(store) == ["enable secret 0 Ny-Hemmelighet"]
    with pytest.raises(UsageError, match="FELLESNETT_SECRET_ENABLE_SECRET"):
        p.push_commands(SecretStore({}))


def test_removing_a_secret_line_sends_the_devices_own_text_never_a_placeholder() -> None:
    device = as_device(CORE) + "username olduser privilege 15 secret 9 $9$old$hash\n"
    p = plan(device, CORE)
    assert p.display() == [f"no username olduser privilege 15 secret {MASK}"]
    assert p.push_commands(SecretStore({})) == [
        "no username olduser privilege 15 secret 9 $9$old$hash"]


def test_rotation_sends_secret_lines_that_compare_equal() -> None:
    device = as_device(CORE)
    p = plan(device, CORE, rotate=frozenset({"tacacs_key"}))
    store = SecretStore({"FELLESNETT_SECRET_TACACS_KEY": "rotated"})
    pushed = p.push_commands(store)
    assert [c.strip() for c in pushed if "key" in c] == ["key 0 rotated", "key 0 rotated"]
    assert all("radius" not in c or "key" not in c for c in pushed)
    assert not any("<<" in c for c in pushed)


def test_plan_lines_are_never_secret() -> None:
    device = as_device(CORE).replace("enable secret", "no-such-thing")
    p = plan(device, CORE)
    assert not any("$9$" in line or "<<secret:" in line for line in p.display())


def test_restore_from_a_scrubbed_backup_skips_secret_lines() -> None:
    device = "\n".join(line for line in as_device(CORE).splitlines()
                       if not line.startswith("enable secret")) + "\nip http server\n"
    target = scrub(as_device(CORE))
    p = plan(device, target)
    with pytest.raises(SecretLineSkipped):
        p.push_commands(None)
    skipped: list[str] = []
    assert p.push_commands(None, skipped=skipped) == ["no ip http server"]
    assert skipped == [f"enable secret {MASK}"]


def test_rollback_commands_restore_exact_hashes() -> None:
    before = as_device(CORE)
    after = before.replace("$9$Zq3lX2ab8cDeFg", "$9$newnewnewnewne") + "ip http server\n"
    cmds = rollback_commands(after, before)
    assert "no ip http server" in cmds
    assert any(c.startswith("enable secret 9 $9$Zq3lX2ab8cDeFg") for c in cmds)
    assert converged(after, before, masked=False) != []
    assert converged(after, before, masked=True) == ["no ip http server"]


def test_vault(tmp_path: Path) -> None:
    from ansible.parsing.vault import VaultLib, VaultSecret  # type: ignore[import-untyped]

    pw = tmp_path / "pw"
    pw.write_text("vault-pass\n")
    blob = VaultLib([("default", VaultSecret(b"vault-pass"))]).encrypt(
        "enable_secret: from-vault\nradius_key: r\n")
    vault = tmp_path / "secrets.vault"
    vault.write_bytes(blob)
    assert read_vault(vault, pw) == {"enable_secret": "from-vault", "radius_key": "r"}
    store = SecretStore({"FELLESNETT_VAULT": str(vault), "FELLESNETT_VAULT_PASSWORD_FILE": str(pw),
                         "FELLESNETT_SECRET_RADIUS_KEY": "env-wins"})
    assert store.get("enable_secret") == "from-vault"
    assert store.get("radius_key") == "env-wins"
    pw.write_text("wrong\n")
    with pytest.raises(UsageError, match="cannot decrypt"):
        read_vault(vault, pw)


def test_backup_repo_one_commit_per_run_and_no_secrets(tmp_path: Path) -> None:
    repo = BackupRepo(tmp_path / "backups")
    repo.ensure()
    repo.write("radhuset", "radhuset-core01", as_device(CORE))
    first = repo.commit("run 1")
    assert first is not None
    assert repo.commit("run 2: nothing changed") is None
    stored = (tmp_path / "backups/radhuset/radhuset-core01.cfg").read_text()
    assert "$9$" not in stored and "0822455D" not in stored and MASK in stored
    assert repo.read(first, "radhuset", "radhuset-core01") == stored
    log = subprocess.run(["git", "-C", str(tmp_path / "backups"), "log", "--oneline"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(log) == 2
    with pytest.raises(UsageError, match="no such revision"):
        repo.read("deadbeef", "radhuset", "radhuset-core01")


def test_device_locks_exclude_overlapping_runs(tmp_path: Path) -> None:
    with (device_locks(["a", "b"], tmp_path),
          pytest.raises(UsageError, match="b is locked"),
          device_locks(["b", "c"], tmp_path)):
        pass
    with device_locks(["b", "c"], tmp_path):  # released when the first run ended
        pass


def test_device_login_from_env_or_vault(intent: Intent, tmp_path: Path) -> None:
    from ansible.parsing.vault import VaultLib, VaultSecret  # type: ignore[import-untyped]

    hosts = ["radhuset-core01"]
    env = {"FELLESNETT_USERNAME": "netops", "FELLESNETT_PASSWORD": "pw"}
    access = device_access(intent, hosts, env)
    assert (access.username, access.targets["radhuset-core01"].address) == ("netops", "10.0.0.2")
    with pytest.raises(UsageError, match="no device login"):
        device_access(intent, hosts, {})
    (tmp_path / "pw").write_text("v")
    (tmp_path / "vault").write_bytes(VaultLib([("default", VaultSecret(b"v"))]).encrypt(
        "device_username: fromvault\ndevice_password: secret\n"))
    access = device_access(intent, hosts, {"FELLESNETT_VAULT": str(tmp_path / "vault"),
                                           "FELLESNETT_VAULT_PASSWORD_FILE": str(tmp_path / "pw")})
    assert (access.username, access.password) == ("fromvault", "secret")


def test_summary_table_lists_what_needs_attention() -> None:
    from rich.console import Console

    outcomes = [HostOutcome("sw1", Status.changed, 3), HostOutcome("sw2", Status.unchanged),
                HostOutcome("sw3", Status.rolled_back, 2, stage="push", error="rejected",
                            rollback="rolled back with 2 command(s)")]
    console = Console(record=True, width=150)
    console.print(summary_table(outcomes, "deploy"))
    text = console.export_text()
    assert "sw3" in text and "rolled back with 2 command(s)" in text and "sw2" not in text
    assert exit_code(outcomes) == 1 and exit_code(outcomes[:2]) == 0
    assert counts(outcomes)["rolled back"] == 1


def test_two_runs_sharing_a_backups_checkout_commit_only_their_own_devices(tmp_path: Path
                                                                            ) -> None:
    a, b = BackupRepo(tmp_path / "backups"), BackupRepo(tmp_path / "backups")
    a.ensure()
    b.ensure()
    a.write("s1", "sw-a", "hostname sw-a\n")
    b.write("s2", "sw-b", "hostname sw-b\n")
    rev_a = a.commit("shard 1")
    rev_b = b.commit("shard 2")
    assert rev_a and rev_b and rev_a != rev_b

    def files(rev: str) -> list[str]:
        return subprocess.run(["git", "-C", str(tmp_path / "backups"), "show", "--name-only",
                               "--format=", rev], capture_output=True, text=True,
                              check=True).stdout.split()
    assert files(rev_a) == ["s1/sw-a.cfg"] and files(rev_b) == ["s2/sw-b.cfg"]
