"""Empty the connection-tracking table of the namespace it runs in (standard library only).

Run as ``ip netns exec <firewall> python -m nornir_tasks.lab.conntrack``: the lab's
firewall must have seen no connection when the crafted probes test that it drops a
reply nobody asked for (the matrix probes and the crafted openers leave entries). One
ctnetlink ``IPCTNL_MSG_CT_DELETE`` without attributes flushes the IPv4 table, as
``conntrack -F`` does, without needing conntrack-tools. Prints the number of entries
before and after, exits non-zero when the kernel refuses.
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from pathlib import Path

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_DELETE = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR = 2
COUNT = Path("/proc/sys/net/netfilter/nf_conntrack_count")


def flush_message(seq: int = 1) -> bytes:
    """The netlink message: header, then ``nfgenmsg`` (AF_INET, version 0, res_id 0).

    >>> m = flush_message()
    >>> len(m), struct.unpack("=IHH", m[:8])
    (20, (20, 258, 5))
    """
    body = struct.pack("=BBH", socket.AF_INET, 0, 0)
    header = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_CTNETLINK << 8)
                         | IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, seq, 0)
    return header + body


def flush() -> int:
    """Flush the table; the kernel's error code (0: done)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as s:
        s.settimeout(5)
        s.bind((0, 0))
        s.send(flush_message())
        reply = s.recv(65536)
    length, kind = struct.unpack("=IH", reply[:6])
    if kind != NLMSG_ERROR or length < 20:
        return 0
    error = int(struct.unpack("=i", reply[16:20])[0])
    return -error


def main() -> int:
    before = COUNT.read_text().strip() if COUNT.exists() else "n/a"
    try:
        code = flush()
    except OSError as exc:
        print(f"conntrack flush failed: {exc}", file=sys.stderr)
        return 1
    after = COUNT.read_text().strip() if COUNT.exists() else "n/a"
    print(f"conntrack entries: {before} -> {after}")
    if code:
        print(f"conntrack flush failed: {os.strerror(code)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
