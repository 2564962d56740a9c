"""The typed intent: what engineers write in ``inventory/``.

Every model is frozen and forbids unknown keys, so a typo in the YAML is an
error that names the key instead of a setting that silently does nothing.
Semantic rules that need more than one object (unique VLANs, prefixes inside
pools, references that must exist) live in :mod:`nornir_tasks.intent.checks`.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic_core import CoreSchema, core_schema

from nornir_tasks.interfaces import expand_interface_range


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
#: a device name as IOS-XE's `hostname` takes it (docs/reference/ios-xe-syntax.md,
#: Hostnames): a letter first, a letter or digit last, letters, digits and hyphens between,
#: at most 63 characters; lowercase, as every reference to a device spells it
HOSTNAME_PATTERN = r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$"
HOSTNAME_MAX = 63
Hostname = Annotated[str, Field(pattern=HOSTNAME_PATTERN, max_length=HOSTNAME_MAX)]
VlanId = Annotated[int, Field(ge=2, le=4094)]
VrfName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_-]*$", max_length=32)]
#: the NAME of a secret, resolved at deploy time (environment or ansible-vault); an error
#: message never repeats what was written in its place (it may be the secret itself)
SECRET_REF_PATTERN = r"^[a-z][a-z0-9_]*$"


class SecretMarker:
    """Marks a type whose values are secrets' names (tests/unit/test_bad_input_secrets.py
    holds every field so marked to a key name the error messages redact)."""


SecretRef = Annotated[str, Field(pattern=SECRET_REF_PATTERN), SecretMarker()]
MacAddress = Annotated[str, Field(pattern=r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")]
PortSpec = Annotated[str, Field(pattern=r"^(tcp|udp)/\d{1,5}(-\d{1,5})?$|^icmp$|^any$")]


SITE_KIND_PATTERN = r"^[a-z][a-z0-9_]*$"
#: "PT-<KIND>-<index>" (index up to 4000) must fit a 9800 policy tag name: at most 32
#: characters (CISCO-LWAPP-EWLC-TAGS-MIB cLPolicyTagName; docs/reference/c9800-syntax.md)
SITE_KIND_MAX = 20


class SiteKind(str):
    """The name of a site kind: a key of ``site_kinds`` (group_vars/all/site_kinds.yml).

    Kinds are data: an estate defines its own, and the checks hold every use to that
    definition. Only ``core``, the kind of the one site with the core pair, means
    something to the code; the reference municipality's other kinds are named here for
    its generator and the tests. A ``str`` (``.value`` too, as the enum it replaced), so
    a kind compares equal to its name and reads back from YAML as text.
    """

    __slots__ = ()

    core: ClassVar[SiteKind]
    school: ClassVar[SiteKind]
    kindergarten: ClassVar[SiteKind]
    education_unit: ClassVar[SiteKind]
    municipal: ClassVar[SiteKind]

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"SiteKind({str.__repr__(self)})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(pattern=SITE_KIND_PATTERN, max_length=SITE_KIND_MAX),
            serialization=core_schema.plain_serializer_function_ser_schema(str))


SiteKind.core = SiteKind("core")
SiteKind.school = SiteKind("school")
SiteKind.kindergarten = SiteKind("kindergarten")
SiteKind.education_unit = SiteKind("education_unit")
SiteKind.municipal = SiteKind("municipal")


class Role(StrEnum):
    core = "core"
    distribution = "distribution"
    access = "access"
    wlc = "wlc"
    ap = "ap"


class Platform(StrEnum):
    ios_xe = "ios_xe"
    c9800 = "c9800"
    ap = "ap"


class CircuitType(StrEnum):
    l2 = "l2"
    l3vpn = "l3vpn"
    internet = "internet"


class Overlay(StrEnum):
    vrf_lite = "vrf_lite"
    gre = "gre"


# --------------------------------------------------------------------------- zones


class Zone(Frozen):
    """A security zone: its own VLAN and its own VRF on every device."""

    id: Annotated[int, Field(ge=0, le=15)] = Field(
        description="Fixed small number; selects the zone's transit /31 and WAN VLAN inside a "
        "site's allocated blocks. Never reuse or change it."
    )
    vlan: VlanId = Field(description="802.1Q VLAN of the zone at every site that has it.")
    vrf: VrfName = Field(description="VRF (routing table) of the zone on every L3 device.")
    description: str = Field(description="Human description (VLAN/VRF/SVI descriptions).")
    dhcp: bool = Field(True, description="Clients get addresses by DHCP relay on this zone's SVI.")
    client_zone: bool = Field(
        True, description="Users or devices authenticate into it (802.1X/MAB/WLAN)."
    )


class SiteKindDef(Frozen):
    """A kind of site (group_vars/all/site_kinds.yml): the default zones of its sites
    follow from the pools that give it a prefix length; everything else is said here."""

    description: Annotated[str, Field(min_length=1, max_length=120)] = Field(
        description="What sites of this kind are (the handover's zones.md).")
    children: bool = Field(
        False, description="Children are on site (schools, kindergartens): the risk report "
        "rates a weakness that exposes these sites higher.")
    printer_port: bool = Field(
        True, description="`fellesnett site add` gives each access switch one printer port.")
    colour: Annotated[str, Field(pattern=r"^#[0-9a-f]{6}$")] | None = Field(
        None, description="Fill of the kind's sites in the topology pictures (`#rrggbb`); "
        "default: one of a fixed palette, by the kind's position.")


class AddressPool(Frozen):
    pool: ipaddress.IPv4Network
    prefix_length: dict[SiteKind, Annotated[int, Field(ge=8, le=30)]] = Field(
        description="Prefix length of this zone at each site kind. A site kind that is not "
        "listed does not have the zone."
    )


class TransitPool(Frozen):
    pool: ipaddress.IPv4Network
    block_length: Annotated[int, Field(ge=16, le=29)] = Field(
        27, description="Each site gets one block; zone N uses the N-th /31 in it."
    )


class WanVlanPool(Frozen):
    """WAN VLAN IDs on the core's 802.1Q hand-offs; GRE tunnel numbers for overlay sites.

    Blocks past 4094 are usable only by GRE sites (tunnel numbers have no VLAN limit).
    """

    first: Annotated[int, Field(ge=2, le=65535)] = 2000
    last: Annotated[int, Field(ge=2, le=65535)] = 3999
    block_size: Annotated[int, Field(ge=8, le=64)] = 16


class AddressPools(Frozen):
    zones: dict[Name, AddressPool] = Field(description="One pool per zone.")
    transit: TransitPool = Field(description="Per-site blocks of /31 links to the core.")
    wan_vlans: WanVlanPool = Field(WanVlanPool(), description="Per-site WAN VLAN blocks.")


# --------------------------------------------------------------------------- policy


class PolicyRule(Frozen):
    """One allowed flow; anything not listed is denied."""

    from_: Name = Field(alias="from")
    to: Name = Field(description="A zone, a service, or `internet`.")
    ports: list[PortSpec] | None = Field(
        None, description="Defaults to the service's ports; required towards a zone."
    )
    description: str = ""
    stateful: bool = Field(
        False, description="Route this pair of zones through the town-hall firewall, which "
        "keeps state (only replies of real connections come back), instead of relying on "
        "stateless reply terms at the core alone. For a zone whose hosts answer in ways a "
        "stateless reply term cannot pin down (building automation, cameras). Proven by "
        "verify through the firewall's policy and by the packet lab through a firewall "
        "namespace that loads it (docs/verify.md and docs/lab.md, Stateful pairs).")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class FlowEnd(Frozen):
    """Who takes part in a required flow. Written in the inventory as a list of zones
    (``[pupils, staff]``), a service name (``radius``; ``noc`` is the NOC prefixes of
    ``management``), or a mapping with any of the keys below (their union)."""

    zones: list[Name] = Field([], description="The hosts of these zones at every site "
                              "that has them.")
    relay: list[Name] = Field([], description="The site gateway's address in these zones "
                              "(the DHCP relay agent, `ip helper-address`).")
    devices: list[Role] = Field([], description="The management address of every device of "
                                "these roles; `ap`: the AP zone at every site with APs.")
    service: Name | None = Field(None, description="A service of `services` by name, or "
                                 "`noc`.")

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, list):
            return {"zones": data}
        if isinstance(data, str):
            return {"service": data}
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> FlowEnd:
        if not (self.zones or self.relay or self.devices or self.service):
            raise ValueError("names nobody: give zones, relay, devices or a service")
        return self

    def label(self) -> str:
        """How docs and findings name the end.

        >>> FlowEnd.model_validate({"devices": ["access", "wlc"]}).label()
        'devices (access, wlc)'
        >>> FlowEnd.model_validate(["pupils", "staff"]).label()
        'pupils, staff'
        """
        parts = [*self.zones]
        if self.relay:
            parts.append(f"gateways ({', '.join(self.relay)})")
        if self.devices:
            parts.append(f"devices ({', '.join(r.value for r in self.devices)})")
        if self.service:
            parts.append(self.service)
        return ", ".join(parts)


class InfraFlow(Frozen):
    """A flow the network needs to work (DHCP, DNS, RADIUS, CAPWAP, management, ...).

    Every infrastructure flow is a *required* flow: ``fellesnett verify`` proves it end to
    end at every site (layer 2, routing both ways, the ACLs both ways, the DHCP helpers).
    """

    name: Name
    from_: FlowEnd = Field(alias="from", description="Who opens the flow.")
    to: FlowEnd = Field(description="Who answers it.")
    ports: list[PortSpec] = Field(description="Destination ports (`icmp`: echo).")
    source_ports: list[PortSpec] | None = Field(
        None, description="The opener's source ports, where the protocol fixes them (DHCP "
        "relay 67, renewal 68, NTP 123). Stateless replies go back only to these; default "
        "the ephemeral range 1024-65535.")
    reply: bool = Field(True, description="The answering side replies (false for one-way "
                        "flows such as syslog and SNMP traps).")
    description: str = ""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class AcceptedExposure(Frozen):
    """Traffic a stateless ACL lets through beyond the declared flows, accepted on purpose.

    ``fellesnett verify`` computes the exact header space each zone's ACL permits; what
    passes beyond the declared flows fails the build unless an entry here covers it.
    """

    from_: list[Name] = Field(alias="from", description="Zones (their pools) or services.")
    to: list[Name] = Field(description="Zones, services or `internet`.")
    ports: list[PortSpec] | None = Field(
        None, description="Protocol and destination ports; default every protocol and port.")
    source_ports: list[PortSpec] | None = Field(
        None, description="Source ports (same protocols as `ports`); default any.")
    reason: Annotated[str, Field(min_length=10)] = Field(
        description="Why this is acceptable (printed in the handover docs and the ROS report).")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class InternetEdge(Frozen):
    """One VLAN and one small prefix per zone between the core pair and the internet
    firewall (which does NAT and keeps state for what comes back)."""

    core_interface: str = Field(description="Core port towards the firewall (802.1Q trunk).")
    vlan_base: VlanId = Field(description="Zone N uses VLAN vlan_base + N.")
    transit: ipaddress.IPv4Network = Field(
        description="Zone N uses the N-th /29: .1 HSRP, .2/.3 the cores, .6 the firewall.")


class ZonePolicy(Frozen):
    restricted_zone: Name = Field(
        description="Least-privileged zone: SSID default VLAN, critical VLAN, unknown MACs."
    )
    management_zone: Name = Field(
        description="Zone of device management; reachable only from management.noc_prefixes."
    )
    rules: list[PolicyRule] = Field(description="Allowed flows; everything else is denied.")
    infrastructure: list[InfraFlow] = Field(
        [], description="Flows that must cross zones (CAPWAP, RADIUS, DNS, ...).")
    internet_edge: InternetEdge = Field(
        description="Where the core hands each zone's internet traffic to the firewall.")
    bgp_asn: Annotated[int, Field(ge=64512, le=65534)] = Field(
        65000, description="Private AS of the core's route-target leaking between VRFs.")
    accepted_exposures: list[AcceptedExposure] = Field(
        [], description="What the stateless ACLs let through beyond the declared flows, "
        "accepted with a reason; anything else fails the build.")


class Service(Frozen):
    description: str
    prefixes: list[ipaddress.IPv4Network] = Field(description="Where the service lives.")
    ports: list[PortSpec] = Field(description="`tcp/N`, `udp/N-M`, `icmp` or `any`.")


# --------------------------------------------------------------------------- authorization


class AuthMethod(StrEnum):
    dot1x = "dot1x"
    mab = "mab"


class AuthGroup(Frozen):
    """A user or device group of the directory / device register, and the zone its
    members are put in by RADIUS (wired and wireless alike)."""

    group: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
    zone: Name
    method: AuthMethod = Field(description="802.1X users, or devices by MAC (MAB).")
    description: str = ""
    voice: bool = Field(False, description="Grant the voice domain (IP phones, MAB).")
    assign_vlan: bool = Field(
        True, description="RADIUS returns the zone's VLAN. False for devices on trunk ports "
        "(access points): the port is opened, no VLAN is assigned.")


class Authorization(Frozen):
    """RADIUS authorisation policy: group -> zone VLAN. A member of several groups gets
    the first listed for the method; anything unknown (a user in no group, a MAC in no
    device group) gets the restricted zone."""

    groups: list[AuthGroup]


# --------------------------------------------------------------------------- management


class Server(Frozen):
    name: Name
    address: ipaddress.IPv4Address


class SnmpUser(Frozen):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    auth_secret: SecretRef
    priv_secret: SecretRef


class Management(Frozen):
    domain_name: str
    timezone: str = "CET 1 0"
    summer_time: str = "CEST recurring last Sun Mar 2:00 last Sun Oct 3:00"
    noc_prefixes: list[ipaddress.IPv4Network]
    ntp_servers: list[ipaddress.IPv4Address]
    syslog_servers: list[ipaddress.IPv4Address]
    snmp_collectors: list[ipaddress.IPv4Address]
    snmp_users: list[SnmpUser]
    dns_servers: list[ipaddress.IPv4Address]
    dhcp_servers: list[ipaddress.IPv4Address]
    banner: str
    contact: str
    mgmt_gateway_host: Annotated[int, Field(ge=1)] = Field(
        1, description="Host number of the site gateway in each zone prefix (1 = first address)."
    )


class TacacsConfig(Frozen):
    servers: list[Server]
    key_secret: SecretRef


class RadiusConfig(Frozen):
    servers: list[Server]
    key_secret: SecretRef
    coa: bool = True
    dead_time_minutes: Annotated[int, Field(ge=1, le=1440)] = 5


class LocalUser(Frozen):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    privilege: Annotated[int, Field(ge=0, le=15)] = 15
    secret: SecretRef


class Aaa(Frozen):
    tacacs: TacacsConfig
    radius: RadiusConfig
    local_users: list[LocalUser]
    enable_secret: SecretRef


# --------------------------------------------------------------------------- wireless


class WlanSecurity(StrEnum):
    dot1x = "dot1x"
    psk = "psk"
    open = "open"


class Ssid(Frozen):
    name: Name = Field(description="Profile name on the controller.")
    ssid: Annotated[str, Field(min_length=1, max_length=32)]
    wlan_id: Annotated[int, Field(ge=1, le=512)]
    security: WlanSecurity
    zone: Name = Field(description="Default zone (VLAN) of clients on this SSID.")
    aaa_override: bool = False
    psk_secret: SecretRef | None = None
    site_kinds: list[SiteKind] = Field(description="Broadcast at sites of these kinds.")


class ApSupplicant(Frozen):
    """The 802.1X credentials every AP uses on its switch port (EAP-FAST), pushed by the
    controller in the AP join profile."""

    username: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=32)]
    password_secret: SecretRef


class Wireless(Frozen):
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "NO"
    ssids: list[Ssid]
    ap_zone: Name = Field(description="Zone of AP management (native VLAN of AP trunks).")
    ap_supplicant: ApSupplicant | None = Field(
        None, description="APs authenticate on their switch port with these (802.1X); "
        "without them an AP port falls back to MAB, which anyone with the AP's MAC passes.")


# --------------------------------------------------------------------------- ports and models


class PortMode(StrEnum):
    access = "access"
    trunk = "trunk"


class PortProfile(Frozen):
    description: str
    mode: PortMode
    dot1x: bool = False
    mab: bool = False
    zone: Name | None = Field(None, description="Access VLAN zone (before authorisation).")
    voice_zone: Name | None = None
    native_zone: Name | None = None
    trunk_zones: list[Name] | None = Field(
        None, description="Zones carried on a trunk; `null` = every zone present at the site."
    )
    edge: bool = Field(False, description="End-host port: portfast, BPDU guard, storm control.")
    trusted: bool = Field(False, description="DHCP snooping / ARP inspection trust.")
    transit: bool = Field(
        False, description="Core pair interconnect: also carries the per-zone transit VLANs."
    )
    shutdown: bool = False
    rate_limit: Annotated[int, Field(ge=1, le=2048)] | None = Field(
        None, description="DHCP snooping and ARP inspection packets per second on an "
        "untrusted edge port (an AP port carries many clients: the default 15 would "
        "err-disable it).")
    ip_source_guard: bool = Field(
        False, description="IP Source Guard: only addresses DHCP snooping handed out may "
        "send from the port.")


class DeviceModel(Frozen):
    platform: Platform
    interfaces: list[str] = []
    software: str | None = Field(None, description="Version this model is expected to run.")
    licence: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]*(?: addon [a-z][a-z0-9-]*)?$",
        description="Licence level the device boots with (`license boot level ...`), e.g. "
        "`network-advantage`: what the model needs for the features it is given.")
    max_vrfs: Annotated[int, Field(ge=0)] | None = Field(
        None, description="VRFs the model can carry with that licence (0: no VRF-lite). "
        "Validation refuses a device given more zones than this.")
    routing: bool = Field(True, description="Can route between its VLANs (SVIs with an "
                          "address and static routes); false for a pure L2 model.")
    provision: str | None = Field(
        None, pattern=r"^[a-z0-9-]+$", description="Stack member type a stackable model "
        "prints as `switch 1 provision <type>` (e.g. c9300-48p).")
    service_port: str | None = Field(
        None, description="Out-of-band management port (in the factory management VRF), "
        "printed by every unit: GigabitEthernet0/0 on Catalyst 9000, GigabitEthernet0 on "
        "the 9800.")
    service_port_negotiation: bool = Field(
        True, description="The service port prints `negotiation auto` (not on a C9200L).")
    empty_interfaces: list[str] = Field(
        [], description="Interfaces the model prints with no lines (the C9300's "
        "AppGigabitEthernet1/0/1 application port).")

    @field_validator("interfaces")
    @classmethod
    def _ranges_expand(cls, v: list[str]) -> list[str]:
        for spec in v:
            expand_interface_range(spec)
        return v


class AuditIgnore(Frozen):
    """A config line `fellesnett audit` leaves out of the comparison: volatile or written
    by the device itself (timestamps, certificates, counters)."""

    match: str = Field(description="Regular expression searched in the line, leading spaces "
                       "removed; a line below a section is matched on its own text.")
    section: bool = Field(False, description="Also ignore every line below a matching line "
                          "(a certificate chain, a self-signed trustpoint).")
    platforms: list[Platform] = Field([], description="Only on these platforms; empty = all.")
    reason: str = Field(description="Why the line is ignored (shown in every audit report).")

    @field_validator("match")
    @classmethod
    def _compiles(cls, v: str) -> str:
        import re

        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return v


class Audit(Frozen):
    """Rules of `fellesnett audit`. Optional: without it nothing is ignored."""

    ignore: list[AuditIgnore] = Field([], description="Lines left out of the compliance "
                                      "comparison, on both the intended and the device side.")


class PortAssignment(Frozen):
    range: str = Field(description="Interface or range, e.g. GigabitEthernet1/0/1-24.")
    profile: Name
    description: str | None = None
    channel_group: Annotated[int, Field(ge=1, le=128)] | None = Field(
        None, description="Bundle these ports into `Port-channel<N>` (LACP, mode active); "
        "the profile applies to the bundle.")
    peer: Hostname | None = Field(
        None, description="The switch or controller at the other end of these ports. Both "
        "ends name each other; verify traces every VLAN along these links.")

    @field_validator("range")
    @classmethod
    def _range_expands(cls, v: str) -> str:
        expand_interface_range(v)
        return v


# --------------------------------------------------------------------------- sites


class Circuit(Frozen):
    type: CircuitType
    overlay: Overlay = Overlay.vrf_lite
    provider: str
    circuit_id: str
    bandwidth_mbps: Annotated[int, Field(ge=1)]
    core: Hostname = Field(description="Core switch the circuit lands on.")
    core_interface: str = Field(description="Core-side port (802.1Q hand-off or underlay).")
    site_interface: str = Field(description="Port on the site gateway switch.")
    underlay_address: ipaddress.IPv4Interface | None = Field(
        None, description="Site address on the provider network (GRE overlay only)."
    )
    underlay_gateway: ipaddress.IPv4Address | None = None


class Site(Frozen):
    name: str = Field(description="Human name (UTF-8; transliterated in device CLI).")
    kind: SiteKind = Field(description="Decides which zones the site has and their sizes.")
    zones: list[Name] | None = Field(
        None, description="The zones this site has, when it has fewer than its kind (a "
        "wireless-only kindergarten without the voice zone). Each needs a prefix length for "
        "the kind in address_pools; the management zone is always needed. Without it: every "
        "zone whose pool gives the kind a prefix length.")
    index: Annotated[int, Field(ge=1, le=4000)] = Field(
        description="Unique site number, allocated once.")
    gateway: Hostname | None = Field(
        None, description="The site's routed gateway, when it has several distribution "
        "switches (one per building): the others switch only, and reach it over LACP "
        "building links. Default: the site's distribution switch, else its only switch.")
    address: str = Field("", description="Street address (docs only).")
    circuit: Circuit | None = Field(None, description="WAN circuit; the core site has none.")
    prefixes: dict[Name, ipaddress.IPv4Network] = Field(
        description="Zone prefixes, allocated once by `fellesnett site add`; never recomputed."
    )
    transit: ipaddress.IPv4Network | None = Field(
        None, description="Block of /31 links to the core, one per zone (by zone id)."
    )
    wan_vlan_base: Annotated[int, Field(ge=2, le=65535)] | None = Field(
        None, description="First WAN VLAN/tunnel number of this site; zone N uses base+N."
    )
    backup_circuit: Circuit | None = Field(
        None, description="A second circuit (a dual-homed site), to the same or the other "
        "core, from the same or another provider. Every zone's routes move to it when the "
        "first circuit fails (tracked static routes; docs/verify.md). Allocated with "
        "`fellesnett site add-circuit`.")
    backup_transit: ipaddress.IPv4Network | None = Field(
        None, description="The second circuit's block of /31 links, one per zone (by id).")
    backup_wan_vlan_base: Annotated[int, Field(ge=2, le=65535)] | None = Field(
        None, description="The second circuit's first WAN VLAN/tunnel number; zone N uses "
        "base+N.")


# --------------------------------------------------------------------------- devices


class ApLink(Frozen):
    switch: Hostname
    port: str


class Device(Frozen):
    """One inventory host: facts from hosts.yml merged with its host_vars file."""

    role: Role = Field(description="Decides the device's function and its role group.")
    model: str = Field(description="A key of device_models.")
    ansible_host: ipaddress.IPv4Address | None = Field(
        None, description="Management address (in the site's mgmt prefix)."
    )
    serial: str | None = None
    mac: MacAddress | None = Field(None, description="AP Ethernet MAC (controller tags).")
    connected_to: ApLink | None = Field(None, description="AP: switch and port it hangs off.")
    ports: list[PortAssignment] = Field(
        [], description="Port map; ports not listed get the `unused` profile.")
    redundancy_peer: Hostname | None = Field(None, description="Core HSRP / WLC SSO peer.")
    building: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        None, description="The building of the site the device stands in (a site on several "
        "buildings: docs, site sheets and pictures group its devices by it).")
    standby_address: ipaddress.IPv4Address | None = Field(
        None, description="WLC pair: redundancy management (RMI) address of chassis 2."
    )
    rmi_address: ipaddress.IPv4Address | None = Field(
        None, description="WLC pair: RMI address of chassis 1 (a second address on the "
        "management SVI, so never the management address itself)."
    )
    priority: Annotated[int, Field(ge=1, le=255)] | None = None
    underlay_address: ipaddress.IPv4Interface | None = Field(
        None, description="Core only: address on the L3VPN provider port (GRE tunnel source)."
    )
    underlay_gateway: ipaddress.IPv4Address | None = None
    location: str = ""

