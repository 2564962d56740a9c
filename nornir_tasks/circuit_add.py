"""``fellesnett site add-circuit SITE``: a second circuit for an existing site (a
dual-homed site), allocated once and written as lines added to its site file.

The circuit gets its own transit block and WAN VLAN block from the pools (the
:class:`~nornir_tasks.allocate.Allocator` ``site add`` uses, so nothing committed is
touched), lands on the other core than the first circuit unless told otherwise, and is
written as ``backup_circuit``, ``backup_transit`` and ``backup_wan_vlan_base`` at the end
of the site mapping. Nothing is written unless the would-be inventory validates in a
scratch copy; the file is then swapped in with ``site add``'s commit.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nornir_tasks.allocate import Allocator
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import SITE_GROUP_PREFIX, load_intent
from nornir_tasks.intent.model import CircuitType, Role
from nornir_tasks.scratch import load_edited
from nornir_tasks.site_add import _commit, _Composer, _last_line, print_result
from nornir_tasks.site_layout import circuit_facts, dump_yaml

#: the second circuit's port on the site gateway, beside the first's default
DEFAULT_BACKUP_INTERFACE = "TenGigabitEthernet1/1/2"


@dataclass(frozen=True)
class CircuitAddResult:
    inventory: Path
    slug: str
    circuit: dict[str, Any]
    transit: str
    wan_vlan_base: int
    changed: str
    lines_added: int

    def summary(self) -> dict[str, Any]:
        return {"inventory": str(self.inventory), "site": self.slug,
                "backup_circuit": self.circuit, "backup_transit": self.transit,
                "backup_wan_vlan_base": self.wan_vlan_base, "changed": [self.changed],
                "lines_added": self.lines_added}

    def report(self) -> str:
        c = self.circuit
        return "\n".join([
            f"added a second circuit to {SITE_GROUP_PREFIX}{self.slug}: {c['circuit_id']} "
            f"({c['type']}, {c['provider']}) on {c['core']} {c['core_interface']}, site port "
            f"{c['site_interface']}",
            f"  changed  {self.changed} (+{self.lines_added} lines, none removed)",
            "allocated once (committed; never recomputed):",
            f"  transit block {self.transit} (zone N uses the N-th /31)",
            f"  WAN VLAN/tunnel base {self.wan_vlan_base} (zone N uses base+N)",
        ])


def add_circuit(inventory: Path, slug: str, circuit: dict[str, Any]) -> CircuitAddResult:
    """Allocate and write a second circuit for site ``slug``; all or nothing."""
    inventory = Path(inventory)
    slug = slug.removeprefix(SITE_GROUP_PREFIX)
    intent = load_intent(inventory)
    site = intent.sites.get(slug)
    if site is None:
        raise UsageError(f"no site {slug!r} (sites: group_vars/{SITE_GROUP_PREFIX}*.yml)")
    if site.circuit is None:
        raise UsageError(f"{slug} is the core site: it has no circuits")
    if site.backup_circuit is not None:
        raise UsageError(f"{slug} has two circuits already ({site.circuit.circuit_id}, "
                         f"{site.backup_circuit.circuit_id})")
    cores = sorted(h for h, d in intent.devices.items() if d.role is Role.core)
    given = dict(circuit)
    if given.get("core") is None:
        # the other core than the first circuit's: a core's loss then leaves one circuit
        given["core"] = next((c for c in cores if c != site.circuit.core), site.circuit.core)
    given.setdefault("site_interface", None)
    if given["site_interface"] is None:
        given["site_interface"] = DEFAULT_BACKUP_INTERFACE
    facts = circuit_facts(given, site.index, cores)
    try:
        transit, base = Allocator(intent.pools, list(intent.sites.values())).circuit_blocks(
            site.index)
    except ValueError as exc:
        raise UsageError(f"cannot allocate a circuit for {slug}: {exc}") from exc
    rel = f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml"
    old = (inventory / rel).read_bytes()
    block = dump_yaml({"backup_circuit": facts, "backup_transit": str(transit),
                       "backup_wan_vlan_base": base})
    new = append_to_site(old.decode("utf-8"), block, rel).encode("utf-8")
    got = load_edited(inventory, {rel: new}, prefix="fellesnett-add-circuit-").sites[slug]
    if got.backup_circuit is None or str(got.backup_transit) != str(transit):
        raise RuntimeError(f"internal error: {rel} insertion did not give the circuit")
    _commit(inventory, {}, {rel: new}, {rel: old})
    return CircuitAddResult(inventory, slug, facts, str(transit), base, rel,
                            len(new.splitlines()) - len(old.splitlines()))


def append_to_site(text: str, block: str, rel: str = "the site file") -> str:
    """``text`` with the top-level keys of ``block`` added at the end of its ``site:``
    mapping, indented like the mapping's keys.

    >>> print(append_to_site("site:\\n  name: A\\n  index: 3\\n", "x: 1\\n"), end="")
    site:
      name: A
      index: 3
      x: 1
    """
    lines = text.splitlines(keepends=True)
    eol = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    root = yaml.compose(text, Loader=_Composer)
    site = None
    if isinstance(root, yaml.MappingNode):
        site = next((v for k, v in root.value if getattr(k, "value", None) == "site"), None)
    if not isinstance(site, yaml.MappingNode) or site.flow_style or not site.value:
        raise UsageError(f"{rel}: `site` is not a block mapping, so the circuit cannot be "
                         "added as lines; add it by hand")
    pad = " " * site.value[0][0].start_mark.column
    k, v = site.value[-1]
    at = _last_line(v, k) + 1
    if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += eol
    new = [f"{pad}{line}{eol}" for line in block.splitlines()]
    return "".join(lines[:at] + new + lines[at:])


def add_parser(site_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = site_sub.add_parser(
        "add-circuit", help="give a site a second circuit (dual-homed), allocated once",
        description="Allocate a second circuit's transit block and WAN VLAN block for an "
        "existing site and write it as lines added to its site file. With two circuits "
        "every zone's routes move to the second when the first fails (tracked static "
        "routes), and verify proves the network with each circuit removed in turn.")
    p.add_argument("site", metavar="SITE", help="site slug or group (site_<slug>)")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"))
    p.add_argument("--circuit-type", required=True, metavar="l2|l3vpn",
                   choices=[t.value for t in CircuitType])
    p.add_argument("--provider", required=True)
    p.add_argument("--circuit-id", required=True)
    p.add_argument("--bandwidth", required=True, type=int, metavar="MBPS")
    p.add_argument("--core", metavar="HOST",
                   help="core switch it lands on (default: the other core than the first "
                   "circuit's)")
    p.add_argument("--core-interface", metavar="IF")
    p.add_argument("--site-interface", metavar="IF",
                   help=f"its port on the site gateway (default: {DEFAULT_BACKUP_INTERFACE})")
    p.add_argument("--underlay-address", metavar="A/L")
    p.add_argument("--underlay-gateway", metavar="A")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.bandwidth <= 0:
        raise UsageError(f"--bandwidth must be above 0, got {args.bandwidth}")
    result = add_circuit(args.inventory, args.site, {
        "type": args.circuit_type, "provider": args.provider, "circuit_id": args.circuit_id,
        "bandwidth_mbps": args.bandwidth, "core": args.core,
        "core_interface": args.core_interface, "site_interface": args.site_interface,
        "underlay_address": args.underlay_address, "underlay_gateway": args.underlay_gateway})
    print_result(result, args.json)
    return 0
