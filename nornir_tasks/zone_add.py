"""``fellesnett zone add ZONE``: allocate a new zone's prefix at every site that should
have it, once, as a reviewable diff of added lines; all or nothing.

A zone is a design decision first: its id, VLAN and VRF go into
``group_vars/all/zones.yml`` and its pool, with a prefix length per site kind, into
``address_pools`` (``group_vars/all/addressing.yml``), by hand and with comments, like
every other zone. Until each site has a prefix for it the inventory does not validate
(``zone 'cctv' has no prefix``): this command is the bookkeeping step in between. It

* loads the inventory with the new zone's prefixes allowed to be missing, and nothing
  else allowed;
* hands out the first free block of the zone's pool to each site that should have the
  zone (its kind has a prefix length for it, and its own ``site.zones`` list, if any,
  names it), in site-index order, with the same :class:`~nornir_tasks.allocate.Allocator`
  ``site add`` uses, so committed prefixes are never touched;
* inserts one line, ``<zone>: <prefix>``, into each site's ``prefixes`` mapping, in its
  sorted place, as text: every existing line and comment stays byte-identical;
* writes nothing unless the would-be inventory passes :func:`load_intent` in full in a
  scratch copy, then swaps the files in with ``site add``'s commit (rolled back on any
  failure).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nornir_tasks.allocate import Allocator
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import SITE_GROUP_PREFIX, load_intent
from nornir_tasks.scratch import load_edited
from nornir_tasks.site_add import _commit, _Composer, _is_empty, _last_line, print_result

ZONES_FILE = "group_vars/all/zones.yml"
POOLS_FILE = "group_vars/all/addressing.yml"


@dataclass(frozen=True)
class ZoneAddResult:
    """What ``add_zone`` wrote: site slug -> allocated prefix, files relative to the
    inventory."""

    inventory: Path
    zone: str
    prefixes: dict[str, str]
    changed: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {"inventory": str(self.inventory), "zone": self.zone,
                "prefixes": dict(self.prefixes), "changed": list(self.changed),
                "lines_added": len(self.changed)}

    def report(self) -> str:
        out = [f"allocated zone {self.zone!r} at {len(self.prefixes)} site(s) in "
               f"{self.inventory}/ (once; committed, never recomputed):"]
        width = max(len(s) for s in self.prefixes)
        out += [f"  {slug:<{width}}  {net}" for slug, net in self.prefixes.items()]
        out.append(f"changed {len(self.changed)} file(s), one line added to each, none removed")
        out.append(f"review with: git diff -- {self.inventory}")
        return "\n".join(out)


def add_zone(inventory: Path, zone: str) -> ZoneAddResult:
    """Allocate ``zone`` at every site that should have it and lacks it.

    Raises:
        IntentError: the inventory is invalid for another reason than the missing
            prefixes of ``zone``, or would be invalid afterwards.
        UsageError: the zone is not described yet, or no site lacks it.
    """
    inventory = Path(inventory)
    intent = load_intent(inventory, unallocated=frozenset({zone}))
    if zone not in intent.zones:
        raise UsageError(f"no zone {zone!r} in {ZONES_FILE} (zones: "
                         f"{', '.join(sorted(intent.zones))}): describe it there first "
                         "(id, vlan, vrf, description), then give it a pool")
    if zone not in intent.pools.zones:
        raise UsageError(f"zone {zone!r} has no pool in {POOLS_FILE} "
                         f"(address_pools.zones.{zone}): add one with a prefix length for "
                         "each site kind that should have the zone")
    due = sorted((site.index, slug) for slug, site in intent.sites.items()
                 if zone in intent.zones_due(site) and zone not in site.prefixes)
    if not due:
        kinds = ", ".join(k.value for k in intent.pools.zones[zone].prefix_length) or "none"
        raise UsageError(f"no site lacks a prefix for zone {zone!r} (site kinds with a "
                         f"prefix length for it: {kinds}); nothing to allocate")
    try:
        allocator = Allocator(intent.pools, list(intent.sites.values()))
        prefixes = {slug: allocator.prefix(zone, intent.sites[slug].kind)
                    for _, slug in due}
    except ValueError as exc:
        raise UsageError(f"cannot allocate zone {zone!r}: {exc}; nothing was written") \
            from exc
    before: dict[str, bytes] = {}
    changed: dict[str, bytes] = {}
    for slug, net in prefixes.items():
        rel = f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml"
        old = (inventory / rel).read_bytes()
        before[rel] = old
        changed[rel] = insert_prefix(old.decode("utf-8"), zone, str(net), rel).encode("utf-8")
    _validate_copy(inventory, changed, zone, {s: str(n) for s, n in prefixes.items()})
    _commit(inventory, {}, changed, before)
    return ZoneAddResult(inventory, zone, {s: str(n) for s, n in prefixes.items()},
                         tuple(changed))


def insert_prefix(text: str, zone: str, prefix: str, rel: str = "the site file") -> str:
    """``text`` of a site file with ``<zone>: <prefix>`` added under ``site.prefixes``,
    before the first zone that sorts after it (the files list zones alphabetically),
    indented like its neighbours.

    >>> text = "# facts\\nsite:\\n  prefixes:\\n    admin: 10.0.0.0/26\\n" \\
    ...        "    staff: 10.1.0.0/24\\n  transit: 10.255.0.0/27\\n"
    >>> print(insert_prefix(text, "cctv", "10.9.0.0/27"), end="")
    # facts
    site:
      prefixes:
        admin: 10.0.0.0/26
        cctv: 10.9.0.0/27
        staff: 10.1.0.0/24
      transit: 10.255.0.0/27
    """
    lines = text.splitlines(keepends=True)
    eol = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    root = yaml.compose(text, Loader=_Composer)
    site = _value(root, "site")
    prefixes = _value(site, "prefixes") if site is not None else None
    if not isinstance(prefixes, yaml.MappingNode) or prefixes.flow_style or not prefixes.value:
        raise UsageError(f"{rel}: site.prefixes is not a block mapping with entries, so the "
                         f"zone cannot be added as one line; add `{zone}: {prefix}` by hand")
    keys = [k for k, _ in prefixes.value]
    if any(k.value == zone for k in keys):
        raise UsageError(f"{rel}: site.prefixes already has {zone!r}")
    follower = next((i for i, k in enumerate(keys) if str(k.value) > zone), None)
    if follower is None:
        k, v = prefixes.value[-1]
        at = _last_line(v, k) + 1
    else:
        at = keys[follower].start_mark.line
    if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += eol
    line = f"{' ' * keys[0].start_mark.column}{zone}: {prefix}{eol}"
    return "".join(lines[:at] + [line] + lines[at:])


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return None if _is_empty(v) else v
    return None


def _validate_copy(inventory: Path, files: Mapping[str, bytes], zone: str,
                   expected: dict[str, str]) -> None:
    """Load the would-be inventory in full from a scratch copy; its IntentError, if any,
    is raised before anything is written."""
    intent = load_edited(inventory, files, prefix="fellesnett-zone-add-")
    got = {slug: str(intent.sites[slug].prefixes.get(zone)) for slug in expected}
    if got != expected:  # a text insertion in the wrong place could still load
        raise RuntimeError(f"internal error: the inserted lines gave {got}, not {expected}")


# --------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``zone add`` to the ``fellesnett`` parser's sub-commands."""
    zone = subparsers.add_parser("zone", help="roll a new zone out to the existing sites")
    zone_sub = zone.add_subparsers(dest="zone_command", required=True, metavar="SUBCOMMAND")
    p = zone_sub.add_parser(
        "add", help="allocate a zone's prefix once at every site that should have it",
        description="Allocate the zone's prefix at every site whose kind has a prefix length "
        f"for it in address_pools (and whose own site.zones list names it, if it has one), "
        f"as one added line per site file. Describe the zone in {ZONES_FILE} and its pool "
        f"in {POOLS_FILE} first. Nothing is written unless the result validates.")
    p.add_argument("zone", metavar="ZONE", help="the zone's name, as in zones.yml")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = add_zone(args.inventory, args.zone)
    print_result(result, args.json)
    return 0
