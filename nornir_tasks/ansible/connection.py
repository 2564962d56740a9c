"""Connection variables for each device, from one place: the ``fellesnett`` vars plugin.

Every device that gets a config speaks ``ansible.netcommon.network_cli`` with
``cisco.ios.ios`` (IOS-XE switches and the 9800 controller). Logins for real devices come
from ``FELLESNETT_USERNAME`` / ``FELLESNETT_PASSWORD`` when set.

With ``FELLESNETT_SIM=1`` the devices are the simulators of ``fellesnett sim start``: the
state file (``$FELLESNETT_SIM_DIR/state.json``, default ``.fellesnett/sim`` beside the
inventory) gives each host its 127.0.0.1 port and the login. Only ``ansible_host``,
``ansible_port``, the login and host-key checking are overridden; the data still comes
from the inventory. A device with no simulator is pointed at nothing (127.0.0.1, port 9)
and flagged, so the roles stop it with a clear message instead of touching a real address.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir_tasks.ansible import AnsibleInputError

CONFIG_ROLES = frozenset({"core", "distribution", "access", "wlc"})
SIM_ENV = "FELLESNETT_SIM"
DISCARD_PORT = 9


@dataclass(frozen=True)
class SimLogins:
    state_dir: Path
    username: str
    password: str
    ports: Mapping[str, tuple[str, int]]


_SIM_CACHE: dict[Path, tuple[int, SimLogins]] = {}


def sim_enabled(env: Mapping[str, str]) -> bool:
    return env.get(SIM_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def sim_state_dir(env: Mapping[str, str], base: Path) -> Path:
    """``$FELLESNETT_SIM_DIR``, else ``.fellesnett/sim`` beside the inventory directory."""
    value = env.get("FELLESNETT_SIM_DIR")
    return Path(value).resolve() if value else (base / ".fellesnett" / "sim").resolve()


def sim_logins(state_dir: Path) -> SimLogins:
    """The running simulators (cached while state.json is unchanged)."""
    from nornir_tasks.errors import UsageError
    from nornir_tasks.sim.manager import STATE, load_state

    try:
        mtime = (state_dir / STATE).stat().st_mtime_ns
    except OSError:
        mtime = -1
    cached = _SIM_CACHE.get(state_dir)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    try:
        state = load_state(state_dir)
    except UsageError as exc:
        raise AnsibleInputError(f"{SIM_ENV}=1: {exc}") from None
    ports = {h: (str(v.get("host", "127.0.0.1")), int(v["port"])) for h, v in state.hosts.items()}
    logins = SimLogins(state_dir, state.username, state.password, ports)
    _SIM_CACHE[state_dir] = (mtime, logins)
    return logins


def host_vars(host: str, role: Any, base: Path, env: Mapping[str, str] | None = None
              ) -> dict[str, Any]:
    """Connection variables of one inventory host (nothing for access points)."""
    env = os.environ if env is None else env
    if str(role) not in CONFIG_ROLES:
        return {}
    out: dict[str, Any] = {
        "ansible_connection": "ansible.netcommon.network_cli",
        "ansible_network_os": "cisco.ios.ios",
        "ansible_network_cli_ssh_type": "libssh",
        "ansible_become": False,
    }
    if not sim_enabled(env):
        if env.get("FELLESNETT_USERNAME"):
            out["ansible_user"] = env["FELLESNETT_USERNAME"]
        if env.get("FELLESNETT_PASSWORD"):
            out["ansible_password"] = env["FELLESNETT_PASSWORD"]
        return out
    logins = sim_logins(sim_state_dir(env, base))
    target = logins.ports.get(host)
    out.update({
        "fellesnett_sim": True,
        "fellesnett_sim_dir": str(logins.state_dir),
        "ansible_user": logins.username,
        "ansible_password": logins.password,
        # the simulators make a fresh host key per state directory
        "ansible_host_key_checking": False,
    })
    if target is None:
        out.update({"ansible_host": "127.0.0.1", "ansible_port": DISCARD_PORT,
                    "fellesnett_sim_missing": True})
    else:
        out.update({"ansible_host": target[0], "ansible_port": target[1],
                    "fellesnett_sim_missing": False})
    return out
