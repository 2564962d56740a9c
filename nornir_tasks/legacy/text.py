"""The statements of a config text, each with its line number and context.

The block structure comes from hier_config (the parser the deploys use): its tree says
which line is a child of which (``interface ...`` and its indented lines, a multi-line
``banner``). Its drivers leave some lines out of the tree (IOS: ``version``,
``Building configuration...``); so the tree is matched back onto the text line by line,
and a line the tree does not hold is either the text's framing (blank, ``!``, ``end``,
``exit``, the header) or a top-level statement of its own. Every line of the text is
therefore accounted for exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hier_config import Platform, get_hconfig

from nornir_tasks.live.secrets import MASK, mask_line

#: lines that only frame the text (comments of the text itself, separators, the header)
FRAMING = re.compile(r"^(?:!.*|end|exit|Building configuration\.\.\.|"
                     r"Current configuration : \d+ bytes|Running configuration:)?$")


@dataclass(frozen=True)
class Statement:
    number: int  # 1-based line of the text where it starts
    text: str  # as the text has it, without indentation (a banner: its lines joined)
    context: tuple[str, ...]  # the enclosing statements, outermost first
    span: int  # lines of the text it takes


def _norm(text: str) -> str:
    return " ".join(text.split())


def _tree(text: str, platform: Platform) -> list[tuple[str, tuple[str, ...]]]:
    """(text, context) of every node of hier_config's tree, depth first, in text order."""
    out: list[tuple[str, tuple[str, ...]]] = []

    def walk(node: object, context: tuple[str, ...]) -> None:
        for child in node.children:  # type: ignore[attr-defined]
            out.append((child.text, context))
            walk(child, (*context, child.text))

    walk(get_hconfig(platform, text), ())
    return out


def statements(text: str, platform: Platform) -> tuple[list[Statement], int]:
    """The statements of ``text`` and the number of framing lines."""
    lines = text.splitlines()
    nodes = _tree(text, platform)
    out: list[Statement] = []
    framing = 0
    i = 0  # next line of the text
    for node_text, context in nodes:
        first, *rest = node_text.split("\n")
        # the lines before this node's line: framing, or lines the parser left out
        while i < len(lines) and _norm(lines[i]) != _norm(first):
            framing += _unmatched(lines, i, out)
            i += 1
        if i == len(lines):
            raise ValueError(f"the parser's line {first!r} is not in the text")
        out.append(Statement(i + 1, lines[i].strip() if not rest else node_text, context,
                             1 + len(rest)))
        i += 1 + len(rest)
    while i < len(lines):
        framing += _unmatched(lines, i, out)
        i += 1
    return out, framing


def _unmatched(lines: list[str], i: int, out: list[Statement]) -> int:
    """A line the tree does not hold: 1 if it is framing, else a statement of its own,
    in the block of the last top-level statement when it is indented (IOS's parser
    leaves out an interface's ``no ip address``)."""
    stripped = lines[i].strip()
    if FRAMING.match(stripped):
        return 1
    top = next((st.text for st in reversed(out) if not st.context), None)
    indented = lines[i][:1] in (" ", "\t")
    out.append(Statement(i + 1, stripped, (top,) if indented and top else (), 1))
    return 0


# what mask_line (Cisco's typed secrets, communities, crypt hashes) leaves: ArubaOS-Switch
# quotes its values and types them by word (`plaintext "..."`, `sha1 "..."`)
_WORD_SECRET = re.compile(
    r'(?P<kw>(?<![\w-])(?:key|password|secret|plaintext|sha1|sha256|community))'
    r'(?P<gap>\s+)(?P<value>"[^"]*"|(?!manager\b|operator\b|chain\b|port-access\b)\S+)')


def masked(line: str) -> str:
    """A line as a report may print it: every secret replaced, on either platform.

    >>> masked('snmp-server community "public" unrestricted')
    'snmp-server community <<secret>> unrestricted'
    >>> masked('password manager user-name "admin" plaintext "Hemmelig1"')
    'password manager user-name "admin" plaintext <<secret>>'
    >>> masked('radius-server host 10.0.0.5 key "Radius!23"')
    'radius-server host 10.0.0.5 key <<secret>>'
    >>> masked("enable secret 5 $1$kKSW$fCMwnMdYvXui1TulfyYHN/")
    'enable secret <<secret>>'
    >>> masked("key chain OSPF"), masked("service password-encryption")
    ('key chain OSPF', 'service password-encryption')
    """
    line = mask_line(line)
    return _WORD_SECRET.sub(lambda m: m[0] if m["value"] == MASK
                            else f"{m['kw']}{m['gap']}{MASK}", line)
