"""``fellesnett site remove``: take a site out of the inventory as a reviewable diff of
deletions only; all or nothing.

The inverse of :mod:`nornir_tasks.site_add`. The inventory changes only by

* ``group_vars/site_<slug>.yml`` and the ``host_vars/<host>.yml`` of the site's devices
  deleted,
* the site's block of lines *removed* from ``hosts.yml`` (cut as text, so every other
  line and comment stays byte-identical and ``git diff`` shows only ``-``).

Nothing changes until the would-be inventory has passed :func:`load_intent` in a scratch
copy, so a site something else still refers to (an access point of another site cabled
to its switch, say) is refused with the loader's own located error. The files then move
aside into a scratch directory beside them, ``hosts.yml`` is replaced, and the scratch
directory is deleted; any failure puts everything back.

The site's prefixes, transit block and WAN VLANs become free: a later ``site add`` may
allocate them again, so remove a site from the intent only once it is gone from the
network (the report says so).
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import HOSTS_FILE, SITE_GROUP_PREFIX, load_intent
from nornir_tasks.intent.model import SiteKind
from nornir_tasks.scratch import load_edited
from nornir_tasks.site_add import _Composer, _last_line, _stage, print_result


@dataclass(frozen=True)
class RemoveResult:
    """What ``remove_site`` deleted: paths relative to the inventory, POSIX form."""

    inventory: Path
    slug: str
    name: str
    hosts: tuple[str, ...]
    deleted: tuple[str, ...]
    lines_removed: int
    freed: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {"inventory": str(self.inventory), "slug": self.slug, "name": self.name,
                "group": SITE_GROUP_PREFIX + self.slug, "hosts": list(self.hosts),
                "deleted": list(self.deleted), "changed": [HOSTS_FILE],
                "lines_removed": self.lines_removed, "freed": list(self.freed)}

    def report(self) -> str:
        out = [f"removed site {self.name!r} ({SITE_GROUP_PREFIX}{self.slug}, "
               f"{len(self.hosts)} devices) from {self.inventory}/"]
        out += [f"  deleted  {p}" for p in self.deleted]
        out.append(f"  changed  {HOSTS_FILE} (-{self.lines_removed} lines, none added)")
        out.append("free again (a later `site add` may allocate them: remove a site from "
                   "the intent only once it is gone from the network):")
        out += [f"  {n}" for n in self.freed]
        out.append(f"review with: git diff -- {self.inventory}")
        return "\n".join(out)


def remove_site(inventory: Path, slug: str) -> RemoveResult:
    """Delete site ``slug`` (with or without the ``site_`` prefix) from ``inventory``.

    Raises:
        IntentError: the inventory is invalid now, or would be without the site.
        UsageError: no such site, the core site, or a ``hosts.yml`` it cannot cut.
    """
    inventory = Path(inventory)
    slug = slug.removeprefix(SITE_GROUP_PREFIX)
    intent = load_intent(inventory)
    if slug not in intent.sites:
        raise UsageError(f"no site {SITE_GROUP_PREFIX}{slug} in {inventory}/{HOSTS_FILE}")
    site = intent.sites[slug]
    if site.kind == SiteKind.core:
        raise UsageError(f"{SITE_GROUP_PREFIX}{slug} is the core site; the estate cannot "
                         "run without it")
    hosts = tuple(sorted(intent.site_devices(slug)))
    old_hosts = (inventory / HOSTS_FILE).read_bytes()
    new_hosts, removed = cut_site(old_hosts.decode("utf-8"), SITE_GROUP_PREFIX + slug)
    deleted = [rel for rel in (f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml",
                               *(f"host_vars/{h}.yml" for h in hosts))
               if (inventory / rel).exists()]
    _validate_copy(inventory, new_hosts.encode("utf-8"), deleted, slug, set(hosts))
    _commit(inventory, new_hosts.encode("utf-8"), old_hosts, deleted)
    freed = [f"{z} {n}" for z, n in site.prefixes.items()]
    freed.append(f"transit {site.transit}")
    if site.wan_vlan_base is not None:
        freed.append(f"WAN VLAN/tunnel base {site.wan_vlan_base}")
    return RemoveResult(inventory=inventory, slug=slug, name=site.name, hosts=hosts,
                        deleted=tuple(deleted), lines_removed=removed, freed=tuple(freed))


def cut_site(text: str, site_group: str) -> tuple[str, int]:
    """``hosts.yml`` text without the block of ``site_group``, and how many lines went.

    The block runs from the group's key line to the last line of its value; a comment
    right above the key belongs to the site and goes with it, one further up does not
    (it introduces what follows it in the file, as ``site add`` leaves it).

    >>> text = ("all:\\n  children:\\n    school:\\n      children:\\n"
    ...         "        site_a:\\n          hosts:\\n            a-sw01: {role: access}\\n"
    ...         "        # site b\\n        site_b:\\n          hosts:\\n"
    ...         "            b-sw01: {role: access}\\n    core_site: {}\\n")
    >>> out, n = cut_site(text, "site_b"); print(out, end=""); n
    all:
      children:
        school:
          children:
            site_a:
              hosts:
                a-sw01: {role: access}
        core_site: {}
    4
    """
    lines = text.splitlines(keepends=True)
    found = _find(yaml.compose(text, Loader=_Composer), site_group)
    if found is None:
        raise UsageError(f"{HOSTS_FILE}: no group {site_group}; remove the site by hand")
    key, value, parent = found
    if parent.flow_style or key.start_mark.column != _indent(lines[key.start_mark.line]):
        raise UsageError(f"{HOSTS_FILE}: {site_group} is not a block mapping entry on lines "
                         "of its own, so it cannot be cut as lines; remove it by hand")
    first = key.start_mark.line
    while first > 0 and lines[first - 1].strip().startswith("#") and \
            _indent(lines[first - 1]) == key.start_mark.column:
        first -= 1
    last = _last_line(value, key)
    return "".join(lines[:first] + lines[last + 1:]), last + 1 - first


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _find(node: yaml.Node | None, key: str
          ) -> tuple[yaml.Node, yaml.Node, yaml.MappingNode] | None:
    """The (key, value, mapping) of the first mapping entry named ``key``, depth first."""
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v, node
            hit = _find(v, key)
            if hit is not None:
                return hit
    return None


# --------------------------------------------------------------------------- all or nothing


def _validate_copy(inventory: Path, hosts_yml: bytes, deleted: list[str], slug: str,
                   hosts: set[str]) -> None:
    intent = load_edited(inventory, {HOSTS_FILE: hosts_yml}, deleted,
                         prefix="fellesnett-site-remove-")
    if slug in intent.sites or hosts & set(intent.devices):
        raise RuntimeError(f"internal error: cutting {SITE_GROUP_PREFIX}{slug} from "
                           f"{HOSTS_FILE} left the site or some of its hosts behind")


def _commit(inventory: Path, new_hosts: bytes, old_hosts: bytes, deleted: list[str]) -> None:
    """Move the deleted files aside, replace ``hosts.yml``, then drop the moved files;
    on any failure move them back and restore ``hosts.yml``."""
    mode = stat.S_IMODE((inventory / HOSTS_FILE).stat().st_mode)
    aside = Path(tempfile.mkdtemp(prefix=".fellesnett-site-remove-", dir=inventory))
    moved: list[str] = []
    staged: Path | None = None
    ok = False
    try:
        staged = _stage(inventory / HOSTS_FILE, new_hosts, mode)
        if (inventory / HOSTS_FILE).read_bytes() != old_hosts:
            raise UsageError(f"{HOSTS_FILE} changed while the site was being removed; "
                             "run again")
        for i, rel in enumerate(deleted):
            os.replace(inventory / rel, aside / str(i))
            moved.append(rel)
        os.replace(staged, inventory / HOSTS_FILE)
        staged = None
        ok = True
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)
        if not ok:
            for i, rel in reversed(list(enumerate(moved))):
                os.replace(aside / str(i), inventory / rel)
        shutil.rmtree(aside, ignore_errors=True)


# --------------------------------------------------------------------------- command line


def add_parser(site_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``site remove`` beside ``site add``."""
    p = site_sub.add_parser(
        "remove", help="take a site out of the inventory (deletions only)",
        description="Delete a site's group_vars file, its devices' host_vars files and its "
        "block of hosts.yml. Nothing changes unless the inventory without it validates.")
    p.add_argument("site", metavar="SITE", help="site slug or group (alta_skole, site_alta_skole)")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = remove_site(args.inventory, args.site)
    print_result(result, args.json)
    return 0


__all__ = ["RemoveResult", "add_parser", "cut_site", "remove_site"]
