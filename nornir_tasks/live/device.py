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
    out = []
    for part in segments(commands):
        names = [c.split()[1] for c in part if c.startswith("hostname ") and len(c.split()) > 1]
        out.append(str(netmiko.send_config_set(part, error_pattern=CONFIG_ERROR,
                                               read_timeout=read_timeout,
                                               exit_config_mode=not names)))
        if names:
            # the prompt carries the host name: netmiko must look for the new one
            netmiko.base_prompt = names[-1]
            out.append(str(netmiko.exit_config_mode()))
    return "".join(out)


def segments(commands: list[str]) -> list[list[str]]:
    """The commands as netmiko sends them: one line per element, a banner in a call of
    its own.

    A banner arrives as one command with its text inside; IOS takes the text line by line
    until the delimiter comes back, and netmiko checks the echo line by line. netmiko
    also sends a whole call slowly (by timing, about half a second a line) as soon as it
    holds a banner, so the banner goes alone and the hundreds of other lines at speed.

    >>> segments(["hostname a", "banner motd ^C\\nHei\\n^C", "ntp server 10.0.0.1"])
    [['hostname a'], ['banner motd ^C', 'Hei', '^C'], ['ntp server 10.0.0.1']]
    """
    out: list[list[str]] = []
    run: list[str] = []
    for command in commands:
        if command.startswith("banner ") or "\n" in command:
            if run:
                out.append(run)
                run = []
            out.append(command.split("\n"))
        else:
            run.append(command)
    if run:
        out.append(run)
    return out


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
