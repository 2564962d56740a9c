"""Per-device fault plan, kept in ``STATE_DIR/faults.json`` so tests can change it live.

``{hostname: {fault: value, ...}}``. Faults: ``refuse_login``, ``down``,
``reject_line`` (regex), ``drop_after_lines`` (N), ``hang_after_lines`` (N),
``times`` (K: fire in at most K sessions, then disarm; the count is persisted) and
``software`` (the release ``show version`` reports instead of the inventory's).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> set_fault(d, "sw1", reject_line="^vlan 999$", times=1)
>>> read_faults(d)["sw1"]["reject_line"]
'^vlan 999$'
>>> consume(d, "sw1")
>>> read_faults(d)
{}
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError

FAULTS = frozenset({"refuse_login", "down", "reject_line", "drop_after_lines",
                    "hang_after_lines", "times", "software"})
_FILE = "faults.json"


@contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "faults.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_faults(state_dir: Path) -> dict[str, dict[str, Any]]:
    """The whole fault plan (empty when there is none)."""
    try:
        data = json.loads((state_dir / _FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(state_dir: Path, data: dict[str, dict[str, Any]]) -> None:
    tmp = state_dir / f".{_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, state_dir / _FILE)


def set_fault(state_dir: Path, host: str, **fault: Any) -> None:
    """Arm faults on ``host`` (merged with those already set)."""
    unknown = set(fault) - FAULTS
    if unknown:
        raise UsageError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(FAULTS)}")
    with _locked(state_dir):
        data = read_faults(state_dir)
        data.setdefault(host, {}).update(fault)
        _write(state_dir, data)


def clear_faults(state_dir: Path, host: str | None = None) -> None:
    """Disarm the faults of ``host``, or of every device."""
    with _locked(state_dir):
        data = read_faults(state_dir)
        if host is None:
            data = {}
        else:
            data.pop(host, None)
        _write(state_dir, data)


def consume(state_dir: Path, host: str) -> None:
    """Record that the faults of ``host`` fired in one session (honours ``times``)."""
    with _locked(state_dir):
        data = read_faults(state_dir)
        fault = data.get(host)
        if not fault or "times" not in fault:
            return
        fault["times"] = int(fault["times"]) - 1
        if fault["times"] <= 0:
            del data[host]
        _write(state_dir, data)


class FaultView:
    """Cheap repeated reads of the plan: re-parse only when the file changed."""

    def __init__(self, state_dir: Path | None) -> None:
        self.state_dir = state_dir
        self._stamp: tuple[int, int, int] | None = None
        self._data: dict[str, dict[str, Any]] = {}

    def get(self, host: str) -> dict[str, Any]:
        if self.state_dir is None:
            return {}
        try:
            st = os.stat(self.state_dir / _FILE)
        except OSError:
            self._stamp, self._data = None, {}
            return {}
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp != self._stamp:
            self._stamp, self._data = stamp, read_faults(self.state_dir)
        return dict(self._data.get(host, {}))
