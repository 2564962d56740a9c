"""``--limit EXPR``: Ansible host patterns over the inventory, for every command.

Same grammar and evaluation order as ``ansible-playbook --limit``: terms are separated by
``,`` or ``:``; a plain term adds hosts, ``&term`` intersects, ``!term`` excludes. Ansible
applies all plain terms first, then the intersections, then the exclusions, whatever
order they are written in; a pattern of exclusions only starts from ``all``. A term is a
group or host name, a shell-style wildcard (``school_*``, ``*-ap??``) or a regular
expression after ``~``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

from nornir_tasks.errors import UsageError


def _split(expr: str) -> list[str]:
    # ':' also separates, except inside a regex term (it may contain ':' legitimately)
    if "~" in expr:
        return [t.strip() for t in expr.split(",") if t.strip()]
    return [t.strip() for t in re.split(r"[,:]", expr) if t.strip()]


def _match(term: str, groups: Mapping[str, frozenset[str]], hosts: frozenset[str]) -> set[str]:
    if term.startswith("~"):
        try:
            rx = re.compile(term[1:])
        except re.error as exc:
            raise UsageError(f"--limit: bad regular expression {term!r}: {exc}") from None
        names = [g for g in groups if rx.search(g)]
        out = {h for h in hosts if rx.search(h)}
    elif any(c in term for c in "*?["):
        names = fnmatch.filter(groups, term)
        out = set(fnmatch.filter(hosts, term))
    else:
        names = [term] if term in groups else []
        out = {term} & hosts
    for g in names:
        out |= groups[g]
    return out


def select_hosts(expr: str | None, groups: Mapping[str, frozenset[str]]) -> set[str]:
    """Hosts matched by an Ansible-style pattern.

    >>> g = {"all": frozenset({"a1", "a2", "k1"}), "access": frozenset({"a1", "a2"}),
    ...      "kindergarten": frozenset({"k1", "a2"})}
    >>> sorted(select_hosts("access:&kindergarten", g))
    ['a2']
    >>> sorted(select_hosts("!kindergarten", g))
    ['a1']
    >>> sorted(select_hosts("a?,!a2", g))
    ['a1']
    >>> sorted(select_hosts(None, g))
    ['a1', 'a2', 'k1']
    """
    hosts = groups.get("all", frozenset())
    if expr is None or expr.strip() in ("", "all", "*"):
        return set(hosts)
    terms = _split(expr)
    plain = [t for t in terms if not t.startswith(("&", "!"))]
    inter = [t[1:] for t in terms if t.startswith("&")]
    excl = [t[1:] for t in terms if t.startswith("!")]
    selected: set[str] = set()
    if plain:
        for t in plain:
            hit = _match(t, groups, hosts)
            if not hit:
                raise UsageError(f"--limit: {t!r} matches no group or host in the inventory")
            selected |= hit
    else:
        selected = set(hosts)
    for t in inter:
        selected &= _match(t, groups, hosts)
    for t in excl:
        selected -= _match(t, groups, hosts)
    return selected
