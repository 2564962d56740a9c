"""IOS / IOS-XE config text -> a tree of lines, each with its line number.

A small indentation parser, enough for what ``show running-config`` prints: a line with
leading spaces is a child of the nearest less-indented line above it; ``!`` at the left
margin closes every open section (an indented ``!`` is only a comment); ``banner`` text
between its delimiters (``^C ... ^C``) belongs to the banner line and is never parsed as
commands; ``end`` ends the config.

>>> tree = parse_config("hostname sw1\\n!\\ninterface Vlan110\\n vrf forwarding PUPILS\\n"
...                     " ip address 10.32.0.1 255.255.252.0\\n!\\nend\\n")
>>> [(n.lineno, n.text) for n in tree.find("interface Vlan110").children]
[(4, 'vrf forwarding PUPILS'), (5, 'ip address 10.32.0.1 255.255.252.0')]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

_BANNER = re.compile(r"^banner\s+\S+\s+(\^C|\S)")


class ConfigTextError(ValueError):
    """The text is not a device config this parser can read."""


@dataclass(slots=True, eq=False)
class Line:
    """One config line: its text without indentation, its number, its children.

    The text is interned (the same command on thousands of switches is one string), and a
    line without children holds no list: a 10,000-device estate is millions of lines.
    """

    text: str
    lineno: int
    parent: Line | None = None
    kids: list[Line] | None = None

    @property
    def children(self) -> Sequence[Line]:
        kids = self.kids
        return kids if kids is not None else ()

    @property
    def words(self) -> list[str]:
        return self.text.split()

    def child(self, prefix: str) -> Line | None:
        """The first child whose text starts with ``prefix`` (a whole word or more)."""
        for c in self.children:
            if c.text == prefix or c.text.startswith(prefix + " "):
                return c
        return None

    def children_starting(self, prefix: str) -> Iterator[Line]:
        for c in self.children:
            if c.text == prefix or c.text.startswith(prefix + " "):
                yield c

    def walk(self) -> Iterator[Line]:
        """This line's descendants, depth first, in text order."""
        for c in self.children:
            yield c
            yield from c.walk()

    def path(self) -> str:
        """The line with its parents, for messages: ``interface Vlan110 > vrf ...``."""
        parts = []
        node: Line | None = self
        while node is not None and node.lineno > 0:
            parts.append(node.text)
            node = node.parent
        return " > ".join(reversed(parts))


@dataclass(slots=True, eq=False)
class ConfigTree:
    """A parsed config: the top-level lines (children of a root without text)."""

    name: str
    root: Line
    lines: int

    @property
    def top(self) -> Sequence[Line]:
        return self.root.children

    def find(self, text: str) -> Line | None:
        """The top-level line with exactly this text."""
        for c in self.root.children:
            if c.text == text:
                return c
        return None

    def starting(self, prefix: str) -> Iterator[Line]:
        """Top-level lines starting with ``prefix`` (as whole words)."""
        return self.root.children_starting(prefix)

    def release(self) -> None:
        """Drop every line's link to its parent: the tree holds no reference cycles any
        more and is freed as soon as it is dropped, without the cyclic collector walking
        millions of lines (a line's ``path()`` is its text alone afterwards)."""
        stack = [self.root]
        while stack:
            line = stack.pop()
            line.parent = None
            if line.kids:
                stack.extend(line.kids)


#: raw line -> (its text without indentation, interned; its indentation): one estate's
#: configs repeat the same lines thousands of times (4.7 million lines, 135,000 distinct)
LineCache = dict[str, tuple[str, int]]


def parse_config(text: str, name: str = "<config>", cache: LineCache | None = None
                 ) -> ConfigTree:
    """Parse config text into a :class:`ConfigTree`.

    ``cache`` may be shared by the configs of one estate (see :data:`LineCache`).

    Raises:
        ConfigTextError: NUL bytes (a binary file), or an unterminated banner.
    """
    if "\x00" in text:
        raise ConfigTextError(f"{name}: binary data (NUL bytes), not a config text")
    root = Line("", 0)
    top: list[Line] = []
    root.kids = top
    # the open sections: (indentation, line), the root first (one loop per line: this
    # runs over millions of lines on a large estate)
    stack: list[tuple[int, Line]] = [(-1, root)]
    banner: Line | None = None
    delimiter = ""
    count = 0
    if cache is None:
        cache = {}
    intern = sys.intern
    for count, raw in enumerate(text.splitlines(), 1):
        if banner is not None:
            if delimiter in raw:
                banner = None
            continue
        hit = cache.get(raw)
        if hit is None:
            line = raw.rstrip()
            stripped = line.lstrip(" ")
            hit = cache[raw] = (intern(stripped), len(line) - len(stripped))
        stripped, indent = hit
        if not stripped:
            continue
        if stripped[0] == "!":
            if indent == 0:
                del stack[1:]
            continue
        if indent == 0:
            if stripped == "end":
                break
            del stack[1:]
            node = Line(stripped, count, root)
            top.append(node)
            stack.append((0, node))
            m = _BANNER.match(stripped) if stripped.startswith("banner") else None
            if m:
                delimiter = m.group(1)
                if delimiter not in stripped[m.end():]:
                    banner = node
            continue
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        node = Line(stripped, count, parent)
        kids = parent.kids
        if kids is None:
            parent.kids = [node]
        else:
            kids.append(node)
        stack.append((indent, node))
    if banner is not None:
        raise ConfigTextError(f"{name}: banner opened on line {banner.lineno} never ends "
                              f"(no closing {delimiter!r})")
    return ConfigTree(name, root, count)
