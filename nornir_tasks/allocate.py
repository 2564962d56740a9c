"""Allocate a new site's prefixes, transit block and WAN VLAN block: once, never again.

Allocation only looks at what is already committed, takes the first free block of the
right size and returns it; existing sites are never touched, so adding a site is a
diff of new lines only.
"""

from __future__ import annotations

import ipaddress
from bisect import insort
from dataclasses import dataclass

from nornir_tasks.intent.model import AddressPools, Site, SiteKind

Net = ipaddress.IPv4Network


def first_free(pool: Net, length: int, used: list[Net]) -> Net:
    """First aligned /length inside pool that overlaps nothing in ``used`` (sorted).

    >>> n = ipaddress.ip_network
    >>> first_free(n("10.0.0.0/16"), 24, [n("10.0.0.0/24"), n("10.0.2.0/23")])
    IPv4Network('10.0.1.0/24')
    >>> first_free(n("10.0.0.0/16"), 23, [n("10.0.0.0/26")])
    IPv4Network('10.0.2.0/23')
    """
    size = 1 << (32 - length)
    cand = int(pool.network_address)
    end = int(pool.broadcast_address)
    for net in used:
        lo, hi = int(net.network_address), int(net.broadcast_address)
        if hi < cand:
            continue
        if cand + size - 1 < lo:
            break
        cand = ((hi + 1 + size - 1) // size) * size
    if cand + size - 1 > end:
        raise ValueError(f"pool {pool} has no free /{length} left")
    return ipaddress.IPv4Network((cand, length))


@dataclass(frozen=True)
class Allocation:
    index: int
    prefixes: dict[str, Net]
    transit: Net
    wan_vlan_base: int


class Allocator:
    """Hands out blocks that no committed site uses; remembers what it handed out."""

    def __init__(self, pools: AddressPools, sites: list[Site]) -> None:
        self.pools = pools
        # used blocks per pool: allocation scans only its own pool's list
        self.used: dict[Net, list[Net]] = {p.pool: [] for p in pools.zones.values()}
        self.used.setdefault(pools.transit.pool, [])
        self.vlan_bases: set[int] = set()
        self.indices: set[int] = set()
        for site in sites:
            self._remember(site.index, [*site.prefixes.values(),
                                        *([site.transit] if site.transit else []),
                                        *([site.backup_transit] if site.backup_transit else [])],
                           site.wan_vlan_base)
            if site.backup_wan_vlan_base is not None:
                self.vlan_bases.add(site.backup_wan_vlan_base)

    def _remember(self, index: int, nets: list[Net], base: int | None) -> None:
        self.indices.add(index)
        for net in nets:
            for pool, used in self.used.items():
                if net.overlaps(pool):
                    insort(used, net, key=lambda n: (int(n.network_address), n.prefixlen))
        if base is not None:
            self.vlan_bases.add(base)

    def allocate(self, kind: SiteKind, zones: list[str] | None = None) -> Allocation:
        """A new site's blocks: a prefix for each of ``zones`` (default: every zone its
        kind has), its transit block and its WAN VLAN block."""
        index = max(self.indices, default=0) + 1
        prefixes = {}
        for zone, pool in sorted(self.pools.zones.items()):
            if kind in pool.prefix_length and (zones is None or zone in zones):
                prefixes[zone] = first_free(pool.pool, pool.prefix_length[kind],
                                            self.used[pool.pool])
                self._remember(index, [prefixes[zone]], None)
        transit, base = self.circuit_blocks(index)
        return Allocation(index, prefixes, transit, base)

    def circuit_blocks(self, index: int) -> tuple[Net, int]:
        """A circuit's transit block and WAN VLAN block (a new site's, or the second
        circuit of an existing one); remembered."""
        tp = self.pools.transit
        transit = first_free(tp.pool, tp.block_length, self.used[tp.pool])
        wv = self.pools.wan_vlans
        base = next((b for b in range(wv.first, wv.last - wv.block_size + 2, wv.block_size)
                     if b not in self.vlan_bases), None)
        if base is None:
            raise ValueError(f"no free WAN VLAN block left in {wv.first}-{wv.last}")
        self._remember(index, [transit], base)
        return transit, base

    def prefix(self, zone: str, kind: SiteKind) -> Net:
        """One more prefix of ``zone`` for a site of ``kind`` (a zone added to existing
        sites); remembered, so the next call gets the next free block."""
        pool = self.pools.zones[zone]
        net = first_free(pool.pool, pool.prefix_length[kind], self.used[pool.pool])
        self._remember(0, [net], None)
        return net
