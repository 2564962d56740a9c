"""The IP plan: ``docs/ip-plan.md`` and its machine-readable copy ``docs/ip-plan.csv``.

One row per site and zone, sites by committed index, zones by zone id. The transit /31s
and WAN numbers come from :func:`~nornir_tasks.design.switch.transit_links`, the same
derivation the configs use, so the documented numbers cannot drift from the configs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, fields

from nornir_tasks.design.switch import backup_links, transit_links
from nornir_tasks.handover.facts import (
    core_pair,
    gateway_text,
    is_gre,
    net_text,
    sites_in_order,
    usable_hosts,
    wan_block,
    zone_order,
)
from nornir_tasks.handover.markdown import GENERATED, NONE, md_table, md_text, yes_no
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Site, SiteKind


@dataclass(frozen=True, slots=True)
class IpPlanRow:
    """One site x zone line of the IP plan; field order is the CSV column order."""

    site: str
    site_name: str
    kind: str
    index: int
    zone: str
    vlan: int
    vrf: str
    prefix: str
    gateway: str
    gateway_on: str
    usable_hosts: int
    dhcp: str
    transit_block: str
    transit_link: str
    wan_number: str
    wan_kind: str
    circuit_type: str
    overlay: str
    provider: str
    circuit_id: str
    bandwidth_mbps: str
    core: str
    # a dual-homed site's second circuit (empty for the others)
    backup_transit_link: str = ""
    backup_wan_number: str = ""
    backup_circuit_id: str = ""
    backup_core: str = ""


#: CSV header: the row's fields in declaration order, so header and values cannot drift.
IP_PLAN_FIELDS = tuple(f.name for f in fields(IpPlanRow))


def ip_plan_rows(intent: Intent) -> list[IpPlanRow]:
    """One row per site per zone present at it, sites by index, zones by zone id."""
    rows: list[IpPlanRow] = []
    for slug, site in sites_in_order(intent):
        links = {link.zone: link for link in transit_links(intent, slug)} \
            if site.transit is not None and site.wan_vlan_base is not None else {}
        if site.kind == SiteKind.core:
            gateway_on = "HSRP " + "/".join(core_pair(intent, intent.site_devices(slug)))
        else:
            gateway_on = intent.gateway_of(slug)
        c = site.circuit
        b = site.backup_circuit
        backups = {link.zone: link for link in backup_links(intent, slug)}
        transit_block = net_text(site.transit) if site.transit else ""
        for zone in intent.zones_at(site):
            z = intent.zones[zone]
            net = site.prefixes[zone]
            link = links.get(zone)
            rows.append(IpPlanRow(
                site=slug, site_name=site.name, kind=site.kind.value, index=site.index,
                zone=zone, vlan=z.vlan, vrf=z.vrf, prefix=net_text(net),
                gateway=gateway_text(intent, net), gateway_on=gateway_on,
                usable_hosts=usable_hosts(net), dhcp=yes_no(z.dhcp),
                transit_block=transit_block,
                transit_link=net_text(link.core_addr.network) if link else "",
                wan_number=str(link.number) if link else "",
                wan_kind=_wan_kind(site) if link else "",
                circuit_type=c.type.value if c else "",
                overlay=c.overlay.value if c else "",
                provider=c.provider if c else "",
                circuit_id=c.circuit_id if c else "",
                bandwidth_mbps=str(c.bandwidth_mbps) if c else "",
                core=c.core if c else "",
                backup_transit_link=net_text(backups[zone].core_addr.network)
                if zone in backups else "",
                backup_wan_number=str(backups[zone].number) if zone in backups else "",
                backup_circuit_id=b.circuit_id if b else "",
                backup_core=b.core if b else "",
            ))
    return rows


def ip_plan_csv(rows: Sequence[IpPlanRow]) -> str:
    """RFC 4180 CSV with a header row; ``\\n`` line ends so the file diffs like the rest."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(IP_PLAN_FIELDS)
    for row in rows:
        writer.writerow([getattr(row, f) for f in IP_PLAN_FIELDS])
    return buf.getvalue()


def _wan_kind(site: Site) -> str:
    return "tunnel" if is_gre(site) else "vlan"


def ip_plan_md(intent: Intent, rows: Sequence[IpPlanRow]) -> str:
    """``docs/ip-plan.md``: sites and circuits, zone prefixes (``rows``), pool usage."""
    host = intent.management.mgmt_gateway_host
    out = [
        "# IP plan", "", GENERATED, "",
        "Prefixes were allocated once per site (`fellesnett site add`) and are committed in "
        "`inventory/group_vars/site_<slug>.yml`; they are never recomputed. The gateway of "
        f"every zone is host number {host} of its prefix (at the core site: the HSRP virtual "
        "IP of the core pair). Each site's transit block holds one /31 per zone (zone N uses "
        "the N-th /31, core side first); its WAN VLAN or GRE tunnel for zone N is the site's "
        "base + N. Machine-readable copy: [ip-plan.csv](ip-plan.csv).", "",
        "## Sites and circuits", "",
    ]
    site_rows = []
    for slug, site in sites_in_order(intent):
        c = site.circuit
        site_rows.append([
            slug, site.name, site.kind.value, site.index, str(site.transit or ""),
            wan_block(intent, site), c.type.value if c else NONE,
            c.overlay.value if c else NONE, c.provider if c else NONE,
            c.circuit_id if c else NONE, c.bandwidth_mbps if c else NONE,
            c.core if c else NONE,
        ])
    out += md_table(["Site", "Name", "Kind", "Index", "Transit block", "WAN VLAN/tunnel block",
                     "Circuit", "Overlay", "Provider", "Circuit ID", "Mbit/s", "Core"],
                    site_rows, right=[3, 10])
    out += ["", "## Zone prefixes", ""]
    out += md_table(
        ["Site", "Name", "Kind", "Zone", "VLAN", "VRF", "Prefix", "Gateway", "Usable hosts",
         "DHCP", "Transit /31", "WAN VLAN/tunnel"],
        ([r.site, r.site_name, r.kind, r.zone, r.vlan, r.vrf, r.prefix, r.gateway,
          r.usable_hosts, r.dhcp, r.transit_link, r.wan_number] for r in rows),
        right=[4, 8, 11])
    out += ["", "## Pool usage", ""]
    out += md_table(["Pool", "Prefix", "Allocated", "Addresses allocated", "Used"],
                    _pool_usage(intent), right=[2, 3, 4])
    return md_text(out)


def _pool_usage(intent: Intent) -> list[list[object]]:
    # capacity planning: how full each pool is, so the operator sees exhaustion coming
    out: list[list[object]] = []
    for zone in zone_order(intent):
        pool = intent.pools.zones.get(zone)
        if pool is None:
            continue
        nets = [s.prefixes[zone] for s in intent.sites.values() if zone in s.prefixes]
        used = sum(n.num_addresses for n in nets)
        out.append([zone, str(pool.pool), len(nets), used,
                    f"{100 * used / pool.pool.num_addresses:.1f} %"])
    tp = intent.pools.transit
    blocks = [s.transit for s in intent.sites.values() if s.transit is not None]
    used = sum(n.num_addresses for n in blocks)
    out.append(["transit", str(tp.pool), len(blocks), used,
                f"{100 * used / tp.pool.num_addresses:.1f} %"])
    return out


__all__ = [
    "IP_PLAN_FIELDS",
    "IpPlanRow",
    "ip_plan_csv",
    "ip_plan_md",
    "ip_plan_rows",
]
