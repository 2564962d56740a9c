"""Generate an estate's inventory: the committed reference municipality, or synthetic
county-scale estates for the benchmarks.

The reference YAML under ``inventory/`` was produced once by this module and is now the
source of truth: edit the YAML (or use ``fellesnett site add``), do not regenerate it.
Addresses come from :class:`nornir_tasks.allocate.Allocator`, the same code path as
``site add``, so a generated site looks exactly like a hand-added one.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from nornir_tasks.allocate import Allocator
from nornir_tasks.intent.loader import SITE_GROUP_PREFIX, kind_group
from nornir_tasks.intent.model import AddressPools, SiteKind, SiteKindDef
from nornir_tasks.site_layout import (
    AP_MODELS,
    SITE_HEADER,
    ap_mac,
    circuit_facts,
    dump_yaml,
    edge_model,
    edge_ports,
    host_prefix,
    share,
    site_devices,
    slugify,
)

#: the reference estate's core pair; every estate's is named after its core site
CORE_HOSTS = ("radhuset-core01", "radhuset-core02")
#: the data-centre switch pair at the town hall: top-of-rack for the virtualisation hosts
DC_SWITCHES = 2
DC_MODEL = "C9500-16X"
FIBRE = "Fiberoperatør AS"
TELCO = "Nasjonal telco ASA"

# (name, access switches) - sizes after the school network's own count of 139 switches
SCHOOLS = [
    ("Alta ungdomsskole", 11), ("Bossekop ungdomsskole", 9), ("Komsa skole", 8),
    ("Saga skole", 8), ("Kaiskuru skole", 7), ("Elvebakken skole", 7), ("Bossekop skole", 7),
    ("Alta skole", 6), ("Tverrelvdalen skole", 5), ("Øvre Alta skole", 5), ("Gakori skole", 5),
    ("Rafsbotn skole", 4), ("Kåfjord skole", 4), ("Talvik skole", 4),
    ("Komagfjord skole", 3), ("Langfjordbotn skole", 3), ("Leirbotn skole", 3),
    ("Kviby skole", 3),
]
DISTRICT_SCHOOLS = {"Komagfjord skole", "Langfjordbotn skole", "Leirbotn skole", "Kviby skole"}
KINDERGARTENS = [
    "Bossekop barnehage", "Elvebakken barnehage", "Komsa barnehage", "Saga barnehage",
    "Kaiskuru barnehage", "Tverrelvdalen barnehage", "Rafsbotn barnehage", "Kåfjord barnehage",
    "Aronnes barnehage", "Hjemmeluft barnehage", "Trollskogen barnehage", "Nordlys barnehage",
    "Kronstad barnehage",
]
EDUCATION_UNITS = ["Alta voksenopplæring", "PP-tjenesten", "Kulturskolen"]
# (name, access switches behind a distribution switch; 0 = one switch only)
MUNICIPAL = [
    ("Alta helsesenter", 3), ("Alta sykehjem", 2), ("Kaiskuru bo- og omsorgssenter", 2),
    ("Legevakta", 1), ("Teknisk drift", 1), ("Alta bibliotek", 1), ("Alta kulturhus", 1),
    ("NAV Alta", 1), ("Barnevernet", 0), ("Brannstasjonen", 0), ("Vannverket Elvebakken", 0),
    ("Renseanlegget Kronstad", 0), ("Svømmehallen", 0), ("Idrettshallen Alta", 0),
    ("Flyktningetjenesten", 0), ("Hjemmetjenesten sentrum", 0), ("Hjemmetjenesten øst", 0),
    ("Hjemmetjenesten vest", 0), ("Rafsbotn omsorgsboliger", 0), ("Skillemo omsorgsboliger", 0),
    ("Tverrelvdalen omsorgssenter", 0), ("Talvik omsorgssenter", 0), ("Kåfjord omsorgssenter", 0),
    ("Helsestasjonen", 0), ("Fysioterapien", 0), ("Psykisk helse og rus", 0),
    ("Kommunalteknikk verksted", 0), ("Eiendomsforvaltning", 0), ("Servicetorget", 0),
    ("Ungdomshuset", 0), ("Frivilligsentralen", 0), ("Alta museum kontor", 0),
    ("Næringskontoret", 0), ("Landbrukskontoret", 0), ("Miljøtjenesten", 0),
    ("Boligkontoret", 0), ("Aktivitetssenteret", 0), ("Dagsenteret Bossekop", 0),
    ("Avlastningsboligen", 0), ("Bofellesskapet Saga", 0), ("Bofellesskapet Komsa", 0),
    ("Kjøkkensentralen", 0), ("Lageret Aronnes", 0), ("Parkdrift", 0),
    ("Havnekontoret", 0), ("Alta stadion", 0), ("Kirkegårdsforvaltningen", 0),
    ("Legevakt Talvik", 0), ("Helsesenter Kåfjord", 0),
    ("Legekontoret Komagfjord", 0), ("Oppvekstkontoret", 0), ("Arkivet", 0),
    ("Skatteoppkreveren", 0), ("Innkjøpskontoret", 0), ("Kontrollutvalget", 0),
    ("Jobbsentralen", 0), ("Vaktmestertjenesten", 0), ("Alta kino", 0),
]
DISTRICT_MUNICIPAL = {"Talvik omsorgssenter", "Kåfjord omsorgssenter", "Helsesenter Kåfjord",
                      "Legekontoret Komagfjord", "Legevakt Talvik"}


@dataclass(frozen=True)
class SiteSpec:
    name: str
    kind: SiteKind
    access: int  # access switches behind a distribution switch; 0 = single-switch site
    aps: int
    phones: int
    district: bool = False  # on the telco's L3VPN, so a GRE overlay per zone


def reference_specs() -> list[SiteSpec]:
    specs = [SiteSpec("Rådhuset", SiteKind.core, 6, 8, 0)]
    for i, (name, acc) in enumerate(SCHOOLS):
        specs.append(SiteSpec(name, SiteKind.school, acc, acc + 1, 4 if i < 6 else 3,
                              name in DISTRICT_SCHOOLS))
    specs += [SiteSpec(n, SiteKind.kindergarten, 0, 2, 0, n == "Kåfjord barnehage")
              for n in KINDERGARTENS]
    specs += [SiteSpec(n, SiteKind.education_unit, 1, 4, 0) for n in EDUCATION_UNITS]
    specs += [SiteSpec(n, SiteKind.municipal, acc, 1 + acc, 0, n in DISTRICT_MUNICIPAL)
              for n, acc in MUNICIPAL]
    return specs


def synthetic_specs(devices: int) -> list[SiteSpec]:
    """A county-scale estate of about ``devices`` inventory hosts, mixing the reference
    site kinds in the reference proportions (each copy renamed)."""
    base = reference_specs()[1:]
    per_copy = sum(_device_count(s) for s in base)
    specs = [reference_specs()[0]]
    total = _device_count(specs[0])
    copy = 0
    while total < devices:
        copy += 1
        for s in base:
            if total >= devices:
                break
            specs.append(SiteSpec(f"{s.name} {copy}", s.kind, s.access, s.aps, s.phones,
                                  s.district))
            total += _device_count(s)
    del per_copy
    return specs


def _device_count(s: SiteSpec) -> int:
    switches = (2 + 1 + DC_SWITCHES + s.access) if s.kind == SiteKind.core else (1 + s.access)
    return switches + s.aps


class _Writer:
    def __init__(self, root: Path, pools: AddressPools,
                 kinds: dict[SiteKind, SiteKindDef]) -> None:
        self.root = root
        self.kinds = kinds  # in the order hosts.yml lists their groups
        self.alloc = Allocator(pools, [])
        self.groups: dict[str, dict[str, dict[str, Any]]] = {}
        self.macs: set[str] = set()
        self.mgmt_zone = "mgmt"
        self.gateway_host = 1
        self.core_hosts: tuple[str, str] = CORE_HOSTS  # the core site, written first, names them

    def site(self, spec: SiteSpec) -> None:
        slug = slugify(spec.name)
        a = self.alloc.allocate(spec.kind)
        if a.wan_vlan_base + self.alloc.pools.wan_vlans.block_size - 1 > 4094:
            # one core has 4094 VLANs: past that, a county-size estate rides GRE tunnels
            spec = dataclasses.replace(spec, district=True)
        mgmt = a.prefixes[self.mgmt_zone]
        site: dict[str, Any] = {"name": spec.name, "kind": spec.kind.value, "index": a.index}
        if spec.kind == SiteKind.core:
            hosts, host_vars = self._core_site(host_prefix(slug), mgmt, spec)
        else:
            site["circuit"] = circuit_facts(self._circuit(spec, a.index), a.index,
                                            list(self.core_hosts))
            hosts, host_vars = site_devices(
                slug, mgmt, self.gateway_host, edge_model(spec.access),
                24 if spec.access == 0 else 48, spec.access, spec.aps, spec.phones,
                mac=self._unique_mac, printer=self.kinds[spec.kind].printer_port)
        site["prefixes"] = {z: str(n) for z, n in a.prefixes.items()}
        site["transit"] = str(a.transit)
        site["wan_vlan_base"] = a.wan_vlan_base
        self._write(f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml", SITE_HEADER +
                    dump_yaml({"site": site}))
        for host, hv in host_vars.items():
            self._write(f"host_vars/{host}.yml", dump_yaml(hv))
        self.groups.setdefault(kind_group(spec.kind), {})[SITE_GROUP_PREFIX + slug] = hosts

    @staticmethod
    def _circuit(spec: SiteSpec, index: int) -> dict[str, Any]:
        if not spec.district:
            return {"type": "l2", "provider": FIBRE, "circuit_id": f"FIB-{index:05d}",
                    "bandwidth_mbps": 1000}
        return {"type": "l3vpn", "provider": TELCO, "circuit_id": f"TEL-{index:05d}",
                "bandwidth_mbps": 200,
                "underlay_address": f"172.21.{index // 64}.{(index % 64) * 4 + 2}/30",
                "underlay_gateway": f"172.21.{index // 64}.{(index % 64) * 4 + 1}"}

    def _core_site(self, hp: str, mgmt: Any, spec: SiteSpec,
                   ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The town hall: the core pair, the controller pair, the data-centre switch pair
        and the building's access switches.

        Core ports: 1-2 the pair's LACP interconnect, 3-4 the controller (one bundle per
        chassis), 5-6 and 7-8 a bundle to each data-centre switch, from 9 on the access
        switches (alternating between the cores), 24 the internet firewall.
        """
        hosts: dict[str, dict[str, Any]] = {}
        hv: dict[str, dict[str, Any]] = {}
        c1, c2 = self.core_hosts = (f"{hp}-core01", f"{hp}-core02")
        wlc = f"{hp}-wlc01"
        dcs = [f"{hp}-dc{i + 1:02d}" for i in range(DC_SWITCHES)]
        for n, (host, peer) in enumerate(((c1, c2), (c2, c1))):
            hosts[host] = {"role": "core", "model": "C9500-24Y4C",
                           "ansible_host": str(mgmt.network_address + 2 + n),
                           "redundancy_peer": peer,
                           "underlay_address": f"172.20.0.{2 + 4 * n}/30",
                           "underlay_gateway": f"172.20.0.{1 + 4 * n}"}
            ports = [{"range": "TwentyFiveGigE1/0/1-2", "profile": "core_link",
                      "description": f"Kjernelink til {peer}", "channel_group": 1,
                      "peer": peer},
                     {"range": "TwentyFiveGigE1/0/3-4", "profile": "wlc",
                      "description": f"WLC {wlc} chassis {n + 1}", "channel_group": 2,
                      "peer": wlc}]
            for i, dc in enumerate(dcs):
                first = 5 + 2 * i
                ports.append({"range": f"TwentyFiveGigE1/0/{first}-{first + 1}",
                              "profile": "datacentre", "description": dc,
                              "channel_group": 3 + i, "peer": dc})
            for i in range(spec.access):
                if i % 2 == n:
                    acc = f"{hp}-acc{i + 1:02d}"
                    ports.append({"range": f"TwentyFiveGigE1/0/{9 + i}", "profile": "downlink",
                                  "description": acc, "peer": acc})
            hv[host] = {"ports": ports}
        hosts[wlc] = {"role": "wlc", "model": "C9800-40",
                      "ansible_host": str(mgmt.network_address + 10),
                      "standby_address": str(mgmt.network_address + 11),
                      "rmi_address": str(mgmt.network_address + 12)}
        # one configuration for both chassis: under SSO chassis 1's bundle goes to core01
        # and chassis 2's to core02, so the bundle names no single peer
        hv[wlc] = {"ports": [{"range": "TenGigabitEthernet0/0/0-1", "profile": "wlc",
                              "description": "Kjerne (chassis 1: core01, chassis 2: core02)",
                              "channel_group": 1}]}
        for i, dc in enumerate(dcs):
            hosts[dc] = {"role": "access", "model": DC_MODEL,
                         "ansible_host": str(mgmt.network_address + 30 + i)}
            hv[dc] = {"ports": [
                {"range": "TenGigabitEthernet1/0/1-8", "profile": "server",
                 "description": "Virtualiseringsvert (tjenester, NOC, overvaking)"},
                {"range": "TenGigabitEthernet1/1/1-2", "profile": "datacentre_uplink",
                 "description": c1, "channel_group": 1, "peer": c1},
                {"range": "TenGigabitEthernet1/1/3-4", "profile": "datacentre_uplink",
                 "description": c2, "channel_group": 2, "peer": c2}]}
        # the town hall's access switches hang off the two cores in turn
        for i in range(spec.access):
            host = f"{hp}-acc{i + 1:02d}"
            hosts[host] = {"role": "access", "model": "C9300-48P",
                           "ansible_host": str(mgmt.network_address + 20 + i)}
            ports, ap_ports = edge_ports(48, share(spec.aps, spec.access, i),
                                         share(spec.phones, spec.access, i),
                                         self.kinds[spec.kind].printer_port)
            ports.append({"range": "TenGigabitEthernet1/1/1", "profile": "uplink",
                          "description": (c1, c2)[i % 2], "peer": (c1, c2)[i % 2]})
            hv[host] = {"ports": ports}
            first = sum(share(spec.aps, spec.access, k) for k in range(i))
            for j, port in enumerate(ap_ports):
                name = f"{hp}-ap{first + j + 1:02d}"
                hosts[name] = {"role": "ap", "model": AP_MODELS[j % len(AP_MODELS)],
                               "mac": self._unique_mac(name),
                               "connected_to": {"switch": host, "port": port}}
        return hosts, hv

    def _unique_mac(self, host: str) -> str:
        # a county-size estate has enough APs for 24-bit hash collisions
        salt = 0
        while ap_mac(host, salt) in self.macs:
            salt += 1
        self.macs.add(ap_mac(host, salt))
        return ap_mac(host, salt)

    def _write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def hosts_file(self) -> None:
        lines = ["# Devices by site kind and site. Facts per host on one line; port maps in",
                 "# host_vars/. Role groups (core, access, ap, ...) follow from `role`.",
                 "all:", "  children:"]
        order = [kind_group(k) for k in self.kinds]
        for group in sorted(self.groups, key=order.index):
            lines += [f"    {group}:", "      children:"]
            for site, hosts in self.groups[group].items():
                lines += [f"        {site}:", "          hosts:"]
                for host, facts in hosts.items():
                    flow = yaml.safe_dump(facts, default_flow_style=True, sort_keys=False,
                                          allow_unicode=True, width=10_000).strip()
                    lines.append(f"            {host}: {flow}")
        (self.root / "hosts.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_estate(root: Path, specs: list[SiteSpec], global_vars: Path,
                 pools: dict[str, Any] | None = None) -> None:
    """Write a complete inventory for ``specs`` under ``root``.

    ``global_vars`` is a ``group_vars/all`` directory to copy; ``pools`` optionally
    replaces its address_pools (synthetic estates need bigger pools).
    """
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(global_vars, root / "group_vars" / "all")
    pool_file = root / "group_vars" / "all" / "addressing.yml"
    if pools is not None:
        pool_file.write_text(yaml.safe_dump({"address_pools": pools}, sort_keys=False))
    raw = yaml.safe_load(pool_file.read_text())["address_pools"]
    kinds = yaml.safe_load((root / "group_vars" / "all" / "site_kinds.yml").read_text())
    w = _Writer(root, TypeAdapter(AddressPools).validate_python(raw),
                TypeAdapter(dict[SiteKind, SiteKindDef]).validate_python(kinds["site_kinds"]))
    for spec in specs:
        w.site(spec)
    w.hosts_file()


def main(argv: list[str] | None = None) -> int:
    """``python -m nornir_tasks.estate OUT [--devices N] [--global-vars DIR]``."""
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m nornir_tasks.estate", description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--devices", type=int, help="synthetic estate of about N hosts")
    ap.add_argument("--global-vars", type=Path, default=Path("inventory/group_vars/all"))
    args = ap.parse_args(argv)
    pools = None
    if args.devices:
        specs = synthetic_specs(args.devices)
        pools = SYNTHETIC_POOLS
    else:
        specs = reference_specs()
    with tempfile.TemporaryDirectory() as tmp:
        gv = Path(tmp) / "all"
        shutil.copytree(args.global_vars, gv)
        write_estate(args.out, specs, gv, pools)
    # Ansible's constructed role groups travel with the estate (same rules as the loader)
    roles = args.global_vars.parent.parent / "zz_roles.yml"
    if roles.is_file():
        shutil.copy(roles, args.out / "zz_roles.yml")
    return 0


#: Pools big enough for a county (16 municipalities); the reference pools are sized for one.
SYNTHETIC_POOLS: dict[str, Any] = {
    "zones": {
        "mgmt": {"pool": "10.0.0.0/13", "prefix_length": {
            "core": 24, "school": 26, "kindergarten": 27, "education_unit": 27, "municipal": 27}},
        "aps": {"pool": "10.12.0.0/14", "prefix_length": {
            "core": 26, "school": 26, "kindergarten": 28, "education_unit": 27, "municipal": 27}},
        "pupils": {"pool": "10.16.0.0/12", "prefix_length": {
            "school": 22, "kindergarten": 26, "education_unit": 24}},
        "staff": {"pool": "10.32.0.0/12", "prefix_length": {
            "core": 22, "school": 24, "kindergarten": 26, "education_unit": 25, "municipal": 24}},
        "admin": {"pool": "10.48.0.0/12", "prefix_length": {
            "core": 23, "school": 26, "kindergarten": 28, "education_unit": 27, "municipal": 26}},
        "voice": {"pool": "10.64.0.0/12", "prefix_length": {
            "core": 24, "school": 26, "kindergarten": 28, "education_unit": 27, "municipal": 26}},
        "guest": {"pool": "10.80.0.0/12", "prefix_length": {
            "core": 23, "school": 23, "kindergarten": 26, "education_unit": 24, "municipal": 25}},
        "servers": {"pool": "10.10.0.0/16", "prefix_length": {"core": 16}},
        "infra": {"pool": "10.11.0.0/16", "prefix_length": {"core": 24}},
        "printers": {"pool": "10.112.0.0/12", "prefix_length": {
            "core": 27, "school": 27, "education_unit": 28, "municipal": 28}},
    },
    "transit": {"pool": "10.96.0.0/12", "block_length": 27},
    "wan_vlans": {"first": 2000, "last": 65000, "block_size": 16},
}


if __name__ == "__main__":
    raise SystemExit(main())
