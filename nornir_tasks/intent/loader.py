"""Read ``inventory/`` (Ansible YAML inventory layout) into a typed :class:`Intent`.

The same files are read by Ansible, so the layout follows its rules:

* ``hosts.yml`` -- site-kind groups (``school``, ``kindergarten``, ...) whose children are
  one group per site (``site_<slug>``) holding that site's hosts and their facts;
* ``group_vars/all/*.yml`` -- the estate-wide intent (zones, pools, policy, ...);
* ``group_vars/site_<slug>.yml`` -- the site's facts and its committed prefixes;
* ``host_vars/<host>.yml`` -- per-device facts such as port maps.

Role groups (``core``, ``access``, ``ap``, ...) and the ``<kind>_<slug>`` alias of every
site group (``school_alta_skole``, so ``school_*`` selects every school) are not written
by hand: they follow from each host's ``role`` and its site's ``kind`` (Ansible gets them
from ``inventory/zz_roles.yml``, a ``constructed`` source with the same rules).

Every problem is collected with its file and key path; nothing is half-loaded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from nornir_tasks.errors import IntentError, Problem, key_path
from nornir_tasks.intent.guards import (
    MAX_DEPTH,
    PLAIN_CREDENTIAL,
    REDACTED,
    construct_vaulted,
    escaping_link,
    is_credential_key,
    is_plain_credential,
    may_be_secret,
    node_graph_problem,
)
from nornir_tasks.intent.model import (
    HOSTNAME_MAX,
    HOSTNAME_PATTERN,
    SECRET_REF_PATTERN,
    Aaa,
    AddressPools,
    Audit,
    Authorization,
    Device,
    DeviceModel,
    Management,
    PortProfile,
    Role,
    Service,
    Site,
    SiteKind,
    SiteKindDef,
    Wireless,
    Zone,
    ZonePolicy,
)
from nornir_tasks.intent.plainyaml import NOT_PLAIN, read_plain

# libyaml is ~10x faster on a county-size inventory
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Safe loader that refuses a key written twice in one mapping (YAML keeps the last)."""


def _mapping_without_duplicates(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    # built in one pass (keys are scalars here): constructing every key twice doubled the
    # load time of a county-size inventory
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                        _mapping_without_duplicates)
# Ansible's vault-encrypted values: opaque to fellesnett, and the right form of a secret
_Loader.add_constructor("!vault", construct_vaulted)

SITE_GROUP_PREFIX = "site_"
HOSTS_FILE = "hosts.yml"

#: Top-level keys of ``group_vars/all`` and the model each one is validated against.
GLOBAL_SECTIONS: dict[str, Any] = {
    "site_kinds": dict[SiteKind, SiteKindDef],
    "zones": dict[str, Zone],
    "address_pools": AddressPools,
    "zone_policy": ZonePolicy,
    "services": dict[str, Service],
    "management": Management,
    "aaa": Aaa,
    "authorization": Authorization,
    "wireless": Wireless,
    "port_profiles": dict[str, PortProfile],
    "device_models": dict[str, DeviceModel],
    "audit": Audit,
}
#: sections that may be left out, and what they are then
OPTIONAL_SECTIONS: dict[str, Any] = {"audit": Audit()}


CORE_KIND_MISSING = ("the kind `core` (the site of the core pair and the controllers) must "
                     "be defined")
#: role groups (``core``, ``access``, ...): a site kind of the same name is grouped as
#: ``<kind>_site`` in hosts.yml so that the two never clash
ROLE_GROUPS = frozenset(r.value for r in Role)


def kind_group(kind: str) -> str:
    """Inventory group of a site kind; a kind named like a role (the core *site*) must not
    clash with the role group.

    >>> kind_group(SiteKind.school), kind_group(SiteKind.core)
    ('school', 'core_site')
    """
    return f"{kind}_site" if kind in ROLE_GROUPS else str(kind)


@dataclass(frozen=True)
class Intent:
    """The whole validated intent. Read-only; build with :func:`load_intent`."""

    root: Path
    #: the kinds of site, in the order the inventory defines them (docs and names follow it)
    site_kinds: dict[SiteKind, SiteKindDef]
    zones: dict[str, Zone]
    pools: AddressPools
    policy: ZonePolicy
    services: dict[str, Service]
    management: Management
    aaa: Aaa
    authorization: Authorization
    wireless: Wireless
    port_profiles: dict[str, PortProfile]
    device_models: dict[str, DeviceModel]
    sites: dict[str, Site]
    devices: dict[str, Device]
    device_site: dict[str, str]
    groups: dict[str, frozenset[str]]
    #: where each host's keys came from, for located errors after loading
    host_files: dict[str, dict[str, str]] = field(default_factory=dict)
    #: rules of `fellesnett audit` (group_vars/all/audit.yml, optional)
    audit: Audit = field(default_factory=Audit)
    #: answers of the per-site helpers below, asked once per device by design, checks and
    #: docs (the intent is read-only, so an answer never goes stale)
    _memo: dict[str, dict[str, Any]] = field(default_factory=dict, init=False, repr=False,
                                             compare=False)

    def site_of(self, host: str) -> Site:
        return self.sites[self.device_site[host]]

    def site_devices(self, slug: str) -> list[str]:
        memo = self._memo.setdefault("site_devices", {})
        hosts = memo.get(slug)
        if hosts is None:
            hosts = memo[slug] = tuple(sorted(self.groups[SITE_GROUP_PREFIX + slug]))
        return list(hosts)

    def kind_rank(self, kind: str) -> int:
        """Position of a kind in ``site_kinds``: docs list kinds, and shared wireless
        profiles are named after their first kind, in this order (so append new kinds)."""
        order = self._memo.setdefault("kind_rank", {})
        if not order:
            order.update((k, i) for i, k in enumerate(self.site_kinds))
        return int(order.get(kind, len(order)))

    def zones_due(self, site: Site) -> list[str]:
        """Zones the site should have (and have a prefix for), by name: its own ``zones``
        list, or else every zone of its kind."""
        if site.zones is not None:
            return sorted(set(site.zones))
        return self.zones_due_for(site.kind)

    def zones_due_for(self, kind: str) -> list[str]:
        """The zones of a kind, by name: those whose pool gives it a prefix length."""
        return sorted(z for z, p in self.pools.zones.items() if kind in p.prefix_length)

    def zones_at(self, site: Site) -> list[str]:
        """Zones present at a site, in zone-id order (the order configs list them)."""
        return sorted(site.prefixes, key=lambda z: (self.zones[z].id, z))

    def gateway_of(self, slug: str) -> str:
        """The site's L3 switch: its core or distribution switch, else its only switch."""
        memo = self._memo.setdefault("gateway_of", {})
        gateway = memo.get(slug)
        if gateway is None:
            gateway = memo[slug] = self._find_gateway(slug)
        return gateway

    def _find_gateway(self, slug: str) -> str:
        named = self.sites[slug].gateway
        if named is not None and named in self.devices:
            return named  # the checks hold it to a distribution switch of the site
        roles = [(h, self.devices[h].role) for h in self.site_devices(slug)]
        switches = [(h, r) for h, r in roles if r is not Role.ap and r is not Role.wlc]
        for role in (Role.core, Role.distribution):
            hits = [h for h, r in switches if r is role]
            if hits:
                return hits[0]
        return switches[0][0]


T = TypeVar("T")


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, path: str, message: str) -> None:
        self.problems.append(Problem(file, path, message))

    def validate(
        self, adapter: Callable[[Any], T], data: Any, file: str, *prefix: object,
        file_of: Callable[[tuple[Any, ...]], str] | None = None,
    ) -> T | None:
        try:
            return adapter(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                where = file_of(loc) if file_of else file
                # the prefix (e.g. the host name) is only part of the key path in `file`
                self.add(where, key_path(*(prefix if where == file else ()), *loc),
                         _message(err, secret=may_be_secret(loc)))
            return None


def _message(err: Mapping[str, Any], secret: bool = False) -> str:
    """A pydantic error as the engineer reads it; never repeating a value that may be a
    secret (it would land in CI logs)."""
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown key (typo?)"
    if err["type"] == "missing":
        return "required key is missing"
    inp = err.get("input")
    if isinstance(inp, (str, int, float)) and err["type"] not in ("model_type", "dict_type"):
        if not secret:
            return f"{msg} (got {inp!r})"
        if err.get("ctx", {}).get("pattern") == SECRET_REF_PATTERN:
            msg = ("must be the NAME of a secret (lowercase letters, digits, `_`), which is "
                   "resolved at deploy time; never the secret itself")
        elif str(inp):
            msg = msg.replace(str(inp), "***")  # a validator may have quoted it
        return f"{msg} ({REDACTED})"
    return msg


def _origin(files: dict[str, str]) -> Callable[[tuple[Any, ...]], str]:
    """Which file a validation error's first key came from (hosts.yml or host_vars)."""

    def file_of(loc: tuple[Any, ...]) -> str:
        return files.get(str(loc[0]), HOSTS_FILE) if loc else HOSTS_FILE

    return file_of


def _read_yaml(path: Path, rel: str, out: _Collector) -> Any:
    try:
        raw = path.read_bytes()
        data = read_plain(raw)
        if data is not NOT_PLAIN:
            return data
        # beyond the plain subset (or not valid YAML): PyYAML reads it and says what is wrong
        return _read_pyyaml(raw, rel, out)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        out.add(rel, _at(mark) if mark else "", f"not valid YAML: {problem}")
    except RecursionError:  # deeper than PyYAML's constructor reaches (a few hundred)
        out.add(rel, "", f"nested too deeply (an inventory file needs at most {MAX_DEPTH} "
                "levels)")
    except OSError as exc:
        out.add(rel, "", f"cannot read: {exc.strerror}")
    return None


def _read_pyyaml(raw: bytes, rel: str, out: _Collector) -> Any:
    """``yaml.load`` with the node graph bounded before it becomes Python objects: an
    alias bomb is refused in milliseconds, located at its anchor. Only a text with an
    alias (``*``) can expand, so only such a text pays for the walk."""
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        refused = node_graph_problem(node) if b"*" in raw else None
        if refused is not None:
            at, why = refused
            out.add(rel, _at(at.start_mark), why)
            return None
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _at(mark: Any) -> str:
    return f"line {mark.line + 1} column {mark.column + 1}"


def _as_mapping(data: Any, rel: str, path: str, out: _Collector) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        out.add(rel, path, f"must be a mapping, got {type(data).__name__}")
        return {}
    return data


@dataclass(frozen=True)
class _Listing:
    """A folder's entries, read once: a stat and a path object per host file was a tenth
    of the load of a county."""

    path: Path
    #: entry name -> is a file (following symlinks, as Path.is_file), in name order
    entries: dict[str, bool]
    #: entries that are symbolic links
    links: tuple[str, ...] = ()

    @classmethod
    def of(cls, path: Path) -> _Listing:
        if not path.is_dir():
            return cls(path, {})
        with os.scandir(path) as it:
            found = list(it)
        entries = {e.name: e.is_file() for e in found}
        links = tuple(sorted(e.name for e in found if e.is_symlink()))
        return cls(path, dict(sorted(entries.items())), links)

    def yml(self) -> list[str]:
        """Names ``glob("*.yml")`` matches (any entry, hidden ones too), in name order."""
        return [name for name in self.entries if name.endswith(".yml")]

    def is_file(self, name: str) -> bool:
        if "/" in name or "\0" in name:  # not an entry of this folder: ask the path
            return (self.path / name).is_file()
        return self.entries.get(name, False)


def _stem(yml_name: str) -> str:
    """``Path(name).stem`` of a name ending in ``.yml``."""
    return yml_name[:-4] if len(yml_name) > 4 else yml_name


@dataclass
class _Tree:
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)  # inline host vars
    groups: dict[str, set[str]] = field(default_factory=dict)  # group -> member hosts
    parents: dict[str, str] = field(default_factory=dict)  # site group -> kind group


_HOSTNAME = re.compile(HOSTNAME_PATTERN)


def _hostname_problem(host: object) -> str | None:
    """What is wrong with a host name, as a device's ``hostname`` would take it.

    >>> _hostname_problem("alta-skole-dist01") is None
    True
    >>> _hostname_problem("alta skole-dist01")
    "'alta skole-dist01' is not a valid host name: a lowercase letter first, a letter or \
digit last, only lowercase letters, digits and hyphens (IOS-XE `hostname`)"
    """
    if not isinstance(host, str):
        return (f"a host name must be text starting with a letter, got "
                f"{type(host).__name__} {host!r}")
    if len(host) > HOSTNAME_MAX:
        return (f"host name is {len(host)} characters long; IOS-XE's `hostname` takes at "
                f"most {HOSTNAME_MAX}")
    if not _HOSTNAME.match(host):
        return (f"{host!r} is not a valid host name: a lowercase letter first, a letter or "
                "digit last, only lowercase letters, digits and hyphens (IOS-XE `hostname`)")
    return None


def _walk_hosts(data: Any, out: _Collector) -> _Tree:
    tree = _Tree()
    if not data:  # an empty file: the caller says there are no hosts
        return tree
    top = _as_mapping(data, HOSTS_FILE, "", out)
    if set(top) != {"all"}:
        out.add(HOSTS_FILE, "", "must have exactly one top-level key, `all`")
        return tree
    allg = _as_mapping(top["all"], HOSTS_FILE, "all", out)

    def visit(name: str, node: Any, path: str, ancestors: tuple[str, ...]) -> set[str]:
        node = _as_mapping(node, HOSTS_FILE, path, out)
        members: set[str] = set()
        for key in node:
            if key not in ("hosts", "children", "vars"):
                out.add(HOSTS_FILE, f"{path}.{key}", "unknown key (hosts, children or vars)")
        if node.get("vars"):
            out.add(HOSTS_FILE, f"{path}.vars", "put group facts in group_vars/, not inline")
        hosts = _as_mapping(node.get("hosts"), HOSTS_FILE, f"{path}.hosts", out)
        for host, hvars in hosts.items():
            hpath = f"{path}.hosts.{host}"
            bad = _hostname_problem(host)
            if bad is not None:
                out.add(HOSTS_FILE, hpath, bad)
                if not isinstance(host, str):
                    continue
            if host in tree.hosts:
                out.add(HOSTS_FILE, hpath, "host is listed twice")
                continue
            tree.hosts[host] = _as_mapping(hvars, HOSTS_FILE, hpath, out)
            members.add(host)
            if name.startswith(SITE_GROUP_PREFIX) and ancestors:
                tree.parents.setdefault(name, ancestors[-1])
        children = _as_mapping(node.get("children"), HOSTS_FILE, f"{path}.children", out)
        for child, cnode in children.items():
            if not isinstance(child, str):
                out.add(HOSTS_FILE, f"{path}.children.{child}",
                        f"a group name must be text, got {type(child).__name__}")
                child = str(child)  # read on, as the text it was meant as
            members |= visit(child, cnode, f"{path}.children.{child}", (*ancestors, name))
            if child.startswith(SITE_GROUP_PREFIX):
                tree.parents.setdefault(child, name)
        tree.groups.setdefault(name, set()).update(members)
        return members

    visit("all", allg, "all", ())
    return tree


#: the facts a host may have; any other key is looked at more closely
_DEVICE_KEYS = frozenset(Device.model_fields)


def _escaping_links(root: Path, listings: tuple[_Listing, ...]) -> list[Problem]:
    """Symbolic links of the inventory whose target lies outside it, by name; a link in a
    folder that is itself such a link is not listed again."""
    real_root = root.resolve()
    problems: list[Problem] = []
    refused: list[str] = []
    for listing in listings:
        folder = listing.path.relative_to(root).as_posix()
        if any(folder == r or folder.startswith(f"{r}/") for r in refused):
            continue
        for name in listing.links:
            target = escaping_link(real_root, listing.path, name)
            if target is not None:
                rel = name if folder == "." else f"{folder}/{name}"
                refused.append(rel)
                problems.append(Problem(rel, "", f"a symbolic link to {target}, outside the "
                                        "inventory: refused (copy what it should hold into "
                                        "the inventory)"))
    return problems


def _refuse_plain_credentials(data: Mapping[Any, Any], rel: str, out: _Collector) -> None:
    for key, value in data.items():
        if is_plain_credential(key, value):
            out.add(rel, str(key), PLAIN_CREDENTIAL)


def load_intent(root: Path | str, *, unallocated: frozenset[str] = frozenset()) -> Intent:
    """Load and validate ``root``; raise :class:`IntentError` listing every problem.

    ``unallocated`` names zones whose prefixes sites may still lack (``fellesnett zone
    add`` loads the inventory it is about to allocate them in).
    """
    root = Path(root)
    out = _Collector()
    if not (root / HOSTS_FILE).is_file():
        raise IntentError([Problem(str(root), "", f"not an inventory: no {HOSTS_FILE}")])
    gv = _Listing.of(root / "group_vars")
    all_dir = _Listing.of(root / "group_vars" / "all")
    hv = _Listing.of(root / "host_vars")
    links = _escaping_links(root, (_Listing.of(root), gv, all_dir, hv))
    if links:  # refused before anything is read through them
        raise IntentError(links)

    hosts_data = _read_yaml(root / HOSTS_FILE, HOSTS_FILE, out)
    if out.problems:  # not YAML: without its groups every other file would look stale
        raise IntentError(out.problems)
    tree = _walk_hosts(hosts_data, out)
    if not tree.hosts:  # every other file would look stale: say only this
        out.add(HOSTS_FILE, "", "no hosts: list each site group (site_<slug>) with its "
                "devices under all.children.<site kind>.children")
        raise IntentError(out.problems)

    # estate-wide intent -----------------------------------------------------------
    sections: dict[str, Any] = {}
    section_file: dict[str, str] = {}
    for name in all_dir.yml():
        rel = f"group_vars/all/{name}"
        for key, value in _as_mapping(_read_yaml(all_dir.path / name, rel, out), rel, "",
                                      out).items():
            if str(key).startswith("ansible_"):
                if is_plain_credential(key, value):
                    out.add(rel, str(key), PLAIN_CREDENTIAL)
                continue
            if key not in GLOBAL_SECTIONS:
                out.add(rel, str(key),
                        f"unknown section; expected one of {sorted(GLOBAL_SECTIONS)}")
            elif key in sections:
                out.add(rel, key, f"already defined in {section_file[key]}")
            else:
                sections[key], section_file[key] = value, rel
    parsed: dict[str, Any] = {}
    for key, model in GLOBAL_SECTIONS.items():
        if key not in sections:
            if key in OPTIONAL_SECTIONS:
                parsed[key] = OPTIONAL_SECTIONS[key]
            else:
                out.add("group_vars/all", key, "required section is missing")
            continue
        adapter = TypeAdapter(model).validate_python
        parsed[key] = out.validate(adapter, sections[key], section_file[key], key)

    # sites ------------------------------------------------------------------------
    sites: dict[str, Site] = {}
    for group in sorted(g for g in tree.groups if g.startswith(SITE_GROUP_PREFIX)):
        slug = group[len(SITE_GROUP_PREFIX):]
        rel = f"group_vars/{group}.yml"
        if not gv.is_file(f"{group}.yml"):
            out.add(rel, "", f"missing: every site group in {HOSTS_FILE} needs its site facts")
            continue
        before = len(out.problems)
        data = _as_mapping(_read_yaml(root / rel, rel, out), rel, "", out)
        if len(out.problems) > before:  # not YAML or not a mapping: said so already
            continue
        extra = [k for k in data if k != "site" and not str(k).startswith("ansible_")]
        for k in extra:
            out.add(rel, str(k), "unknown key; site facts go under `site:`")
        _refuse_plain_credentials(data, rel, out)
        site = out.validate(Site.model_validate, data.get("site"), rel, "site")
        if site is None:
            continue
        sites[slug] = site
        parent = tree.parents.get(group)
        kinds = parsed.get("site_kinds")
        if kinds is not None and site.kind == SiteKind.core and site.kind not in kinds:
            out.add(section_file["site_kinds"], "site_kinds", CORE_KIND_MISSING)
        elif kinds is not None and site.kind not in kinds:
            out.add(rel, "site.kind", f"{site.kind.value!r} is not a site kind of "
                    f"{section_file['site_kinds']}; one of {', '.join(kinds)}")
        elif parent != kind_group(site.kind):
            out.add(rel, "site.kind",
                    f"is {site.kind.value!r} but {HOSTS_FILE} lists {group} under {parent!r}; "
                    f"expected under {kind_group(site.kind)!r}")
    for name in gv.yml():
        rel, stem = f"group_vars/{name}", _stem(name)
        if stem not in tree.groups:
            out.add(rel, "", f"no group {stem!r} in {HOSTS_FILE} (stale file or typo?)")
        elif not stem.startswith(SITE_GROUP_PREFIX):
            data = _as_mapping(_read_yaml(gv.path / name, rel, out), rel, "", out)
            _refuse_plain_credentials(data, rel, out)
            keys = [str(k) for k in data if not str(k).startswith("ansible_")]
            if keys:
                out.add(rel, "", f"{keys} would reach Ansible but not fellesnett: estate-wide "
                        "intent goes in group_vars/all/, site facts in group_vars/site_<slug>.yml")
    for folder, listing in (("group_vars", gv), ("group_vars/all", all_dir), ("host_vars", hv)):
        for name, is_file in listing.entries.items():
            if not is_file or (name.endswith(".yml") and len(name) > 4):
                continue
            path = PurePosixPath(name)
            if path.suffix != ".yml" and not name.startswith("."):
                out.add(f"{folder}/{name}", "", f"only *.yml files are read; "
                        f"rename it to {path.stem}.yml (Ansible reads {path.suffix} too)")

    # devices ----------------------------------------------------------------------
    devices: dict[str, Device] = {}
    device_site: dict[str, str] = {}
    host_files: dict[str, dict[str, str]] = {}
    host_sites: dict[str, list[str]] = {}
    for group, members in tree.groups.items():
        if group.startswith(SITE_GROUP_PREFIX):
            for member in members:
                host_sites.setdefault(member, []).append(group)
    for name in hv.yml():
        if _stem(name) not in tree.hosts:
            out.add(f"host_vars/{name}", "",
                    f"no host {_stem(name)!r} in {HOSTS_FILE} (stale file or typo?)")
    for host in sorted(tree.hosts):
        inline = {k: v for k, v in tree.hosts[host].items() if k != "ansible_user"}
        files = {k: HOSTS_FILE for k in inline}
        hrel = f"host_vars/{host}.yml"
        if hv.is_file(f"{host}.yml"):
            from_file = _as_mapping(_read_yaml(root / hrel, hrel, out), hrel, "", out)
            for k, v in from_file.items():
                if k in inline:
                    out.add(hrel, k, f"also set in {HOSTS_FILE}; set it in one place")
                inline[k] = v
                files[k] = hrel
        host_files[host] = files
        for k in [k for k in inline.keys() - _DEVICE_KEYS if is_credential_key(k)]:
            # Ansible's to use (vault-encrypted); never a fact of the device model
            if is_plain_credential(k, inline[k]):
                out.add(files[k], key_path(host, k) if files[k] == HOSTS_FILE else k,
                        PLAIN_CREDENTIAL)
            del inline[k]
        dev = out.validate(Device.model_validate, inline, HOSTS_FILE, host,
                           file_of=_origin(files))
        site_groups = sorted(host_sites.get(host, ()))
        if len(site_groups) != 1:
            out.add(HOSTS_FILE, host, f"must be in exactly one site_* group, is in {site_groups}")
            continue
        if dev is not None:
            devices[host] = dev
            device_site[host] = site_groups[0][len(SITE_GROUP_PREFIX):]

    if out.problems:
        raise IntentError(out.problems)

    groups = {g: frozenset(m) for g, m in tree.groups.items()}
    for role_value in sorted({d.role.value for d in devices.values()}):
        if role_value in groups:
            raise IntentError([Problem(HOSTS_FILE, role_value,
                                       "group name is reserved for the role group")])
        groups[role_value] = frozenset(h for h, d in devices.items() if d.role.value == role_value)
    for role in ("core", "distribution", "access", "wlc", "ap"):
        groups.setdefault(role, frozenset())
    # `<kind>_<slug>` aliases of the site groups, so `school_*` selects every school
    for slug, site in sites.items():
        alias = f"{site.kind.value}_{slug}"
        if alias in groups:
            raise IntentError([Problem(HOSTS_FILE, alias, "group name is reserved for the "
                                       f"alias of site_{slug}")])
        groups[alias] = groups[SITE_GROUP_PREFIX + slug]
    groups["ungrouped"] = frozenset()

    intent = Intent(
        root=root,
        site_kinds=parsed["site_kinds"],
        zones=parsed["zones"],
        pools=parsed["address_pools"],
        policy=parsed["zone_policy"],
        services=parsed["services"],
        management=parsed["management"],
        aaa=parsed["aaa"],
        authorization=parsed["authorization"],
        wireless=parsed["wireless"],
        port_profiles=parsed["port_profiles"],
        device_models=parsed["device_models"],
        sites=sites,
        devices=devices,
        device_site=device_site,
        groups=groups,
        host_files=host_files,
        audit=parsed["audit"] if parsed.get("audit") is not None else Audit(),
    )
    # imported here: checks needs Intent, and the cycle is only at call time
    from nornir_tasks.intent.checks import check_intent

    problems = check_intent(intent, section_file, unallocated)
    if problems:
        raise IntentError(problems)
    return intent


def model_dump_yaml(model: BaseModel) -> str:
    """YAML of a model as the inventory spells it (aliases, no defaults)."""
    data = model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
