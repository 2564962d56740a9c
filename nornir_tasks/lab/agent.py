"""Listener, prober, sniffer and packet crafter the lab runs inside each namespace
(standard library only).

Started as ``ip netns exec NS python -m nornir_tasks.lab.agent --listen tcp:ADDR:PORT ...``.
It binds every listener (TCP: echo what the client sends; UDP: echo the datagram from the
port it arrived on, so the reply's source port is the service port, as a real server's
would be), prints one JSON line ``{"ready": true}``, then answers one request per line on
stdin with one JSON line on stdout. EOF ends it.

* ``{"probes": [...]}`` -> ``{"results": [...]}`` when every probe has finished (each is
  bounded by its own timeout). A probe ``reached`` its destination when the exchange came
  back: an echo reply, a TCP handshake, a UDP answer -- or a refusal (RST, ICMP port
  unreachable), which also proves the policy let the packets through both ways. A
  one-way probe only sends: its receiver reports it (``oneway`` below).
* ``{"oneway": true}`` -> ``{"ids": [...]}``: the one-way probes that arrived here.
* ``{"listen": [...]}`` / ``{"close": [[proto, port], ...]}``: add or drop listeners (a
  real daemon takes a port over after the matrix probes).
* ``{"sniff": "start" | "collect" | "stop"}``: a packet socket on eth0 records the ids of
  the adversarial probes that arrive; ``collect``/``stop`` return them (and the frames the
  kernel dropped for a full buffer).
* ``{"flood": {"rate": R, "packets": [[id, proto, src, dst, sport, dport], ...]}}`` ->
  ``{"sent": n, "errors": k}``: crafted probes (:mod:`nornir_tasks.lab.rawpkt`), R per
  second in small bursts.

One thread and one selector serve the listeners, the sniffer and all probes at once: the
lab runs thousands of probes in parallel across dozens of namespaces, and a thread per
probe (or a raw ICMP socket per ping, each woken by every ICMP packet in the namespace)
would saturate a small CI machine until allowed flows time out.
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

from nornir_tasks.lab import rawpkt

IP_FREEBIND = 15  # bind before the address is configured; Linux value (socket.h)
FIRST_RESEND = 0.2  # ICMP/UDP retransmission after 0.2 s, then doubling: 0.2, 0.6, 1.4 ...
IDLE_CONN = 3.0  # an accepted TCP connection that sends nothing is closed after this
ONEWAY = b"OW"  # a one-way probe's payload: this, its id, two random bytes
ECHO = b"EC"  # an echoed probe's payload: this and six random bytes
FLOOD_BURST = 4  # crafted probes sent back to back before the pacing looks at the clock
ONEWAY_SENDS = 3  # a one-way probe is sent this often (0, 0.2, 0.6 s) and then done

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
        self.sport = int(spec["sport"]) if spec.get("sport") is not None else 0
        self.oneway = bool(spec.get("oneway"))
        self.start = now
        self.deadline = now + float(spec["timeout"])
        self.next_send = now
        self.backoff = FIRST_RESEND
        self.sent = 0
        # a one-way token names the probe for its receiver; an echoed one never looks
        # like a one-way token
        self.token = (ONEWAY + struct.pack("!I", self.id) + os.urandom(2) if self.oneway
                      else ECHO + os.urandom(6))
        self.sock: socket.socket | None = None
        self.connected = False
        self.result: dict[str, Any] | None = None

    def finish(self, reached: bool, detail: str, now: float) -> None:
        if self.result is None:
            self.result = {"id": self.id, "reached": reached, "detail": detail,
                           "ms": round(1000 * (now - self.start), 1)}


class Flood:
    """Crafted probes being sent at a fixed rate (one ``flood`` request)."""

    def __init__(self, packets: list[list[Any]], rate: float, now: float) -> None:
        self.packets = packets
        self.rate = max(1.0, rate)
        self.start = now
        self.sent = 0
        self.errors = 0
        self.socks: dict[tuple[str, str], socket.socket] = {}

    def due(self, now: float) -> float:
        """Send what the rate allows by ``now``; returns when the next burst is due."""
        allowed = min(len(self.packets), int((now - self.start) * self.rate) + FLOOD_BURST)
        while self.sent < allowed:
            ident, proto, src, dst, sport, dport = self.packets[self.sent]
            self.sent += 1
            try:
                s = self.socks.get((proto, src))
                if s is None:
                    s = self.socks[(proto, src)] = rawpkt.raw_socket(proto, src)
                s.sendto(rawpkt.segment(proto, src, dst, sport, dport, ident), (dst, 0))
            except OSError:
                self.errors += 1  # counted and reported: the runner resends what is unseen
        return self.start + (self.sent + 1) / self.rate

    @property
    def done(self) -> bool:
        return self.sent >= len(self.packets)

    def close(self) -> None:
        for s in self.socks.values():
            s.close()


class Agent:
    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.icmp: dict[str, socket.socket] = {}  # one raw socket per source address
        self.pings: dict[int, Probe] = {}  # by ICMP identifier
        self.active: list[Probe] = []
        self.pending: list[tuple[float, dict[str, Any]]] = []  # (start time, spec)
        self.conns: dict[socket.socket, float] = {}  # accepted TCP -> idle deadline
        self.listeners: dict[tuple[str, str, int], socket.socket] = {}
        self.oneway: set[int] = set()  # one-way probes that arrived here
        self.sniff: socket.socket | None = None
        self.seen: set[int] = set()  # adversarial probes the sniffer saw
        self.sniff_drops = 0
        self.flood: Flood | None = None
        self.stdin_buf = b""
        self.eof = False

    # ------------------------------------------------------------------ listeners
    def listen(self, spec: str) -> None:
        proto, addr, port = spec.split(":")
        if (proto, addr, int(port)) in self.listeners:
            return
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
        self.listeners[(proto, addr, int(port))] = s

    def close_listeners(self, which: list[list[Any]]) -> int:
        """Drop every listener on these (proto, port), whatever its address."""
        wanted = {(str(p), int(n)) for p, n in which}
        closed = 0
        for key in [k for k in self.listeners if (k[0], k[2]) in wanted]:
            s = self.listeners.pop(key)
            self.sel.unregister(s)
            s.close()
            closed += 1
        return closed

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
                if data[:2] == ONEWAY and len(data) >= 6:
                    self.oneway.add(struct.unpack("!I", data[2:6])[0])
                    continue  # a one-way flow has no reply
                s.sendto(data, peer)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue

    # ------------------------------------------------------------------ sniffer
    def _sniff_start(self) -> None:
        if self.sniff is None:
            self.sniff = rawpkt.sniffer()
            rawpkt.drops(self.sniff)  # reset the kernel's counter
            self.sel.register(self.sniff, selectors.EVENT_READ, lambda _ev: self._sniff_read())

    def _sniff_read(self) -> None:
        assert self.sniff is not None
        buf = bytearray(256)
        for _ in range(4096):  # bounded per wake-up: the flood must keep its pace
            try:
                n, addr = self.sniff.recvfrom_into(buf)
            except (BlockingIOError, InterruptedError):
                return
            if addr[2] == rawpkt.PACKET_OUTGOING:
                continue
            ident = rawpkt.probe_id(bytes(buf[:n]))
            if ident is not None:
                self.seen.add(ident)

    def _sniff_collect(self, stop: bool) -> dict[str, Any]:
        if self.sniff is not None:
            self._sniff_read()
            self.sniff_drops += rawpkt.drops(self.sniff)
        out = {"seen": sorted(self.seen), "drops": self.sniff_drops}
        self.seen = set()
        self.sniff_drops = 0
        if stop and self.sniff is not None:
            self.sel.unregister(self.sniff)
            self.sniff.close()
            self.sniff = None
        return out

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
                # a fixed source port (DHCP 68, NTP 123) may be shared by several probes:
                # each socket is connected, so each gets its own peer's answers
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((p.src, p.sport))
                s.connect((p.dst, p.port or 0))  # only dst:port's answer is accepted
                self.sel.register(s, selectors.EVENT_READ, lambda _ev: self._udp_read(p))
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                p.sock = s
                s.setblocking(False)
                if p.sport:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((p.src, p.sport))
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
            if p.result is None and p.oneway and p.sent >= ONEWAY_SENDS:
                # nothing comes back: the receiver reports whether it arrived
                p.finish(False, f"sent {p.sent} times (one-way)", now)
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
                p.sent += 1
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

    def _request(self, req: dict[str, Any], now: float) -> set[int] | None:
        """Answer a request at once, or start a long one (probes: their ids; a flood:
        an empty set) whose answer comes when it is done."""
        if "probes" in req:
            specs = req["probes"]
            # paced: the runner spreads the starts so the lab never sends its thousands
            # of first packets in one burst (drops on the veths)
            self.pending = sorted(((now + float(sp.get("delay", 0.0)), sp) for sp in specs),
                                  key=lambda item: item[0])
            return {int(sp["id"]) for sp in specs}
        if "flood" in req:
            self.flood = Flood(req["flood"]["packets"], float(req["flood"]["rate"]), now)
            return set()
        if "oneway" in req:
            _reply({"ids": sorted(self.oneway)})
            self.oneway = set()
        elif "listen" in req:
            try:
                for spec in req["listen"]:
                    self.listen(spec)
                _reply({"ok": True})
            except OSError as exc:
                _reply({"ok": False, "error": str(exc)})
        elif "close" in req:
            _reply({"ok": True, "closed": self.close_listeners(req["close"])})
        elif req.get("sniff") == "start":
            self._sniff_start()
            _reply({"ok": True})
        elif req.get("sniff") in ("collect", "stop"):
            _reply(self._sniff_collect(req["sniff"] == "stop"))
        else:
            _reply({"error": f"unknown request {sorted(req)}"})
        return None

    def run(self) -> int:
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, self._stdin)
        batch_ids: set[int] | None = None
        done: list[Probe] = []
        while not self.eof or self.active or self.pending or self.flood:
            now = time.monotonic()
            if batch_ids is None and b"\n" in self.stdin_buf:
                line, self.stdin_buf = self.stdin_buf.split(b"\n", 1)
                if line.strip():
                    batch_ids = self._request(json.loads(line), now)
                continue
            while self.pending and self.pending[0][0] <= now:
                self.start(self.pending.pop(0)[1], now)
            wake = self._tick(now, done)
            if self.pending:
                wake = min(wake, self.pending[0][0])
            if self.flood is not None:
                wake = min(wake, self.flood.due(now))
                if self.flood.done:
                    _reply({"sent": self.flood.sent, "errors": self.flood.errors})
                    self.flood.close()
                    self.flood, batch_ids = None, None
                    continue
            elif batch_ids is not None and not self.pending and not self.active:
                _reply({"results": [p.result for p in done if p.id in batch_ids]})
                batch_ids, done = None, []
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
