"""Small real clients the lab runs inside a namespace (standard library only).

``python -m nornir_tasks.lab.clients dns --server A --source S --name N --expect E [--tcp]``
  sends a real DNS query (RFC 1035; over TCP with the two-byte length prefix) from S and
  succeeds when the answer for N carries E.
``python -m nornir_tasks.lab.clients udp-echo --server A --port P --source S``
  sends a datagram to A:P from S and succeeds when the same bytes come back from A:P (the
  lab's agent answers from the port it was asked on, as a CAPWAP controller does).

Exit 0 and one line saying what came back, or exit 1 and why not.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time
from collections.abc import Callable

TIMEOUT = 2.0
TRIES = 3


def dns_query(name: str, ident: int) -> bytes:
    """A recursive A query for ``name``.

    >>> dns_query("a.b", 1).hex()
    '000101000001000000000000016101620000010001'
    """
    labels = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.strip(".").split("."))
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\0" + \
        struct.pack("!HH", 1, 1)


def _skip_name(msg: bytes, at: int) -> int:
    while True:
        n = msg[at]
        if n == 0:
            return at + 1
        if n & 0xC0 == 0xC0:  # a compression pointer ends the name
            return at + 2
        at += 1 + n


def dns_answers(msg: bytes, ident: int) -> list[str]:
    """The IPv4 addresses in the answer section of a reply to query ``ident``.

    >>> q = dns_query("a.b", 7)
    >>> reply = bytearray(q)
    >>> reply[2:8] = bytes([0x81, 0x80, 0, 1, 0, 1])
    >>> reply += bytes([0xC0, 12]) + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([10, 11, 0, 11])
    >>> dns_answers(bytes(reply), 7)
    ['10.11.0.11']
    """
    if len(msg) < 12:
        raise ValueError("short DNS message")
    rid, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    if rid != ident or not flags & 0x8000:
        raise ValueError(f"not the reply to query {ident}")
    if flags & 0x000F:
        raise ValueError(f"DNS error rcode {flags & 0x000F}")
    at = 12
    for _ in range(qd):
        at = _skip_name(msg, at) + 4
    out = []
    for _ in range(an):
        at = _skip_name(msg, at)
        rtype, _cls, _ttl, size = struct.unpack("!HHIH", msg[at:at + 10])
        at += 10
        if rtype == 1 and size == 4:
            out.append(socket.inet_ntoa(msg[at:at + 4]))
        at += size
    return out


def _dns(args: argparse.Namespace) -> str:
    ident = int.from_bytes(os.urandom(2), "big")
    query = dns_query(args.name, ident)
    if args.tcp:
        with socket.create_connection((args.server, 53), TIMEOUT,
                                      source_address=(args.source, 0)) as s:
            s.sendall(struct.pack("!H", len(query)) + query)
            data = b""
            while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
                chunk = s.recv(4096)
                if not chunk:
                    raise ValueError("connection closed before the whole answer")
                data += chunk
            reply = data[2:]
    else:
        reply = _udp_exchange(args.source, args.server, 53, query,
                              lambda m: m[:2] == query[:2])
    answers = dns_answers(reply, ident)
    if args.expect not in answers:
        raise ValueError(f"{args.name} answered {answers}, expected {args.expect}")
    return f"{args.name} -> {', '.join(answers)} ({'tcp' if args.tcp else 'udp'})"


def _udp_exchange(source: str, server: str, port: int, payload: bytes,
                  accept: Callable[[bytes], bool]) -> bytes:
    """Send, resend on silence, return the first matching datagram from server:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.connect((server, port))  # only server:port's answers are taken
        s.settimeout(TIMEOUT / TRIES)
        deadline = time.monotonic() + TIMEOUT * TRIES
        while time.monotonic() < deadline:
            s.send(payload)
            try:
                data = s.recv(65535)
            except TimeoutError:
                continue
            if accept(data):
                return data
        raise TimeoutError(f"no answer from {server}:{port}")


def _echo(args: argparse.Namespace) -> str:
    token = b"fellesnett-lab " + os.urandom(8).hex().encode()
    _udp_exchange(args.source, args.server, args.port, token, lambda m: m == token)
    return f"udp/{args.port} echoed by {args.server}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nornir_tasks.lab.clients")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dns")
    d.add_argument("--server", required=True)
    d.add_argument("--source", required=True)
    d.add_argument("--name", required=True)
    d.add_argument("--expect", required=True)
    d.add_argument("--tcp", action="store_true")
    e = sub.add_parser("udp-echo")
    e.add_argument("--server", required=True)
    e.add_argument("--port", type=int, required=True)
    e.add_argument("--source", required=True)
    args = parser.parse_args(argv)
    try:
        print(_dns(args) if args.command == "dns" else _echo(args))
    except (OSError, ValueError, IndexError, struct.error) as exc:
        print(f"failed: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
