"""Design step for the Catalyst 9800 HA/SSO pair: intent -> :class:`WlcConfig` (no CLI text).

The pair is one configuration (SSO keeps the standby in sync), so it is one inventory host
with the management address in ``ansible_host`` and the redundancy management (RMI)
addresses of chassis 1 and 2 in ``rmi_address`` and ``standby_address``.

Wireless follows the 9800 configuration model: WLAN -> policy profile (policy tag), flex
profile + AP join profile (site tag), RF profiles (RF tag), and a static ``ap <mac>`` entry
that gives every AP its three tags. Every AP is FlexConnect with local switching, so a
client's traffic leaves the AP on the site's own zone VLAN and never crosses zones at the
controller; the zone policy is enforced only at the core, as for wired clients.

Zones are data: flex profiles list whatever client zones the sites have, so a new zone in
``zones.yml`` plus a pool in ``addressing.yml`` shows up here without code changes.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from nornir_tasks.design.common import (
    ascii_text,
    build_management,
    management_acls,
    mgmt_svi,
    vlan_list,
)
from nornir_tasks.design.structured import (
    Acl,
    IPv4Address,
    Management,
    Port,
    ServicePort,
    StaticRoute,
    Svi,
    Vlan,
    Vrf,
    secret_placeholder,
)
from nornir_tasks.intent.checks import UNUSED_PROFILE
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import PortMode, Role, SiteKind, Ssid, WlanSecurity
from nornir_tasks.interfaces import expand_interface_range
from nornir_tasks.platforms import facts

# Named method lists keep the WLANs independent of the `default` lists the shared IOS-XE
# templates print for wired 802.1X. Authorization needs no named list: a 9800 WLAN refers
# to one only for MAC filtering; 802.1X with AAA override uses `aaa authorization network
# default`, which ios_xe/aaa.j2 points at the same RADIUS group.
AUTHN_LIST = "WLAN-DOT1X"
ACCT_LIST = "WLAN-ACCT"
AP_JOIN_PROFILE = "APJ-STANDARD"
RF_TAG = "RT-STANDARD"
# Cisco's factory RF profiles for typical client density (the names really are truncated).
RF_PROFILE_24GHZ = "Typical_Client_Density_rf_24gh"
RF_PROFILE_5GHZ = "Typical_Client_Density_rf_5gh"
ANY = ipaddress.IPv4Network("0.0.0.0/0")



# ---------------------------------------------------------------------- structured config


@dataclass(frozen=True, slots=True)
class Wlan:
    """A WLAN profile. Booleans are the security settings; templates print the device form."""

    profile: str  # what policy tags reference
    wlan_id: int
    ssid: str  # what is broadcast
    security: str  # dot1x | psk | open (intent's WlanSecurity)
    wpa: bool  # False only for an open WLAN
    wpa2: bool
    wpa3: bool
    akm_dot1x: bool
    akm_dot1x_sha256: bool
    akm_psk: bool
    pmf: str | None  # None = device default (disabled), "optional" or "mandatory"
    psk: str | None  # placeholder token, never the key
    authentication_list: str | None
    shutdown: bool = False


@dataclass(frozen=True, slots=True)
class PolicyProfile:
    name: str
    wlan: str  # the WLAN profile it is paired with in the policy tags
    zone: str
    vlan: int  # default VLAN: where clients land unless RADIUS overrides it
    aaa_override: bool
    central_switching: bool
    central_dhcp: bool
    central_association: bool
    accounting_list: str | None
    shutdown: bool = False


@dataclass(frozen=True, slots=True)
class FlexProfile:
    name: str
    native_vlan: int  # the AP zone: untagged on the AP's trunk
    vlans: list[Vlan]  # `vlan-name` -> `vlan-id`: every client zone the AP may put a user in
    site_kinds: list[str]  # the kinds whose sites use it (for docs and reports)


@dataclass(frozen=True, slots=True)
class PolicyTagEntry:
    wlan: str
    policy: str


@dataclass(frozen=True, slots=True)
class PolicyTag:
    name: str
    entries: list[PolicyTagEntry]
    site_kinds: list[str]


@dataclass(frozen=True, slots=True)
class SiteTag:
    name: str  # the site slug
    site: str
    flex_profile: str
    ap_profile: str
    local_site: bool = False  # False = FlexConnect


@dataclass(frozen=True, slots=True)
class RfTag:
    name: str
    rf_profile_24ghz: str
    rf_profile_5ghz: str


@dataclass(frozen=True, slots=True)
class ApJoinProfile:
    name: str
    mgmt_user: str | None
    mgmt_password: str | None  # placeholder
    mgmt_secret: str | None  # placeholder (enable secret on the AP)
    ntp_server: IPv4Address | None
    syslog_host: IPv4Address | None
    ssh: bool = True
    dot1x_user: str | None = None  # the APs' 802.1X supplicant on their switch port
    dot1x_password: str | None = None  # placeholder


@dataclass(frozen=True, slots=True)
class ApTag:
    """Static tag assignment of one AP, keyed by its Ethernet MAC."""

    mac: str
    host: str
    site: str
    policy_tag: str
    rf_tag: str
    site_tag: str


@dataclass(frozen=True, slots=True)
class Redundancy:
    """HA SSO with a redundancy management interface (RMI) in the management VLAN."""

    mode: str  # sso
    interface: str  # the management SVI, e.g. Vlan100
    chassis1: IPv4Address  # RMI of the active chassis (never its management address)
    chassis2: IPv4Address  # RMI of the standby chassis
    gateway: IPv4Address  # what gateway monitoring pings: the default route's next hop
    gateway_monitoring: bool = True


@dataclass(frozen=True, slots=True)
class WlcConfig:
    hostname: str
    site: str
    role: str
    model: str
    software: str | None
    management: Management
    vrfs: list[Vrf]
    acls: list[Acl]
    vlans: list[Vlan]
    svis: list[Svi]
    ports: list[Port]
    routes: list[StaticRoute]
    redundancy: Redundancy
    wireless_management_interface: str
    country: str
    wlans: list[Wlan]
    policy_profiles: list[PolicyProfile]
    flex_profiles: list[FlexProfile]
    policy_tags: list[PolicyTag]
    site_tags: list[SiteTag]
    rf_tags: list[RfTag]
    ap_join_profiles: list[ApJoinProfile]
    ap_tags: list[ApTag]
    #: LACP bundles: one per chassis towards its core (one configuration for both)
    port_channels: list[Port] = dataclasses.field(default_factory=list)
    service_port: ServicePort | None = None
    # no wired 802.1X on the controller; the shared ios_xe/aaa_servers.j2 reads cfg.dot1x
    dot1x: None = None
    provision: None = None  # not a stackable: no `switch 1 provision` (ios_xe/services.j2)
    platform: str = "c9800"


# ---------------------------------------------------------------------- design


def policy_profile_name(ssid: Ssid) -> str:
    """Name of the policy profile paired with an SSID.

    >>> from nornir_tasks.intent.model import Ssid
    >>> policy_profile_name(Ssid(name="gjest", ssid="G", wlan_id=2, security="psk",
    ...                         zone="guest", psk_secret="k", site_kinds=["school"]))
    'PP-GJEST'
    """
    return f"PP-{ssid.name.upper()}"


def group_name(prefix: str, kinds: set[SiteKind], rank: Callable[[str], int]) -> str:
    """Name a profile or tag shared by several site kinds after the first kind (``rank``:
    the order of site_kinds).

    Named after a kind, not after its contents, so that adding a zone or an SSID changes
    the profile in place instead of renaming it (a rename re-tags every AP: radios reset).

    >>> order = ["school", "municipal", "core"]
    >>> group_name("FP", {SiteKind.municipal, SiteKind.core}, order.index)
    'FP-MUNICIPAL'
    """
    first = min(kinds, key=rank)
    return f"{prefix}-{first.value.upper()}"


def _kinds_text(kinds: set[SiteKind], rank: Callable[[str], int]) -> list[str]:
    return [k.value for k in sorted(kinds, key=rank)]


def ssid_default_zone(intent: Intent, ssid: Ssid) -> str:
    """Zone a client lands in when RADIUS does not say otherwise.

    With AAA override that must be the least-privileged zone: a user RADIUS knows nothing
    about must never land in a trusted zone. Raise rather than quietly override the intent.
    """
    restricted = intent.policy.restricted_zone
    if ssid.aaa_override and ssid.zone != restricted:
        raise ValueError(
            f"wireless.ssids {ssid.name!r}: with aaa_override the default zone must be the "
            f"restricted zone {restricted!r}, not {ssid.zone!r}")
    return restricted if ssid.aaa_override else ssid.zone


def _wlan(ssid: Ssid) -> Wlan:
    if any(c.isspace() for c in ssid.ssid):
        # `wlan <profile> <id> <ssid>` is one line of tokens; how a 9800 quotes a blank
        # in it is unverified, so refuse instead of rendering a line that may not parse
        raise ValueError(f"wireless.ssids {ssid.name!r}: SSID {ssid.ssid!r} contains a blank")
    if ssid.security is WlanSecurity.dot1x:
        # WPA2/WPA3-Enterprise transition mode: WPA3 clients use SHA256 AKM and PMF, older
        # clients keep WPA2 on the same SSID (PMF optional keeps them associating).
        return Wlan(ssid.name, ssid.wlan_id, ssid.ssid, ssid.security.value,
                    wpa=True, wpa2=True, wpa3=True, akm_dot1x=True, akm_dot1x_sha256=True,
                    akm_psk=False, pmf="optional", psk=None, authentication_list=AUTHN_LIST)
    if ssid.security is WlanSecurity.psk:
        assert ssid.psk_secret is not None  # enforced by the intent checks
        return Wlan(ssid.name, ssid.wlan_id, ssid.ssid, ssid.security.value,
                    wpa=True, wpa2=True, wpa3=False, akm_dot1x=False, akm_dot1x_sha256=False,
                    akm_psk=True, pmf=None, psk=secret_placeholder(ssid.psk_secret),
                    authentication_list=None)
    return Wlan(ssid.name, ssid.wlan_id, ssid.ssid, ssid.security.value,
                wpa=False, wpa2=False, wpa3=False, akm_dot1x=False, akm_dot1x_sha256=False,
                akm_psk=False, pmf=None, psk=None, authentication_list=None)


def _policy_profile(intent: Intent, ssid: Ssid) -> PolicyProfile:
    zone = ssid_default_zone(intent, ssid)
    return PolicyProfile(
        name=policy_profile_name(ssid),
        wlan=ssid.name,
        zone=zone,
        vlan=intent.zones[zone].vlan,
        aaa_override=ssid.aaa_override,
        # local switching with local DHCP (relayed by the site gateway's zone SVI); the
        # association and 802.1X stay central so RADIUS sees one client, the controller
        central_switching=False,
        central_dhcp=False,
        central_association=True,
        accounting_list=ACCT_LIST if ssid.security is WlanSecurity.dot1x else None,
    )


def ap_port_zones(intent: Intent) -> dict[SiteKind, set[str]]:
    """Zones the switch ports of a site kind's APs carry (a FlexConnect AP can put a client
    only on a VLAN its own trunk carries). Kinds without an AP are absent."""
    out: dict[SiteKind, set[str]] = {}
    for host, dev in intent.devices.items():
        if dev.role is not Role.ap or dev.connected_to is None:
            continue
        site = intent.site_of(host)
        link = dev.connected_to
        for pa in intent.devices[link.switch].ports:
            if link.port in expand_interface_range(pa.range):
                prof = intent.port_profiles[pa.profile]
                if prof.mode is PortMode.access:
                    carried = {prof.zone} if prof.zone else set()
                elif prof.trunk_zones is None:
                    carried = set(site.prefixes)
                else:
                    carried = set(prof.trunk_zones) & set(site.prefixes)
                out.setdefault(site.kind, set()).update(carried)
    return out


def _site_client_zones(intent: Intent, slug: str,
                       carried: dict[SiteKind, set[str]]) -> frozenset[str]:
    """Zones an AP at the site may put a client in: the site's client zones and SSID
    default zones, limited to what the kind's AP ports carry. A VLAN the AP's port does
    not carry would black-hole the client; left out, RADIUS falling back to it lands the
    client in the SSID's default VLAN instead."""
    site = intent.sites[slug]
    reach = carried.get(site.kind, set(site.prefixes))
    zones = {z for z in site.prefixes if intent.zones[z].client_zone and z in reach}
    for ssid in intent.wireless.ssids:
        if site.kind in ssid.site_kinds:
            default = ssid_default_zone(intent, ssid)
            if default not in reach:
                raise ValueError(f"APs at {site.kind.value} sites do not carry zone "
                                 f"{default!r}, the default of SSID {ssid.name!r}: add it "
                                 "to their port profile's trunk_zones")
            zones.add(default)
    return frozenset(zones)


def _flex_profiles(intent: Intent) -> tuple[list[FlexProfile], dict[str, str]]:
    """One flex profile per distinct zone set; returns the profiles and site -> profile."""
    by_zones: dict[frozenset[str], set[str]] = defaultdict(set)
    carried = ap_port_zones(intent)
    for slug in intent.sites:
        by_zones[_site_client_zones(intent, slug, carried)].add(slug)
    native = intent.zones[intent.wireless.ap_zone].vlan
    profiles: list[FlexProfile] = []
    site_profile: dict[str, str] = {}
    for zones, slugs in by_zones.items():
        kinds = {intent.sites[s].kind for s in slugs}
        name = group_name("FP", kinds, intent.kind_rank)
        if all(intent.sites[s].zones is not None for s in slugs):
            # only sites with their own zone list: named after their first index, which
            # is allocated once, so no site added later renames another site's profile
            name = f"{name}-{min(intent.sites[s].index for s in slugs)}"
        if any(p.name == name for p in profiles):
            # the checks keep every site of a kind on the same zones unless it lists its
            # own: this is a half-migrated inventory, refuse rather than share a name
            raise ValueError(f"sites of kind {name[3:].lower()} have different zones; run the "
                             "intent checks")
        vlans = sorted((Vlan(intent.zones[z].vlan, z.upper()) for z in zones),
                       key=lambda v: v.name)
        profiles.append(FlexProfile(name, native, vlans, _kinds_text(kinds, intent.kind_rank)))
        site_profile.update(dict.fromkeys(slugs, name))
    return sorted(profiles, key=lambda p: p.name), site_profile


def _policy_tags(intent: Intent) -> tuple[list[PolicyTag], dict[SiteKind, str]]:
    """One policy tag per distinct SSID set of the site kinds in use."""
    by_ssids: dict[frozenset[str], set[SiteKind]] = defaultdict(set)
    for site in intent.sites.values():
        names = frozenset(s.name for s in intent.wireless.ssids if site.kind in s.site_kinds)
        by_ssids[names].add(site.kind)
    ssids = {s.name: s for s in intent.wireless.ssids}
    tags: list[PolicyTag] = []
    kind_tag: dict[SiteKind, str] = {}
    for names, kinds in by_ssids.items():
        name = group_name("PT", kinds, intent.kind_rank)
        # an empty SSID set still gets a tag: an untagged AP falls back to the factory
        # default-policy-tag, which broadcasts every WLAN with ID 1-16
        entries = sorted((PolicyTagEntry(n, policy_profile_name(ssids[n])) for n in names),
                         key=lambda e: e.wlan)
        tags.append(PolicyTag(name, entries, _kinds_text(kinds, intent.kind_rank)))
        kind_tag.update(dict.fromkeys(kinds, name))
    return sorted(tags, key=lambda t: t.name), kind_tag


def _ap_join_profile(intent: Intent) -> ApJoinProfile:
    m = intent.management
    # the AP profile holds one NTP server and one syslog host
    users = sorted(intent.aaa.local_users, key=lambda u: u.name)
    user = users[0] if users else None
    sup = intent.wireless.ap_supplicant
    return ApJoinProfile(
        name=AP_JOIN_PROFILE,
        mgmt_user=user.name if user else None,
        mgmt_password=secret_placeholder(user.secret) if user else None,
        mgmt_secret=secret_placeholder(intent.aaa.enable_secret) if user else None,
        ntp_server=min(m.ntp_servers) if m.ntp_servers else None,
        syslog_host=min(m.syslog_servers) if m.syslog_servers else None,
        dot1x_user=sup.username if sup else None,
        dot1x_password=secret_placeholder(sup.password_secret) if sup else None,
    )


def _ap_tags(intent: Intent, kind_tag: dict[SiteKind, str]) -> list[ApTag]:
    tags = []
    for host, dev in intent.devices.items():
        if dev.role is not Role.ap:
            continue
        if dev.mac is None:
            raise ValueError(f"{host}: an AP needs its mac to be tagged on the controller")
        slug = intent.device_site[host]
        tags.append(ApTag(dev.mac, host, slug, kind_tag[intent.sites[slug].kind], RF_TAG, slug))
    return sorted(tags, key=lambda t: t.mac)


def _port(intent: Intent, name: str, pname: str, desc: str | None,
          channel_group: int | None = None) -> tuple[Port, set[int]]:
    prof = intent.port_profiles[pname]
    zones = intent.zones
    # the controller has no zones of its own: its trunks carry what the profile lists
    description = ascii_text(desc or prof.description)
    if prof.shutdown:
        # no access VLAN: the controller has no client VLANs to park a port in
        return Port(name, description, pname, PortMode.access.value, shutdown=True), set()
    if prof.mode is PortMode.trunk:
        ids = [zones[z].vlan for z in prof.trunk_zones or []]
        native = zones[prof.native_zone].vlan if prof.native_zone else None
        return Port(name, description, pname, PortMode.trunk.value, native_vlan=native,
                    allowed_vlans=vlan_list(ids), trusted=prof.trusted,
                    channel_group=channel_group), set(ids)
    assert prof.zone is not None  # enforced by the intent checks
    return Port(name, description, pname, PortMode.access.value,
                access_vlan=zones[prof.zone].vlan, trusted=prof.trusted,
                channel_group=channel_group), {zones[prof.zone].vlan}


def _ports(intent: Intent, host: str) -> tuple[list[Port], list[Port], set[int]]:
    """Every data port of the model, from the port map (unmapped ports are shut down),
    and the port-channels bundling some of them."""
    dev = intent.devices[host]
    assigned = {name: pa for pa in dev.ports for name in expand_interface_range(pa.range)}
    vlans: set[int] = set()
    out: list[Port] = []
    bundles: dict[int, Port] = {}
    for spec in intent.device_models[dev.model].interfaces:
        for name in expand_interface_range(spec):
            pa = assigned.get(name)
            group = pa.channel_group if pa else None
            port, ids = _port(intent, name, pa.profile if pa else UNUSED_PROFILE,
                              pa.description if pa else None, group)
            out.append(port)
            vlans |= ids
            if pa is not None and group is not None and group not in bundles:
                bundles[group] = _port(intent, f"Port-channel{group}", pa.profile,
                                       pa.description)[0]
    return out, [bundles[g] for g in sorted(bundles)], vlans


def build_wlc(intent: Intent, host: str) -> WlcConfig:
    """Structured config of the controller pair ``host`` (role ``wlc``)."""
    dev = intent.devices[host]
    if dev.role is not Role.wlc:
        raise ValueError(f"{host} is a {dev.role.value}, not a wlc")
    slug = intent.device_site[host]
    site = intent.sites[slug]
    mz = intent.policy.management_zone
    mzone = intent.zones[mz]
    net = site.prefixes[mz]
    # enforced by the intent checks
    assert dev.ansible_host and dev.standby_address and dev.rmi_address
    gateway = net.network_address + intent.management.mgmt_gateway_host
    mgmt_if = mgmt_svi(intent)
    base = build_management(intent, host)
    # the WLANs' own 802.1X lists print among the other aaa lines (shared aaa.j2)
    management = dataclasses.replace(base, aaa=dataclasses.replace(
        base.aaa, dot1x_lists=[AUTHN_LIST], identity_accounting_lists=[ACCT_LIST]))

    ports, channels, port_vlans = _ports(intent, host)
    model = intent.device_models[dev.model]
    vlan_names = {z.vlan: name.upper() for name, z in intent.zones.items()}
    vlans = [Vlan(v, vlan_names.get(v, f"VLAN{v:04d}")) for v in sorted(port_vlans | {mzone.vlan})]
    flex_profiles, site_flex = _flex_profiles(intent)
    policy_tags, kind_tag = _policy_tags(intent)
    ssids = sorted(intent.wireless.ssids, key=lambda s: s.wlan_id)
    ap_join = _ap_join_profile(intent)

    return WlcConfig(
        hostname=host,
        site=slug,
        role=dev.role.value,
        model=dev.model,
        software=intent.device_models[dev.model].software,
        management=management,
        # the wireless management interface, the RMI riding on it and the gateway check
        # all live in the global table (the 9800 has a management VRF only on its
        # service port): docs/reference/c9800-ha-and-management.md §1, §3
        vrfs=[],
        acls=management_acls(intent),
        vlans=vlans,
        svis=[Svi(mzone.vlan, ascii_text(mzone.description), None,
                  ipaddress.IPv4Interface(f"{dev.ansible_host}/{net.prefixlen}"))],
        ports=ports,
        port_channels=channels,
        service_port=ServicePort(model.service_port, vrf, False, model.service_port_negotiation)
        if model.service_port and (vrf := facts(model.platform).service_port_vrf) else None,
        routes=[StaticRoute(None, ANY, gateway, "default-via-core")],
        redundancy=Redundancy("sso", mgmt_if, dev.rmi_address, dev.standby_address, gateway),
        wireless_management_interface=mgmt_if,
        country=intent.wireless.country,
        wlans=[_wlan(s) for s in ssids],
        policy_profiles=sorted((_policy_profile(intent, s) for s in ssids),
                               key=lambda p: p.name),
        flex_profiles=flex_profiles,
        policy_tags=policy_tags,
        site_tags=[SiteTag(s, s, site_flex[s], ap_join.name) for s in sorted(intent.sites)],
        rf_tags=[RfTag(RF_TAG, RF_PROFILE_24GHZ, RF_PROFILE_5GHZ)],
        ap_join_profiles=[ap_join],
        ap_tags=_ap_tags(intent, kind_tag),
    )
