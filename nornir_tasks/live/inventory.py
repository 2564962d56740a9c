"""Nornir inventory read from ``inventory/`` itself: the same intent the build renders from.

Every device that gets a config (switches and the controller; access points are run by the
controller) becomes a Nornir host with its groups from the intent (site, site kind, role).
The address is the device's ``ansible_host``; with ``--sim`` it is the simulator's
127.0.0.1 port recorded by ``fellesnett sim start``. Credentials come from the environment
(``FELLESNETT_USERNAME`` / ``FELLESNETT_PASSWORD``) or, for simulators, their state file —
never from the repository.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)
from nornir.core.plugins.inventory import InventoryPluginRegister

from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import Intent

PLUGIN_NAME = "FellesnettInventory"
NAPALM_PLATFORM = "ios"


@dataclass(frozen=True)
class Timeouts:
    """Seconds; short values let tests prove a hung device is given up on quickly."""

    connect: float = 10.0
    command: float = 60.0


@dataclass(frozen=True)
class Target:
    address: str
    port: int


@dataclass(frozen=True)
class Access:
    """Where and as whom to log in, for each host."""

    username: str
    password: str
    targets: Mapping[str, Target]


def sim_access(state_dir: Path | None = None) -> Access:
    """Logins of the running simulators, from the state file ``fellesnett sim start`` wrote."""
    from nornir_tasks.sim.cli import default_state_dir
    from nornir_tasks.sim.manager import load_state

    state = load_state(state_dir or default_state_dir())
    targets = {h: Target(str(v.get("host", "127.0.0.1")), int(v["port"]))
               for h, v in state.hosts.items()}
    return Access(state.username, state.password, targets)


def device_access(intent: Intent, hosts: list[str], env: Mapping[str, str] | None = None
                  ) -> Access:
    """Logins of the real devices: management addresses; credentials from the environment
    (``FELLESNETT_USERNAME`` / ``FELLESNETT_PASSWORD``) or the vault (``device_username`` /
    ``device_password``)."""
    from nornir_tasks.live.secrets import SecretStore

    env = os.environ if env is None else env
    username, password = env.get("FELLESNETT_USERNAME"), env.get("FELLESNETT_PASSWORD")
    if (not username or not password) and env.get("FELLESNETT_VAULT"):
        vault = SecretStore(env)
        username = username or vault.lookup("device_username")
        password = password or vault.lookup("device_password")
    if not username or not password:
        raise UsageError("no device login: set FELLESNETT_USERNAME and FELLESNETT_PASSWORD, or "
                         "device_username/device_password in the vault named by "
                         "FELLESNETT_VAULT, or use --sim to work against the simulators")
    targets = {}
    for h in hosts:
        addr = intent.devices[h].ansible_host
        if addr is None:
            raise UsageError(f"{h}: no ansible_host in the inventory, so no address to log in to")
        targets[h] = Target(str(addr), 22)
    return Access(username, password, targets)


def build_inventory(intent: Intent, hosts: list[str], access: Access,
                    timeouts: Timeouts = Timeouts()) -> Inventory:
    missing = [h for h in hosts if h not in access.targets]
    if missing:
        raise UsageError(f"--sim: no simulator for {len(missing)} selected host(s), e.g. "
                         f"{missing[0]}; restart `fellesnett sim start` with a wider --limit")
    selected = set(hosts)
    groups = Groups()
    for name, members in sorted(intent.groups.items()):
        if name != "all" and members & selected:
            groups[name] = Group(name)
    inv_hosts = Hosts()
    for h in hosts:
        device, target = intent.devices[h], access.targets[h]
        member_of = [groups[g] for g, m in sorted(intent.groups.items()) if g in groups and h in m]
        inv_hosts[h] = Host(
            name=h,
            hostname=target.address,
            port=target.port,
            username=access.username,
            password=access.password,
            platform=NAPALM_PLATFORM,
            groups=ParentGroups(member_of),
            data={"role": device.role.value, "site": intent.device_site[h],
                  "model": device.model},
            # each host its own dict: nornir_napalm writes the port into optional_args
            connection_options={"napalm": ConnectionOptions(extras={
                "timeout": timeouts.connect,
                "optional_args": {
                    "port": target.port,
                    "conn_timeout": timeouts.connect,
                    "auth_timeout": timeouts.connect,
                    "banner_timeout": timeouts.connect,
                    "read_timeout_override": timeouts.command,
                    "fast_cli": True,
                },
            })},
        )
    return Inventory(hosts=inv_hosts, groups=groups, defaults=Defaults())


class FellesnettInventory:
    """Nornir inventory plugin: ``InitNornir(inventory={"plugin": "FellesnettInventory", ...})``."""

    def __init__(self, intent: Intent, hosts: list[str], access: Access,
                 timeouts: Timeouts = Timeouts(), **_: Any) -> None:
        self.intent, self.hosts, self.access, self.timeouts = intent, hosts, access, timeouts

    def load(self) -> Inventory:
        return build_inventory(self.intent, self.hosts, self.access, self.timeouts)


InventoryPluginRegister.register(PLUGIN_NAME, FellesnettInventory)
