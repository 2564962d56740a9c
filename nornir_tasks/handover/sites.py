"""Site sheets, ``docs/sites/<slug>.md``: circuit, zones, transit, topology diagram,
devices, port maps and access points of one site.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from nornir_tasks.design.switch import backup_links, transit_links
from nornir_tasks.handover.facts import (
    SWITCH_ROLES,
    core_pair,
    gateway_text,
    is_gre,
    net_text,
    sites_in_order,
    usable_hosts,
    wan_block,
)
from nornir_tasks.handover.markdown import GENERATED, NONE, md_table, md_text, yes_no
from nornir_tasks.handover.topology import site_mermaid
from nornir_tasks.intent.checks import UNUSED_PROFILE
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.intent.model import Overlay, Role, Site, SiteKind
from nornir_tasks.interfaces import (
    expand_interface_range,
    interface_sort_key,
    interfaces_to_ranges,
)

#: Devices that carry the shared IOS-XE management plane (AAA, SNMP, local users).
MANAGED_ROLES = (*SWITCH_ROLES, Role.wlc)
#: Device order on a site sheet: from the core of the site outwards.
ROLE_ORDER = (*MANAGED_ROLES, Role.ap)


def site_sheet_path(slug: str) -> str:
    """Path of a site's sheet inside the docs directory.

    >>> site_sheet_path("alta_skole")
    'sites/alta_skole.md'
    """
    return f"sites/{slug}.md"


@dataclass(frozen=True, slots=True)
class PortRow:
    """A run of ports with one profile and description, as a port sheet shows it."""

    ports: str  # interface or range, e.g. GigabitEthernet1/0/1-36
    profile: str
    description: str


def port_map(intent: Intent, host: str) -> tuple[list[PortRow], list[str]]:
    """A device's ports compressed to ranges, and the ranges of ports it does not use.

    Besides the port map from ``host_vars``, the ports the design step claims for WAN
    circuits (site gateway WAN port; core NNI and L3VPN underlay ports) are shown with
    pseudo-profiles ``wan``, ``wan-underlay``, ``nni`` and ``underlay``; those are not in
    the port map, so without them the sheet would show a live circuit as unused.
    """
    dev = intent.devices[host]
    slug = intent.device_site[host]
    site = intent.sites[slug]
    key: dict[str, tuple[str, str]] = {}
    for pa in dev.ports:
        desc = pa.description or intent.port_profiles[pa.profile].description
        for name in expand_interface_range(pa.range):
            key[name] = (pa.profile, desc)
    c = site.circuit
    if c is not None and dev.role in SWITCH_ROLES and intent.gateway_of(slug) == host:
        if c.overlay is Overlay.gre:
            key[c.site_interface] = ("wan-underlay", f"WAN {c.circuit_id} {c.provider}, "
                                     f"{c.underlay_address}, GRE to {c.core}")
        else:
            key[c.site_interface] = ("wan", f"WAN {c.circuit_id} {c.provider} to {c.core} "
                                     f"{c.core_interface}")
    if dev.role is Role.core:
        landing: dict[str, list[tuple[str, Site]]] = defaultdict(list)
        for other, osite in sorted(intent.sites.items()):
            if osite.circuit is not None and osite.circuit.core == host:
                landing[osite.circuit.core_interface].append((other, osite))
        for port, sites in landing.items():
            providers = ", ".join(sorted({s.circuit.provider for _, s in sites if s.circuit}))
            if any(is_gre(s) for _, s in sites):
                key[port] = ("underlay", f"L3VPN underlay {dev.underlay_address} ({providers}), "
                             f"GRE to {len(sites)} sites")
            else:
                key[port] = ("nni", f"NNI {providers}, 802.1Q to {len(sites)} sites")
    rows, unused = _port_rows(intent, dev.model, tuple(key.items()))
    return list(rows), list(unused)


@per_intent
def _port_rows_memo(intent: Intent) -> dict[tuple[object, ...],
                                          tuple[tuple[PortRow, ...], tuple[str, ...]]]:
    return {}  # filled as asked: most switches of a model share their port map


def _port_rows(intent: Intent, model_name: str, key: tuple[tuple[str, tuple[str, str]], ...]
               ) -> tuple[tuple[PortRow, ...], tuple[str, ...]]:
    """The rows and unused ranges of a port map: a function of the model's interfaces and
    each port's (profile, description) alone, so switches alike are compressed once."""
    memo = _port_rows_memo(intent)
    hit = memo.get((model_name, key))
    if hit is None:
        rows, unused = _compress_ports(intent.device_models[model_name].interfaces, dict(key))
        hit = memo[(model_name, key)] = (tuple(rows), tuple(unused))
    return hit


def _compress_ports(interfaces: list[str], key: dict[str, tuple[str, str]]
                    ) -> tuple[list[PortRow], list[str]]:
    every = [n for spec in interfaces for n in expand_interface_range(spec)]
    position = {n: i for i, n in enumerate(every)}

    def order(rng: str) -> tuple[int, tuple[object, ...]]:
        # the model's interface order is the order the device prints (and a reader scans)
        # its ports; a port the model lacks (flagged by the checks) sorts after the rest
        first = expand_interface_range(rng)[0]
        return position.get(first, len(every)), interface_sort_key(first)

    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, k in key.items():
        groups[k].append(name)
    rows = [PortRow(r, prof, desc) for (prof, desc), names in groups.items()
            for r in interfaces_to_ranges(names)]
    rows.sort(key=lambda r: (order(r.ports), r.profile))
    unused = sorted(interfaces_to_ranges([n for n in every if n not in key]), key=order)
    return rows, unused


def site_sheet(intent: Intent, slug: str, hosts: list[str]) -> str:
    """The sheet of site ``slug``, whose devices are ``hosts``."""
    site = intent.sites[slug]
    c = site.circuit
    is_core = site.kind == SiteKind.core
    switches = [h for h in hosts if intent.devices[h].role in SWITCH_ROLES]
    gw = ("HSRP pair " + ", ".join(core_pair(intent, hosts))) if is_core else \
        intent.gateway_of(slug) if switches else NONE
    out = [f"# {site.name} (`{slug}`)", "", GENERATED, "",
           "[Index](../README.md) · [IP plan](../ip-plan.md) · [Zones](../zones.md)", ""]
    out += md_table(["Field", "Value"], [
        ["Kind", site.kind.value], ["Index", site.index], ["Address", site.address],
        ["Site gateway", gw], ["Transit block", str(site.transit or "")],
        ["WAN VLAN/tunnel block", wan_block(intent, site)],
    ])

    out += ["", "## Circuit", ""]
    if c is None:
        out += ["None: this is the core site. Circuits landing here:", ""]
        landing = [(o, s) for o, s in sites_in_order(intent) if s.circuit is not None]
        out += md_table(
            ["Site", "Circuit ID", "Type", "Overlay", "Provider", "Mbit/s", "Core", "Core port"],
            ([o, s.circuit.circuit_id, s.circuit.type.value, s.circuit.overlay.value,
              s.circuit.provider, s.circuit.bandwidth_mbps, s.circuit.core,
              s.circuit.core_interface] for o, s in landing if s.circuit is not None),
            right=[5])
    else:
        crow: list[list[object]] = [
            ["Type", c.type.value], ["Overlay", c.overlay.value], ["Provider", c.provider],
            ["Circuit ID", c.circuit_id], ["Bandwidth", f"{c.bandwidth_mbps} Mbit/s"],
            ["Core", f"{c.core} {c.core_interface}"], ["Site port", c.site_interface],
        ]
        if c.underlay_address is not None:
            crow += [["Underlay address", str(c.underlay_address)],
                     ["Underlay gateway", str(c.underlay_gateway or "")]]
        out += md_table(["Field", "Value"], crow)
    bc = site.backup_circuit
    if bc is not None:
        out += ["", "## Second circuit", "",
                "Dual-homed: every zone's routes move to this circuit when the first one's "
                "probe fails (tracked static routes at both ends), and `verify` proves the "
                "zone matrix and the required flows with each circuit removed in turn.", ""]
        brow: list[list[object]] = [
            ["Type", bc.type.value], ["Overlay", bc.overlay.value], ["Provider", bc.provider],
            ["Circuit ID", bc.circuit_id], ["Bandwidth", f"{bc.bandwidth_mbps} Mbit/s"],
            ["Core", f"{bc.core} {bc.core_interface}"], ["Site port", bc.site_interface],
            ["Transit block", str(site.backup_transit or "")],
            ["WAN VLAN/tunnel base", str(site.backup_wan_vlan_base or "")],
        ]
        if bc.underlay_address is not None:
            brow += [["Underlay address", str(bc.underlay_address)],
                     ["Underlay gateway", str(bc.underlay_gateway or "")]]
        out += md_table(["Field", "Value"], brow)

    out += ["", "## Zones", ""]
    zrows = []
    for zone in intent.zones_at(site):
        z = intent.zones[zone]
        net = site.prefixes[zone]
        gwa = gateway_text(intent, net) + (" (HSRP VIP)" if is_core else "")
        zrows.append([zone, z.vlan, z.vrf, net_text(net), gwa, usable_hosts(net),
                      yes_no(z.dhcp)])
    out += md_table(["Zone", "VLAN", "VRF", "Prefix", "Gateway", "Usable hosts", "DHCP"],
                    zrows, right=[1, 5])

    if site.transit is not None and site.wan_vlan_base is not None:
        if is_core:
            pair = core_pair(intent, hosts)
            a, b = (pair + [NONE, NONE])[:2]
            out += ["", "## Core pair link", "",
                    "Per-zone /31 between the core switches (every zone, carried on the "
                    "core interconnect).", ""]
            heads = ["Zone", "VLAN", f"{a}", f"{b}"]
        else:
            out += ["", "## Transit to the core", "",
                    f"One /31 per zone; the WAN {'GRE tunnel' if is_gre(site) else 'VLAN'} "
                    "number is the site's base + zone id.", ""]
            heads = ["Zone", "Tunnel" if is_gre(site) else "VLAN", "Core address",
                     "Site address"]
        out += md_table(heads, ([lk.zone, lk.number, str(lk.core_addr), str(lk.site_addr)]
                                for lk in transit_links(intent, slug)), right=[1])
        if site.backup_circuit is not None:
            out += ["", "Over the second circuit:", ""]
            gre = site.backup_circuit.overlay is Overlay.gre
            out += md_table(["Zone", "Tunnel" if gre else "VLAN", "Core address",
                             "Site address"],
                            ([lk.zone, lk.number, str(lk.core_addr), str(lk.site_addr)]
                             for lk in backup_links(intent, slug)), right=[1])

    out += ["", "## Topology", "",
            f"Picture: [topology/{slug}.svg](../topology/{slug}.svg). Who hangs off whom: "
            "APs by their `connected_to`, switches by the downlink port that names them "
            "(else the site gateway).", ""]
    out += site_mermaid(intent, slug)

    out += ["", "## Devices", ""]
    drows = []
    aps = []
    hosts = sorted(hosts, key=lambda h: (ROLE_ORDER.index(intent.devices[h].role), h))
    for h in hosts:
        d = intent.devices[h]
        sw = intent.device_models[d.model].software if d.model in intent.device_models else None
        if d.role is Role.ap:
            mgmt = f"DHCP ({intent.wireless.ap_zone})" \
                if intent.zones[intent.wireless.ap_zone].dhcp else NONE
            aps.append(h)
        else:
            mgmt = str(d.ansible_host or "")
        drows.append([h, d.role.value, d.model, mgmt, sw or NONE, _device_notes(intent, h)])
    heads = ["Host", "Role", "Model", "Management", "Software", "Notes"]
    if any(intent.devices[h].building for h in hosts):
        # a site on several buildings: which device stands where
        heads.insert(2, "Building")
        for row, h in zip(drows, hosts, strict=True):
            row.insert(2, intent.devices[h].building or NONE)
    out += md_table(heads, drows)

    unused_prof = intent.port_profiles.get(UNUSED_PROFILE)
    unused_note = "shut down" if unused_prof is not None and unused_prof.shutdown else \
        "not shut down"
    for h in hosts:
        d = intent.devices[h]
        if d.role is Role.ap:
            continue
        rows, unused = port_map(intent, h)
        out += ["", f"## Ports of {h} ({d.model})", ""]
        out += md_table(["Ports", "Profile", "Description"],
                        ([r.ports, r.profile, r.description] for r in rows))
        out += ["", f"Unused (profile `{UNUSED_PROFILE}`, {unused_note}): "
                + (", ".join(unused) if unused else "none")]

    if aps:
        out += ["", "## Access points", ""]
        arows = []
        for h in aps:
            d = intent.devices[h]
            link = d.connected_to
            arows.append([h, d.model, d.mac or NONE, link.switch if link else NONE,
                          link.port if link else NONE])
        out += md_table(["AP", "Model", "MAC", "Switch", "Port"], arows)
    return md_text(out)


def _device_notes(intent: Intent, host: str) -> str:
    d = intent.devices[host]
    slug = intent.device_site[host]
    notes: list[str] = []
    if d.role in (Role.distribution, Role.access) and intent.gateway_of(slug) == host:
        notes.append("site gateway")
    elif d.role is Role.distribution:
        links = sorted({pa.peer for pa in d.ports if pa.peer and intent.devices.get(
            pa.peer) is not None and intent.devices[pa.peer].role is Role.distribution})
        notes.append("building distribution (switches only; building link to "
                     f"{', '.join(links) or NONE})")
    if d.redundancy_peer:
        notes.append(f"peer {d.redundancy_peer}")
    if d.standby_address:
        notes.append(f"standby chassis {d.standby_address}")
    if d.underlay_address:
        notes.append(f"underlay {d.underlay_address} via {d.underlay_gateway}")
    if d.serial:
        notes.append(f"serial {d.serial}")
    if d.location:
        notes.append(d.location)
    return "; ".join(notes)


__all__ = [
    "PortRow",
    "port_map",
    "site_sheet",
    "site_sheet_path",
]
