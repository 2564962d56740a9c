"""Talking to one device: read with napalm getters, push and save with netmiko.

napalm's IOS driver logs in through netmiko, so the same SSH session serves the getters
(``get_config``) and the pushes (``send_config_set`` on ``driver.device``): one login per
device per run.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from nornir.core.task import Task

# what IOS answers to a line it will not take; netmiko raises ConfigInvalidException on it
CONFIG_ERROR = r"^% (?:Invalid input|Incomplete command|Ambiguous command|Duplicate sequence)"


def connection(task: Task) -> Any:
    return task.host.get_connection("napalm", task.nornir.config)


def drop_connection(task: Task) -> None:
    """Forget the session (after a failure the channel may be mid-command or dead)."""
    conn = task.host.connections.pop("napalm", None)
    if conn is None:
        return
    try:
        sock = conn.connection.device.remote_conn.get_transport().sock
        sock.shutdown(socket.SHUT_RDWR)  # wakes a reader blocked on a hung peer
    except Exception:  # noqa: BLE001,S110 - best effort on a connection already broken
        pass
    with contextlib.suppress(Exception):
        conn.close()


def read_running(task: Task) -> str:
    config = connection(task).get_config(retrieve="running")
    return str(config["running"])


def push(task: Task, commands: list[str], read_timeout: float) -> str:
    netmiko = connection(task).device
    return str(netmiko.send_config_set(commands, error_pattern=CONFIG_ERROR,
                                       read_timeout=read_timeout))


def save(task: Task) -> None:
    connection(task).device.save_config()


def describe(exc: BaseException) -> str:
    """One line naming what went wrong, without a traceback."""
    name = type(exc).__name__
    known = {
        "NetmikoAuthenticationException": "authentication failed",
        "NetmikoTimeoutException": "no answer (connection timed out)",
        "ReadTimeout": "the device stopped answering (read timed out)",
        "ConnectionException": "cannot connect",
        "ConfigInvalidException": "the device rejected a line",
        "EOFError": "the device closed the connection",
        "SSHException": "SSH session failed",
        "ConnectionRefusedError": "connection refused",
        "ConnectionResetError": "connection reset",
    }
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    if "Socket is closed" in detail or (name == "OSError" and "closed" in detail.lower()):
        return f"the device closed the connection ({detail})"
    what = known.get(name, name)
    return f"{what}: {detail}" if detail and detail not in what else what
