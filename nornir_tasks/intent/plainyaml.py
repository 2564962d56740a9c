"""A fast reader for the plain YAML most inventory files are written in.

PyYAML builds a node, two marks and a resolver call for every scalar before it makes a
Python object: about 1 MB/s even with libyaml, seconds for a county-size inventory. The
files the inventory mostly holds (``hosts.yml``, ``host_vars/``, the site facts) use a
small part of YAML: block mappings and sequences, one-line flow collections, plain and
simply quoted scalars, comments. :func:`read_plain` reads exactly that part, line by line,
and gives up (:data:`NOT_PLAIN`) on anything else, so the caller lets PyYAML read the
file: every error, anchor, tag, block scalar, multi-line scalar or duplicate key keeps
PyYAML's behaviour and message. So does a document nested deeper than
:data:`~nornir_tasks.intent.guards.MAX_DEPTH` (block or flow), where the loader's bounds
refuse it: this reader recurses, and must not run out of stack first.

What it does accept it reads as the loader would: scalars are typed by PyYAML's own
implicit resolver and constructors (YAML 1.1: ``yes`` is a bool, ``0x1f`` an int), and
anything it is unsure of (a tab, a control character, a key with a blank, a timestamp)
is left to PyYAML. ``tests/unit/test_plainyaml.py`` holds both readers to the same
result over the inventories and a fuzzed set of documents.
"""

from __future__ import annotations

import re
from typing import Any, Final

import yaml

from nornir_tasks.intent.guards import MAX_DEPTH


class _NotPlain(Exception):
    """The text uses YAML beyond this reader: PyYAML reads it."""


#: returned when PyYAML must read the file
NOT_PLAIN: Final = object()

#: the implicit types this reader constructs; timestamps, merge keys and `=` go to PyYAML
_TYPED = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
          "tag:yaml.org,2002:null")
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_CONSTRUCTORS = yaml.constructor.SafeConstructor.yaml_constructors


def _implicit_by_first() -> tuple[dict[str, tuple[tuple[str, re.Pattern[str]], ...]],
                                  tuple[tuple[str, re.Pattern[str]], ...]]:
    """PyYAML's implicit resolvers of a non-empty plain scalar, by its first character
    (``BaseResolver.resolve`` tries those of the first character, then the wildcards)."""
    table = yaml.resolver.Resolver.yaml_implicit_resolvers
    wild = tuple(table.get(None, []))
    return {k: (*v, *wild) for k, v in table.items() if k}, wild


_IMPLICIT, _WILDCARD = _implicit_by_first()

#: a block mapping key (no blank, no quote, no flow or other indicator) and its colon
_KEY = re.compile(r"(?!\.\.\.)([\w./+][\w./+-]*):(?: +|$)")
#: the common line, in one match: indent, `- ` entries, a key and a plain value that needs
#: no further look (no `#`, no `:`, no indicator first), or none
_SIMPLE = re.compile(r"( *)((?:- +)*)(?!\.\.\.)([\w./+][\w./+-]*):"
                     r"(?: +([^\s#'\"\[\]{}&*!|>%@`?:,-][^:#]*?))? *$")
#: a plain scalar inside a flow collection: words separated by single blanks
_FLOW_PLAIN = r"(?:[\w./+]|-(?=[\w.]))[\w./+-]*(?: [\w./+-]+)*"
#: one token of a flow collection: an indicator, a plain scalar (a key if `: ` follows),
#: a single- or double-quoted scalar without escapes
_FLOW_TOKEN = re.compile(rf" *(?:([\[\]{{}},])|({_FLOW_PLAIN})(: +)?|'([^'\n]*)'|\"([^\"\\\n]*)\")")
_SINGLE = re.compile(r"'([^'\n]*)'")
_DOUBLE = re.compile(r'"([^"\\\n]*)"')
#: what may follow a complete node on its line: blanks, then perhaps a comment
_LINE_END = re.compile(r" *(?: #.*)?$")
#: characters that cannot start a plain scalar in block context (or need PyYAML)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


def read_plain(raw: bytes) -> Any:
    """The document in ``raw``, or :data:`NOT_PLAIN` if PyYAML must read it.

    >>> read_plain(b"a: 1\\nb:\\n- {x: yes, y: 10.0.0.1}\\n")
    {'a': 1, 'b': [{'x': True, 'y': '10.0.0.1'}]}
    >>> read_plain(b"a: &x 1\\n") is NOT_PLAIN
    True
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_PLAIN
    # tabs, CR, NEL, BOM, control characters: YAML gives some a meaning of their own
    if not text.replace("\n", " ").isprintable():
        return NOT_PLAIN
    try:
        return _Reader(text).document()
    except _NotPlain:
        return NOT_PLAIN


def _scalar(text: str) -> Any:
    """A plain scalar typed as PyYAML's implicit resolver and constructors type it."""
    for tag, regexp in _IMPLICIT.get(text[0], _WILDCARD):
        if regexp.match(text):
            if tag not in _TYPED:
                raise _NotPlain
            return _CONSTRUCTORS[tag](_CONSTRUCTOR, yaml.ScalarNode(tag, text))
    return text


def _block_plain(text: str) -> Any:
    """A plain scalar ending a block line (comment already cut off)."""
    first = text[0]
    if first in _INDICATORS and not (first == "-" and len(text) > 1 and text[1] != " "):
        raise _NotPlain
    if ": " in text or text.endswith(":"):
        raise _NotPlain
    return _scalar(text)


def _is_entry(content: str) -> bool:
    """Does the line start a block sequence entry (`- ...` or a lone `-`)?"""
    return content[0] == "-" and (len(content) == 1 or content[1] == " ")


#: one significant line: its indent, the column of its key, the key and its plain value
#: when :data:`_SIMPLE` read them (else None, None), and its text from the indent on
_Line = tuple[int, int, str | None, str | None, str]


class _Reader:
    """Recursive descent over the significant lines of one document.

    Nodes follow YAML's indentation: a block node is the run of lines at its column; a
    `- ` entry holds a node starting at the column of the text after the dash, which
    :meth:`sequence` expresses by rewriting that line as if the dash were blank.
    """

    def __init__(self, text: str) -> None:
        self.lines: list[_Line] = []
        simple = _SIMPLE.match
        for line in text.split("\n"):
            m = simple(line)
            if m is not None:
                indent = m.end(1)
                self.lines.append((indent, m.start(3), m.group(3), m.group(4), line[indent:]))
                continue
            content = line.lstrip(" ")
            if content and content[0] != "#":
                self.lines.append((len(line) - len(content), -1, None, None, content))
        self.i = 0
        self.depth = 0

    def document(self) -> Any:
        if not self.lines:
            return None
        value = self.node(self.lines[0][0])
        if self.i != len(self.lines):  # a line left of the top node: not valid YAML
            raise _NotPlain
        return value

    def node(self, indent: int) -> Any:
        """The block node whose first line is the current one, at column ``indent``."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _NotPlain  # PyYAML reads it, and the loader refuses it, located
        try:
            if _is_entry(self.lines[self.i][4]):
                return self.sequence(indent)
            return self.mapping(indent)
        finally:
            self.depth -= 1

    def mapping(self, indent: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        lines = self.lines
        while self.i < len(lines):
            col, key_col, key, val, content = lines[self.i]
            if col != indent:
                if col < indent:
                    break
                raise _NotPlain  # a continued scalar, or not YAML
            if key is not None and key_col == col:
                k = _scalar(key)
                if k in out:
                    raise _NotPlain  # PyYAML says where
                self.i += 1
                out[k] = _scalar(val) if val is not None else self.value("", indent)
                continue
            m = _KEY.match(content)
            if m is None or m.end() > 1000:  # PyYAML limits a simple key to 1024 chars
                raise _NotPlain
            k = _scalar(m.group(1))
            if k in out:
                raise _NotPlain
            self.i += 1
            out[k] = self.value(content[m.end():], indent)
        return out

    def sequence(self, indent: int) -> list[Any]:
        out: list[Any] = []
        lines = self.lines
        while self.i < len(lines):
            col, key_col, key, val, content = lines[self.i]
            if col != indent:
                if col < indent:
                    break
                raise _NotPlain
            if not _is_entry(content):
                break  # a key of the mapping this sequence is the value of
            rest = content[1:].lstrip(" ")
            if key is not None or (rest and rest[0] != "#" and (
                    _KEY.match(rest) or _is_entry(rest))):
                # `- key: v`, `- - x`: a block node at the column of the text after the dash
                at = col + len(content) - len(rest)
                lines[self.i] = (at, key_col, key, val, rest)
                out.append(self.node(at))
                continue
            self.i += 1
            out.append(self.value(rest, indent, indentless=False))
        return out

    def value(self, rest: str, indent: int, *, indentless: bool = True) -> Any:
        """The value after `key:` or `-`: inline on the line, or the block below it."""
        rest = rest.lstrip(" ")
        if rest and rest[0] != "#":
            return _inline(rest)
        if self.i < len(self.lines):
            col, _, _, _, content = self.lines[self.i]
            if col > indent:
                return self.node(col)
            if indentless and col == indent and _is_entry(content):
                return self.sequence(indent)  # `key:` then `- item` lines at its own column
        return None


def _inline(text: str) -> Any:
    """A node that ends its line: a flow collection, a quoted or a plain scalar."""
    first = text[0]
    if first in "[{":
        value, end = _flow(text)
    elif first in "'\"":
        m = (_SINGLE if first == "'" else _DOUBLE).match(text)
        if m is None:
            raise _NotPlain
        value, end = m.group(1), m.end()
    else:
        return _block_plain(text.split(" #", 1)[0].rstrip(" "))
    if not _LINE_END.match(text, end):
        raise _NotPlain
    return value


_START, _ITEM, _VALUE, _AFTER = range(4)  # where a flow collection's parser stands


def _wants_value(top: list[Any] | None) -> bool:
    """May a value come next: the first collection, a mapping's value, a sequence entry?"""
    if top is None:
        return True
    if isinstance(top[0], dict):
        return bool(top[2] == _VALUE)
    return top[2] in (_START, _ITEM)


def _flow(text: str) -> tuple[Any, int]:
    """The flow collection starting ``text`` (on one line), and where it ends.

    A stack of open collections, each ``[container, pending key, state]``: just opened
    (_START: may close), after a comma (_ITEM: needs an entry), after a key (_VALUE), after
    an entry (_AFTER: needs a comma or the close).
    """
    stack: list[list[Any]] = []
    pos = 0
    while (m := _FLOW_TOKEN.match(text, pos)) is not None:
        pos = m.end()
        punct, plain, colon, single, double = m.groups()
        top = stack[-1] if stack else None
        if punct is not None and punct in ",]}":
            if top is None:
                raise _NotPlain
            if punct == ",":
                if top[2] != _AFTER:
                    raise _NotPlain
                top[2] = _ITEM
                continue
            if top[2] not in (_START, _AFTER) or (punct == "}") != isinstance(top[0], dict):
                raise _NotPlain
            stack.pop()
            value: Any = top[0]
            if not stack:
                return value, m.end()
        elif colon is not None:  # a key
            if top is None or not isinstance(top[0], dict) or top[2] not in (_START, _ITEM):
                raise _NotPlain
            key = _scalar(plain)
            if key in top[0]:
                raise _NotPlain
            top[1], top[2] = key, _VALUE
            continue
        else:  # a value: a new collection or a scalar
            if not _wants_value(top):
                raise _NotPlain
            if punct is not None:
                if len(stack) >= MAX_DEPTH:
                    raise _NotPlain
                stack.append([{} if punct == "{" else [], None, _START])
                continue
            if top is None:
                raise _NotPlain
            value = _scalar(plain) if plain is not None else (
                single if single is not None else double)
        # `value` completes an entry of the collection now on top
        top = stack[-1]
        if isinstance(top[0], dict):
            top[0][top[1]] = value
        else:
            top[0].append(value)
        top[2] = _AFTER
    raise _NotPlain
