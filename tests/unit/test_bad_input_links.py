"""A symbolic link whose target leaves the inventory is refused by name, before anything
is read through it: an outside file's content used to end up in a switch config and the
docs. Links that stay inside the inventory are fine (Ansible follows them too)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nornir_tasks.errors import IntentError
from nornir_tasks.intent.loader import load_intent

HOST_VARS = "host_vars/alta-bibliotek-acc01.yml"


def _refused(inventory: Path) -> list[str]:
    with pytest.raises(IntentError) as info:
        load_intent(inventory)
    return [str(p) for p in info.value.problems]


def test_a_file_link_leaving_the_inventory_is_refused(inventory_copy: Path,
                                                      tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yml"
    (inventory_copy / HOST_VARS).rename(outside)  # the same content, from outside
    os.symlink(outside, inventory_copy / HOST_VARS)
    assert _refused(inventory_copy) == [
        f"{HOST_VARS}: a symbolic link to {outside}, outside the inventory: refused (copy "
        "what it should hold into the inventory)"]


@pytest.mark.parametrize("link", ["group_vars", "group_vars/all", "host_vars", "hosts.yml"])
def test_a_folder_or_hosts_link_leaving_the_inventory_is_refused_once(
        inventory_copy: Path, tmp_path: Path, link: str) -> None:
    outside = tmp_path / "moved"
    (inventory_copy / link).rename(outside)
    os.symlink(outside, inventory_copy / link)
    problems = _refused(inventory_copy)
    assert problems == [f"{link}: a symbolic link to {outside}, outside the inventory: refused "
                        "(copy what it should hold into the inventory)"]


def test_nothing_is_read_through_the_link(inventory_copy: Path, tmp_path: Path) -> None:
    """The target is a FIFO nobody writes to: reading it would block until the timeout."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    os.symlink(fifo, inventory_copy / "group_vars" / "all" / "zz_pipe.yml")
    proc = subprocess.run([sys.executable, "-m", "nornir_tasks.cli", "validate", "--inventory",
                           str(inventory_copy)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"  group_vars/all/zz_pipe.yml: a symbolic link to {fifo}" in proc.stderr


def test_links_inside_the_inventory_are_followed(inventory_copy: Path) -> None:
    shared = inventory_copy / "shared"
    shared.mkdir()
    (inventory_copy / HOST_VARS).rename(shared / "acc01.yml")
    os.symlink("../shared/acc01.yml", inventory_copy / HOST_VARS)
    intent = load_intent(inventory_copy)
    assert intent.devices["alta-bibliotek-acc01"].ports
