"""The town-hall firewall, as the lab builds and models it: the internet and the stateful
pairs are behind it.

Every zone with an internet rule has a default route to the firewall on its own leg, and
the internet is behind the firewall. A zone pair with ``stateful: true`` is not leaked
between the VRFs at the core: each zone's VRF routes the other zone's pool to the
firewall on the zone's own leg, and the firewall, which keeps connection state, routes it
back to the core on the other zone's leg (:mod:`nornir_tasks.firewall`). The lab builds
exactly that from the SHIPPED TEXTS, never from the intent:

* the firewall namespace loads the generated policy ``firewall/fellesnett.nft`` as it is
  (the build's file with ``--configs``, else the text the build's own generator writes);
* its legs and routes are the table "Routes the firewall needs" of
  ``firewall/README.md`` (zone, prefix, leg, the core pair's address, the firewall's);
* the core's routes into the firewall are the ``ip route vrf`` lines of the core
  switches' config text whose next hop is the firewall's address on a leg: a pair's
  partner pool, and the default route of a zone that reaches the internet.

The core has no VRFs in this kernel, so each VRF's routes through the firewall go into a
routing table of their own, looked up (``ip rule iif``) for what enters on the zone's
legs: the zone's core legs, its data-centre leg, its leg from the firewall. Behind a
pair's route the other zone's pool is ``unreachable``: the pair is never leaked at the
core, so without the route through the firewall it has no way at all, as on the real
core. A default route goes into a table looked up after the main table, which holds
every internal prefix (``unreachable`` where the lab has no host): as in the VRF, only
what no other route holds goes to the internet.

What the firewall lets through is read by ``verify``'s own reader of the policy text
(:func:`nornir_tasks.verify.firewall.read_firewall`): a packet passes when it opens a
connection an accepting rule allows (Linux tracks TCP loosely: any flags), or when it
belongs to a connection the firewall accepted (the lab's matrix model follows the
exchange). A crafted packet has no connection: it passes only when it opens one.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from nornir_tasks.acl_eval import Packet
from nornir_tasks.firewall import internal_nets
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Role
from nornir_tasks.policy import firewall_zones, stateful_pairs
from nornir_tasks.verify.firewall import FirewallPolicy, read_firewall
from nornir_tasks.verify.headerspace import Space

Net = ipaddress.IPv4Network
Addr = ipaddress.IPv4Address
Iface = ipaddress.IPv4Interface

POLICY_PATH = "firewall/fellesnett.nft"
README_PATH = "firewall/README.md"
NAMESPACE = "fw"
#: the routing table of a zone's VRF routes through the firewall: TABLE_BASE + zone id
TABLE_BASE = 100
RULE_PRIORITY = 1000
#: the metric of the fallback ``unreachable`` behind a route through the firewall
UNREACHABLE_METRIC = 4096
#: a zone's default route to the firewall: table INTERNET_TABLE_BASE + zone id, looked up
#: after the main table (priority 32766), so that it is the last resort it is in a VRF
INTERNET_TABLE_BASE = 200
INTERNET_RULE_PRIORITY = 40000
_README_ROW = re.compile(
    r"^\| (?P<zone>[a-z][a-z0-9_]*) \| (?P<prefix>[\d./]+) \| VLAN (?P<vlan>\d+), "
    r"(?P<leg>[\d./]+) \| (?P<core>[\d.]+) \| (?P<fw>[\d.]+) \|$")
_ROUTE = re.compile(r"^ip route vrf (\S+) ([\d.]+) ([\d.]+) ([\d.]+)\b")


class FirewallInputError(ValueError):
    """The shipped texts do not describe a firewall hop the lab can build."""


@dataclass(frozen=True)
class FirewallLeg:
    """One zone's leg between the core and the firewall (README: zone, leg, addresses)."""

    zone: str
    vlan: int
    core_interface: str  # in the core namespace
    core_address: Iface  # the core pair's address on the leg (the firewall's next hop)
    interface: str  # in the firewall namespace
    address: Iface  # the firewall's address on the leg


@dataclass(frozen=True)
class FirewallRoute:
    """A route of the firewall: a zone's pool back into the zone's leg (README)."""

    zone: str
    prefix: Net
    next_hop: Addr


@dataclass(frozen=True)
class CoreRoute:
    """A route of a core VRF to the firewall (config text)."""

    zone: str  # the VRF's zone
    prefix: Net
    next_hop: Addr  # the firewall's address on the zone's leg
    source: str  # "host:line: text"


@dataclass(eq=False)
class FirewallHop:
    """The firewall as the lab builds it: the generated policy text, legs and routes; the
    internet behind it."""

    text: str  # the policy, loaded as it ships
    legs: tuple[FirewallLeg, ...]
    routes: tuple[FirewallRoute, ...]
    core_routes: tuple[CoreRoute, ...]
    pairs: tuple[tuple[str, str], ...]
    policy: FirewallPolicy
    path: str = POLICY_PATH
    #: by zone of a pair: the other zones' pools (unreachable behind the routes)
    partners: dict[str, tuple[Net, ...]] = field(default_factory=dict)
    #: by zone of a pair: the core's routing table standing for the VRF's routes
    tables: dict[str, int] = field(default_factory=dict)
    #: by zone with a default route to the firewall: the core's table holding it
    internet_tables: dict[str, int] = field(default_factory=dict)
    #: what is not the internet (a default route never takes it: other routes do)
    internal: tuple[Net, ...] = ()

    @functools.cached_property
    def _new(self) -> Space:
        return self.policy.new()

    def leg(self, zone: str) -> FirewallLeg | None:
        return next((g for g in self.legs if g.zone == zone), None)

    def via(self, zone: str | None, address: Addr, from_internet: bool = False) -> bool:
        """Does a packet from ``zone`` for ``address`` cross the firewall? From the
        internet always; from a zone when a route of its VRF through the firewall holds
        it (a default route only for an address that is not internal)."""
        if from_internet:
            return True
        if zone is None:
            return False
        routes = [r for r in self.core_routes if r.zone == zone and address in r.prefix]
        if any(r.prefix.prefixlen for r in routes):
            return True
        return bool(routes) and not any(address in n for n in self.internal)

    def opens(self, packet: Packet) -> bool:
        """Does the policy accept the packet as a new connection?"""
        return packet in self._new


# --------------------------------------------------------------------------- reading


def readme_legs(intent: Intent, readme: str) -> tuple[list[FirewallLeg], list[FirewallRoute]]:
    """The legs and routes of the README's table "Routes the firewall needs"."""
    legs: list[FirewallLeg] = []
    routes: list[FirewallRoute] = []
    for line in readme.splitlines():
        m = _README_ROW.match(line.strip())
        if m is None:
            continue
        zone, vlan = m["zone"], int(m["vlan"])
        if zone not in intent.zones:
            raise FirewallInputError(f"{README_PATH}: unknown zone {zone!r} in {line!r}")
        leg = Net(m["leg"])
        core, fw = Addr(m["core"]), Addr(m["fw"])
        if core not in leg or fw not in leg:
            raise FirewallInputError(f"{README_PATH}: addresses outside the leg in {line!r}")
        legs.append(FirewallLeg(zone, vlan, f"f{vlan}", Iface(f"{core}/{leg.prefixlen}"),
                                f"l{vlan}", Iface(f"{fw}/{leg.prefixlen}")))
        routes.append(FirewallRoute(zone, Net(m["prefix"]), core))
    return legs, routes


def core_routes(intent: Intent, configs: Mapping[str, str],
                legs: list[FirewallLeg]) -> list[CoreRoute]:
    """The core switches' ``ip route vrf`` lines to the firewall's address on a leg: a
    stateful pair's partner pool, or a zone's default route to the internet."""
    zone_of_vrf = {z.vrf: name for name, z in intent.zones.items()}
    firewall = {g.address.ip: g for g in legs}
    found: dict[tuple[str, Net, Addr], CoreRoute] = {}
    for host in sorted(configs):
        device = intent.devices.get(host)
        if device is None or device.role is not Role.core:
            continue
        for n, line in enumerate(configs[host].splitlines(), 1):
            m = _ROUTE.match(line)
            if m is None:
                continue
            vrf, network, mask, hop = m.groups()
            prefix = Net(f"{network}/{mask}")
            nh = Addr(hop)
            if nh not in firewall or vrf not in zone_of_vrf:
                continue
            zone = zone_of_vrf[vrf]
            if firewall[nh].zone != zone:
                raise FirewallInputError(f"{host}:{n}: {line.strip()!r} leaves VRF {vrf} "
                                         f"on the {firewall[nh].zone} leg")
            found.setdefault((zone, prefix, nh), CoreRoute(zone, prefix, nh,
                                                           f"{host}:{n}: {line.strip()}"))
    return list(found.values())


def firewall_hop(intent: Intent, files: Mapping[str, str],
                 configs: Mapping[str, str]) -> FirewallHop | None:
    """The firewall, from the build's ``firewall/`` files (by relative path) and the core
    switches' config text; None when no zone has a leg (no internet rule, no stateful
    pair).

    Raises:
        FirewallInputError: a file is missing or the policy cannot be read.
    """
    pairs = stateful_pairs(intent)
    zones = firewall_zones(intent)
    if not zones:
        return None
    text, readme = files.get(POLICY_PATH), files.get(README_PATH)
    if text is None or readme is None:
        raise FirewallInputError(f"the firewall needs the build's {POLICY_PATH} and "
                                 f"{README_PATH}")
    policy = read_firewall(POLICY_PATH, text)
    if policy.problems:
        n, line, why = policy.problems[0]
        raise FirewallInputError(f"{POLICY_PATH}:{n}: {why}: {line!r}")
    legs, routes = readme_legs(intent, readme)
    missing = sorted(set(zones) - {g.zone for g in legs}, key=lambda z: intent.zones[z].id)
    if missing:
        raise FirewallInputError(f"{README_PATH} gives no leg for {', '.join(missing)}")
    partners: dict[str, list[Net]] = {}
    for a, b in pairs:
        partners.setdefault(a, []).append(intent.pools.zones[b].pool)
        partners.setdefault(b, []).append(intent.pools.zones[a].pool)
    to_fw = core_routes(intent, configs, legs)
    return FirewallHop(text, tuple(legs), tuple(routes), tuple(to_fw), tuple(pairs), policy,
                       partners={z: tuple(n) for z, n in partners.items()},
                       tables={z: TABLE_BASE + intent.zones[z].id for z in partners},
                       internet_tables={r.zone: INTERNET_TABLE_BASE + intent.zones[r.zone].id
                                        for r in to_fw if r.prefix.prefixlen == 0},
                       internal=tuple(internal_nets(intent)))


def default_files(intent: Intent) -> dict[str, str]:
    """The ``firewall/`` files exactly as ``fellesnett build`` writes them."""
    from nornir_tasks.firewall import build_firewall

    return build_firewall(intent)
