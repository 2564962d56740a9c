"""``fellesnett site add``: allocate a new site's prefixes once and write them into the
inventory as a small reviewable diff.

The committed allocations of existing sites are the input, never the output: the new
site gets the first free blocks (:class:`nornir_tasks.allocate.Allocator`), and the
inventory changes only by

* a new ``group_vars/site_<slug>.yml`` (site facts, circuit, allocated prefixes),
* new ``host_vars/<host>.yml`` port maps for the new switches,
* lines *added* to ``hosts.yml`` under the site-kind group -- inserted as text, so the
  comments and every existing line stay byte-identical and ``git diff`` shows only ``+``.

The files look exactly like the ones :mod:`nornir_tasks.estate` generated for the
reference inventory (same header, same port-map layout, same host naming), so a site
added by hand cannot be told from a generated one.

Nothing is written until the would-be inventory has passed :func:`load_intent` in a
scratch copy; the real files are then swapped in with ``os.replace`` (new files first,
``hosts.yml`` last, rolled back on failure), so an error leaves the inventory untouched.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nornir_tasks.allocate import Allocation, Allocator
from nornir_tasks.errors import UsageError
from nornir_tasks.intent.loader import (
    HOSTS_FILE,
    SITE_GROUP_PREFIX,
    Intent,
    kind_group,
    load_intent,
)
from nornir_tasks.intent.model import (
    AuthMethod,
    CircuitType,
    Role,
    Site,
    SiteKind,
)
from nornir_tasks.scratch import load_edited

# the layout rules are shared with the generator, so hand-added and generated sites match
from nornir_tasks.site_layout import (
    ACCESS_SWITCH_MODEL,
    CORE_NNI,
    CORE_UNDERLAY_PORT,
    DEFAULT_SINGLE_SWITCH_MODEL,
    DEFAULT_SITE_INTERFACE,
    DISTRIBUTION_MODEL,
    SITE_HEADER,
    circuit_facts,
    copper_ports,
    dump_yaml,
    edge_model,
    site_devices,
    slugify,
)

try:  # libyaml composes a county-size hosts.yml ~10x faster
    _Composer: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Composer = yaml.SafeLoader

@dataclass(frozen=True)
class AddResult:
    """What ``add_site`` wrote: paths are relative to the inventory, in POSIX form."""

    inventory: Path
    name: str
    slug: str
    kind: SiteKind
    allocation: Allocation
    hosts: tuple[str, ...]
    created: tuple[str, ...]
    changed: tuple[str, ...]
    lines_added: int

    def summary(self) -> dict[str, Any]:
        """JSON-friendly summary (``--json``)."""
        a = self.allocation
        return {
            "inventory": str(self.inventory),
            "name": self.name,
            "slug": self.slug,
            "group": SITE_GROUP_PREFIX + self.slug,
            "kind": self.kind.value,
            "index": a.index,
            "prefixes": {z: str(n) for z, n in a.prefixes.items()},
            "transit": str(a.transit),
            "wan_vlan_base": a.wan_vlan_base,
            "hosts": list(self.hosts),
            "created": list(self.created),
            "changed": list(self.changed),
            "lines_added": self.lines_added,
        }

    def report(self) -> str:
        """Human-readable lines for the terminal."""
        a = self.allocation
        out = [f"added site {self.name!r} as {SITE_GROUP_PREFIX}{self.slug} "
               f"({self.kind.value}, index {a.index}) in {self.inventory}/"]
        out += [f"  new      {p}" for p in self.created]
        out += [f"  changed  {p} (+{self.lines_added} lines, none removed)"
                for p in self.changed]
        out.append("allocated once (committed; never recomputed):")
        width = max((len(z) for z in a.prefixes), default=0)
        out += [f"  {z:<{width}}  {n}" for z, n in a.prefixes.items()]
        out.append(f"  transit block {a.transit} (zone N uses the N-th /31)")
        out.append(f"  WAN VLAN/tunnel base {a.wan_vlan_base} (zone N uses base+N)")
        out.append(f"review with: git diff -- {self.inventory}")
        return "\n".join(out)


# --------------------------------------------------------------------------- public API


def add_site(
    inventory: Path,
    name: str,
    kind: str,
    circuit: dict[str, Any],
    switch_model: str | None = None,
    access_switches: int = 0,
    aps: int = 0,
    phones: int = 0,
    zones: list[str] | None = None,
    wireless_only: bool = False,
) -> AddResult:
    """Allocate a new site and write it into ``inventory``; all or nothing.

    ``circuit`` holds the :class:`~nornir_tasks.intent.model.Circuit` keys; ``core``,
    ``core_interface``, ``site_interface`` and (for l3vpn) ``overlay`` have defaults.
    ``switch_model`` is the model of the edge switches (the single switch, or each
    access switch behind the distribution switch). ``zones`` lists the site's zones when
    it has fewer than its kind (``site.zones``); only those get a prefix.
    ``wireless_only``: the switches get AP ports and no client, phone or printer port,
    and (unless ``zones`` says otherwise) the site gets only the zones a wireless client
    can be put in, besides management and the APs' (:func:`wireless_zones`).

    Raises:
        IntentError: the current inventory is invalid, or the site would make it invalid.
        UsageError: a bad argument (duplicate site, core kind, invalid circuit, ...).
    """
    inventory = Path(inventory)
    # an invalid inventory is refused before anything is allocated from it
    intent = load_intent(inventory)
    kind = SiteKind(kind)
    if kind not in intent.site_kinds:
        edge = [k.value for k in intent.site_kinds if k != SiteKind.core]
        raise UsageError(f"unknown site kind {kind.value!r}; the kinds of this estate "
                         f"(site_kinds): {', '.join(edge)}")

    slug = _check_new_site(intent.sites, intent.groups, name, kind)
    for what, n in (("access_switches", access_switches), ("aps", aps), ("phones", phones)):
        if n < 0:
            raise UsageError(f"{what} must be 0 or more, got {n}")
    if wireless_only:
        if phones:
            raise UsageError("--wireless-only: a site without wired ports has no phones")
        if not aps:
            raise UsageError("--wireless-only needs --aps (at least one access point)")
        if zones is None:
            zones = wireless_zones(intent, kind)
            if set(zones) == set(intent.zones_due_for(kind)):
                zones = None  # the kind's zones are all wireless: nothing to write
    if zones is not None:
        _check_zones(intent, kind, zones)
    try:
        alloc = Allocator(intent.pools, list(intent.sites.values())).allocate(kind, zones)
    except ValueError as exc:
        raise UsageError(f"cannot allocate site {name!r}: {exc}") from exc

    cores = sorted(h for h, d in intent.devices.items() if d.role is Role.core)
    circ = circuit_facts(circuit, alloc.index, cores)

    mz = intent.policy.management_zone
    if mz not in alloc.prefixes:
        raise UsageError(f"{kind.value} sites get no {mz} prefix (address_pools), so their "
                         "switches cannot have management addresses")
    model = switch_model or edge_model(access_switches)
    hosts, host_vars = site_devices(
        slug, alloc.prefixes[mz], intent.management.mgmt_gateway_host, model,
        copper_ports(intent.device_models, model), access_switches, aps, phones,
        printer=intent.site_kinds[kind].printer_port, wired=not wireless_only)
    taken = sorted(set(hosts) & set(intent.devices))
    if taken:
        raise UsageError(f"host names already in {HOSTS_FILE}: {', '.join(taken)}")

    site: dict[str, Any] = {"name": name, "kind": kind.value,
                            **({"zones": sorted(set(zones))} if zones is not None else {}),
                            "index": alloc.index, "circuit": circ,
                            "prefixes": {z: str(n) for z, n in alloc.prefixes.items()},
                            "transit": str(alloc.transit),
                            "wan_vlan_base": alloc.wan_vlan_base}
    new_files: dict[str, bytes] = {
        f"group_vars/{SITE_GROUP_PREFIX}{slug}.yml": (SITE_HEADER + dump_yaml({"site": site}))
        .encode("utf-8"),
    }
    for host, hv in host_vars.items():
        new_files[f"host_vars/{host}.yml"] = dump_yaml(hv).encode("utf-8")
    existing = [rel for rel in new_files if (inventory / rel).exists()]
    if existing:
        raise UsageError(f"would overwrite existing files: {', '.join(existing)}")

    old_hosts = (inventory / HOSTS_FILE).read_bytes()
    new_hosts = insert_site(old_hosts.decode("utf-8"), kind_group(kind),
                            SITE_GROUP_PREFIX + slug, hosts,
                            [kind_group(k) for k in intent.site_kinds]).encode("utf-8")
    changed = {HOSTS_FILE: new_hosts}

    _validate_copy(inventory, {**new_files, **changed}, slug, set(hosts))
    _commit(inventory, new_files, changed, {HOSTS_FILE: old_hosts})
    return AddResult(
        inventory=inventory, name=name, slug=slug, kind=kind, allocation=alloc,
        hosts=tuple(hosts), created=tuple(new_files), changed=tuple(changed),
        lines_added=len(new_hosts.splitlines()) - len(old_hosts.splitlines()),
    )


def facts_to_flow(facts: Mapping[str, Any]) -> str:
    """One host's facts as the one-line flow mapping hosts.yml uses.

    >>> facts_to_flow({"role": "ap", "connected_to": {"switch": "a-sw01", "port": "Gi1/0/17"}})
    '{role: ap, connected_to: {switch: a-sw01, port: Gi1/0/17}}'
    """
    return yaml.safe_dump(dict(facts), default_flow_style=True, sort_keys=False,
                          allow_unicode=True, width=10_000).strip()


def insert_site(text: str, group: str, site_group: str,
                hosts: Mapping[str, Mapping[str, Any]], order: Sequence[str] = ()) -> str:
    """``hosts.yml`` text with ``site_group`` appended to the kind group ``group``.

    Only lines are inserted (after the group's last host, so a comment that introduces
    the next group stays with it); a missing kind group is created in the order of
    ``order`` (the kind groups, as site_kinds lists them), else last.
    Indentation is copied from the file.

    >>> text = "all:\\n  children:\\n    school:\\n      children:\\n        site_a:\\n" \\
    ...        "          hosts:\\n            a-sw01: {role: access}\\n" \\
    ...        "    # the core\\n    core_site:\\n      children: {}\\n"
    >>> print(insert_site(text, "school", "site_b", {"b-sw01": {"role": "access"}}), end="")
    all:
      children:
        school:
          children:
            site_a:
              hosts:
                a-sw01: {role: access}
            site_b:
              hosts:
                b-sw01: {role: access}
        # the core
        core_site:
          children: {}
    """
    lines = text.splitlines(keepends=True)
    eol = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    root = yaml.compose(text, Loader=_Composer)
    _, all_node = _entry(root, "all", "the top level")
    ch_key, kinds = _entry(all_node, "children", "all")
    _require_block(kinds, "all.children")
    kind_col = _first_key_column(kinds, default=ch_key.start_mark.column + 2)
    step = max(kind_col - ch_key.start_mark.column, 1)

    def site_block(col: int) -> list[str]:
        pad = " " * col
        out = [f"{pad}{site_group}:", f"{pad}{' ' * step}hosts:"]
        out += [f"{pad}{' ' * 2 * step}{h}: {facts_to_flow(f)}" for h, f in hosts.items()]
        return out

    found = _lookup(kinds, group)
    if found is not None:
        key, node = found
        if _is_empty(node):  # `school:` with nothing under it
            after = key.start_mark.line
            block = [f"{' ' * (kind_col + step)}children:", *site_block(kind_col + 2 * step)]
        else:
            _require_block(node, f"all.children.{group}")
            inner_col = _first_key_column(node, default=kind_col + step)
            children = _lookup(node, "children")
            if children is None:
                after = _last_line(node)
                block = [f"{' ' * inner_col}children:", *site_block(inner_col + step)]
            elif _is_empty(children[1]):
                after = children[0].start_mark.line
                block = site_block(inner_col + step)
            else:
                _require_block(children[1], f"all.children.{group}.children")
                after = _last_line(children[1])
                block = site_block(_first_key_column(children[1], default=inner_col + step))
    else:
        # keep the file in site-kind order: before the first group that sorts after it
        rank = order.index(group) if group in order else len(order)
        pairs = list(kinds.value)
        follower = next((i for i, (k, _) in enumerate(pairs)
                         if k.value in order and order.index(k.value) > rank), None)
        if follower is None:
            after = _last_line(kinds)
        elif follower == 0:
            after = pairs[0][0].start_mark.line - 1
        else:
            after = _last_line(pairs[follower - 1][1], pairs[follower - 1][0])
        pad = " " * kind_col
        block = [f"{pad}{group}:", f"{pad}{' ' * step}children:",
                 *site_block(kind_col + 2 * step)]
    at = after + 1
    if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += eol  # the new lines need the old last line to be terminated
    return "".join(lines[:at] + [line + eol for line in block] + lines[at:])


# --------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``site add`` to the ``fellesnett`` parser's sub-commands."""
    site = subparsers.add_parser("site", help="add or remove sites in the inventory")
    site_sub = site.add_subparsers(dest="site_command", required=True, metavar="SUBCOMMAND")
    p = site_sub.add_parser(
        "add", help="allocate a new site's prefixes once and write it into the inventory",
        description="Allocate a new site's zone prefixes, transit block and WAN VLAN block "
        "from the pools (existing sites are never renumbered) and write the site, its "
        "switches and APs into the inventory as added lines and new files. Nothing is "
        "written unless the resulting inventory validates.")
    p.add_argument("--inventory", "-i", type=Path, default=Path("inventory"),
                   help="inventory directory (default: %(default)s)")
    p.add_argument("--name", required=True, help="site name, e.g. 'Nordlys skole'")
    p.add_argument("--kind", required=True,
                   help="a kind of the estate's site_kinds (group_vars/all/site_kinds.yml) "
                   "other than core, e.g. school")
    p.add_argument("--circuit-type", required=True, metavar="l2|l3vpn",
                   choices=[t.value for t in CircuitType],
                   help="l2 (802.1Q hand-off, VRF-lite) or l3vpn (GRE per zone); internet "
                   "is refused with the reason")
    p.add_argument("--provider", required=True)
    p.add_argument("--circuit-id", required=True)
    p.add_argument("--bandwidth", required=True, type=_count, metavar="MBPS")
    p.add_argument("--core", metavar="HOST",
                   help="core switch the circuit lands on (default: alternate by site index)")
    p.add_argument("--core-interface", metavar="IF",
                   help=f"default: {CORE_NNI} (l2), {CORE_UNDERLAY_PORT} (l3vpn)")
    p.add_argument("--site-interface", metavar="IF",
                   help=f"WAN port of the site gateway (default: {DEFAULT_SITE_INTERFACE})")
    p.add_argument("--underlay-address", metavar="A/L",
                   help="l3vpn: the site's address on the provider network")
    p.add_argument("--underlay-gateway", metavar="A", help="l3vpn: the provider's gateway")
    p.add_argument("--switch-model", metavar="M",
                   help=f"edge switch model (default: {DEFAULT_SINGLE_SWITCH_MODEL} as the "
                   f"site's only switch, {ACCESS_SWITCH_MODEL} behind a distribution switch)")
    p.add_argument("--access-switches", type=_count, default=0, metavar="N",
                   help=f"access switches behind a {DISTRIBUTION_MODEL} distribution "
                   "switch (default 0: one switch is the site gateway)")
    p.add_argument("--aps", type=_count, default=0, metavar="N", help="access points")
    p.add_argument("--phones", type=_count, default=0, metavar="N", help="IP phone ports")
    p.add_argument("--wireless-only", action="store_true",
                   help="no client, phone or printer ports, only AP ports; unless --zones "
                   "is given, only the zones a wireless client can land in (the SSIDs' "
                   "zones and, with AAA override, the 802.1X groups'), management and the "
                   "APs' zone")
    p.add_argument("--zones", type=_zone_list, metavar="Z,Z,...",
                   help="the site's zones when it has fewer than its kind, e.g. a "
                   "wireless-only kindergarten without voice (written as site.zones; "
                   "default: every zone of the kind)")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=run)
    from nornir_tasks.circuit_add import add_parser as add_circuit  # they import this module
    from nornir_tasks.site_remove import add_parser as add_remove

    add_remove(site_sub)
    add_circuit(site_sub)


def run(args: argparse.Namespace) -> int:
    """Handler of ``fellesnett site add``; errors are raised for the CLI to print."""
    circuit = {
        "type": args.circuit_type, "provider": args.provider, "circuit_id": args.circuit_id,
        "bandwidth_mbps": args.bandwidth, "core": args.core,
        "core_interface": args.core_interface, "site_interface": args.site_interface,
        "underlay_address": args.underlay_address, "underlay_gateway": args.underlay_gateway,
    }
    result = add_site(args.inventory, args.name, args.kind, circuit,
                      switch_model=args.switch_model, access_switches=args.access_switches,
                      aps=args.aps, phones=args.phones, zones=args.zones,
                      wireless_only=args.wireless_only)
    print_result(result, args.json)
    return 0


def wireless_zones(intent: Intent, kind: SiteKind) -> list[str]:
    """The zones of a wireless-only site of ``kind``: management, the APs' zone, the
    default zone of every SSID broadcast there, and, where such an SSID lets RADIUS
    override the zone, the zones of the 802.1X groups (a MAB group is a wired device:
    a phone, a printer). Only those the kind has a prefix length for."""
    ssids = [s for s in intent.wireless.ssids if kind in s.site_kinds]
    zones = {intent.policy.management_zone, intent.wireless.ap_zone, *(s.zone for s in ssids)}
    if any(s.aaa_override for s in ssids):
        zones |= {g.zone for g in intent.authorization.groups
                  if g.method is AuthMethod.dot1x and g.assign_vlan}
    return sorted(z for z in zones if z in intent.zones_due_for(kind))


def _check_zones(intent: Intent, kind: SiteKind, zones: list[str]) -> None:
    unknown = sorted(set(zones) - set(intent.zones))
    if unknown:
        raise UsageError(f"--zones: no such zone {', '.join(map(repr, unknown))} (zones: "
                         f"{', '.join(sorted(intent.zones))})")
    sizeless = sorted(z for z in set(zones) if z not in intent.pools.zones
                      or kind not in intent.pools.zones[z].prefix_length)
    if sizeless:
        raise UsageError(f"--zones: {', '.join(map(repr, sizeless))} has no prefix length "
                         f"for {kind.value} sites in address_pools")
    mz = intent.policy.management_zone
    if mz not in zones:
        raise UsageError(f"--zones: the management zone {mz!r} is needed (the switches' "
                         "addresses)")


def print_result(result: Any, as_json: bool) -> None:
    """What an inventory command wrote: its ``summary()`` as JSON (``--json``), else its
    ``report()`` for the terminal."""
    if as_json:
        print(json.dumps(result.summary(), indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(result.report())


def _zone_list(text: str) -> list[str]:
    zones = [z.strip() for z in text.split(",") if z.strip()]
    if not zones:
        raise argparse.ArgumentTypeError("no zone given")
    return zones


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


# --------------------------------------------------------------------------- building the site


def _check_new_site(sites: Mapping[str, Site], groups: Mapping[str, frozenset[str]],
                    name: str, kind: SiteKind) -> str:
    if kind == SiteKind.core:
        raise UsageError("there is exactly one core site; `site add` adds edge sites only")
    if not name.strip():
        raise UsageError("the site name is empty")
    slug = slugify(name)
    if not slug or not slug[0].isalpha():
        raise UsageError(f"site name {name!r} must start with a letter: its slug {slug!r} "
                         "names the inventory group and the host names")
    if slug in sites or SITE_GROUP_PREFIX + slug in groups:
        raise UsageError(f"site {SITE_GROUP_PREFIX}{slug} already exists "
                         f"(group_vars/{SITE_GROUP_PREFIX}{slug}.yml)")
    same = [s for s, site in sites.items() if site.name.casefold() == name.strip().casefold()]
    if same:
        raise UsageError(f"a site named {name!r} already exists: {SITE_GROUP_PREFIX}{same[0]}")
    return slug


# --------------------------------------------------------------------------- hosts.yml as text


def _lookup(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def _entry(node: yaml.Node | None, key: str, where: str) -> tuple[yaml.Node, yaml.Node]:
    found = _lookup(node, key) if node is not None else None
    if found is None:
        raise UsageError(f"{HOSTS_FILE}: no `{key}` under {where}; add the site by hand")
    return found


def _require_block(node: yaml.Node, where: str) -> None:
    # lines can only be added to a block mapping; a flow mapping would need rewriting
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        raise UsageError(f"{HOSTS_FILE}: {where} is not a block mapping, so the site cannot "
                         "be added as new lines; add it by hand")


def _first_key_column(node: yaml.Node, default: int) -> int:
    if isinstance(node, yaml.MappingNode) and node.value:
        return int(node.value[0][0].start_mark.column)
    return default


def _is_empty(node: yaml.Node) -> bool:
    """A key with nothing after it (``hosts:``): a plain empty null scalar."""
    return isinstance(node, yaml.ScalarNode) and node.value == "" and \
        node.tag.endswith(":null")


def _last_line(node: yaml.Node, key: yaml.Node | None = None) -> int:
    """0-based line of the last character that belongs to ``node``.

    A block collection's own end mark sits on the next token, after any comment lines
    in between; those comments introduce what follows, so recurse to the last leaf.
    """
    if key is not None and _is_empty(node):
        return _last_line(key)
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        k, v = node.value[-1]
        return _last_line(v, k)
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _last_line(node.value[-1])
    end, start = node.end_mark, node.start_mark
    if end.column == 0 and end.line > start.line:  # block scalar: ends at the next line
        return int(end.line) - 1
    return int(end.line)


# --------------------------------------------------------------------------- all or nothing


def _validate_copy(inventory: Path, files: Mapping[str, bytes], slug: str,
                   hosts: set[str]) -> None:
    """Load the would-be inventory from a scratch copy; raise its IntentError, if any."""
    intent = load_edited(inventory, files, prefix="fellesnett-site-add-")
    # a text insertion in the wrong place could still load (e.g. hosts under another
    # group); refuse rather than commit a site that is not what was asked for
    if slug not in intent.sites or set(intent.site_devices(slug)) != hosts:
        raise RuntimeError(f"internal error: {HOSTS_FILE} insertion did not produce "
                           f"{SITE_GROUP_PREFIX}{slug} with hosts {sorted(hosts)}")


def _commit(inventory: Path, new: Mapping[str, bytes], changed: Mapping[str, bytes],
            before: Mapping[str, bytes]) -> None:
    """Stage every file next to its target, then ``os.replace`` them in; undo on failure.

    New files go in first and ``hosts.yml`` last: until hosts.yml names the site the new
    files are only stale extras, and removing them restores the old inventory exactly.
    """
    mode = stat.S_IMODE((inventory / HOSTS_FILE).stat().st_mode)
    staged: list[tuple[str, Path]] = []
    made_dirs: list[Path] = []
    placed: list[str] = []
    ok = False
    try:
        for rel, data in [*new.items(), *changed.items()]:
            target = inventory / rel
            if not target.parent.is_dir():
                target.parent.mkdir(parents=True)
                made_dirs.append(target.parent)
            staged.append((rel, _stage(target, data, mode)))
        # someone else may have edited the inventory since it was validated
        for rel, old in before.items():
            if (inventory / rel).read_bytes() != old:
                raise UsageError(f"{rel} changed while the site was being added; run again")
        for rel in new:
            if (inventory / rel).exists():
                raise UsageError(f"{rel} appeared while the site was being added; run again")
        for rel, tmp in staged:
            os.replace(tmp, inventory / rel)
            placed.append(rel)
        ok = True
    finally:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)
        if not ok:
            for rel in reversed(placed):
                if rel in before:
                    os.replace(_stage(inventory / rel, before[rel], mode), inventory / rel)
                else:
                    (inventory / rel).unlink(missing_ok=True)
            for d in reversed(made_dirs):
                d.rmdir()


def _stage(target: Path, data: bytes, mode: int) -> Path:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, mode)  # mkstemp makes 0600; keep the inventory's permissions
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
