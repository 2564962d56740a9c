"""``fellesnett migrate plan``: the imported sites in waves, written to a file the engineer
edits and commits.

The order follows how a merge is cut over without surprises:

1. **pilot**: the smallest site migrated in place (fewest ports in use), so the
   procedure is tried where the fewest people notice;
2. the other in-place sites that have no children (offices, health, technical sites);
3. sites with children (``site_kinds``' ``children``): in the school holidays, or when
   the kindergarten is closed;
4. **hardware replacement**: devices that cannot be migrated in place (an ArubaOS-Switch
   cannot run the intended IOS-XE config; a legacy port in use that the new model names
   differently means a different switch): swapped, with the intended config, not phased;
5. **last**: sites that other sites hang on (a legacy switch that the survey saw as the
   LLDP/CDP neighbour of switches at two or more other sites), because cutting them over
   cuts the others.

Each device records its legacy (surveyed) name, the link the migration runs use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import Intent
from nornir_tasks.legacy.surveyed import Surveyed

IN_PLACE, REPLACE = "in-place", "replace"

HEADER = """\
# Migration plan: the order in which sites move to the new design, one wave at a time.
# Written by `fellesnett migrate plan`; edit it (move a site to another wave, set a
# window, reorder) and commit it. `fellesnett migrate run --wave N` reads it.
# method in-place: pre-stage, move (ports in batches), clean-up, with a rollback to the
#   legacy config at every step. method replace: the switch is swapped (see docs/migration.md).
"""


@dataclass
class SiteEntry:
    slug: str
    name: str
    kind: str
    children: bool
    ports_in_use: int
    devices: dict[str, dict[str, str]] = field(default_factory=dict)  # host -> facts
    depended_on_by: list[str] = field(default_factory=list)

    @property
    def method(self) -> str:
        return REPLACE if any(d["method"] == REPLACE for d in self.devices.values()) \
            else IN_PLACE


def _method(row: dict[str, Any]) -> tuple[str, str]:
    if row.get("platform", "cisco_ios") != "cisco_ios":
        return REPLACE, f"{row['platform']} cannot run the intended IOS-XE config"
    renamed = [p["legacy"] for p in row["ports"]
               if p["profile"] and p["new"] != p["legacy"]]
    if renamed:
        return REPLACE, (f"{len(renamed)} port(s) in use are named differently on the new "
                         f"model (e.g. {renamed[0]}): a different switch")
    return IN_PLACE, "same platform family and port names"


def sites_from_import(intent: Intent, report: dict[str, Any],
                      surveyed: list[Surveyed] | None = None) -> list[SiteEntry]:
    """The imported sites, from the import report (``import.json``)."""
    by_slug: dict[str, SiteEntry] = {}
    legacy_site: dict[str, str] = {}
    for legacy, row in sorted(report["devices"].items()):
        host = row["host"]
        if host not in intent.devices:
            raise UsageError(f"import report: {host} (from {legacy}) is not in the inventory; "
                             "give the inventory the import proposed")
        slug = intent.device_site[host]
        site = intent.sites[slug]
        entry = by_slug.get(slug)
        if entry is None:
            entry = by_slug[slug] = SiteEntry(
                slug, site.name, site.kind.value, intent.site_kinds[site.kind].children, 0)
        method, why = _method(row)
        entry.devices[host] = {"legacy": legacy, "platform": row.get("platform", "cisco_ios"),
                               "method": method, "why": why,
                               **({"surveyed": row["surveyed"]} if row.get("surveyed") else {})}
        entry.ports_in_use += sum(1 for p in row["ports"] if p["profile"])
        legacy_site[legacy.lower()] = slug
    for s in surveyed or []:
        mine = legacy_site.get(s.host.lower())
        for n in s.neighbours:
            other = legacy_site.get(n.name.lower())
            if mine and other and other != mine and n.kind == "switch":
                by_slug[other].depended_on_by.append(mine)
    for entry in by_slug.values():
        # a hub is the neighbour of switches at two or more other sites (a chain of two
        # sites that see each other has no hub)
        others = sorted(set(entry.depended_on_by))
        entry.depended_on_by = others if len(others) >= 2 else []
    return [by_slug[k] for k in sorted(by_slug)]


def waves(sites: list[SiteEntry]) -> list[dict[str, Any]]:
    """The waves, in order; empty waves are left out."""
    hubs = [s for s in sites if s.depended_on_by]
    rest = [s for s in sites if not s.depended_on_by]
    in_place = [s for s in rest if s.method == IN_PLACE]
    grown = [s for s in in_place if not s.children] or in_place
    pilot = min(grown, key=lambda s: (s.ports_in_use, s.slug), default=None)
    plan: list[tuple[str, str, str | None, list[SiteEntry]]] = []
    if pilot is not None:
        plan.append(("pilot", "the smallest site migrated in place: the procedure is tried "
                     "where the fewest people notice", None, [pilot]))
    plan.append(("offices", "in-place sites without children", None,
                 [s for s in in_place if s is not pilot and not s.children]))
    plan.append(("schools and kindergartens", "sites with children: when they are away",
                 "school holiday / closed day", [s for s in in_place
                                                  if s is not pilot and s.children]))
    plan.append(("hardware replacement", "devices that cannot be migrated in place", None,
                 [s for s in rest if s.method == REPLACE]))
    plan.append(("last", "sites that other sites hang on", None, hubs))
    out: list[dict[str, Any]] = []
    for name, why, window, members in plan:
        if not members:
            continue
        out.append({"wave": len(out) + 1, "name": name, "why": why, "window": window,
                    "sites": {s.slug: {"name": s.name, "kind": s.kind,
                                       "ports_in_use": s.ports_in_use,
                                       **({"others_hang_on_it": s.depended_on_by}
                                          if s.depended_on_by else {}),
                                       "devices": s.devices}
                              for s in sorted(members, key=lambda s: s.slug)}})
    return out


def dump(plan: list[dict[str, Any]]) -> str:
    return HEADER + yaml.safe_dump({"waves": plan}, sort_keys=False, allow_unicode=True,
                                   default_flow_style=False, width=100)


def load_plan(path: Path) -> list[dict[str, Any]]:
    """The waves of a plan file (as the engineer left it), checked for shape."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the migration plan: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from None
    waves_ = data.get("waves") if isinstance(data, dict) else None
    if not isinstance(waves_, list):
        raise UsageError(f"{path}: waves: expected a list of waves")
    seen: dict[str, int] = {}
    for i, wave in enumerate(waves_):
        where = f"{path}: waves[{i}]"
        if not isinstance(wave, dict) or not isinstance(wave.get("wave"), int) \
                or not isinstance(wave.get("sites"), dict):
            raise UsageError(f"{where}: each wave needs `wave` (a number) and `sites`")
        for slug, site in wave["sites"].items():
            if slug in seen:
                raise UsageError(f"{where}.sites.{slug}: already in wave {seen[slug]}")
            seen[slug] = wave["wave"]
            devices = site.get("devices") if isinstance(site, dict) else None
            if not isinstance(devices, dict) or not all(
                    isinstance(d, dict) and {"legacy", "method"} <= set(d)
                    for d in devices.values()):
                raise UsageError(f"{where}.sites.{slug}.devices: each device needs `legacy` "
                                 "and `method`")
            for host, d in devices.items():
                if d["method"] not in (IN_PLACE, REPLACE):
                    raise UsageError(f"{where}.sites.{slug}.devices.{host}.method: "
                                     f"{d['method']!r} is not {IN_PLACE} or {REPLACE}")
    return waves_
