"""Policy terms -> a STATELESS nftables ruleset for the lab's policy-point namespace.

The core's zone ACLs are stateless (IOS-XE extended ACLs), so the lab must be too: no
``ct`` expression anywhere, so the kernel never even starts connection tracking in the
namespace, and a reply passes only because a term says so. ``established`` is what IOS-XE
means by it: a TCP segment with ACK or RST set.

One chain per zone (the zone's terms in order, first match wins), entered by a jump from
the ``forward`` hook for every interface that faces that zone; the hook's policy is drop.

The policy point also holds the sites' gateways, and a gateway sends and receives real
traffic of its own: the DHCP relay agent. In production a relayed request leaves the
site's gateway and enters the core through the zone's ACL, and the server's answer
enters the core through the ACL of the server's zone. Here those packets are local to
the namespace, so two more hooks send them through the same chains: ``output`` jumps to a
zone's chain for what a gateway of that zone sends anywhere but onto its own legs (the
site's LAN, which no ACL filters in production either), and ``input`` jumps to the chain
of the interface a packet arrived on when it is addressed to a gateway. Both keep
counters, which the lab reports as evidence that the relay's packets went through them.

Aerleon's own nftables target is not used: it is stateful by design (it adds
``ct state established,related accept`` and drops ``tcp-established`` terms), and in 1.18
it fails on ``icmp-type`` terms. See docs/lab.md.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nornir_tasks.policy import Term

TABLE = "fellesnett_lab"
SINK_TABLE = "fellesnett_sink"
#: DSCP of the adversarial probes: the destination's sink drops them before the kernel
#: could answer (a RST, a port unreachable), after its sniffer has seen them
PROBE_DSCP = 0x3F
ESTABLISHED = "tcp flags & (ack | rst) != 0"
_ICMP_NAMES = {"echo": "echo-request", "echo-request": "echo-request",
               "echo-reply": "echo-reply"}
_PORT = re.compile(r"^\d{1,5}(-\d{1,5})?$")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
_PROTO = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Chain:
    """One zone's filter: the terms in order, and the core interfaces that jump to it."""

    name: str
    interfaces: tuple[str, ...]
    terms: tuple[Term, ...]
    comment: str = ""
    #: the zone's gateway addresses held by the policy point, and the legs they sit on
    gateways: tuple[ipaddress.IPv4Address, ...] = ()
    gateway_legs: tuple[str, ...] = ()


def _addresses(nets: Iterable[ipaddress.IPv4Network]) -> str:
    # collapsed: an anonymous interval set refuses overlapping elements
    items = [str(n) for n in ipaddress.collapse_addresses(nets)]
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def _ports(ports: Sequence[str]) -> str:
    for p in ports:
        if not _PORT.match(p):
            raise ValueError(f"not a port or port range: {p!r}")
    items = sorted(set(ports), key=lambda p: int(p.split("-")[0]))
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def _comment(text: str) -> str:
    # nft comments are at most 128 bytes and may not contain a double quote
    clean = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "?"
                    for c in text)
    return clean[:120]


def term_to_rules(term: Term) -> list[str]:
    """One term as nftables rule lines (one per protocol, as an ACL entry per protocol).

    >>> import ipaddress as ip
    >>> t = Term("reply-tcp", "accept", ("tcp",), (ip.ip_network("10.10.40.10/32"),),
    ...          (ip.ip_network("10.32.0.0/14"),), source_ports=("443",), established=True)
    >>> term_to_rules(t)[0]
    'ip saddr 10.10.40.10/32 ip daddr 10.32.0.0/14 tcp sport 443 tcp flags & (ack | rst) != 0 \
accept comment "reply-tcp"'
    >>> term_to_rules(Term("default-deny", "deny"))
    ['drop comment "default-deny"']
    """
    if term.action not in ("accept", "deny"):
        raise ValueError(f"term {term.name}: action {term.action!r} is not accept/deny")
    verdict = "accept" if term.action == "accept" else "drop"
    protocols: tuple[str | None, ...] = term.protocols or (None,)
    if term.established and protocols == (None,):
        protocols = ("tcp",)  # only a TCP segment can be 'established'
    rules = []
    for proto in protocols:
        parts = []
        if term.source:
            parts.append(f"ip saddr {_addresses(term.source)}")
        if term.destination:
            parts.append(f"ip daddr {_addresses(term.destination)}")
        has_ports = bool(term.source_ports or term.destination_ports)
        if proto in ("tcp", "udp"):
            if term.source_ports:
                parts.append(f"{proto} sport {_ports(term.source_ports)}")
            if term.destination_ports:
                parts.append(f"{proto} dport {_ports(term.destination_ports)}")
            if term.established:
                if proto != "tcp":
                    raise ValueError(f"term {term.name}: 'established' is TCP only")
                parts.append(ESTABLISHED)
            elif not has_ports:
                parts.append(f"meta l4proto {proto}")
            if term.icmp_types:
                raise ValueError(f"term {term.name}: ICMP types on {proto}")
        elif proto is not None:
            if has_ports or term.established:
                raise ValueError(f"term {term.name}: ports or 'established' on {proto}")
            if not _PROTO.match(proto):
                raise ValueError(f"term {term.name}: bad protocol {proto!r}")
            if proto == "icmp" and term.icmp_types:
                types = sorted({_ICMP_NAMES.get(t, "") for t in term.icmp_types})
                if "" in types:
                    raise ValueError(f"term {term.name}: unknown ICMP type in {term.icmp_types}")
                shown = types[0] if len(types) == 1 else "{ " + ", ".join(types) + " }"
                parts.append(f"icmp type {shown}")
            elif term.icmp_types:
                raise ValueError(f"term {term.name}: ICMP types on {proto}")
            else:
                parts.append(f"meta l4proto {proto}")
        elif has_ports or term.icmp_types:
            raise ValueError(f"term {term.name}: ports or ICMP types need a protocol")
        label = _comment(term.name + (f": {term.comment}" if term.comment else ""))
        rules.append(" ".join([*parts, verdict, f'comment "{label}"']))
    return rules


def _names(items: Iterable[str]) -> str:
    names = sorted(items)
    for n in names:
        if not _IFNAME.match(n):
            raise ValueError(f"bad interface name {n!r}")
    return f'"{names[0]}"' if len(names) == 1 else "{ " + ", ".join(f'"{n}"' for n in names) + " }"


def _hosts(addrs: Iterable[ipaddress.IPv4Address]) -> str:
    return _addresses(ipaddress.IPv4Network(f"{a}/32") for a in addrs)


def _local_hooks(chains: Sequence[Chain]) -> list[str]:
    """``input`` and ``output`` for the gateways' own traffic (the DHCP relay)."""
    gateways = [a for c in chains for a in c.gateways]
    if not gateways:
        return []
    lines = ["\tchain input {", "\t\ttype filter hook input priority filter; policy accept;"]
    for chain in chains:
        if chain.interfaces:
            lines.append(f"\t\tiifname {_names(chain.interfaces)} ip daddr {_hosts(gateways)} "
                         f'counter jump {chain.name} comment "to a gateway"')
    lines += ["\t}", "\tchain output {",
              "\t\ttype filter hook output priority filter; policy accept;"]
    for chain in chains:
        if chain.gateways:
            lines.append(f"\t\tip saddr {_hosts(chain.gateways)} oifname != "
                         f"{_names(chain.gateway_legs)} counter jump {chain.name} "
                         f'comment "from a gateway"')
    lines.append("\t}")
    return lines


def chains_to_nft(chains: Sequence[Chain], table: str = TABLE) -> str:
    """The whole ruleset: a forward hook (policy drop) jumping per interface to the chains,
    and the gateways' own input and output through the same chains.

    >>> text = chains_to_nft([Chain("zone_guest", ("v150",), (Term("default-deny", "deny"),))])
    >>> print(text[text.index("table ip"):])  # doctest: +NORMALIZE_WHITESPACE
    table ip fellesnett_lab {
        chain forward {
            type filter hook forward priority filter; policy drop;
            iifname "v150" jump zone_guest
        }
        chain zone_guest {
            drop comment "default-deny"
        }
    }
    >>> gw = ipaddress.IPv4Address("10.80.2.1")
    >>> text = chains_to_nft([Chain("zone_guest", ("g0v150",), (Term("d", "deny"),),
    ...                             gateways=(gw,), gateway_legs=("g0v150",))])
    >>> print(text[text.index("chain output"):text.index("chain zone_guest")].strip())
    ... # doctest: +NORMALIZE_WHITESPACE
    chain output {
        type filter hook output priority filter; policy accept;
        ip saddr 10.80.2.1/32 oifname != "g0v150" counter jump zone_guest comment "from a gateway"
    }
    """
    if not _IDENT.match(table):
        raise ValueError(f"bad table name {table!r}")
    seen: set[str] = set()
    lines = [
        "# fellesnett lab: the core's zone ACLs as STATELESS nftables rules.",
        "# Generated from policy.zone_terms(); no connection tracking: replies pass only",
        "# by explicit terms (TCP with ACK/RST, UDP from the service port, echo-reply).",
        f"table ip {table} {{",
        "\tchain forward {",
        "\t\ttype filter hook forward priority filter; policy drop;",
    ]
    for chain in chains:
        if not _IDENT.match(chain.name) or chain.name in ("forward", "input", "output"):
            raise ValueError(f"bad chain name {chain.name!r}")
        for ifname in chain.interfaces:
            if ifname in seen:
                raise ValueError(f"interface {ifname} jumps to two chains")
            seen.add(ifname)
        if chain.interfaces:
            lines.append(f"\t\tiifname {_names(chain.interfaces)} jump {chain.name}")
    lines.append("\t}")
    lines += _local_hooks(chains)
    for chain in chains:
        if chain.comment:
            lines.append(f"\t# {_comment(chain.comment)}")
        lines.append(f"\tchain {chain.name} {{")
        for term in chain.terms:
            lines.extend(f"\t\t{rule}" for rule in term_to_rules(term))
        lines.append("\t}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def sink_nft(table: str = SINK_TABLE) -> str:
    """For every namespace that answers probes: drop the adversarial probes (marked with
    :data:`PROBE_DSCP`) on arrival. The sniffer has already seen them (a packet socket
    sees a frame before the IP layer), and the kernel sends nothing back, so the probes
    never load the network twice.

    >>> "ip dscp 0x3f counter drop" in sink_nft()
    True
    """
    if not _IDENT.match(table):
        raise ValueError(f"bad table name {table!r}")
    return (f"table ip {table} {{\n\tchain prerouting {{\n"
            "\t\ttype filter hook prerouting priority raw; policy accept;\n"
            f"\t\tip dscp {PROBE_DSCP:#x} counter drop comment \"adversarial probe: seen, "
            "not answered\"\n\t}\n}\n")
