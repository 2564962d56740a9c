"""``fellesnett lab``: real packets proving the zone policy.

From the same intent, the lab builds the chosen sites in Linux network namespaces: an
Open vSwitch bridge per site switch (userspace datapath, access ports and an 802.1Q
trunk to the core bridge), one host per zone per site, servers behind their own legs,
a policy-point namespace whose stateless nftables rules come from
:func:`nornir_tasks.policy.zone_terms` -- the terms Aerleon turns into the core's ACLs --
and the town-hall firewall, a namespace that loads the generated firewall policy as it
ships, routed as the core configs and the firewall's README say, with an internet
stand-in behind it (:mod:`nornir_tasks.lab.firewall`). Then it probes every pair (ping,
TCP, UDP) and compares with the matrix, runs the required flows with real daemons and clients (DHCP
through a relay, DNS, RADIUS, CAPWAP, SSH), and sends crafted packets whose fate
``verify``'s exposure model predicts from the rendered configs.

This module stays import-light: the agents the lab starts inside each namespace import
``nornir_tasks.lab.agent`` through it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _cmd_lab(args: argparse.Namespace) -> int:
    from nornir_tasks.lab.runner import run_cli

    return run_cli(args)


def register(sub: Any) -> None:
    """Add the ``lab`` sub-command to the CLI's sub-parsers."""
    p = sub.add_parser(
        "lab", help="build the chosen sites in network namespaces (Open vSwitch + "
        "stateless nftables from the zone matrix, the generated firewall policy with "
        "the internet behind it) and prove the matrix with real packets",
        description="Exit 0: every probe as the matrix says, every required flow working, "
        "every crafted packet as verify predicts; 1: anything else; 2: bad input or a "
        "machine that cannot run the lab (needs root, iproute2, nftables, Open vSwitch, "
        "ethtool, tcpdump, dnsmasq, udhcpc, OpenSSH, FreeRADIUS).")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    p.add_argument("--limit", "-l", metavar="EXPR",
                   help="Ansible-style host pattern; the lab builds the sites of the selected "
                        "hosts (default: the first site of the first kind and of the next "
                        "kind that differs in having children on site: on the reference "
                        "a school and a municipal site)")
    p.add_argument("--configs", type=Path, metavar="DIR",
                   help="a build output whose config text predicts the crafted probes and "
                        "whose firewall/ policy and routes the internet traffic and the "
                        "stateful pairs cross "
                        "(default: render the core switches and the policy from the intent)")
    p.add_argument("--adversarial-sites", type=int, default=2, metavar="N",
                   help="crafted probes between the zone hosts of the first N chosen sites "
                        "and the servers (default: %(default)s; 0: none)")
    p.add_argument("--json", action="store_true", help="print machine-readable results")
    p.add_argument("--keep", action="store_true",
                   help="leave the lab up for debugging and print how to tear it down")
    p.set_defaults(func=_cmd_lab)
