"""The required flows with real packets: which real client talks to which real daemon,
at every chosen site, and which daemons the lab must run for that.

Pure: computed from the intent and the lab plan. :mod:`nornir_tasks.lab.services` writes
the daemons' configs and the clients' command lines; the runner starts them.

A required flow is spoken for real when the lab knows its protocol, recognised by the
flow's ends and well-known ports (not by its name, which the intent may change):

* **DHCP relay** (``from`` has ``relay`` zones, to a service on ``udp/67``): ``udhcpc`` in
  each relayed zone's host at the site gets a lease in the site's prefix from ``dnsmasq``
  at the service's first address, through ``dnsmasq --dhcp-relay`` on the site's gateway
  of that zone (the relay sends from the gateway's address, through the zone's chain);
* **DNS** (to a service on ``udp/53``/``tcp/53``): a real query over each protocol from
  every host at the site the flow's ``from`` covers, answered by ``dnsmasq``;
* **RADIUS** (to a service on ``udp/1812``): ``radtest`` from the management host (a
  switch's management address) answered by FreeRADIUS with the generated client list;
* **CAPWAP** (to a service on ``udp/5246``/``5247``): a datagram from the AP zone host to
  the controller's address and back on each port (the agent's echo);
* **SSH to management** (to ``devices`` on ``tcp/22``): the NOC logs into ``sshd`` on the
  management host (a device's address) with ``ssh``.

Other required flows are proved by the matrix probes only; the report says which. An
exchange whose two ends share a subnet (the town hall's hosts and its servers) never
crosses the policy point and is skipped, as is RADIUS and SSH at a site whose only managed
device is its own gateway (the lab's core holds that address), each with its reason.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from nornir_tasks.intent.flows import service_prefixes
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import FlowEnd, InfraFlow
from nornir_tasks.lab.expect import covers
from nornir_tasks.lab.plan import HOST_OFFSET, Addr, Endpoint, HostNs, LabPlan, one_address

KINDS = ("dhcp", "dns", "radius", "capwap", "ssh")
NO_DEVICE = ("no managed device address besides the site's gateway, which the lab's core "
             "holds")
LEASE_RANGE = 50  # addresses per relayed prefix in the DHCP server's ranges


@dataclass(frozen=True)
class RequiredProbe:
    """One real exchange: a client command in ``namespace`` and what must come back."""

    id: int
    flow: str  # the intent's flow name
    kind: str  # one of KINDS
    site: str
    namespace: str  # where the client runs
    source: str  # "alta_skole/pupils 10.32.0.10", "noc 10.0.0.234"
    destination: str  # "dhcp 10.11.0.67 via relay 10.32.0.1"
    probe: str  # "udp/67", "tcp/53", ...
    params: dict[str, str] = field(default_factory=dict)  # kind-specific, for the command


@dataclass(frozen=True)
class Daemon:
    """A real server the required probes talk to."""

    name: str  # unique: dhcp-server, dhcp-relay, dns, radius, sshd-<site>
    kind: str  # dhcp-server | dhcp-relay | dns | radius | sshd
    namespace: str
    address: str  # what it answers on ("" for the relay: every gateway)
    #: agent listeners (proto, port) to close in its namespace before it starts: the
    #: matrix probes' echo listeners sat on the same ports
    release: tuple[tuple[str, int], ...] = ()
    params: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class RequiredPlan:
    probes: list[RequiredProbe] = field(default_factory=list)
    daemons: list[Daemon] = field(default_factory=list)
    #: required flows the lab has no real client for (proved by the matrix probes)
    matrix_only: list[str] = field(default_factory=list)
    #: exchanges not run, with the reason (on one subnet they never cross the core)
    skipped: list[str] = field(default_factory=list)


def flow_kind(flow: InfraFlow) -> str | None:
    """Which real protocol speaks this flow, from its ends and well-known ports."""
    ports = set(flow.ports)
    if flow.from_.relay and flow.to.service and "udp/67" in ports:
        return "dhcp"
    if flow.to.service and ports & {"udp/53", "tcp/53"}:
        return "dns"
    if flow.to.service and "udp/1812" in ports:
        return "radius"
    if flow.to.service and ports & {"udp/5246", "udp/5247"}:
        return "capwap"
    if flow.to.devices and "tcp/22" in ports:
        return "ssh"
    return None


def _first(intent: Intent, service: str) -> str:
    """The address that stands for a service in the lab: its first prefix's."""
    return str(one_address(service_prefixes(intent, service)[0]))


def lease_range(network: str, prefixlen: int, taken: list[str]) -> tuple[str, str, str]:
    """(first, last, netmask) of the addresses the DHCP server hands out in a prefix:
    after the gateway and the zone host, at most :data:`LEASE_RANGE` of them.

    >>> lease_range("10.84.2.144", 28, ["10.84.2.145", "10.84.2.154"])
    ('10.84.2.155', '10.84.2.158', '255.255.255.240')
    """
    net = ipaddress.IPv4Network(f"{network}/{prefixlen}")
    used = [ipaddress.IPv4Address(a) for a in taken]
    first = max([net.network_address + HOST_OFFSET, *used]) + 1
    if first >= net.broadcast_address:
        first = net.network_address + 2
    last = min(first + LEASE_RANGE - 1, net.broadcast_address - 1)
    return str(first), str(last), str(net.netmask)


class _Planner:
    """Builds a :class:`RequiredPlan`: one method per protocol, called per flow and site."""

    def __init__(self, intent: Intent, plan: LabPlan) -> None:
        self.intent, self.plan = intent, plan
        self.out = RequiredPlan()
        self.daemons: dict[str, Daemon] = {}
        self.subnets = [e.subnet for e in plan.endpoints if e.subnet is not None]

    def add(self, flow: InfraFlow, kind: str, site: str, ns: str, src: str, dst: str,
            probe: str, **params: str) -> bool:
        """A probe, unless its two ends share a subnet (then it never crosses the core)."""
        a, b = params.get("source"), params.get("server")
        if a and b and any(Addr(a) in n and Addr(b) in n for n in self.subnets):
            self.out.skipped.append(f"{flow.name} {src} -> {dst} {probe}: one subnet, never "
                                    "crosses the policy point")
            return False
        self.out.probes.append(RequiredProbe(len(self.out.probes) + 1, flow.name, kind, site,
                                             ns, src, dst, probe, dict(params)))
        return True

    def daemon(self, name: str, kind: str, ns: str, address: str,
               release: tuple[tuple[str, int], ...], **params: list[str]) -> Daemon:
        return self.daemons.setdefault(name, Daemon(name, kind, ns, address, release,
                                                     dict(params)))

    def hosts(self, site: str) -> list[tuple[HostNs, Endpoint]]:
        return [(h, self.plan.endpoint(f"{site}/{h.zone}"))
                for h in self.plan.hosts if h.site == site]

    def devices(self, flow: InfraFlow, site: str, end: FlowEnd) -> list[tuple[HostNs, Endpoint]]:
        """The site's hosts that are managed devices the end names (the mgmt host)."""
        found = [(h, ep) for h, ep in self.hosts(site)
                 if ep.roles and covers(self.intent, end, ep)]
        if not found:
            self.out.skipped.append(f"{flow.name} at {site}: {NO_DEVICE}")
        return found

    def dhcp(self, flow: InfraFlow, site: str, server: Endpoint) -> None:
        for h, _ in self.hosts(site):
            leg = self.plan.leg(site, h.zone)
            if h.zone not in flow.from_.relay or not self.intent.zones[h.zone].dhcp \
                    or leg is None:
                continue
            gw, addr = str(leg.gateway.ip), str(server.address)
            first, last, mask = lease_range(str(h.address.network.network_address),
                                            h.address.network.prefixlen,
                                            [gw, str(h.address.ip)])
            self.daemon("dhcp-server", "dhcp-server", server.namespace, addr, (("udp", 67),),
                        ranges=[]).params["ranges"].append(f"{first},{last},{mask}")
            self.daemon("dhcp-relay", "dhcp-relay", "core", "", (),
                        relays=[]).params["relays"].append(f"{gw},{addr}")
            self.add(flow, "dhcp", site, h.name, f"{site}/{h.zone} (DHCP client)",
                     f"{server.service} {addr} via relay {gw}", "udp/67",
                     prefix=str(h.address.network), relay=gw, zone=h.zone)

    def dns(self, flow: InfraFlow, site: str, server: Endpoint) -> None:
        addr = str(server.address)
        name = f"{server.service}.{self.intent.management.domain_name}"
        self.daemon("dns", "dns", server.namespace, addr, (("udp", 53), ("tcp", 53)),
                    records=[f"{name},{addr}"])
        for h, ep in self.hosts(site):
            if covers(self.intent, flow.from_, ep):
                for port in sorted(p for p in flow.ports if p in ("udp/53", "tcp/53")):
                    self.add(flow, "dns", site, h.name, f"{site}/{h.zone} {h.address.ip}",
                             f"{server.service} {addr}", port, server=addr,
                             source=str(h.address.ip), name=name, expect=addr,
                             tcp="1" if port.startswith("tcp") else "")

    def radius(self, flow: InfraFlow, site: str, server: Endpoint) -> None:
        addr = str(server.address)
        self.daemon("radius", "radius", server.namespace, addr, (("udp", 1812), ("udp", 1813)))
        for h, _ in self.devices(flow, site, flow.from_):
            self.add(flow, "radius", site, h.name, f"{site} device {h.address.ip}",
                     f"{server.service} {addr}", "udp/1812", server=addr,
                     source=str(h.address.ip), nas=str(h.address.ip))

    def capwap(self, flow: InfraFlow, site: str, server: Endpoint) -> None:
        addr = str(server.address)
        for h, ep in self.hosts(site):
            if covers(self.intent, flow.from_, ep):
                for port in sorted(p for p in flow.ports if p.startswith("udp/")):
                    self.add(flow, "capwap", site, h.name, f"{site}/{h.zone} {h.address.ip}",
                             f"{server.service} {addr}", port, server=addr,
                             source=str(h.address.ip), port=port.split("/")[1])

    def ssh(self, flow: InfraFlow, site: str) -> None:
        src = next((e for e in self.plan.endpoints if e.service == flow.from_.service
                    and e.primary), None)
        if src is None:
            return
        for h, _ in self.devices(flow, site, flow.to):
            if self.add(flow, "ssh", site, src.namespace, f"{src.key} {src.address}",
                        f"{site} device {h.address.ip}", "tcp/22", source=str(src.address),
                        server=str(h.address.ip)):
                self.daemon(f"sshd-{site}", "sshd", h.name, str(h.address.ip), (("tcp", 22),))


def required_plan(intent: Intent, plan: LabPlan) -> RequiredPlan:
    """The real exchanges at every chosen site, and the daemons they need."""
    p = _Planner(intent, plan)
    for flow in intent.policy.infrastructure:
        kind = flow_kind(flow)
        target = flow.to.service
        server = None
        if target:
            first = _first(intent, target)
            server = next((e for e in plan.endpoints if e.kind == "service"
                           and str(e.address) == first), None)
        if kind is None or (kind != "ssh" and server is None):
            p.out.matrix_only.append(flow.name)
            continue
        speak = {"dhcp": p.dhcp, "dns": p.dns, "radius": p.radius, "capwap": p.capwap}
        for site in plan.sites:
            if kind == "ssh":
                p.ssh(flow, site)
            else:
                assert server is not None
                speak[kind](flow, site, server)
    p.out.daemons = list(p.daemons.values())
    return p.out
