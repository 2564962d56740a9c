"""Generate an estate's inventory: the committed reference municipality, or synthetic
county-scale estates for the benchmarks.

The reference YAML under ``inventory/`` was produced once by this module and is now the
source of truth: edit the YAML (or use ``fellesnett site add``), do not regenerate it.
Addresses come from :class:`nornir_tasks.allocate.Allocator`, the same code path as
``site add``, so a generated site looks exactly like a hand-added one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from nornir_tasks.allocate import Allocation, Allocator
from nornir_tasks.intent.loader import SITE_GROUP_PREFIX, kind_group
from nornir_tasks.intent.model import AddressPools, SiteKind

CORE_HOSTS = ("radhuset-core01", "radhuset-core02")
FIBRE = "Fiberoperatør AS"
TELCO = "Nasjonal telco ASA"
CORE_NNI = "HundredGigE1/0/25"
CORE_UNDERLAY_PORT = "HundredGigE1/0/26"

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
    ("Interkommunal legevakt Talvik", 0), ("Helsesenter Kåfjord", 0),
    ("Legekontoret Komagfjord", 0), ("Oppvekstkontoret", 0), ("Arkivet", 0),
    ("Skatteoppkreveren", 0), ("Innkjøpskontoret", 0), ("Kontrollutvalget", 0),
    ("Jobbsentralen", 0), ("Vaktmestertjenesten", 0), ("Alta kino", 0),
]
DISTRICT_MUNICIPAL = {"Talvik omsorgssenter", "Kåfjord omsorgssenter", "Helsesenter Kåfjord",
                      "Legekontoret Komagfjord", "Interkommunal legevakt Talvik"}


@dataclass(frozen=True)
class SiteSpec:
    name: str
    kind: SiteKind
    access: int  # access switches behind a distribution switch; 0 = single-switch site
    aps: int
    phones: int
    district: bool = False  # on the telco's L3VPN, so a GRE overlay per zone


def slugify(name: str) -> str:
    """ASCII slug of a Norwegian name.

    >>> slugify("Øvre Alta skole"), slugify("Kaiskuru bo- og omsorgssenter")
    ('ovre_alta_skole', 'kaiskuru_bo_og_omsorgssenter')
    """
    name = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    out = "".join(c if c.isalnum() else "_" for c in name)
    return "_".join(p for p in out.split("_") if p)


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
    switches = (2 + 1 + s.access) if s.kind is SiteKind.core else (1 + s.access)
    return switches + s.aps


def _mac(host: str, salt: int = 0) -> str:
    """Plausible Cisco AP MAC derived from the host name (stable across regenerations);
    a caller that finds it taken retries with the next ``salt``."""
    h = hashlib.sha256(f"{host}#{salt}".encode() if salt else host.encode()).hexdigest()
    return f"f4db.e6{h[0:2]}.{h[2:6]}"


def _host_prefix(slug: str) -> str:
    return slug.replace("_", "-")


class _Writer:
    def __init__(self, root: Path, pools: AddressPools) -> None:
        self.root = root
        self.alloc = Allocator(pools, [])
        self.groups: dict[str, dict[str, dict[str, Any]]] = {}
        self.macs: set[str] = set()
        self.mgmt_zone = "mgmt"

    def site(self, spec: SiteSpec) -> None:
        slug = slugify(spec.name)
        a = self.alloc.allocate(spec.kind)
        if a.wan_vlan_base + self.alloc.pools.wan_vlans.block_size - 1 > 4094:
            # one core has 4094 VLANs: past that, a county-size estate rides GRE tunnels
            spec = dataclasses.replace(spec, district=True)
        hp = _host_prefix(slug)
        hosts: dict[str, dict[str, Any]] = {}
        mgmt = a.prefixes[self.mgmt_zone]
        host_vars: dict[str, dict[str, Any]] = {}
        if spec.kind is SiteKind.core:
            self._core_site(hp, mgmt, spec, hosts, host_vars)
            circuit = None
        else:
            circuit = self._edge_site(hp, slug, mgmt, spec, a, hosts, host_vars)
        site: dict[str, Any] = {"name": spec.name, "kind": spec.kind.value, "index": a.index}
        if circuit:
            site["circuit"] = circuit
        site["prefixes"] = {z: str(n) for z, n in a.prefixes.items()}
        site["transit"] = str(a.transit)
        site["wan_vlan_base"] = a.wan_vlan_base
        self._dump(self.root / "group_vars" / f"{SITE_GROUP_PREFIX}{slug}.yml",
                   {"site": site},
                   "# Site facts. prefixes, transit and wan_vlan_base were allocated once\n"
                   "# (fellesnett site add) and are committed: never recompute them.\n")
        for host, hv in host_vars.items():
            self._dump(self.root / "host_vars" / f"{host}.yml", hv)
        self.groups.setdefault(kind_group(spec.kind), {})[SITE_GROUP_PREFIX + slug] = hosts

    def _core_site(self, hp: str, mgmt: Any, spec: SiteSpec,
                   hosts: dict[str, dict[str, Any]], hv: dict[str, dict[str, Any]]) -> None:
        c1, c2 = CORE_HOSTS
        for n, (host, peer) in enumerate(((c1, c2), (c2, c1))):
            hosts[host] = {"role": "core", "model": "C9500-24Y4C",
                           "ansible_host": str(mgmt.network_address + 2 + n),
                           "redundancy_peer": peer,
                           "underlay_address": f"172.20.0.{2 + 4 * n}/30",
                           "underlay_gateway": f"172.20.0.{1 + 4 * n}"}
            ports = [{"range": "TwentyFiveGigE1/0/1-2", "profile": "core_link",
                      "description": f"Kjernelink til {peer}"},
                     {"range": "TwentyFiveGigE1/0/3", "profile": "wlc",
                      "description": "WLC radhuset-wlc01"}]
            for i in range(spec.access):
                if i % 2 == n:
                    ports.append({"range": f"TwentyFiveGigE1/0/{5 + i}", "profile": "downlink",
                                  "description": f"{hp}-acc{i + 1:02d}"})
            hv[host] = {"ports": ports}
        hosts[f"{hp}-wlc01"] = {"role": "wlc", "model": "C9800-40",
                                "ansible_host": str(mgmt.network_address + 10),
                                "standby_address": str(mgmt.network_address + 11)}
        hv[f"{hp}-wlc01"] = {"ports": [{"range": "TenGigabitEthernet0/0/0", "profile": "wlc",
                                        "description": "radhuset-core01"},
                                       {"range": "TenGigabitEthernet0/0/1", "profile": "wlc",
                                        "description": "radhuset-core02"}]}
        self._access_layer(hp, mgmt, spec, hosts, hv, first_addr=20,
                           uplink_of=lambda i: CORE_HOSTS[i % 2])

    def _edge_site(self, hp: str, slug: str, mgmt: Any, spec: SiteSpec, a: Allocation,
                   hosts: dict[str, dict[str, Any]], hv: dict[str, dict[str, Any]],
                   ) -> dict[str, Any]:
        core = CORE_HOSTS[a.index % 2]
        gw_addr = str(mgmt.network_address + 1)
        wan_port = "TenGigabitEthernet1/1/1"
        circuit: dict[str, Any] = {
            "type": "l3vpn" if spec.district else "l2",
            "provider": TELCO if spec.district else FIBRE,
            "circuit_id": f"{'TEL' if spec.district else 'FIB'}-{a.index:05d}",
            "bandwidth_mbps": 200 if spec.district else 1000,
            "core": core,
            "core_interface": CORE_UNDERLAY_PORT if spec.district else CORE_NNI,
            "site_interface": wan_port,
        }
        if spec.district:
            circuit["overlay"] = "gre"
            circuit["underlay_address"] = f"172.21.{a.index // 64}.{(a.index % 64) * 4 + 2}/30"
            circuit["underlay_gateway"] = f"172.21.{a.index // 64}.{(a.index % 64) * 4 + 1}"
        if spec.access == 0:
            host = f"{hp}-sw01"
            model = "C9200L-24P-4X" if spec.kind is SiteKind.kindergarten else "C9300-24P"
            hosts[host] = {"role": "access", "model": model, "ansible_host": gw_addr}
            ports, ap_ports = _edge_ports(24, spec.aps, spec.phones, spec.kind)
            hv[host] = {"ports": ports}
            self._aps(hp, host, ap_ports, hosts)
            return circuit
        dist = f"{hp}-dist01"
        hosts[dist] = {"role": "distribution", "model": "C9500-16X", "ansible_host": gw_addr}
        hv[dist] = {"ports": [{"range": f"TenGigabitEthernet1/0/{i + 1}", "profile": "downlink",
                               "description": f"{hp}-acc{i + 1:02d}"}
                              for i in range(spec.access)]}
        self._access_layer(hp, mgmt, spec, hosts, hv, first_addr=2, uplink_of=lambda i: dist)
        return circuit

    def _access_layer(self, hp: str, mgmt: Any, spec: SiteSpec,
                      hosts: dict[str, dict[str, Any]], hv: dict[str, dict[str, Any]],
                      first_addr: int, uplink_of: Any) -> None:
        aps = [spec.aps // spec.access + (1 if i < spec.aps % spec.access else 0)
               for i in range(spec.access)]
        phones = [spec.phones // spec.access + (1 if i < spec.phones % spec.access else 0)
                  for i in range(spec.access)]
        for i in range(spec.access):
            host = f"{hp}-acc{i + 1:02d}"
            hosts[host] = {"role": "access", "model": "C9300-48P",
                           "ansible_host": str(mgmt.network_address + first_addr + i)}
            ports, ap_ports = _edge_ports(48, aps[i], phones[i], spec.kind)
            ports.append({"range": "TenGigabitEthernet1/1/1", "profile": "uplink",
                          "description": uplink_of(i)})
            hv[host] = {"ports": ports}
            self._aps(hp, host, ap_ports, hosts, start=sum(aps[:i]))

    def _aps(self, hp: str, switch: str, ports: list[str],
             hosts: dict[str, dict[str, Any]], start: int = 0) -> None:
        for j, port in enumerate(ports):
            name = f"{hp}-ap{start + j + 1:02d}"
            salt = 0
            while _mac(name, salt) in self.macs:
                salt += 1
            self.macs.add(_mac(name, salt))
            hosts[name] = {"role": "ap", "model": "C9130AXI-E" if j % 3 == 0 else "C9120AXI-E",
                           "mac": _mac(name, salt),
                           "connected_to": {"switch": switch, "port": port}}

    def _dump(self, path: Path, data: Any, header: str = "") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(header + text, encoding="utf-8")

    def hosts_file(self) -> None:
        lines = ["# Devices by site kind and site. Facts per host on one line; port maps in",
                 "# host_vars/. Role groups (core, access, ap, ...) follow from `role`.",
                 "all:", "  children:"]
        order = [kind_group(k) for k in SiteKind]
        for group in sorted(self.groups, key=order.index):
            lines += [f"    {group}:", "      children:"]
            for site, hosts in self.groups[group].items():
                lines += [f"        {site}:", "          hosts:"]
                for host, facts in hosts.items():
                    flow = yaml.safe_dump(facts, default_flow_style=True, sort_keys=False,
                                          allow_unicode=True, width=10_000).strip()
                    lines.append(f"            {host}: {flow}")
        (self.root / "hosts.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _edge_ports(n: int, aps: int, phones: int, kind: SiteKind) -> tuple[list[dict[str, Any]],
                                                                        list[str]]:
    """Port map of an access switch with n copper ports: clients first, then APs,
    phones, one printer, the rest unused."""
    g = "GigabitEthernet1/0/"
    clients = n - 12 if n == 48 else n - 8
    ports: list[dict[str, Any]] = [{"range": f"{g}1-{clients}", "profile": "client"}]
    p = clients + 1
    ap_ports = [f"{g}{p + i}" for i in range(aps)]
    if aps:
        ports.append({"range": f"{g}{p}" + (f"-{p + aps - 1}" if aps > 1 else ""),
                      "profile": "ap"})
    p += max(aps, 0)
    if phones:
        ports.append({"range": f"{g}{p}" + (f"-{p + phones - 1}" if phones > 1 else ""),
                      "profile": "phone"})
        p += phones
    if kind is not SiteKind.kindergarten and p <= n:
        ports.append({"range": f"{g}{p}", "profile": "printer"})
    return ports, ap_ports


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
    w = _Writer(root, TypeAdapter(AddressPools).validate_python(raw))
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
    return 0


#: Pools big enough for a county (16 municipalities); the reference pools are sized for one.
SYNTHETIC_POOLS: dict[str, Any] = {
    "zones": {
        "mgmt": {"pool": "10.112.0.0/12", "prefix_length": {
            "core": 24, "school": 26, "kindergarten": 27, "education_unit": 27, "municipal": 27}},
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
    },
    "transit": {"pool": "10.96.0.0/12", "block_length": 27},
    "wan_vlans": {"first": 2000, "last": 65000, "block_size": 16},
}


if __name__ == "__main__":
    raise SystemExit(main())
