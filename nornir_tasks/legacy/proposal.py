"""``fellesnett import``: write the proposed inventory and the import report.

The proposal is the base inventory (an estate started with ``fellesnett init``, or the
one in use) plus one site per mapped site, in the files ``site add`` writes: the same
allocations (first free blocks, committed once), the same ``hosts.yml`` insertion, the
port maps from the legacy ports. It is written to a new directory, only after it has
loaded as an intent there, and renamed into place: a refusal leaves nothing behind.

The report (beside it) says for every device what became of each port (legacy name, new
name, profile, the zone its users land in and by which authorisation group) and lists
every legacy line not carried, by feature, with the reason: lines read = carried + not
carried + framing, per device.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir_tasks.allocate import Allocator
from nornir_tasks.errors import IntentError, UsageError
from nornir_tasks.intent.loader import HOSTS_FILE, SITE_GROUP_PREFIX, kind_group, load_intent
from nornir_tasks.intent.model import Role, SiteKind
from nornir_tasks.legacy.importer import Importer, SitePlan, landing_groups
from nornir_tasks.legacy.mapping import Mapping
from nornir_tasks.legacy.report import device_markdown
from nornir_tasks.legacy.surveyed import Surveyed
from nornir_tasks.site_add import insert_site
from nornir_tasks.site_layout import SITE_HEADER, circuit_facts, dump_yaml


@dataclass(frozen=True)
class ImportResult:
    out: Path
    report: Path
    sites: list[SitePlan]
    skipped: list[tuple[str, str]]

    def summary(self) -> dict[str, Any]:
        return {"inventory": str(self.out), "report": str(self.report),
                "sites": {s.name: {"group": SITE_GROUP_PREFIX + s.slug, "kind": s.kind,
                                   "hosts": [d.host for d in s.devices]
                                   + [a.name for d in s.devices for a in d.aps]}
                          for s in self.sites},
                "skipped": dict(self.skipped),
                "devices": {d.surveyed.host: device_summary(d.legacy.summary(), len(d.ports))
                            for s in self.sites for d in s.devices}}


def device_summary(s: dict[str, Any], ports: int) -> dict[str, Any]:
    keep = ("lines_read", "carried", "not_carried", "framing", "not_carried_by_feature")
    return {**{k: s[k] for k in keep}, "ports": ports}


def propose(base: Path, devices: list[Surveyed], mapping: Mapping, mapping_file: str,
            out: Path, report: Path) -> ImportResult:
    """Write the proposed inventory to ``out`` and the report to ``report``; all or nothing."""
    for target in (out, report):
        if target.exists():
            raise UsageError(f"{target} exists: give a new directory")
    intent = load_intent(base)
    sites, skipped = Importer(intent, mapping, mapping_file).plan(devices)
    alloc = Allocator(intent.pools, list(intent.sites.values()))
    cores = sorted(h for h, d in intent.devices.items() if d.role is Role.core)
    order = [kind_group(k) for k in intent.site_kinds]
    hosts_text = (base / HOSTS_FILE).read_text(encoding="utf-8")
    files: dict[str, str] = {}
    for site in sites:
        kind = SiteKind(site.kind)
        where = f"{mapping_file}: sites.{site.name}"
        if kind not in intent.site_kinds or kind == SiteKind.core:
            raise UsageError(f"{where}.kind: {site.kind!r} is not an edge site kind of this "
                             f"estate ({', '.join(k for k in intent.site_kinds if k != 'core')})")
        if site.slug in intent.sites:
            raise UsageError(f"{where}: the inventory has a site {site.slug!r} already")
        try:
            a = alloc.allocate(kind, site.zones)
        except ValueError as exc:
            raise UsageError(f"{where}: cannot allocate: {exc}") from None
        circuit = circuit_facts(site.circuit, a.index, cores)
        mgmt = a.prefixes[intent.policy.management_zone]
        first = mgmt.network_address + intent.management.mgmt_gateway_host
        facts: dict[str, Any] = {"name": site.name, "kind": site.kind}
        if site.zones is not None:
            facts["zones"] = sorted(site.zones)
        facts |= {"index": a.index, "circuit": circuit,
                  "prefixes": {z: str(n) for z, n in a.prefixes.items()},
                  "transit": str(a.transit), "wan_vlan_base": a.wan_vlan_base}
        files[f"group_vars/{SITE_GROUP_PREFIX}{site.slug}.yml"] = (
            SITE_HEADER + dump_yaml({"site": facts}))
        hosts: dict[str, dict[str, Any]] = {}
        for i, dev in enumerate(site.devices):
            hosts[dev.host] = {"role": "access", "model": dev.model,
                               "ansible_host": str(first + i)}
            files[f"host_vars/{dev.host}.yml"] = dump_yaml({"ports": dev.port_map()})
            for ap in dev.aps:
                hosts[ap.name] = {"role": "ap", "model": ap.model, "mac": ap.mac,
                                  "connected_to": {"switch": ap.switch, "port": ap.port}}
        hosts_text = insert_site(hosts_text, kind_group(kind), SITE_GROUP_PREFIX + site.slug,
                                 hosts, order)
    files[HOSTS_FILE] = hosts_text
    _write_inventory(base, files, out)
    _write_report(sites, skipped, report, load_intent(out))
    return ImportResult(out, report, sites, skipped)


def _write_inventory(base: Path, files: dict[str, str], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.rmtree(scratch)
        shutil.copytree(base, scratch, symlinks=True)
        for rel, text in files.items():
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            (scratch / rel).write_text(text, encoding="utf-8")
        try:
            load_intent(scratch)
        except IntentError as exc:
            raise UsageError("the proposed inventory is not valid (nothing was written):\n"
                             + "\n".join(f"  {p}" for p in exc.problems)) from None
        os.rename(scratch, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_report(sites: list[SitePlan], skipped: list[tuple[str, str]], report: Path,
                  intent: Any) -> None:
    report.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{report.name}.", dir=report.parent))
    try:
        index = ["# Import report", "",
                 "What each legacy device became, port by port, and every legacy line that "
                 "is not carried into the intent (by feature, with the reason).", "",
                 "| legacy device | site | new host | model | lines read | carried | "
                 "not carried | framing |", "|---|---|---|---|---:|---:|---:|---:|"]
        rows: dict[str, Any] = {}
        for site in sites:
            for dev in site.devices:
                s = dev.legacy.summary()
                index.append(f"| [{dev.surveyed.host}]({dev.surveyed.host}.md) | {site.name} "
                             f"| {dev.host} | {dev.model} | {s['lines_read']} | "
                             f"{s['carried']} | {s['not_carried']} | {s['framing']} |")
                ports = []
                for p in dev.ports:
                    groups = (landing_groups(intent, p.profile, p.zone)
                              if p.profile and p.zone and p.profile != "ap" else [])
                    ports.append({"legacy": p.legacy, "new": p.new, "profile": p.profile,
                                  "zone": p.zone, "vlan": p.vlan, "groups": groups,
                                  "why": p.why})
                rows[dev.surveyed.host] = {
                    "site": site.name, "host": dev.host, "model": dev.model,
                    "legacy_model": dev.surveyed.model or dev.legacy.model,
                    "platform": dev.legacy.platform,
                    "surveyed": dev.surveyed.surveyed,
                    **device_summary(s, len(dev.ports)), "ports": ports,
                    "aps": [{"name": a.name, "model": a.model, "mac": a.mac, "port": a.port,
                             "legacy_name": a.legacy_name} for a in dev.aps],
                    "notes": dev.notes + dev.legacy.notes}
                (scratch / f"{dev.surveyed.host}.md").write_text(
                    _device_page(dev.surveyed.host, rows[dev.surveyed.host])
                    + "\n" + device_markdown(dev.legacy) + "\n", encoding="utf-8")
        if skipped:
            index += ["", "## Skipped (the mapping's `skip`)", ""]
            index += [f"- {h}: {why}" for h, why in skipped]
        (scratch / "README.md").write_text("\n".join(index) + "\n", encoding="utf-8")
        (scratch / "import.json").write_text(
            json.dumps({"devices": rows, "skipped": dict(skipped)}, indent=2,
                       ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        os.rename(scratch, report)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _device_page(host: str, row: dict[str, Any]) -> str:
    out = [f"# {host} → {row['host']} ({row['model']}, {row['site']})", "",
           "| legacy port | new port | profile | users' zone | by group | why |",
           "|---|---|---|---|---|---|"]
    for p in row["ports"]:
        out.append(f"| {p['legacy']} | {p['new'] or '—'} | {p['profile'] or 'unused'} | "
                   f"{p['zone'] or ''} | {', '.join(p['groups'])} | {p['why']} |")
    if row["aps"]:
        out += ["", "Access points (from LLDP/CDP):", ""]
        out += [f"- {a['name']} ({a['model']}, {a['mac']}) on {a['port']}, was "
                f"{a['legacy_name']}" for a in row["aps"]]
    for note in row["notes"]:
        out.append(f"\n> {note}")
    return "\n".join(out) + "\n"
