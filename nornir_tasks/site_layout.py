"""How a site is laid out: host names, switch models, port maps, AP naming and MACs.

One set of rules for the reference-estate generator (:mod:`nornir_tasks.estate`) and for
``fellesnett site add`` (:mod:`nornir_tasks.site_add`), so a site added by hand cannot be
told from a generated one.
"""

from __future__ import annotations

import hashlib
import ipaddress
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from nornir_tasks.errors import UsageError
from nornir_tasks.intent.model import (
    HOSTNAME_MAX,
    Circuit,
    CircuitType,
    Hostname,
    Overlay,
)
from nornir_tasks.interfaces import expand_interface_range

CORE_NNI = "HundredGigE1/0/25"
CORE_UNDERLAY_PORT = "HundredGigE1/0/26"
#: Written above every site file (the same words estate.py wrote into the reference sites).
SITE_HEADER = (
    "# Site facts. prefixes, transit and wan_vlan_base were allocated once\n"
    "# (fellesnett site add) and are committed: never recompute them.\n"
)
DEFAULT_SITE_INTERFACE = "TenGigabitEthernet1/1/1"
#: Defaults of the reference design (estate.py): a 24-port switch at single-switch sites
#: (it routes the site's zones, so a model with VRF-lite: not the C9200L), 48-port access
#: switches behind a 16-port 10G distribution switch everywhere else.
DEFAULT_SINGLE_SWITCH_MODEL = "C9300-24P"
ACCESS_SWITCH_MODEL = "C9300-48P"
DISTRIBUTION_MODEL = "C9500-16X"
#: Copper ports assumed for a model missing from device_models (single switch, access
#: switch): the validation then reports the unknown model by name, not a port-count guess.
DEFAULT_COPPER_SINGLE, DEFAULT_COPPER_ACCESS = 24, 48
ACCESS_UPLINK = "TenGigabitEthernet1/1/1"
DOWNLINK_PREFIX = "TenGigabitEthernet1/0/"
COPPER_PREFIX = "GigabitEthernet1/0/"
AP_MODELS = ("C9130AXI-E", "C9120AXI-E", "C9120AXI-E")  # every third AP is the bigger model
#: Key order of a circuit as estate.py wrote it, so new site files read like the old ones.
CIRCUIT_ORDER = ("type", "provider", "circuit_id", "bandwidth_mbps", "core", "core_interface",
                 "site_interface", "overlay", "underlay_address", "underlay_gateway")

_HOSTNAME: TypeAdapter[str] = TypeAdapter(Hostname)


def slugify(name: str) -> str:
    """ASCII slug of a Norwegian name.

    >>> slugify("Øvre Alta skole"), slugify("Kaiskuru bo- og omsorgssenter")
    ('ovre_alta_skole', 'kaiskuru_bo_og_omsorgssenter')
    """
    name = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    out = "".join(c if c.isalnum() else "_" for c in name)
    return "_".join(p for p in out.split("_") if p)


def ap_mac(host: str, salt: int = 0) -> str:
    """Plausible Cisco AP MAC derived from the host name (stable across regenerations);
    a caller that finds it taken retries with the next ``salt``."""
    h = hashlib.sha256(f"{host}#{salt}".encode() if salt else host.encode()).hexdigest()
    return f"f4db.e6{h[0:2]}.{h[2:6]}"


def host_prefix(slug: str) -> str:
    """Host-name prefix of a site.

    >>> host_prefix("alta_skole")
    'alta-skole'
    """
    return slug.replace("_", "-")


def edge_ports(n: int, aps: int, phones: int, printer: bool = True, wired: bool = True
               ) -> tuple[list[dict[str, Any]], list[str]]:
    """Port map of an access switch with n copper ports: clients first, then APs,
    phones, one printer (if the site kind has one: ``printer_port``), the rest unused.
    A wireless-only site (``wired=False``) has the AP ports only: no client, phone or
    printer port to plug into (the rest is ``unused``, shut)."""
    g = "GigabitEthernet1/0/"
    clients = n - 12 if n == 48 else n - 8
    ports: list[dict[str, Any]] = []
    if wired:
        ports.append({"range": f"{g}1-{clients}", "profile": "client"})
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
    if printer and wired and p <= n:
        ports.append({"range": f"{g}{p}", "profile": "printer"})
    return ports, ap_ports


def edge_model(access_switches: int) -> str:
    if access_switches:
        return ACCESS_SWITCH_MODEL
    return DEFAULT_SINGLE_SWITCH_MODEL


def copper_ports(device_models: Mapping[str, Any], model: str) -> int | None:
    """Number of GigabitEthernet1/0/N ports of a model; None if the model is unknown."""
    m = device_models.get(model)
    if m is None:
        return None
    return sum(1 for spec in m.interfaces for i in expand_interface_range(spec)
               if i.startswith(COPPER_PREFIX))


def site_devices(
    slug: str, mgmt: ipaddress.IPv4Network, gateway_host: int,
    model: str, copper: int | None, access_switches: int, aps: int, phones: int,
    mac: Callable[[str], str] = ap_mac, printer: bool = True, wired: bool = True,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """hosts.yml facts and host_vars of an edge site: a single gateway switch, or a
    distribution switch with access switches behind it; APs named across the site."""
    hp = host_prefix(slug)
    gw = mgmt.network_address + gateway_host
    # the gateway takes the mgmt gateway address; the access switches the ones after it
    last = gw + access_switches
    if gw not in mgmt or last >= mgmt.broadcast_address:
        raise UsageError(f"{1 + access_switches} switches do not fit the management prefix "
                         f"{mgmt} from host {gateway_host} on")
    hosts: dict[str, dict[str, Any]] = {}
    host_vars: dict[str, dict[str, Any]] = {}

    def edge(host: str, n_aps: int, n_phones: int, first_ap: int) -> list[dict[str, Any]]:
        n = copper
        if n is None:
            n = DEFAULT_COPPER_SINGLE if access_switches == 0 else DEFAULT_COPPER_ACCESS
        elif n <= 8:  # edge_ports keeps 8 (of 48: 12) ports for APs, phones, printer
            raise UsageError(f"switch model {model} has {n} {COPPER_PREFIX}N ports; an "
                             "edge switch needs more than 8")
        ports, ap_ports = edge_ports(n, n_aps, n_phones, printer, wired)
        have = {f"{COPPER_PREFIX}{i}" for i in range(1, n + 1)}
        if not all(i in have for pa in ports for i in expand_interface_range(pa["range"])):
            raise UsageError(f"{host}: {n_aps} AP and {n_phones} phone ports do not fit the "
                             f"{n} copper ports of a {model}")
        for j, port in enumerate(ap_ports):
            # APs are numbered across the site, in switch order (as estate.py does)
            ap_name = f"{hp}-ap{first_ap + j + 1:02d}"
            hosts[ap_name] = {"role": "ap", "model": AP_MODELS[j % len(AP_MODELS)],
                              "mac": mac(ap_name),
                              "connected_to": {"switch": host, "port": port}}
        return ports

    if access_switches == 0:
        host = f"{hp}-sw01"
        hosts[host] = {"role": "access", "model": model, "ansible_host": str(gw)}
        host_vars[host] = {"ports": edge(host, aps, phones, first_ap=0)}
    else:
        dist = f"{hp}-dist01"
        accs = [f"{hp}-acc{i + 1:02d}" for i in range(access_switches)]
        hosts[dist] = {"role": "distribution", "model": DISTRIBUTION_MODEL,
                       "ansible_host": str(gw)}
        host_vars[dist] = {"ports": [{"range": f"{DOWNLINK_PREFIX}{i + 1}",
                                      "profile": "downlink", "description": acc, "peer": acc}
                                     for i, acc in enumerate(accs)]}
        for i, acc in enumerate(accs):
            hosts[acc] = {"role": "access", "model": model,
                          "ansible_host": str(gw + 1 + i)}
            ports = edge(acc, share(aps, access_switches, i), share(phones, access_switches, i),
                         first_ap=sum(share(aps, access_switches, k) for k in range(i)))
            ports.append({"range": ACCESS_UPLINK, "profile": "uplink", "description": dist,
                          "peer": dist})
            host_vars[acc] = {"ports": ports}
    for h in hosts:
        try:
            _HOSTNAME.validate_python(h)
        except ValidationError:
            raise UsageError(f"host name {h!r} is not valid (at most {HOSTNAME_MAX} characters, "
                             "a-z, 0-9 and -): use a shorter site name") from None
    return hosts, host_vars


def share(total: int, parts: int, i: int) -> int:
    """Part ``i`` of ``total`` split as evenly as possible, the first parts larger.

    >>> [share(5, 3, i) for i in range(3)]
    [2, 2, 1]
    """
    return total // parts + (1 if i < total % parts else 0)


def dump_yaml(data: Any) -> str:
    # the same dumper settings as estate.py, so new files match the committed ones
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def circuit_facts(given: Mapping[str, Any], index: int, cores: list[str]) -> dict[str, Any]:
    """The circuit with its defaults filled in, in the key order of the site files."""
    data = {k: v for k, v in given.items() if v is not None}  # None = "use the default"
    raw = data.get("type")
    if not isinstance(raw, str) or raw not in {t.value for t in CircuitType}:
        raise UsageError(f"circuit type {raw!r} is not one of "
                         f"{', '.join(t.value for t in CircuitType)}")
    ctype = CircuitType(raw)
    if "core" not in data:
        if not cores:
            raise UsageError("the inventory has no core switch for the circuit to land on")
        # spread sites over the core pair the way the reference estate does
        data["core"] = cores[index % len(cores)]
    elif data["core"] not in cores:
        raise UsageError(f"circuit core {data['core']!r} is not a core switch; one of "
                         f"{', '.join(cores)}")
    data.setdefault("site_interface", DEFAULT_SITE_INTERFACE)
    # l2 lands on the 802.1Q NNI; l3vpn on the core's provider (underlay) port
    data.setdefault("core_interface", CORE_NNI if ctype is CircuitType.l2 else CORE_UNDERLAY_PORT)
    if ctype is CircuitType.l3vpn:
        # one routing table across the provider: the zones ride in GRE, one tunnel each
        data.setdefault("overlay", Overlay.gre.value)
        missing = [k for k in ("underlay_address", "underlay_gateway") if k not in data]
        if missing:
            raise UsageError("an l3vpn circuit carries the zones in GRE tunnels: give "
                             f"{' and '.join(missing)} (the site's address and gateway on the "
                             "provider network; --underlay-address, --underlay-gateway)")
    try:
        model = Circuit.model_validate(data)
    except ValidationError as exc:
        raise UsageError("invalid circuit: " + "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: "
            + ("unknown key" if e["type"] == "extra_forbidden" else str(e["msg"]))
            for e in exc.errors())) from None
    dumped = model.model_dump(mode="json", exclude_defaults=True)
    ordered = {k: dumped[k] for k in CIRCUIT_ORDER if k in dumped}
    return ordered | {k: v for k, v in dumped.items() if k not in ordered}
