"""Interface-name helpers shared by the intent checks, design and docs."""

from __future__ import annotations

import re
from functools import lru_cache

#: more ports than any chassis has: a typo such as 1-99999999 must not expand for minutes
MAX_RANGE = 1024
_RANGE = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z-]*(?:\d+/)*)(?P<first>\d+)(?:-(?P<last>\d+))?$")
_SPLIT = re.compile(r"(\d+)")


@lru_cache(maxsize=4096)
def _expand(spec: str) -> tuple[str, ...]:
    m = _RANGE.match(spec.strip())
    if not m:
        raise ValueError(f"not an interface or range: {spec!r}")
    first = int(m["first"])
    last = int(m["last"]) if m["last"] else first
    if last < first:
        raise ValueError(f"range runs backwards: {spec!r}")
    if last - first >= MAX_RANGE:
        raise ValueError(f"range of more than {MAX_RANGE} interfaces: {spec!r}")
    return tuple(f"{m['prefix']}{n}" for n in range(first, last + 1))


def expand_interface_range(spec: str) -> list[str]:
    """Expand ``Prefix1/0/A-B`` into the interface names it covers.

    >>> expand_interface_range("GigabitEthernet1/0/1-3")
    ['GigabitEthernet1/0/1', 'GigabitEthernet1/0/2', 'GigabitEthernet1/0/3']
    >>> expand_interface_range("Vlan100")
    ['Vlan100']
    """
    return list(_expand(spec))


def interface_sort_key(name: str) -> tuple[object, ...]:
    """Sort interfaces the way IOS prints them: by type, then numerically.

    >>> sorted(["Gi1/0/10", "Gi1/0/2", "Te1/1/1"], key=interface_sort_key)
    ['Gi1/0/2', 'Gi1/0/10', 'Te1/1/1']
    """
    return tuple(int(p) if p.isdigit() else p for p in _SPLIT.split(name))


def interfaces_to_ranges(names: list[str]) -> list[str]:
    """Compress interface names back into ranges (for docs and port sheets).

    >>> interfaces_to_ranges(["Gi1/0/1", "Gi1/0/2", "Gi1/0/3", "Gi1/0/5", "Te1/1/1"])
    ['Gi1/0/1-3', 'Gi1/0/5', 'Te1/1/1']
    """
    out: list[str] = []
    run: list[tuple[str, int]] = []

    def flush() -> None:
        if run:
            prefix, first = run[0]
            last = run[-1][1]
            out.append(f"{prefix}{first}" if first == last else f"{prefix}{first}-{last}")
            run.clear()

    for name in sorted(names, key=interface_sort_key):
        m = _RANGE.match(name)
        if not m:
            flush()
            out.append(name)
            continue
        prefix, num = m["prefix"], int(m["first"])
        if run and run[-1][0] == prefix and run[-1][1] == num - 1:
            run.append((prefix, num))
        else:
            flush()
            run.append((prefix, num))
    flush()
    return out
