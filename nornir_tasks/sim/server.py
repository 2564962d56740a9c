"""SSH transport for many simulated devices in one process (paramiko, 127.0.0.1 only).

fakenos' paramiko server echoes byte by byte with a 10 ms sleep per byte and waits for
a shell reply before reading on; a 4,000-line push would take minutes. This server
keeps fakenos' model (one paramiko transport per connection, a shell per session) but
moves whole lines, and serves every device's listening socket from one accept thread.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time

import paramiko  # type: ignore[import-untyped]

from nornir_tasks.sim import faults
from nornir_tasks.sim.shell import CliSession, Device, DropConnection, Hang, new_session

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


class _Auth(paramiko.ServerInterface):  # type: ignore[misc]
    def __init__(self, device: Device, username: str, password: str) -> None:
        self.device, self.username, self.password = device, username, password
        self.shell = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        host = self.device.spec.hostname
        if self.device.faults.get(host).get("refuse_login"):
            if self.device.state_dir is not None:
                faults.consume(self.device.state_dir, host)
            return int(paramiko.AUTH_FAILED)
        if username == self.username and password == self.password:
            return int(paramiko.AUTH_SUCCESSFUL)
        return int(paramiko.AUTH_FAILED)

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return int(paramiko.OPEN_SUCCEEDED)
        return int(paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED)

    def check_channel_pty_request(self, *args: object) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.shell.set()
        return True


class SimServer:
    """Listening sockets for ``devices``; :meth:`serve_forever` accepts and serves."""

    def __init__(self, devices: list[Device], username: str, password: str,
                 host_key: paramiko.PKey) -> None:
        self.username, self.password, self.host_key = username, password, host_key
        self.selector = selectors.DefaultSelector()
        self.ports: dict[str, int] = {}
        self._stop = threading.Event()
        for device in devices:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, 0))  # the kernel picks a free port: no ranges to collide
            sock.listen(128)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, device)
            self.ports[device.spec.hostname] = sock.getsockname()[1]

    def stop(self) -> None:
        self._stop.set()

    def serve_forever(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.5):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    conn, _addr = sock.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(True)
                threading.Thread(target=self._serve, args=(conn, key.data),
                                 daemon=True).start()

    def _serve(self, conn: socket.socket, device: Device) -> None:
        host = device.spec.hostname
        if device.faults.get(host).get("down"):
            if device.state_dir is not None:
                faults.consume(device.state_dir, host)
            conn.close()
            return
        transport = paramiko.Transport(conn)
        transport.add_server_key(self.host_key)
        iface = _Auth(device, self.username, self.password)
        try:
            transport.start_server(server=iface)
            chan = transport.accept(30)
            if chan is None:
                return
            iface.shell.wait(10)
            if _run_session(chan, new_session(device)):
                # a polite end (`exit`): let the client close first, as IOS does, so it
                # does not see a reset
                chan.send_exit_status(0)
                chan.close()
                deadline = time.monotonic() + 2
                while transport.is_active() and time.monotonic() < deadline:
                    time.sleep(0.02)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.debug("%s: session ended: %s", host, exc)
        finally:
            transport.close()


def _run_session(chan: paramiko.Channel, session: CliSession) -> bool:
    """Serve one session; True when it ended politely (exit/EOF), False on a fault."""
    try:
        session.on_login()
        chan.sendall(b"\r\n" + session.prompt().encode())
        buf = ""
        skip_lf = False
        while True:
            data = chan.recv(65536)
            if not data:
                return True
            text = data.decode("utf-8", errors="replace")
            if skip_lf and text.startswith("\n"):
                text = text[1:]
            skip_lf = False
            buf += text
            while True:
                cut = min((i for i in (buf.find("\r"), buf.find("\n")) if i >= 0), default=-1)
                if cut < 0:
                    break
                line, sep, buf = buf[:cut], buf[cut], buf[cut + 1:]
                if sep == "\r":
                    if buf.startswith("\n"):
                        buf = buf[1:]
                    elif not buf:
                        skip_lf = True
                out = session.handle(line)
                reply = line + "\r\n" + out.replace("\n", "\r\n")
                if session.closed:
                    chan.sendall(reply.encode())
                    return True
                chan.sendall((reply + session.prompt()).encode())
    except DropConnection:
        return False
    except Hang:
        # read and ignore until the client gives up
        while chan.recv(65536):
            pass
        return False
