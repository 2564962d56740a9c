"""Listener and prober the lab runs inside each namespace (standard library only).

Started as ``ip netns exec NS python -m nornir_tasks.lab.agent --listen tcp:ADDR:PORT ...``.
It binds every listener (TCP: echo what the client sends; UDP: echo the datagram from the
port it arrived on, so the reply's source port is the service port, as a real server's
would be), prints one JSON line ``{"ready": true}``, then answers requests: one JSON line
``{"probes": [...]}`` on stdin -> one JSON line ``{"results": [...]}`` on stdout, when
every probe of the request has finished (each is bounded by its own timeout). EOF ends it.

A probe ``reached`` its destination when the exchange came back: an echo reply, a TCP
handshake, a UDP answer -- or a refusal (RST, ICMP port unreachable), which also proves
the policy let the packets through both ways.

One thread and one selector serve the listeners and all probes at once: the lab runs
thousands of probes in parallel across dozens of namespaces, and a thread per probe (or a
raw ICMP socket per ping, each woken by every ICMP packet in the namespace) would saturate
a small CI machine until allowed flows time out.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import selectors
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

IP_FREEBIND = 15  # bind before the address is configured; Linux value (socket.h)
FIRST_RESEND = 0.2  # ICMP/UDP retransmission after 0.2 s, then doubling: 0.2, 0.6, 1.4 ...
IDLE_CONN = 3.0  # an accepted TCP connection that sends nothing is closed after this

Handler = Callable[[int], None]


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, seq: int, payload: bytes) -> bytes:
    """An ICMP echo request with a valid checksum.

    >>> packet = echo_request(1, 1, b"abcd")
    >>> packet[0], _checksum(packet)
    (8, 0)
    """
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload


class Probe:
    """One probe in flight: finished once ``result`` is set."""

    def __init__(self, spec: dict[str, Any], now: float) -> None:
        self.id = int(spec["id"])
        self.proto = str(spec["proto"])
        self.src, self.dst = str(spec["src"]), str(spec["dst"])
        self.port = int(spec["port"]) if spec.get("port") is not None else None
        self.start = now
        self.deadline = now + float(spec["timeout"])
        self.next_send = now
        self.backoff = FIRST_RESEND
        self.sent = 0
        self.token = os.urandom(8)
        self.sock: socket.socket | None = None
        self.connected = False
        self.result: dict[str, Any] | None = None

    def finish(self, reached: bool, detail: str, now: float) -> None:
        if self.result is None:
            self.result = {"id": self.id, "reached": reached, "detail": detail,
                           "ms": round(1000 * (now - self.start), 1)}


class Agent:
    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.icmp: dict[str, socket.socket] = {}  # one raw socket per source address
        self.pings: dict[int, Probe] = {}  # by ICMP identifier
        self.active: list[Probe] = []
        self.pending: list[tuple[float, dict[str, Any]]] = []  # (start time, spec)
        self.conns: dict[socket.socket, float] = {}  # accepted TCP -> idle deadline
        self.stdin_buf = b""
        self.eof = False

    # ------------------------------------------------------------------ listeners
    def listen(self, spec: str) -> None:
        proto, addr, port = spec.split(":")
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(socket.AF_INET, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        s.bind((addr, int(port)))
        s.setblocking(False)
        if proto == "tcp":
            s.listen(1024)
            self.sel.register(s, selectors.EVENT_READ, lambda _ev: self._accept(s))
        else:
            self.sel.register(s, selectors.EVENT_READ, lambda _ev: self._udp_echo(s))

    def _accept(self, s: socket.socket) -> None:
        while True:
            try:
                conn, _ = s.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            conn.setblocking(False)
            self.conns[conn] = time.monotonic() + IDLE_CONN
            self.sel.register(conn, selectors.EVENT_READ, lambda _ev, c=conn: self._echo(c))

    def _echo(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            data = conn.recv(64)
            if data:
                conn.send(data)
        self._drop_conn(conn)

    def _drop_conn(self, conn: socket.socket) -> None:
        self.conns.pop(conn, None)
        self.sel.unregister(conn)
        conn.close()

    def _udp_echo(self, s: socket.socket) -> None:
        for _ in range(64):  # drain what has arrived, a bounded amount per wake-up
            try:
                data, peer = s.recvfrom(2048)
                s.sendto(data, peer)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue

    # ------------------------------------------------------------------ probes
    def start(self, spec: dict[str, Any], now: float) -> None:
        p = Probe(spec, now)
        self.active.append(p)
        try:
            if p.proto == "icmp":
                self._icmp_socket(p.src)
                self.pings[p.id & 0xFFFF] = p
            elif p.proto == "udp":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                p.sock = s
                s.setblocking(False)
                s.bind((p.src, 0))
                s.connect((p.dst, p.port or 0))  # only dst:port's answer is accepted
                self.sel.register(s, selectors.EVENT_READ, lambda _ev: self._udp_read(p))
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                p.sock = s
                s.setblocking(False)
                s.bind((p.src, 0))
                code = s.connect_ex((p.dst, p.port or 0))
                if code not in (0, errno.EINPROGRESS):
                    p.finish(False, os.strerror(code), now)
                    return
                self.sel.register(s, selectors.EVENT_WRITE, lambda ev: self._tcp_event(p, ev))
        except OSError as exc:
            p.finish(False, f"error: {exc}", now)

    def _icmp_socket(self, src: str) -> None:
        if src in self.icmp:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.bind((src, 0))
        s.setblocking(False)
        self.icmp[src] = s
        self.sel.register(s, selectors.EVENT_READ, lambda _ev: self._icmp_read(s))

    def _icmp_read(self, s: socket.socket) -> None:
        now = time.monotonic()
        for _ in range(256):
            try:
                data, addr = s.recvfrom(2048)
            except (BlockingIOError, InterruptedError):
                return
            icmp = data[(data[0] & 0x0F) * 4:]
            if len(icmp) < 16 or icmp[0] != 0:  # echo replies only
                continue
            p = self.pings.get(struct.unpack("!H", icmp[4:6])[0])
            if p is not None and addr[0] == p.dst and icmp[8:16] == p.token:
                p.finish(True, "echo-reply", now)

    def _udp_read(self, p: Probe) -> None:
        assert p.sock is not None
        now = time.monotonic()
        try:
            if p.sock.recv(64) == p.token:
                p.finish(True, "answered", now)
        except ConnectionRefusedError:
            p.finish(True, "refused (port unreachable came back)", now)
        except OSError:
            pass

    def _tcp_event(self, p: Probe, _events: int) -> None:
        assert p.sock is not None
        now = time.monotonic()
        if not p.connected:
            code = p.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == errno.ECONNREFUSED:
                p.finish(True, "refused (RST came back)", now)
            elif code:
                p.finish(False, os.strerror(code), now)
            else:
                p.connected = True
                try:
                    p.sock.send(p.token)
                except OSError as exc:
                    p.finish(True, f"connected, send failed ({exc.strerror})", now)
                    return
                self.sel.modify(p.sock, selectors.EVENT_READ, lambda ev: self._tcp_event(p, ev))
            return
        try:
            echoed = p.sock.recv(64)
        except OSError as exc:
            p.finish(True, f"connected, no echo ({exc.strerror})", now)
            return
        p.finish(True, "connected" if echoed == p.token else "connected, echo differs", now)

    def _tick(self, now: float, done: list[Probe]) -> float:
        """Resend what is due, expire what is late (moved to ``done``); returns the next
        time to wake up."""
        wake = now + 1.0
        still = []
        for p in self.active:
            if p.result is None and now >= p.deadline:
                p.finish(p.connected, "connected, no echo" if p.connected else "timeout", now)
            if p.result is not None:
                self._close(p)
                done.append(p)
                continue
            if p.proto in ("icmp", "udp") and now >= p.next_send:
                self._send(p, now)
            wake = min(wake, p.deadline, p.next_send if p.proto != "tcp" else p.deadline)
            still.append(p)
        self.active = still
        for conn, idle in list(self.conns.items()):
            if now >= idle:
                self._drop_conn(conn)
        return wake

    def _send(self, p: Probe, now: float) -> None:
        try:
            if p.proto == "icmp":
                p.sent += 1
                self.icmp[p.src].sendto(echo_request(p.id & 0xFFFF, p.sent, p.token),
                                        (p.dst, 0))
            elif p.sock is not None:
                p.sock.send(p.token)
        except ConnectionRefusedError:
            p.finish(True, "refused (port unreachable came back)", now)
        except (BlockingIOError, InterruptedError):
            pass  # a full queue: the next resend tries again
        except OSError as exc:
            p.finish(False, f"error: {exc.strerror}", now)
        p.next_send = now + p.backoff
        p.backoff *= 2

    def _close(self, p: Probe) -> None:
        if p.proto == "icmp":
            self.pings.pop(p.id & 0xFFFF, None)
        if p.sock is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(p.sock)
            p.sock.close()
            p.sock = None

    # ------------------------------------------------------------------ the loop
    def _stdin(self, _ev: int) -> None:
        chunk = os.read(sys.stdin.fileno(), 1 << 20)
        if not chunk:
            self.eof = True
            return
        self.stdin_buf += chunk

    def run(self) -> int:
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, self._stdin)
        batch_ids: set[int] = set()
        done: list[Probe] = []
        while not self.eof or self.active or self.pending:
            if not batch_ids and b"\n" in self.stdin_buf:
                line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
                if line.strip():
                    now = time.monotonic()
                    specs = json.loads(line)["probes"]
                    if not specs:
                        _reply({"results": []})
                        continue
                    # paced: the runner spreads the starts so the lab never sends its
                    # thousands of first packets in one burst (drops on the veths)
                    self.pending = sorted(((now + float(sp.get("delay", 0.0)), sp)
                                           for sp in specs), key=lambda item: item[0])
                    batch_ids = {int(sp["id"]) for sp in specs}
            now = time.monotonic()
            while self.pending and self.pending[0][0] <= now:
                self.start(self.pending.pop(0)[1], now)
            wake = self._tick(now, done)
            if self.pending:
                wake = min(wake, self.pending[0][0])
            if batch_ids and not self.pending and not self.active:
                _reply({"results": [p.result for p in done if p.id in batch_ids]})
                batch_ids, done = set(), []
                continue
            for key, events in self.sel.select(max(0.0, wake - time.monotonic())):
                callback: Handler = key.data
                callback(events)
        return 0


def _reply(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nornir_tasks.lab.agent")
    parser.add_argument("--listen", action="append", default=[], metavar="PROTO:ADDR:PORT")
    args = parser.parse_args(argv)
    agent = Agent()
    try:
        for spec in args.listen:
            agent.listen(spec)
    except OSError as exc:
        _reply({"ready": False, "error": f"cannot listen on {spec}: {exc}"})
        return 3
    _reply({"ready": True, "listening": len(args.listen)})
    return agent.run()


if __name__ == "__main__":
    raise SystemExit(main())
