"""Host names follow the device's `hostname` rule (docs/reference/ios-xe-syntax.md, Host
names): the refusals are intent cases (host_name_*); here the boundary, and names YAML
reads as numbers, which used to end in a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nornir_tasks.errors import IntentError
from nornir_tasks.intent.loader import load_intent

SITE = "all.children.school.children.site_alta_ungdomsskole"
AP = "alta-ungdomsskole-ap01"


def _rename_ap(inventory: Path, name: str) -> None:
    hosts = inventory / "hosts.yml"
    text = hosts.read_text(encoding="utf-8")
    assert f"            {AP}: " in text, "the reference estate changed: pick another AP"
    hosts.write_text(text.replace(f"            {AP}: ", f"            {name!r}: "),
                     encoding="utf-8")


@pytest.mark.parametrize(("length", "ok"), [(63, True), (64, False)])
def test_the_limit_is_63_characters(inventory_copy: Path, length: int, ok: bool) -> None:
    name = (AP + "-" + "x" * 64)[:length]
    _rename_ap(inventory_copy, name)
    if ok:
        assert name in load_intent(inventory_copy).devices
        return
    with pytest.raises(IntentError) as info:
        load_intent(inventory_copy)
    assert [str(p) for p in info.value.problems] == [
        f"hosts.yml: {SITE}.hosts.{name}: host name is 64 characters long; IOS-XE's "
        "`hostname` takes at most 63"]


@pytest.mark.parametrize("name", ["-ap01", "ap01-", "1ap01", "Alta-ap01", "alta_ap01", "alta.ap01",
                                  "alta-ap01\u00f8"])
def test_names_the_device_would_not_take_are_refused(inventory_copy: Path, name: str) -> None:
    _rename_ap(inventory_copy, name)
    with pytest.raises(IntentError, match="is not a valid host name"):
        load_intent(inventory_copy)


def test_host_and_group_names_read_as_numbers(inventory_copy: Path) -> None:
    hosts = inventory_copy / "hosts.yml"
    text = hosts.read_text(encoding="utf-8").replace(f"            {AP}: ", "            1234: ")
    hosts.write_text(text.replace("    school:\n", "    2024:\n", 1), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "nornir_tasks.cli", "validate", "--inventory",
                           str(inventory_copy)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "  hosts.yml: all.children.2024: a group name must be text, got int" in proc.stderr
    assert (f"  hosts.yml: {SITE.replace('school', '2024')}.hosts.1234: a host name must be "
            "text starting with a letter, got int 1234") in proc.stderr
