"""Render structured config to device CLI text with one Jinja2 template per feature.

``templates/<platform>/main.j2`` includes the feature templates in the order the device
prints them. StrictUndefined: a missing key is an error, never an empty line.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import operator
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if isinstance(value, ipaddress.IPv4Network):
        return value
    if isinstance(value, ipaddress.IPv4Interface):
        return value.network
    return ipaddress.ip_network(str(value), strict=False)


def ios_mask(value: Any) -> str:
    """Dotted netmask of an interface or network.

    >>> ios_mask(ipaddress.ip_interface("10.0.1.1/26")), ios_mask("10.0.0.0/8")
    ('255.255.255.192', '255.0.0.0')
    """
    return str(_network(value).netmask)


def ios_wildcard(value: Any) -> str:
    """Wildcard (inverse) mask, as IOS ACLs print it.

    >>> ios_wildcard(ipaddress.ip_network("10.10.0.0/24"))
    '0.0.0.255'
    """
    return str(_network(value).hostmask)


def ip_of(value: Any) -> str:
    """Address part of an interface (``10.0.1.1/26`` -> ``10.0.1.1``).

    >>> ip_of(ipaddress.ip_interface("10.0.1.1/26")), ip_of("10.0.1.2/26")
    ('10.0.1.1', '10.0.1.2')
    """
    if isinstance(value, ipaddress.IPv4Interface):
        return str(value.ip)
    return str(ipaddress.ip_interface(str(value)).ip)


def network_of(value: Any) -> str:
    """Network address of a prefix.

    >>> network_of(ipaddress.ip_network("10.0.1.0/26"))
    '10.0.1.0'
    """
    return str(_network(value).network_address)


#: Port numbers IOS prints by keyword in ACLs (it converts them when the entry is stored).
IOS_PORT_NAMES = {
    "tcp": {21: "ftp", 23: "telnet", 25: "smtp", 49: "tacacs", 53: "domain", 80: "www",
            110: "pop3", 179: "bgp"},
    "udp": {53: "domain", 67: "bootps", 68: "bootpc", 69: "tftp", 123: "ntp", 161: "snmp",
            162: "snmptrap", 500: "isakmp", 514: "syslog"},
}


def ios_ports(ports: str, protocol: str) -> str:
    """An ACL port match as IOS prints it: keywords for well-known ports.

    >>> ios_ports("53", "udp"), ios_ports("443", "tcp"), ios_ports("10000-20000", "udp")
    ('eq domain', 'eq 443', 'range 10000 20000')
    """
    names = IOS_PORT_NAMES.get(protocol, {})

    def one(p: str) -> str:
        return names.get(int(p), p)

    if "-" in ports:
        first, last = ports.split("-", 1)
        return f"range {one(first)} {one(last)}"
    return f"eq {one(ports)}"


#: a printed `switchport trunk allowed vlan` line, leading space included, stays under 80
#: columns; the rest continues on `... allowed vlan add` lines, split at commas
#: (docs/reference/ios-xe-core-and-wan.md §4: 72- and 77-column lines seen, 80 wrapped)
ALLOWED_VLAN_WIDTH = 79


def allowed_vlan_lines(vlans: str) -> list[str]:
    """A trunk's allowed-VLAN list as IOS-XE prints it: one line, or a first line and
    ``add`` lines when it would pass the width.

    >>> allowed_vlan_lines("100,110")
    ['switchport trunk allowed vlan 100,110']
    >>> lines = allowed_vlan_lines(",".join(str(v) for v in range(2000, 2060, 2)))
    >>> [len(" " + l) <= ALLOWED_VLAN_WIDTH for l in lines], lines[1][:34]
    ([True, True, True, True], 'switchport trunk allowed vlan add ')
    """
    head, more = "switchport trunk allowed vlan ", "switchport trunk allowed vlan add "
    lines: list[str] = []
    current = head
    for item in vlans.split(","):
        sep = "" if current in (head, more) else ","
        if len(" " + current + sep + item) > ALLOWED_VLAN_WIDTH and current not in (head, more):
            lines.append(current)
            current, sep = more, ""
        current += sep + item
    lines.append(current)
    return lines




def _key(value: Any) -> Any:
    """A hashable stand-in for a template argument: itself when it hashes (frozen
    dataclasses, strings), else its identity (the design hands both cores the same ACL
    objects, which hold lists)."""
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value


def unnamed(value: Any) -> Any:
    """A port without its name: the fragment of a port's lines is the same for every port
    with the same settings (the ``interface`` line carries the name)."""
    return dataclasses.replace(value, name="")


class PortBlocks:
    """Every port of a switch: ``!``, its ``interface`` line, then its lines.

    The loop runs here rather than in Jinja: an estate has hundreds of thousands of
    ports and a few dozen distinct ones. Each distinct port (its settings, not its name)
    is rendered by ``ios_xe/port.j2`` once per process; a routed port by
    ``ios_xe/routed_port.j2``. The text is the templates', only the repetition is skipped.
    """

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.memo: dict[tuple[Any, ...], str] = {}
        self._settings: Any = None

    def __call__(self, ports: list[Any], routed_ports: list[Any],
                 ra_guard_policy: str | None) -> str:
        if not ports:
            return ""
        if self._settings is None:
            names = [f.name for f in dataclasses.fields(ports[0]) if f.name != "name"]
            self._settings = operator.attrgetter(*names)
        settings = self._settings
        routed = {r.name: r for r in routed_ports}
        memo = self.memo
        out = []
        for p in ports:
            if p.mode == "routed":
                r = routed[p.name]
                body = self.env.get_template("ios_xe/routed_port.j2").render(r=r)
                out.append(f"!\ninterface {r.name}\n{body}")
                continue
            key = (settings(p), ra_guard_policy)
            lines = memo.get(key)
            if lines is None:
                lines = memo[key] = self.env.get_template("ios_xe/port.j2").render(
                    p=unnamed(p), ra_guard_policy=ra_guard_policy)
            out.append(f"!\ninterface {p.name}\n{lines}")
        return "".join(out)


class Fragments:
    """Rendered feature fragments, memoised by their arguments.

    An estate repeats the same port block on thousands of ports and the same zone ACLs
    on both cores: each distinct fragment is rendered once per process. The text is
    still the template's; only the repetition is skipped, so output is unchanged.
    """

    def __init__(self, env: jinja2.Environment) -> None:
        self.env = env
        self.memo: dict[tuple[Any, ...], tuple[str, tuple[Any, ...]]] = {}

    def __call__(self, name: str, **args: Any) -> str:
        key = (name, *sorted((k, _key(v)) for k, v in args.items()))
        hit = self.memo.get(key)
        if hit is None:
            # the arguments are kept with the text so that objects keyed by identity stay
            # alive (and their ids unique) as long as the entry does
            hit = self.memo[key] = (self.env.get_template(name).render(**args),
                                    tuple(args.values()))
        return hit[0]


FILTERS = {
    "allowed_vlan_lines": allowed_vlan_lines,
    "ios_mask": ios_mask,
    "ios_wildcard": ios_wildcard,
    "ip_of": ip_of,
    "network_of": network_of,
    "ios_ports": ios_ports,
}


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs (``$XDG_CACHE_HOME/fellesnett/jinja``), as
    Python keeps ``.pyc`` files: compiling the templates is a third of rendering the
    reference estate. Jinja keys each entry on the template's source, so an edited
    template is compiled afresh. Without a writable cache directory, nothing is kept."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "fellesnett", "jinja")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    if not os.access(path, os.W_OK):
        return None
    return jinja2.FileSystemBytecodeCache(path)


@lru_cache(maxsize=8)
def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        # templates do not change while a build runs: no stat of every file per render
        auto_reload=False,
        bytecode_cache=_bytecode_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - device CLI, not HTML
    )
    env.filters.update(FILTERS)
    env.globals["fragment"] = Fragments(env)
    env.globals["port_blocks"] = PortBlocks(env)
    return env


def render_config(platform: str, config: Any, templates: Path = TEMPLATES) -> str:
    """CLI text of one device; ``config`` is its structured config."""
    template = environment(templates).get_template(f"{platform}/main.j2")
    return template.render(cfg=config)
