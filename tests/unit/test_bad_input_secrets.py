"""Secrets: a plain-text Ansible credential is refused (vault-encrypted values and Jinja
lookups are fine), and no error message ever repeats a value written under a key that may
hold a secret (it would land in CI logs)."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel
from test_intent_cases import apply_patch

from nornir_tasks.intent import model as intent_model
from nornir_tasks.intent.guards import may_be_secret
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.intent.model import SecretMarker

VAULTED = """\
ansible_password: !vault |
  $ANSIBLE_VAULT;1.1;AES256
  62313365396662343061393464336163383764373764613633653634306231386433626436623361
  6134333665353966363534333632666535333761666131620a663537646436643839616431366363
ansible_become_password: "{{ lookup('env', 'NET_ENABLE_PASSWORD') }}"
ansible_user: netops
"""

#: where a secret may be written by mistake; each value is one a log must never show
LEAKS = {
    ("group_vars/all/aaa.yml", "aaa.radius.key_secret"): "Leak-1-Rad1us!",
    ("group_vars/all/aaa.yml", "aaa.tacacs.key_secret"): "Leak-2-Tac4cs!",
    ("group_vars/all/aaa.yml", "aaa.enable_secret"): "Leak-3-En4ble!",
    ("group_vars/all/aaa.yml", "aaa.local_users[0].secret"): "Leak-4-Br3akglass!",
    ("group_vars/all/wireless.yml", "wireless.ssids[1].psk_secret"): "Leak-5-Gjest-PSK",
    ("group_vars/all/wireless.yml", "wireless.ap_supplicant.password_secret"): "Leak-6-Ap!",
    ("group_vars/all/management.yml", "management.snmp_users[0].auth_secret"): "Leak-7-Snmp!",
    ("group_vars/all/connection.yml", "ansible_password"): "Leak-8-Ssh!",
    ("group_vars/all/connection.yml", "ansible_ssh_private_key_passphrase"): "Leak-9-Key!",
}


def test_vaulted_and_looked_up_credentials_are_accepted(inventory_copy: Path) -> None:
    (inventory_copy / "group_vars" / "all" / "connection.yml").write_text(VAULTED)
    (inventory_copy / "group_vars" / "school.yml").write_text(VAULTED)
    site = inventory_copy / "group_vars" / "site_alta_skole.yml"
    site.write_text(site.read_text() + VAULTED)
    host = inventory_copy / "host_vars" / "alta-skole-dist01.yml"
    host.write_text(host.read_text() + VAULTED.replace("ansible_user: netops\n", ""))
    intent = load_intent(inventory_copy)
    assert "alta-skole-dist01" in intent.devices


def test_no_message_repeats_a_secret(inventory_copy: Path) -> None:
    apply_patch(inventory_copy, [{"file": f, "set": path, "value": value}
                                 for (f, path), value in LEAKS.items()])
    proc = subprocess.run([sys.executable, "-m", "nornir_tasks.cli", "validate", "--inventory",
                           str(inventory_copy)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    output = proc.stdout + proc.stderr
    for (f, path), value in LEAKS.items():
        assert f"  {f}: {path}: " in output, f"{f}: {path} not reported:\n{output}"
        # neither whole nor in part (a validator may quote a piece of it)
        assert value not in output and value[7:] not in output, f"{path} leaked:\n{output}"


def _secret_fields() -> list[tuple[str, str]]:
    """(model, key) of every field whose type the model marks as a secret."""
    found = []
    for name in dir(intent_model):
        cls = getattr(intent_model, name)
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        for field, info in cls.model_fields.items():
            marks = [*info.metadata, *(m for a in typing.get_args(info.annotation)
                                       for m in getattr(a, "__metadata__", ()))]
            if any(isinstance(m, SecretMarker) for m in marks):
                found.append((cls.__name__, info.alias or field))
    return found


def test_every_secret_field_is_redacted_by_its_key_name() -> None:
    fields = _secret_fields()
    assert len(fields) >= 8, fields  # the meta-test looks where the secrets are
    assert [f for f in fields if not may_be_secret([f[1]])] == []


@pytest.mark.parametrize("key", ["ansible_password", "ansible_ssh_pass", "ansible_become_pass",
                                 "ansible_become_password", "ansible_httpapi_password",
                                 "ansible_ssh_private_key_passphrase"])
def test_each_ansible_credential_variable_is_checked(inventory_copy: Path, key: str) -> None:
    (inventory_copy / "group_vars" / "all" / "connection.yml").write_text(f"{key}: s3cret\n")
    with pytest.raises(Exception, match=f"group_vars/all/connection.yml: {key}: a plain-text "):
        load_intent(inventory_copy)
