"""Structured config: the vendor-neutral contract between design and render.

The design step fills these from the intent; templates only print them. Nothing here
holds CLI text, and templates never compute addresses. Secrets appear only as
placeholder tokens (see :func:`secret_placeholder`), resolved at deploy time.

Plain frozen dataclasses with slots: a county-size build creates millions of them, and
they stay typed for mypy. Every list is sorted by the design step in the order the
device prints it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Any

IPv4Address = ipaddress.IPv4Address
IPv4Interface = ipaddress.IPv4Interface
IPv4Network = ipaddress.IPv4Network



def secret_placeholder(name: str) -> str:
    """The token that stands for a secret in intended configs and handover files.

    >>> secret_placeholder("radius_key")
    '<<secret:radius_key>>'
    """
    return f"<<secret:{name}>>"


# ---------------------------------------------------------------------- shared


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    address: IPv4Address


@dataclass(frozen=True, slots=True)
class LocalUser:
    name: str
    privilege: int
    secret: str  # placeholder


@dataclass(frozen=True, slots=True)
class Aaa:
    tacacs_group: str
    radius_group: str
    tacacs_servers: list[Server]
    radius_servers: list[Server]
    tacacs_key: str  # placeholder
    radius_key: str  # placeholder
    local_users: list[LocalUser]
    enable_secret: str  # placeholder
    coa: bool
    dead_time_minutes: int
    source_interface: str  # e.g. Vlan100
    vrf: str | None  # management VRF; None: the global table (the 9800's WMI)
    # named 802.1X method lists besides `default` (the controller's WLANs use their own)
    dot1x_lists: list[str] = field(default_factory=list)
    identity_accounting_lists: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Snmp:
    group: str
    view: str
    acl: str
    users: list[str]  # user names only: IOS never prints `snmp-server user`
    collectors: list[IPv4Address]
    contact: str
    location: str


@dataclass(frozen=True, slots=True)
class Management:
    """Management plane shared by every IOS-XE based device (switches and the WLC)."""

    hostname: str
    domain_name: str
    vrf: str | None  # None: the global table
    source_interface: str
    timezone: str
    summer_time: str
    banner: str
    dns_servers: list[IPv4Address]
    ntp_servers: list[IPv4Address]
    syslog_servers: list[IPv4Address]
    snmp: Snmp
    aaa: Aaa
    vty_acl: str


@dataclass(frozen=True, slots=True)
class AclEntry:
    seq: int
    action: str  # permit | deny | remark
    # vendor-neutral match; templates print it in the device's form
    protocol: str | None = None  # None for standard ACLs
    source: IPv4Network | None = None  # None = any
    destination: IPv4Network | None = None
    dst_ports: str | None = None  # e.g. "443" or "10000-20000"
    established: bool = False
    remark: str | None = None
    src_ports: str | None = None
    icmp_type: str | None = None  # echo | echo-reply


@dataclass(frozen=True, slots=True)
class Acl:
    name: str
    kind: str  # standard | extended
    entries: list[AclEntry]


@dataclass(frozen=True, slots=True)
class Vrf:
    name: str
    description: str
    # route-target leaking, on the core only: sites never leak between VRFs
    rd: str | None = None
    rt_export: list[str] = field(default_factory=list)
    rt_import: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Vlan:
    id: int
    name: str


# ---------------------------------------------------------------------- switches


@dataclass(frozen=True, slots=True)
class Hsrp:
    group: int
    virtual_ip: IPv4Address
    priority: int
    preempt: bool = True


@dataclass(frozen=True, slots=True)
class Svi:
    """A routed VLAN interface: site zone gateway, management address or transit link."""

    vlan: int
    description: str
    vrf: str | None  # None: the global table
    address: IPv4Interface
    helpers: list[IPv4Address] = field(default_factory=list)
    hsrp: Hsrp | None = None
    acl_in: str | None = None  # the zone's ingress ACL, on the core's zone-facing side


@dataclass(frozen=True, slots=True)
class Tunnel:
    """One GRE tunnel per zone over a provider L3VPN (no 802.1Q hand-off)."""

    number: int
    description: str
    vrf: str
    address: IPv4Interface
    source: str
    destination: IPv4Address
    key: int
    acl_in: str | None = None


@dataclass(frozen=True, slots=True)
class RoutedPort:
    """A no-switchport interface in the global table (GRE underlay)."""

    name: str
    description: str
    address: IPv4Interface


@dataclass(frozen=True, slots=True)
class StaticRoute:
    vrf: str | None
    prefix: IPv4Network
    next_hop: IPv4Address
    name: str
    distance: int | None = None  # a floating route (the backup circuit's): above 1
    track: int | None = None  # withdrawn while this track object is down


@dataclass(frozen=True, slots=True)
class Sla:
    """An ICMP echo probe, scheduled forever, and the track object of the same number
    that follows its reachability (a dual-homed site's first circuit, seen from one end)."""

    number: int
    target: IPv4Address
    source_interface: str
    vrf: str


@dataclass(frozen=True, slots=True)
class Port:
    """A switchport, with its edge security, derived from a port profile."""

    name: str
    description: str
    profile: str
    mode: str  # access | trunk
    access_vlan: int | None = None
    voice_vlan: int | None = None
    native_vlan: int | None = None
    allowed_vlans: str | None = None  # IOS list syntax, e.g. "100,110,120"
    shutdown: bool = False
    edge: bool = False  # portfast + bpduguard + storm control + RA guard
    trusted: bool = False  # DHCP snooping / DAI trust
    dot1x: bool = False
    mab: bool = False
    host_mode: str | None = None  # multi-auth | multi-domain | single-host
    ra_guard: bool = False
    channel_group: int | None = None  # member of Port-channel<N> (LACP active)
    policy: str | None = None  # IBNS 2.0 control policy of an authenticating port
    rate_limit: int | None = None  # DHCP snooping / ARP inspection pps (untrusted edge)
    ip_source_guard: bool = False
    voice_qos: bool = False  # egress queueing for the phones (service-policy output)


@dataclass(frozen=True, slots=True)
class Dot1x:
    """Global IBNS 2.0 settings (per-port settings live on :class:`Port`)."""

    policy: str
    critical_vlan: int
    radius_group: str
    radius_servers: list[Server]
    dead_criteria_time: int
    dead_criteria_tries: int
    tester_username: str
    #: the control policies the device's ports use (each printed once)
    policies: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Bgp:
    """Local MP-BGP on the core: only to leak routes between VRFs by route target."""

    asn: int
    router_id: IPv4Address
    vrfs: list[str]
    static_route_map: str  # keeps each VRF's internet default route out of the others
    default_prefix_list: str
    #: ... and the routes of stateful pairs through the firewall
    firewall_prefix_list: str = ""
    firewall_prefixes: list[IPv4Network] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SwitchConfig:
    hostname: str
    site: str
    role: str
    model: str
    software: str | None
    management: Management
    vrfs: list[Vrf]
    vlans: list[Vlan]
    svis: list[Svi]
    tunnels: list[Tunnel]
    routed_ports: list[RoutedPort]
    ports: list[Port]
    routes: list[StaticRoute]
    acls: list[Acl]
    dot1x: Dot1x | None
    snooping_vlans: list[int]  # DHCP snooping and ARP inspection
    ra_guard_policy: str | None
    spanning_tree_priority: int | None = None
    bgp: Bgp | None = None
    platform: str = "ios_xe"
    #: LACP bundles (``Port-channel<N>``), with the settings their members share
    port_channels: list[Port] = field(default_factory=list)
    licence: str | None = None  # `license boot level ...`
    provision: str | None = None  # `switch 1 provision ...` (stackables)
    service_port: ServicePort | None = None
    empty_interfaces: list[str] = field(default_factory=list)
    voice_qos: bool = False  # the egress queueing policy for phones (class/policy maps)
    snooping_database: str | None = None  # where DHCP snooping keeps its bindings
    slas: list[Sla] = field(default_factory=list)  # circuit probes and their tracks


@dataclass(frozen=True, slots=True)
class ServicePort:
    """The out-of-band management port every unit prints, in its factory VRF."""

    name: str
    vrf: str  # Mgmt-vrf (Catalyst 9000) | Mgmt-intf (9800)
    shutdown: bool
    negotiation: bool


def to_data(obj: Any) -> Any:
    """Structured config as JSON-ready data (addresses as strings), for ``--json`` dumps.

    >>> to_data(Vlan(110, "PUPILS"))
    {'id': 110, 'name': 'PUPILS'}
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if isinstance(obj, (IPv4Address, IPv4Interface, IPv4Network)):
        return str(obj)
    return obj
