"""Live operations for the Ansible roles: the same backups, remediations and checks as
``fellesnett backup | diff | deploy``, fed with what ``cisco.ios.ios_command`` read.

The roles read ``show running-config`` with ``cisco.ios.ios_command`` over
``ansible.netcommon.network_cli`` and hand the text to these functions:

* :func:`normalise_running` drops the lines napalm's ``get_config`` drops, so a backup
  written by Ansible is byte-identical to one written by ``fellesnett backup``;
* :func:`plan_for` is :func:`nornir_tasks.live.remediation.plan` (hier_config on masked
  configs): the remediation shown by the diff role is the one ``fellesnett diff`` shows;
* :func:`write_push_file` writes the commands ``fellesnett deploy`` would send
  (:meth:`Plan.push_commands`, secrets filled from ``FELLESNETT_SECRET_<NAME>``) to a
  private file that ``cisco.ios.ios_config`` pushes with ``src:`` and ``match: none``;
* :func:`residual` is the convergence check after a push and after a rollback.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nornir_tasks.ansible import AnsibleInputError
from nornir_tasks.errors import UsageError
from nornir_tasks.live.backups import BackupRepo, scrub
from nornir_tasks.live.remediation import (
    Plan,
    SecretLineSkipped,
    converged,
    plan,
    rollback_commands,
)
from nornir_tasks.live.secrets import MASK, SecretStore

# the lines napalm's IOS get_config filters out of `show running-config`
_NOISE = re.compile(r"^(?:Building configuration.*|Current configuration :.*"
                    r"|! Last configuration change at.*|! NVRAM config last updated at.*)$",
                    re.M)
#: what IOS answers to a config line it did not take (the ios_config push stops there)
_ERROR = re.compile(r"^% (?:Invalid input|Incomplete command|Ambiguous command)", re.M)


def normalise_running(output: Any) -> str:
    """``show running-config`` output as napalm's ``get_config`` returns it.

    >>> normalise_running("Building configuration...\\n\\nCurrent configuration : 9 bytes\\n"
    ...                   "!\\nhostname a\\nend\\n")
    '!\\nhostname a\\nend'
    """
    if isinstance(output, list):  # ios_command's stdout is a list, one item per command
        if len(output) != 1:
            raise AnsibleInputError("running: expected the output of one command "
                                    "(show running-config)")
        output = output[0]
    if not isinstance(output, str) or not output.strip():
        raise AnsibleInputError("running: empty; pass the stdout of `show running-config`")
    if _ERROR.search(output):
        raise AnsibleInputError("running: the device did not show its running config: "
                                + _ERROR.search(output).group(0))  # type: ignore[union-attr]
    return _NOISE.sub("", output).strip()


def backup_text(running: str) -> str:
    """The backup file of a running config: what ``fellesnett backup`` writes."""
    return scrub(running)


_GIT = ["git", "-c", "user.name=fellesnett", "-c", "user.email=fellesnett@localhost",
        "-c", "commit.gpgsign=false"]


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([*_GIT, "-C", str(root), *args], capture_output=True, text=True,
                              check=check)
    except FileNotFoundError:
        raise AnsibleInputError("git is not installed; backups are kept as a git history"
                                ) from None
    except subprocess.CalledProcessError as exc:
        raise AnsibleInputError(f"{root}: git {' '.join(args[:2])} failed: "
                                f"{exc.stderr.strip() or exc.stdout.strip()}") from None


def commit_backups(root: Path, paths: Iterable[str], message: str) -> str | None:
    """Commit these files of the backups repository (the ones this run wrote; another run
    sharing the checkout commits its own); None when none of them changed.

    The repository is created as ``fellesnett backup`` creates it.
    """
    try:
        BackupRepo(root).ensure()
    except UsageError as exc:
        raise AnsibleInputError(str(exc)) from None
    present = sorted(p for p in set(paths) if (root / p).is_file())
    if not present:
        return None
    _git(root, "add", "--", *present)
    if _git(root, "diff", "--cached", "--quiet", "--", *present, check=False).returncode == 0:
        return None
    _git(root, "commit", "-q", "-m", message, "--", *present)
    return _git(root, "rev-parse", "HEAD").stdout.strip()


def plan_for(running: str, intended: str, rotate: Iterable[str] = ()) -> Plan:
    return plan(running, intended, frozenset(rotate))


def plan_summary(p: Plan) -> dict[str, Any]:
    """What a review needs: the number of commands and the masked remediation."""
    return {"changes": p.count(), "remediation": p.display()}


def push_commands(p: Plan, env: Mapping[str, str] | None = None) -> list[str]:
    """The commands ``fellesnett deploy`` sends for this plan (secrets filled, never masked)."""
    try:
        return p.push_commands(SecretStore(env))
    except SecretLineSkipped as exc:
        raise AnsibleInputError(f"a secret line cannot be filled: {exc}") from None
    except UsageError as exc:
        raise AnsibleInputError(str(exc)) from None


def carries_secret(p: Plan) -> bool:
    """True when a command to send holds a secret (plaintext or a device hash): no_log it."""
    return any(MASK in line for line in p.display())


def private_dir(path: Path) -> Path:
    """A directory only its owner can read (push files may hold secrets)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_push_file(path: Path, commands: list[str]) -> None:
    """The commands, one a line with their indentation, readable by the owner only."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(c + "\n" for c in commands))


def discard(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def residual(current: str, target: str, masked: bool) -> list[str]:
    """Lines still differing (empty: converged); masked for intent, unmasked for rollback."""
    return converged(current, target, masked=masked)


def rollback_to(current: str, target: str) -> list[str]:
    """Commands that put a device from ``current`` back at ``target`` (both device configs)."""
    return rollback_commands(current, target)


def mask_text(text: Any) -> str:
    """Any text (an error message echoing a config line) with every secret masked.

    >>> mask_text("snmp-server community s3cret RO\\n% Invalid input")
    'snmp-server community <<secret>> RO\\n% Invalid input'
    >>> mask_text('Task failed: b"enable secret 0 pw\\\\r\\\\n% Invalid input"')
    'Task failed: b"enable secret <<secret>>\\n% Invalid input"'
    """
    from nornir_tasks.live.secrets import mask_line

    out = []
    # network_cli errors quote the device's output as a bytes repr: one line, \\r\\n inside
    for line in str(text).replace("\\r\\n", "\n").replace("\\n", "\n").splitlines():
        quote = next((q for q in ('b"', "b'") if q in line), None)
        if quote is None:
            out.append(mask_line(line))
        else:
            head, _, rest = line.partition(quote)
            out.append(mask_line(head) + quote + mask_line(rest))
    return "\n".join(out)
