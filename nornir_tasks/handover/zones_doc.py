"""``docs/zones.md`` and ``docs/ssids.md``: the zones, the zone policy as written, and
the SSIDs that lead into the zones.

The matrix here is the policy *as written in the intent*; ``docs/zone-matrix.md`` beside
it is the matrix as proven on the rendered configs (``fellesnett verify``).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from nornir_tasks.design.structured import secret_placeholder
from nornir_tasks.handover.facts import rule_ports, zone_order
from nornir_tasks.handover.markdown import GENERATED, NONE, md_table, md_text, yes_no
from nornir_tasks.intent.checks import INTERNET
from nornir_tasks.intent.flows import end_zones, host_zones, service_prefixes
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import FlowEnd


def policy_matrix(intent: Intent) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    """Destination columns and the allowed entries per (source zone, destination).

    A rule's entry is its ports; an infrastructure flow's entry is its ports followed by
    the flow name in parentheses, so the matrix shows every open pair and which section of
    the policy opened it. A pair without entries is denied.
    """
    columns = [*zone_order(intent), *sorted(intent.services), INTERNET]
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rule in intent.policy.rules:
        cells[rule.from_, rule.to].append(", ".join(rule_ports(intent, rule)))
    for flow in intent.policy.infrastructure:
        targets = [flow.to.service] if flow.to.service in intent.services else []
        targets += host_zones(intent, flow.to)
        for src in end_zones(intent, flow.from_):
            for dst in targets:
                if src != dst:
                    cells[src, dst].append(f"{', '.join(flow.ports)} ({flow.name})")
    return columns, dict(cells)


def zones_md(intent: Intent) -> str:
    """``docs/zones.md``: zones, the policy matrix, rules, infrastructure flows, services."""
    pol = intent.policy
    out = ["# Zones, VLANs, VRFs and the zone policy", "", GENERATED, "",
           "Each zone is one VLAN and one VRF on every device that carries it. A zone exists "
           "at a site kind only where its pool gives a prefix length for that kind.", "",
           "## Zones", ""]
    kinds = list(intent.site_kinds)
    zrows = []
    for zone in zone_order(intent):
        z = intent.zones[zone]
        pool = intent.pools.zones.get(zone)
        present = ", ".join(f"{k.value} /{pool.prefix_length[k]}" for k in kinds
                            if pool is not None and k in pool.prefix_length)
        zrows.append([zone, z.id, z.vlan, z.vrf, z.description, yes_no(z.client_zone),
                      yes_no(z.dhcp), present or NONE, str(pool.pool) if pool else NONE])
    out += md_table(["Zone", "ID", "VLAN", "VRF", "Description", "Client zone", "DHCP",
                     "Site kinds (prefix length)", "Pool"], zrows, right=[1, 2])

    count = Counter(s.kind for s in intent.sites.values())
    own = Counter(s.kind for s in intent.sites.values() if s.zones is not None)
    out += ["", "## Site kinds", "",
            "Defined in `group_vars/all/site_kinds.yml`. A site has the zones its kind gets "
            "a prefix length for, unless it lists fewer of its own (`site.zones`).", ""]
    krows = []
    for kind, d in intent.site_kinds.items():
        zones_of = [z for z in zone_order(intent) if z in intent.pools.zones
                    and kind in intent.pools.zones[z].prefix_length]
        krows.append([kind.value, d.description, count[kind], own[kind],
                      ", ".join(zones_of) or NONE, yes_no(d.children)])
    out += md_table(["Kind", "Description", "Sites", "With fewer zones", "Zones",
                     "Children on site"], krows, right=[2, 3])

    columns, cells = policy_matrix(intent)
    zones = zone_order(intent)
    noc = ", ".join(str(p) for p in intent.management.noc_prefixes)
    out += ["", "## Zone policy matrix", "",
            "**Default deny.** Traffic between zones is routed only at the core pair, through "
            "ingress ACLs generated from this matrix; a pair marked "
            f"{NONE} is denied. Rows are source zones, columns are destination zones, shared "
            f"services and `{INTERNET}`. A cell lists the allowed ports; an entry followed by "
            "a name in parentheses is an infrastructure flow of that name. Traffic inside one "
            "zone stays in its VRF and is not governed by the matrix (\"same zone\"). "
            f"The management zone `{pol.management_zone}` is reachable only from the NOC "
            f"prefixes ({noc}); unknown devices land in the restricted zone "
            f"`{pol.restricted_zone}`.", ""]
    mrows = []
    for src in zones:
        row: list[object] = [f"**{src}**"]
        for dst in columns:
            entries = cells.get((src, dst))
            if entries:
                row.append("<br>".join(entries))
            else:
                row.append("same zone" if src == dst else NONE)
        mrows.append(row)
    out += md_table(["from \\ to", *columns], mrows)

    out += ["", "## Rules", ""]
    out += md_table(["From", "To", "Ports", "Description"],
                    ([r.from_, r.to, ", ".join(rule_ports(intent, r)), r.description]
                     for r in pol.rules))
    out += ["", "## Required flows", "",
            "The flows the network needs to work (infrastructure flows). Each is proven end "
            "to end at every site by `fellesnett verify` (layer 2 to the gateway, routes and "
            "ACLs both ways, the DHCP helpers): see the required-flow table in "
            "[zone-matrix.md](zone-matrix.md).", ""]
    out += md_table(["Name", "From", "To", "Destination prefixes", "Ports", "Source ports",
                     "Description"],
                    ([f.name, f.from_.label(), f.to.label(), _dest_prefixes(intent, f.to),
                      ", ".join(f.ports), ", ".join(f.source_ports or ["1024-65535"])
                      + ("" if f.reply else " (one way)"), f.description]
                     for f in pol.infrastructure))
    out += ["", "## Accepted exposures", "",
            "What the stateless ACLs let through beyond the flows above, accepted on purpose "
            "(`zone_policy.accepted_exposures`). `fellesnett verify` computes the exact "
            "header space and fails the build on anything not listed here; the rows it "
            "found are in [zone-matrix.md](zone-matrix.md).", ""]
    out += md_table(["From", "To", "Ports", "Source ports", "Reason"],
                    ([", ".join(a.from_), ", ".join(a.to), ", ".join(a.ports or ["any"]),
                      ", ".join(a.source_ports or ["any"]), a.reason]
                     for a in pol.accepted_exposures)) if pol.accepted_exposures else [NONE]
    out += ["", "## Shared services", ""]
    out += md_table(["Service", "Description", "Prefixes", "Ports"],
                    ([name, s.description, ", ".join(str(p) for p in s.prefixes),
                      ", ".join(s.ports)] for name, s in sorted(intent.services.items())))
    return md_text(out)


def _dest_prefixes(intent: Intent, to: FlowEnd) -> str:
    parts = [str(p) for p in service_prefixes(intent, to.service)] if to.service else []
    parts += [f"every {z} prefix" for z in host_zones(intent, to)]
    return ", ".join(parts)


def ssids_md(intent: Intent) -> str:
    """``docs/ssids.md``: every SSID, its security and the zone it leads to."""
    w = intent.wireless
    kind_count = Counter(s.kind for s in intent.sites.values())
    out = ["# SSIDs", "", GENERATED, "",
           f"Country code `{w.country}`. APs are managed in zone `{w.ap_zone}` (native VLAN "
           f"{intent.zones[w.ap_zone].vlan} of AP trunks) and switch client traffic locally "
           "onto the site's zone VLANs.", ""]
    rows = []
    for s in sorted(w.ssids, key=lambda s: s.wlan_id):
        kinds = ", ".join(f"{k.value} ({kind_count[k]})" for k in intent.site_kinds
                          if k in s.site_kinds)
        sec = s.security.value
        if s.psk_secret:
            sec += f" (key `{secret_placeholder(s.psk_secret)}`)"
        rows.append([s.name, s.ssid, s.wlan_id, sec,
                     f"{s.zone} (VLAN {intent.zones[s.zone].vlan})", yes_no(s.aaa_override),
                     kinds])
    out += md_table(["Profile", "SSID", "WLAN ID", "Security", "Default zone", "AAA override",
                     "Site kinds (sites)"], rows, right=[2])
    out += ["", "With AAA override, RADIUS returns the user's zone VLAN (see "
            "[zones.md](zones.md)); anyone RADIUS says nothing about stays in the SSID's "
            "default zone.", ""]
    return md_text(out)


__all__ = [
    "policy_matrix",
    "ssids_md",
    "zones_md",
]
