"""Crafted probe packets and their sniffer (standard library only: the agents import it).

An adversarial probe is a UDP datagram or a TCP segment with only ACK set, sent through a
raw socket with any source port the lab chooses, marked with DSCP
:data:`~nornir_tasks.lab.nft.PROBE_DSCP` and carrying ``MAGIC`` and its 32-bit id. The
destination's sniffer (a packet socket on its ``eth0``) records the ids that arrive; its
sink rule then drops them, so nothing answers.
"""

from __future__ import annotations

import functools
import socket
import struct

MAGIC = b"\xf3\x11\xab\x5e"
TOS = 0x3F << 2  # DSCP 63 in the TOS byte; the same value as nft.PROBE_DSCP
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
SNIFF_BUFFER = 32 << 20  # a burst of probes must never overflow the sniffer
UDP, TCP = 17, 6
ACK = 0x10


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071).

    >>> hex(checksum(bytes.fromhex("45000073000040004011b861c0a80001c0a800c7")))
    '0x0'
    """
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total >> 16:
        total = (total >> 16) + (total & 0xFFFF)
    return ~total & 0xFFFF


_MAGIC_SUM = int(sum(struct.unpack("!HH", MAGIC)))


@functools.lru_cache(maxsize=4096)
def _pseudo_sum(src: str, dst: str, number: int, length: int) -> int:
    """The pseudo-header's part of the transport checksum (per address pair: a flood
    sends hundreds of probes between the same two addresses)."""
    words: tuple[int, ...] = struct.unpack("!4H", socket.inet_aton(src) + socket.inet_aton(dst))
    return sum(words) + number + length


def _fold(total: int) -> int:
    while total >> 16:
        total = (total >> 16) + (total & 0xFFFF)
    return ~total & 0xFFFF


def segment(proto: str, src: str, dst: str, sport: int, dport: int, ident: int) -> bytes:
    """The transport header and payload of one probe, with a valid checksum (the kernel
    adds the IP header: the raw socket is bound to the source address). The checksum is
    summed from the fields, not from packed bytes: a flood builds hundreds of thousands.

    >>> seg = segment("udp", "10.0.0.1", "10.0.0.2", 67, 67, 5)
    >>> len(seg), seg[-8:-4] == MAGIC
    (16, True)
    >>> pseudo = socket.inet_aton("10.0.0.1") + socket.inet_aton("10.0.0.2")
    >>> checksum(pseudo + struct.pack("!BBH", 0, UDP, 16) + seg)
    0
    >>> seg = segment("tcp", "10.0.0.1", "10.0.0.2", 53, 50000, 70000)
    >>> seg[13] == ACK, len(seg)
    (True, 28)
    >>> checksum(pseudo + struct.pack("!BBH", 0, TCP, 28) + seg)
    0
    """
    hi, lo = ident >> 16 & 0xFFFF, ident & 0xFFFF
    payload_sum = _MAGIC_SUM + hi + lo
    if proto == "udp":
        total = _pseudo_sum(src, dst, UDP, 16) + sport + dport + 16 + payload_sum
        csum = _fold(total) or 0xFFFF  # 0 would mean "no checksum"
        return struct.pack("!HHHH4sI", sport, dport, 16, csum, MAGIC, ident)
    # ACK only: what a host can send without any handshake; seq = the id, ack = 1
    flags = 5 << 12 | ACK
    total = (_pseudo_sum(src, dst, TCP, 28) + sport + dport + hi + lo + 1 + flags + 65535
             + payload_sum)
    return struct.pack("!HHIIHHHH4sI", sport, dport, ident, 1, flags, 65535, _fold(total), 0,
                       MAGIC, ident)


def raw_socket(proto: str, src: str) -> socket.socket:
    """A raw socket that sends crafted ``proto`` segments from ``src``, marked."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, UDP if proto == "udp" else TCP)
    s.bind((src, 0))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, TOS)
    s.setblocking(False)
    return s


def probe_id(frame: bytes) -> int | None:
    """The id of a probe in an Ethernet frame, or None when it is not one.

    >>> ip = bytes([0x45, TOS]) + bytes(7) + bytes([UDP]) + bytes(10)
    >>> probe_id(bytes(12) + b"\\x08\\x00" + ip + segment("udp", "1.1.1.1", "2.2.2.2", 1, 2, 9))
    9
    """
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[15] != TOS:
        return None
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    at = 14 + ihl
    if proto == UDP:
        at += 8
    elif proto == TCP and len(frame) >= at + 13:
        at += (frame[at + 12] >> 4) * 4
    else:
        return None
    if frame[at:at + 4] != MAGIC or len(frame) < at + 8:
        return None
    value: int = struct.unpack_from("!I", frame, at + 4)[0]
    return value


def sniffer(ifname: str = "eth0") -> socket.socket:
    """A packet socket on ``ifname`` with a large buffer (root may force it)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, SNIFF_BUFFER)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SNIFF_BUFFER)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def drops(s: socket.socket) -> int:
    """Frames the kernel dropped because the sniffer's buffer was full (since the last
    call: reading the statistics resets them)."""
    packets, dropped = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
    del packets
    return int(dropped)
