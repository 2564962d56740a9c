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
from collections.abc import Iterator
from dataclasses import dataclass, field

_BANNER = re.compile(r"^banner\s+\S+\s+(\^C|\S)")


class ConfigTextError(ValueError):
    """The text is not a device config this parser can read."""


@dataclass(slots=True, eq=False)
class Line:
    """One config line: its text without indentation, its number, its children."""

    text: str
    lineno: int
    indent: int
    parent: Line | None = None
    children: list[Line] = field(default_factory=list)

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
    def top(self) -> list[Line]:
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


def parse_config(text: str, name: str = "<config>") -> ConfigTree:
    """Parse config text into a :class:`ConfigTree`.

    Raises:
        ConfigTextError: NUL bytes (a binary file), or an unterminated banner.
    """
    if "\x00" in text:
        raise ConfigTextError(f"{name}: binary data (NUL bytes), not a config text")
    root = Line("", 0, -1)
    stack: list[Line] = [root]
    banner: Line | None = None
    delimiter = ""
    count = 0
    for count, raw in enumerate(text.splitlines(), 1):
        if banner is not None:
            if delimiter in raw:
                banner = None
            continue
        line = raw.rstrip()
        if not line:
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped.startswith("!"):
            if indent == 0:
                del stack[1:]
            continue
        if indent == 0 and stripped == "end":
            break
        while stack[-1].indent >= indent:
            stack.pop()
        parent = stack[-1]
        node = Line(stripped, count, indent, parent)
        parent.children.append(node)
        stack.append(node)
        m = _BANNER.match(stripped) if indent == 0 else None
        if m:
            delimiter = m.group(1)
            rest = stripped[m.end():]
            if delimiter not in rest:
                banner = node
    if banner is not None:
        raise ConfigTextError(f"{name}: banner opened on line {banner.lineno} never ends "
                              f"(no closing {delimiter!r})")
    return ConfigTree(name, root, count)
