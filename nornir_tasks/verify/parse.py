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
    line without children holds no list: a 10,000-device estate is millions of lines. A
    top-level line keeps its section's raw text (``body``) and builds its children only
    when they are asked for: most sections (the ports, above all) are read through a
    cache keyed on that text and never need line objects of their own.
    """

    text: str
    lineno: int
    parent: Line | None = None
    kids: list[Line] | None = None
    body: str | None = None  # the raw lines under a top-level line, not yet parsed

    @property
    def children(self) -> Sequence[Line]:
        kids = self.kids
        if kids is None:
            if self.body is None:
                return ()
            kids = self.kids = parse_section(self, self.body)
            self.body = None
        return kids

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

#: a line break other than ``\n``: such a text is read line by line (str.splitlines)
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
#: a line at the left margin (not blank): a section's first line, ``!`` or ``end``
_TOP = re.compile(r"^[^ \n][^\n]*", re.M)
#: an indented line that is a command (not a ``!`` comment): outside any section it would
#: be a top-level line of its own, which only the line-by-line reader handles
_ORPHAN = re.compile(r"^ +[^! \n]", re.M)


def parse_config(text: str, name: str = "<config>", cache: LineCache | None = None
                 ) -> ConfigTree:
    """Parse config text into a :class:`ConfigTree`.

    ``cache`` may be shared by the configs of one estate (see :data:`LineCache`).

    Only the top-level lines are read here, with a regular expression; each keeps the
    raw text of its section and parses it on first use (:attr:`Line.children`). The
    result is the tree :func:`parse_lines` builds line by line (a property test holds the
    two together); texts that this shortcut cannot read exactly go to that reader.

    Raises:
        ConfigTextError: NUL bytes (a binary file), or an unterminated banner.
    """
    if "\x00" in text:
        raise ConfigTextError(f"{name}: binary data (NUL bytes), not a config text")
    if cache is None:
        cache = {}
    if _OTHER_BREAKS.search(text):
        return parse_lines(text, name, cache)
    root = Line("", 0)
    top: list[Line] = []
    root.kids = top
    intern = sys.intern
    lineno = 1  # of the text at ``pos``
    pos = 0
    open_line: Line | None = None  # the section whose body runs to the next top line
    body_start = pad = 0
    count = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    search = _TOP.search
    while True:
        m = search(text, pos)
        start = m.start() if m is not None else len(text)
        if open_line is not None:
            if start > body_start:
                # a banner's text is not its section: blank lines keep the numbering
                open_line.body = "\n" * pad + text[body_start:start] if pad else \
                    text[body_start:start]
        elif start > pos and _ORPHAN.search(text, pos, start):
            return parse_lines(text, name, cache)
        if m is None:
            break
        lineno += text.count("\n", pos, start)
        pos = m.end()
        raw = m.group()
        hit = cache.get(raw)
        if hit is None:
            line = raw.rstrip()
            stripped = line.lstrip(" ")
            hit = cache[raw] = (intern(stripped), len(line) - len(stripped))
        stripped = hit[0]
        if not stripped:
            continue  # blank: part of the open section's text, as before
        if stripped[0] == "!":
            open_line = None
            continue
        if stripped == "end":
            open_line = None
            count = lineno
            break
        node = Line(stripped, lineno, root)
        top.append(node)
        open_line = node
        body_start = pos + 1
        pad = 0
        if stripped.startswith("banner"):
            b = _BANNER.match(stripped)
            if b is not None and b.group(1) not in stripped[b.end():]:
                # the banner's text runs to the line holding the delimiter again; what
                # follows that line (indented) is the banner line's section, as before
                delimiter = b.group(1)
                close = text.find(delimiter, pos + 1)
                if close < 0:
                    raise ConfigTextError(
                        f"{name}: banner opened on line {lineno} never ends "
                        f"(no closing {delimiter!r})")
                eol = text.find("\n", close)
                eol = len(text) if eol < 0 else eol
                pad = text.count("\n", pos, eol)
                lineno += pad
                pos = eol
                body_start = pos + 1
    return ConfigTree(name, root, count)


def parse_section(header: Line, body: str) -> list[Line]:
    """The lines of a top-level line's section, nested by indentation."""
    kids: list[Line] = []
    stack: list[tuple[int, Line]] = [(0, header)]
    intern = sys.intern
    for n, raw in enumerate(body.split("\n"), header.lineno + 1):
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped[0] == "!":
            continue
        indent = len(line) - len(stripped)
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        node = Line(intern(stripped), n, parent)
        if parent is header:
            kids.append(node)
        elif parent.kids is None:
            parent.kids = [node]
        else:
            parent.kids.append(node)
        stack.append((indent, node))
    return kids


def parse_lines(text: str, name: str = "<config>", cache: LineCache | None = None
                ) -> ConfigTree:
    """The line-by-line reader: every line parsed in turn (the reference for
    :func:`parse_config`, and its reader for texts with other line breaks).

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
