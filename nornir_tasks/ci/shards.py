"""Split the estate into pipeline shards by site, from the inventory itself.

A site's shard is a hash of its slug, not its position in a list: adding or removing a
site never moves another site to a different shard. That matters because each shard's
deploy job holds the GitLab ``resource_group`` of its shard — two pipelines can only
change the same device at the same time if that device sat in two different shards,
which a stable split rules out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from nornir_tasks.build import config_hosts
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import SITE_GROUP_PREFIX, Intent


def shard_of(site: str, total: int) -> int:
    """The shard (0-based) of a site.

    >>> [shard_of(s, 4) for s in ("radhuset", "alta_skole", "komsa_skole")]
    [0, 3, 2]
    """
    digest = hashlib.sha256(site.encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


@dataclass(frozen=True)
class Shard:
    index: int
    sites: tuple[str, ...]
    devices: int

    @property
    def limit(self) -> str:
        """The ``--limit`` expression of the shard (empty when it holds no site)."""
        return ",".join(SITE_GROUP_PREFIX + s for s in self.sites)


def split(intent: Intent, total: int, limit: str | None = None) -> list[Shard]:
    """Every shard with the sites (that hold a selected configurable device) it owns."""
    if total < 1:
        raise UsageError("--total must be at least 1")
    per_site: dict[str, int] = {}
    for host in config_hosts(intent, limit):
        site = intent.device_site[host]
        per_site[site] = per_site.get(site, 0) + 1
    out = []
    for i in range(total):
        sites = tuple(sorted(s for s in per_site if shard_of(s, total) == i))
        out.append(Shard(i, sites, sum(per_site[s] for s in sites)))
    return out
