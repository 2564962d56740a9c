"""Tables of the bundle that the DHCP server and the operator load as they are.

* ``docs/dhcp-scopes.csv`` -- one scope per site and zone with DHCP (:func:`dhcp_scopes`);
* ``docs/vlans-vrfs.md`` -- every VLAN and VRF of the estate (:func:`vlans_vrfs_md`);
* ``docs/runbook.md`` -- the repository's runbook plus this estate's names
  (:func:`runbook_md`).

DHCP assumptions (also written at the top of ``docs/dhcp.md``):

* the DHCP servers are ``management.dhcp_servers``; every zone SVI relays to all of them
  (``ip helper-address``), so each scope belongs on every server (split scope or
  failover is the DHCP server's choice);
* addresses the network itself uses are excluded: the zone gateway (host number
  ``management.mgmt_gateway_host``), at the core site the two core switches' own SVI
  addresses (gateway + 1 and + 2, the HSRP pair), and every management address the
  inventory assigns (switches, controller chassis, RMI);
* the range is the longest run of free host addresses left (in practice: from just above
  the last static address to the last host before the broadcast address).
"""

from __future__ import annotations

import csv
import functools
import io
import ipaddress
from dataclasses import dataclass, fields
from pathlib import Path

from nornir_tasks.design.structured import secret_placeholder
from nornir_tasks.design.switch import route_target, transit_links
from nornir_tasks.handover.facts import gateway_address, gateway_text, ip_text
from nornir_tasks.handover.markdown import GENERATED, md_table
from nornir_tasks.handover.secrets_doc import secret_uses
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Overlay, Role, SiteKind
from nornir_tasks.policy import internet_zones, route_imports

#: The hand-written runbook; the bundle carries it with this estate's names appended.
RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"


@dataclass(frozen=True, slots=True)
class DhcpScope:
    """One DHCP scope; field order is the CSV column order."""

    site: str
    site_name: str
    zone: str
    vlan: int
    vrf: str
    network: str
    netmask: str
    gateway: str
    range_start: str
    range_end: str
    addresses: int
    excluded: str
    dns_servers: str
    domain_name: str
    ntp_servers: str
    capwap_controller: str
    relay_from: str


DHCP_FIELDS = tuple(f.name for f in fields(DhcpScope))


def free_range(net: ipaddress.IPv4Network, used: set[ipaddress.IPv4Address]
               ) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address] | None:
    """The longest run of host addresses of ``net`` not in ``used`` (lowest on a tie).

    >>> n = ipaddress.IPv4Network("10.0.0.0/29")
    >>> free_range(n, {ipaddress.IPv4Address("10.0.0.1")})
    (IPv4Address('10.0.0.2'), IPv4Address('10.0.0.6'))
    >>> free_range(n, {ipaddress.IPv4Address("10.0.0.3")})
    (IPv4Address('10.0.0.4'), IPv4Address('10.0.0.6'))
    >>> free_range(ipaddress.IPv4Network("10.0.0.0/31"), set()) is None
    True
    """
    if net.prefixlen >= 31:
        return None
    first, last = int(net.network_address) + 1, int(net.broadcast_address) - 1
    # the gaps between the used addresses, lowest first (not every address: a /16 is big)
    best: tuple[int, int] | None = None
    start = first
    for n in [*sorted({int(a) for a in used if first <= int(a) <= last}), last + 1]:
        if n > start and (best is None or n - start > best[1] - best[0] + 1):
            best = (start, n - 1)
        start = n + 1
    if best is None:
        return None
    return ipaddress.IPv4Address(best[0]), ipaddress.IPv4Address(best[1])


def _device_addresses(intent: Intent, slug: str) -> list[ipaddress.IPv4Address]:
    """Every address the inventory gives a device of the site (management, RMI)."""
    return [addr for host in intent.site_devices(slug)
            for addr in (intent.devices[host].ansible_host, intent.devices[host].standby_address,
                         intent.devices[host].rmi_address) if addr is not None]


def _static_addresses(intent: Intent, slug: str, net: ipaddress.IPv4Network,
                      devices: list[ipaddress.IPv4Address]) -> set[ipaddress.IPv4Address]:
    gw = gateway_address(intent, net)
    used = {gw}
    if intent.sites[slug].kind == SiteKind.core:
        used |= {gw + 1, gw + 2}  # the HSRP pair's own SVI addresses (design/switch.py)
    first, last = int(net.network_address), int(net.broadcast_address)
    used.update(a for a in devices if first <= int(a) <= last)
    return used


def dhcp_scopes(intent: Intent) -> list[DhcpScope]:
    """Every DHCP scope: sites by index, zones by id; zones without DHCP are left out."""
    m = intent.management
    wlcs = sorted(str(d.ansible_host) for d in intent.devices.values()
                  if d.role is Role.wlc and d.ansible_host is not None)
    dns = " ".join(str(a) for a in m.dns_servers)
    ntp = " ".join(str(a) for a in m.ntp_servers)
    out: list[DhcpScope] = []
    for slug, site in sorted(intent.sites.items(), key=lambda kv: (kv[1].index, kv[0])):
        relay = ("HSRP pair " + "/".join(sorted(
            h for h in intent.site_devices(slug) if intent.devices[h].role is Role.core))
            if site.kind == SiteKind.core else intent.gateway_of(slug))
        devices = _device_addresses(intent, slug)
        for zone in intent.zones_at(site):
            z = intent.zones[zone]
            if not z.dhcp:
                continue
            net = site.prefixes[zone]
            used = _static_addresses(intent, slug, net, devices)
            rng = free_range(net, used)
            if rng is None:
                continue
            first, last = int(net.network_address), int(net.broadcast_address)
            excluded = sorted(a for a in used if first <= int(a) <= last)
            out.append(DhcpScope(
                site=slug, site_name=site.name, zone=zone, vlan=z.vlan, vrf=z.vrf,
                network=ip_text(net.network_address), netmask=ip_text(net.netmask),
                gateway=gateway_text(intent, net),
                range_start=ip_text(rng[0]), range_end=ip_text(rng[1]),
                addresses=int(rng[1]) - int(rng[0]) + 1,
                excluded=" ".join(ip_text(a) for a in excluded),
                dns_servers=dns,
                domain_name=m.domain_name,
                ntp_servers=ntp,
                capwap_controller=" ".join(wlcs) if zone == intent.wireless.ap_zone else "",
                relay_from=relay))
    return out


def dhcp_csv(scopes: list[DhcpScope]) -> str:
    """RFC 4180 CSV with a header row, ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(DHCP_FIELDS)
    for s in scopes:
        writer.writerow([getattr(s, f) for f in DHCP_FIELDS])
    return buf.getvalue()


def dhcp_md(intent: Intent, scopes: list[DhcpScope]) -> str:
    m = intent.management
    out = ["# DHCP scopes", "", GENERATED, "",
           f"Machine-readable for the DHCP servers ({', '.join(str(a) for a in m.dhcp_servers)}"
           "): [dhcp-scopes.csv](dhcp-scopes.csv), one row per site and zone with DHCP. "
           "Every zone SVI relays to all DHCP servers, so each scope belongs on each of them "
           "(as a failover pair or split scope).", "", "## Assumptions", "",
           f"- The gateway is host number {m.mgmt_gateway_host} of every prefix (option 3); "
           "at the core site the two core switches also hold gateway + 1 and + 2 (HSRP).",
           "- Every management address of the inventory (switches, controller chassis, RMI) "
           "is excluded; access points get theirs from the management-zone scope, whose "
           "`capwap_controller` column is the controller address for option 43 (or the DNS "
           "name CISCO-CAPWAP-CONTROLLER).",
           "- The range is the longest run of free host addresses left; the column "
           "`excluded` lists the static addresses inside the prefix.",
           f"- DNS servers (option 6), domain name (option 15) `{m.domain_name}` and NTP "
           "(option 42) are the same for every scope; lease times are the DHCP server's "
           "policy (suggested: 8 h for client zones, 1 h for guest).",
           "- Zones without DHCP (the data centre) have no scope.", "",
           "## Scopes", ""]
    out += md_table(["Site", "Zone", "VLAN", "Network", "Gateway", "Range", "Addresses",
                     "Relay"],
                    [[s.site, s.zone, s.vlan, f"{s.network}/{_plen(s.netmask)}", s.gateway,
                      f"{s.range_start} – {s.range_end}", s.addresses, s.relay_from]
                     for s in scopes], right=[2, 6])
    return "\n".join(out) + "\n"


@functools.lru_cache(maxsize=64)
def _plen(netmask: str) -> int:
    return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen


def vlans_vrfs_md(intent: Intent) -> str:
    """Every VLAN and VRF of the estate and where it exists."""
    zones = sorted(intent.zones, key=lambda z: (intent.zones[z].id, z))
    present = {z: sum(1 for s in intent.sites.values() if z in s.prefixes) for z in zones}
    inet = set(internet_zones(intent))
    imports = route_imports(intent)
    out = ["# VLANs and VRFs", "", GENERATED, "",
           "Each zone is one VLAN and one VRF (routing table) on every device that carries "
           "it; sites never route between VRFs, the core pair leaks routes between them "
           "only where the zone matrix has a flow ([zones.md](zones.md)).", "",
           "## VRFs", ""]
    out += md_table(
        ["VRF", "Zone", "RD / route target", "Imports routes of", "Default route",
         "Sites"],
        [[intent.zones[z].vrf, z, route_target(intent, z),
          ", ".join(intent.zones[i].vrf for i in imports[z]) or "—",
          "internet firewall" if z in inet else "none (no internet)", present[z]]
         for z in zones], right=[5])
    out += ["", "## Zone VLANs (the same ID at every site)", ""]
    out += md_table(["VLAN", "Name", "Zone", "VRF", "Description", "Sites"],
                    [[intent.zones[z].vlan, z.upper(), z, intent.zones[z].vrf,
                      intent.zones[z].description, present[z]] for z in zones],
                    right=[0, 5])
    edge = intent.policy.internet_edge
    out += ["", "## Core-only VLANs", "",
            f"Internet hand-off on `{edge.core_interface}` (one VLAN and /29 per zone) and "
            "the core pair's own per-zone transit.", ""]
    core_rows: list[list[object]] = []
    for z in zones:
        if z in inet:
            zid = intent.zones[z].id
            block = ipaddress.IPv4Network((int(edge.transit.network_address) + 8 * zid, 29))
            core_rows.append([edge.vlan_base + zid, f"INET-{z.upper()}", z,
                              intent.zones[z].vrf, f"internet firewall {block}"])

    for slug, site in intent.sites.items():
        if site.kind == SiteKind.core and site.transit is not None \
                and site.wan_vlan_base is not None:
            for lk in transit_links(intent, slug):
                core_rows.append([lk.number, f"CORE-{lk.zone.upper()}", lk.zone,
                                  intent.zones[lk.zone].vrf,
                                  f"core pair link {lk.core_addr.network}"])
    out += md_table(["VLAN", "Name", "Zone", "VRF", "Purpose"],
                    sorted(core_rows, key=lambda r: int(str(r[0]))), right=[0])
    out += ["", "## WAN VLANs and GRE tunnels per site", "",
            "On the core's 802.1Q hand-off (NNI) a site's zone N uses VLAN base + N; over an "
            "L3VPN the same number is the GRE tunnel (interface Tunnel<N>, key N).", ""]
    rows: list[list[object]] = []
    for slug, site in sorted(intent.sites.items(), key=lambda kv: (kv[1].index, kv[0])):
        c = site.circuit
        if c is None or site.wan_vlan_base is None:
            continue
        kind = "GRE tunnel" if c.overlay is Overlay.gre else "VLAN"
        nums = {lk.zone: lk.number for lk in transit_links(intent, slug)}
        rows.append([slug, kind, c.core, *[nums.get(z, "—") for z in zones]])
    out += md_table(["Site", "Kind", "Core", *zones], rows)
    return "\n".join(out) + "\n"


#: the reference estate's names the runbook's examples use, by what they stand for
EXAMPLE_SITE, EXAMPLE_ACCESS, EXAMPLE_WLC = "alta_skole", "alta-skole-acc03", "radhuset-wlc01"


def runbook_examples(intent: Intent) -> dict[str, str]:
    """This estate's stand-ins for the runbook's example names: a site with access
    switches (of the first kind in site_kinds first: a school on the reference), its last
    access switch, the first controller. An estate
    without one of them keeps a ``<placeholder>``, never another estate's name."""
    def access(slug: str) -> list[str]:
        return sorted(h for h in intent.site_devices(slug)
                      if intent.devices[h].role is Role.access)

    sites = sorted(intent.sites, key=lambda s: (intent.kind_rank(intent.sites[s].kind), s))
    site = EXAMPLE_SITE if EXAMPLE_SITE in intent.sites else next(
        (s for s in sites if access(s)), None)
    switches = access(site) if site else []
    wlcs = sorted(h for h, d in intent.devices.items() if d.role is Role.wlc)
    return {
        f"site_{EXAMPLE_SITE}": f"site_{site}" if site else "site_<slug>",
        EXAMPLE_ACCESS: (EXAMPLE_ACCESS if EXAMPLE_ACCESS in switches
                         else switches[-1] if switches else "<access-switch>"),
        EXAMPLE_WLC: (EXAMPLE_WLC if EXAMPLE_WLC in wlcs
                      else wlcs[0] if wlcs else "<controller>"),
    }


def runbook_md(intent: Intent) -> str:
    """The repository's runbook in this estate's names, with the estate's facts
    appended."""
    text = RUNBOOK.read_text(encoding="utf-8").rstrip("\n")
    for example, here in runbook_examples(intent).items():
        text = text.replace(example, here)
    cores = sorted(h for h, d in intent.devices.items() if d.role is Role.core)
    wlcs = sorted(h for h, d in intent.devices.items() if d.role is Role.wlc)
    names = sorted({u.name for u in secret_uses(intent)})
    out = [text, "", "## Names in this estate", "",
           "Generated by `fellesnett build` from `inventory/` (the procedures above are the "
           "same for every estate; their examples use this estate's names).", ""]
    out += md_table(["What", "Here"], [
        ["Core pair (policy point, WAN hub)", ", ".join(cores) or "—"],
        ["Wireless controller", ", ".join(wlcs) or "—"],
        ["Sites", f"{len(intent.sites)} (`--limit site_<slug>`, see sites/)"],
        ["Secrets", ", ".join(f"`{secret_placeholder(n)}`" for n in names)],
        ["Environment variables for the secrets",
         ", ".join(f"`FELLESNETT_SECRET_{n.upper()}`" for n in names)],
    ])
    return "\n".join(out) + "\n"
