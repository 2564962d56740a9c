"""Handover documentation: intent -> Markdown, CSV and SVG text for ``build/docs/``.

The top of the handover documents: :func:`build_docs` gathers every document family of
the package (IP plan, zones and SSIDs, secrets, site sheets, ROS, tables, topology) and
writes the bundle's ``README.md`` that lists them.

Docs are drawn from the :class:`Intent` itself, not from rendered configs, so an operator
reads the same facts the configs were designed from (ARCHITECTURE: ``Intent --> docs``).
The only derivation shared with the design step is
:func:`~nornir_tasks.design.switch.transit_links`, imported rather than re-implemented so
the documented /31s and WAN numbers cannot drift from the configs.

:func:`build_docs` returns ``{relative path: text}`` and writes nothing; the build step
owns the files. Output is deterministic (everything sorted, no timestamps, no absolute
paths) so the handover bundle diffs cleanly between builds. Estate-wide files stay
complete under ``--limit`` (a risk report or DHCP table cut down to a few sites would
mislead); site sheets and per-site pictures follow the host selection.
"""

from __future__ import annotations

from collections import Counter

from nornir_tasks.handover.facts import SWITCH_ROLES, sites_in_order
from nornir_tasks.handover.ipplan import ip_plan_csv, ip_plan_md, ip_plan_rows
from nornir_tasks.handover.markdown import GENERATED, md_table, md_text
from nornir_tasks.handover.ros import ros_json, ros_markdown
from nornir_tasks.handover.secrets_doc import secrets_md
from nornir_tasks.handover.sites import site_sheet, site_sheet_path
from nornir_tasks.handover.tables import (
    dhcp_csv,
    dhcp_md,
    dhcp_scopes,
    runbook_md,
    vlans_vrfs_md,
)
from nornir_tasks.handover.topology import estate_svg, site_svg, topology_md
from nornir_tasks.handover.zones_doc import ssids_md, zones_md
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Role
from nornir_tasks.interfaces import expand_interface_range

#: The estate-wide files :func:`handover_docs` adds, and what each holds (for the docs README).
CONTENTS = (
    ("ros.md", "Risk and vulnerability analysis (ROS) derived from the intent: findings, "
     "consequences, mitigations"),
    ("ros.json", "The same ROS findings for a risk register"),
    ("vlans-vrfs.md", "Every VLAN and VRF: zones, route targets, core-only VLANs, WAN "
     "VLANs and GRE tunnels per site"),
    ("dhcp.md", "DHCP scopes per site and zone, and the assumptions behind them"),
    ("dhcp-scopes.csv", "The DHCP scopes as CSV for the DHCP servers"),
    ("topology.md", "Estate diagram (mermaid) and the list of per-site pictures"),
    ("topology.svg", "Estate topology picture: core pair, firewall, controller, sites and "
     "circuits"),
    ("runbook.md", "Runbook: deploy, rollback, add a site, replace a switch, rotate a "
     "secret, verify a bundle"),
)


def build_docs(intent: Intent, hosts: set[str] | None = None) -> dict[str, str]:
    """Every documentation file of the handover bundle, by path relative to ``build/docs``.

    ``hosts`` is a ``--limit`` selection: site sheets are written only for sites that
    hold a selected host, while estate-wide documents stay complete (an IP plan or a
    policy matrix cut down to a few sites would mislead whoever reads it).

    Raises:
        ValueError: ``hosts`` names a host that is not in the inventory.
    """
    if hosts is None:
        sheet_sites = set(intent.sites)
    else:
        unknown = sorted(hosts - set(intent.devices))
        if unknown:
            raise ValueError(f"not in the inventory: {', '.join(unknown)}")
        sheet_sites = {intent.device_site[h] for h in hosts}
    by_site = _devices_by_site(intent)
    rows = ip_plan_rows(intent)
    docs = {
        "README.md": _readme(intent, by_site, sheet_sites),
        "ip-plan.csv": ip_plan_csv(rows),
        "ip-plan.md": ip_plan_md(intent, rows),
        "zones.md": zones_md(intent),
        "ssids.md": ssids_md(intent),
        "secrets.md": secrets_md(intent),
    }
    for slug in sorted(sheet_sites):
        docs[site_sheet_path(slug)] = site_sheet(intent, slug, by_site[slug])
    docs.update(handover_docs(intent, sheet_sites))
    return dict(sorted(docs.items()))


def handover_docs(intent: Intent, sheet_sites: set[str]) -> dict[str, str]:
    """The files of :data:`CONTENTS` and each selected site's topology picture, by path
    relative to ``build/docs``."""
    scopes = dhcp_scopes(intent)
    out = {
        "ros.md": ros_markdown(intent),
        "ros.json": ros_json(intent),
        "vlans-vrfs.md": vlans_vrfs_md(intent),
        "dhcp.md": dhcp_md(intent, scopes),
        "dhcp-scopes.csv": dhcp_csv(scopes),
        "topology.md": topology_md(intent, sheet_sites),
        "topology.svg": estate_svg(intent),
        "runbook.md": runbook_md(intent),
    }
    for slug in sorted(sheet_sites):
        out[f"topology/{slug}.svg"] = site_svg(intent, slug)
    return out


def _devices_by_site(intent: Intent) -> dict[str, list[str]]:
    # one pass instead of intent.site_devices() per site: cheap at county scale
    out: dict[str, list[str]] = {slug: [] for slug in intent.sites}
    for host in sorted(intent.devices):
        out[intent.device_site[host]].append(host)
    return out


def _readme(intent: Intent, by_site: dict[str, list[str]], sheet_sites: set[str]) -> str:
    # the bundle's index: what each document holds, the estate in numbers, the site sheets
    roles = Counter(d.role for d in intent.devices.values())
    kinds = Counter(s.kind for s in intent.sites.values())
    ports = _profile_port_counts(intent)
    phone = sum(n for p, n in ports.items() if intent.port_profiles[p].voice_zone is not None)
    client = sum(n for p, n in ports.items() if intent.port_profiles[p].dot1x)
    switches = sum(roles[r] for r in SWITCH_ROLES)
    out = ["# fellesnett — handover documentation", "", GENERATED, "",
           "## Contents", ""]
    out += md_table(["Document", "What it holds"], [
        ["[ip-plan.md](ip-plan.md)", "Sites, circuits, transit blocks and every zone prefix "
         "with its gateway"],
        ["[ip-plan.csv](ip-plan.csv)", "The same IP plan as CSV, one row per site and zone"],
        ["[zones.md](zones.md)", "Zones (VLAN, VRF, pools), the zone policy matrix, "
         "infrastructure flows, shared services"],
        ["[ssids.md](ssids.md)", "SSIDs and the zones they lead to"],
        ["[secrets.md](secrets.md)", "Checklist of secrets to provision at deploy time"],
        ["`sites/<slug>.md`", "One sheet per site: circuit, zones, devices, port maps, APs, "
         "diagram"],
        ["[zone-matrix.md](zone-matrix.md)", "The zone matrix as proven on the rendered "
         "configs (full builds only; JSON beside it)"],
        *([f"[{path}]({path})", what] for path, what in CONTENTS),
        ["`topology/<slug>.svg`", "Topology picture of each site"],
        ["`../radius/`", "RADIUS authorisation policy (FreeRADIUS files, CSV for NPS/ISE)"],
        ["`../configs/<site>/<host>.cfg`", "Every switch and controller config, secrets as "
         "named placeholders (see secrets.md)"],
    ])
    out += ["", "## Estate in numbers", ""]
    counts: list[list[object]] = [[f"Sites: {k.value}", kinds[k]] for k in intent.site_kinds]
    counts += [
        ["Sites", len(intent.sites)],
        ["Switches", f"{switches} (" + ", ".join(
            f"{r.value} {roles[r]}" for r in SWITCH_ROLES) + ")"],
        ["Wireless controllers", roles[Role.wlc]],
        ["Access points", roles[Role.ap]],
        ["Phone ports", phone],
        ["802.1X client ports (incl. phone ports)", client],
        ["Zones", len(intent.zones)],
        ["SSIDs", len(intent.wireless.ssids)],
    ]
    out += md_table(["What", "Count"], counts, right=[1])
    out += ["", "## Site sheets", ""]
    if sheet_sites != set(intent.sites):
        out += [f"This bundle was built for a host selection (`--limit`): it holds "
                f"{len(sheet_sites)} of {len(intent.sites)} site sheets.", ""]
    rows = []
    for slug, site in sites_in_order(intent):
        link = f"[{slug}]({site_sheet_path(slug)})" if slug in sheet_sites else slug
        devs = [intent.devices[h].role for h in by_site[slug]]
        rows.append([link, site.name, site.kind.value, site.index,
                     sum(1 for r in devs if r in SWITCH_ROLES),
                     sum(1 for r in devs if r is Role.ap)])
    out += md_table(["Site", "Name", "Kind", "Index", "Switches", "APs"], rows,
                    right=[3, 4, 5])
    return md_text(out)


def _profile_port_counts(intent: Intent) -> Counter[str]:
    counts: Counter[str] = Counter()
    for dev in intent.devices.values():
        for pa in dev.ports:
            counts[pa.profile] += len(expand_interface_range(pa.range))
    return counts


__all__ = [
    "CONTENTS",
    "build_docs",
    "handover_docs",
]
