"""A pure IOS-XE configuration engine: a running config as a tree of lines, config mode.

No I/O here; the SSH shell drives it. A device has one :class:`ConfigEngine`; every SSH
session on it gets its own :class:`ConfigSession` (the mode stack is per session, the
config is shared).

>>> e = ConfigEngine("sw1", "hostname sw1\\ninterface Gi1/0/1\\n description old\\n")
>>> e.enter_config()
>>> e.apply("interface Gi1/0/1"), e.prompt_suffix()
(None, '(config-if)')
>>> e.apply("description new"), e.apply("hostname sw2"), e.prompt_suffix()
(None, None, '(config)')
>>> e.lines()
['hostname sw2', 'interface Gi1/0/1', ' description new']
>>> e.apply("frobnicate everything")
"% Invalid input detected at '^' marker."
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from nornir_tasks.sim import grammar
from nornir_tasks.sim.secrets_hash import salt_for, type7_encode, type8_hash, type9_hash

INVALID = "% Invalid input detected at '^' marker."
DUPLICATE_SEQ = "% Duplicate sequence number"
_PREFIX_DEPTH = 6
_VALUE = re.compile(r"^[\d./:,\-]+$")
_SEQ = re.compile(r"^(\d+) (.+)$")


@dataclass
class Node:
    """One config line and the lines under it; ``kind`` names the mode it opens."""

    text: str
    kind: str = ""
    children: list[Node] = field(default_factory=list)

    def find(self, text: str) -> Node | None:
        for child in self.children:
            if child.text == text:
                return child
        return None


def _norm(line: str) -> str:
    return " ".join(line.split())


def _signature(text: str) -> tuple[str, ...]:
    """Tokens with values generalised, the unit of the mode vocabulary.

    >>> _signature("ip address 10.0.0.1 255.255.255.0")
    ('ip', 'address', '#', '#')
    """
    return tuple("#" if _VALUE.match(t) else t.lower() for t in text.split()[:_PREFIX_DEPTH])


def opener_for(parent_kind: str, text: str) -> grammar.Opener | None:
    """The sub-mode ``text`` opens under ``parent_kind``, if any.

    >>> opener_for("global", "interface Vlan100").kind
    'if'
    >>> opener_for("global", "ip routing") is None
    True
    """
    for op in grammar.OPENERS:
        if op.parent == parent_kind and op.pattern.match(text):
            return op
    return None


def _kind_of(parent_kind: str, text: str) -> str:
    op = opener_for(parent_kind, text)
    if op:
        return op.kind
    # a section the grammar does not know still needs a stable name of its own
    return "x-" + text.split()[0] if text else "x"


def parse(text: str) -> Node:
    """Parse ``show running-config`` text (or a rendered config) into a tree."""
    root = Node("", "global")
    stack: list[tuple[int, Node]] = [(-1, root)]
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("!"):
            continue
        indent = len(raw) - len(raw.lstrip())
        if indent == 0 and stripped == "end":
            break
        if indent == 0 and stripped.startswith(("Building configuration", "Current configuration")):
            continue
        if stripped in ("exit-address-family", "exit-peer-policy", "exit-peer-session", "exit"):
            continue
        if stripped.startswith("banner ") and len(stripped.split()) >= 3:
            delim = stripped.split()[2][:2]
            body = [_norm(stripped)]
            while i < len(lines) and (len(body) == 1 or delim not in body[-1]):
                if len(body) == 1 and stripped.count(delim) >= 2:
                    break
                body.append(lines[i].rstrip())
                i += 1
            while stack[-1][0] >= indent:
                stack.pop()
            stack[-1][1].children.append(Node("\n".join(body)))
            continue
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        node = Node(_norm(stripped))
        parent.children.append(node)
        stack.append((indent, node))
    _assign_kinds(root)
    return root


def _assign_kinds(node: Node) -> None:
    for child in node.children:
        if child.children or opener_for(node.kind, child.text):
            child.kind = _kind_of(node.kind, child.text)
            _assign_kinds(child)


def _walk(node: Node, kind: str) -> Iterator[tuple[str, Node]]:
    for child in node.children:
        yield kind, child
        if child.kind:
            yield from _walk(child, child.kind)


def learn(vocab: dict[str, set[tuple[str, ...]]], root: Node) -> None:
    """Add every command prefix in ``root`` to the per-mode vocabulary."""
    for kind, node in _walk(root, "global"):
        text = node.text.split("\n")[0]
        if text.startswith("no "):
            text = text[3:]
        sig = _signature(text)
        known = vocab.setdefault(kind, set())
        for n in range(1, len(sig) + 1):
            known.add(sig[:n])


_BASE_VOCAB: dict[str, set[tuple[str, ...]]] = {}
learn(_BASE_VOCAB, parse(grammar.BASE_VOCABULARY))


def _single(kind: str, text: str) -> tuple[grammar.Single, tuple[object, ...]] | None:
    for idx, rule in enumerate(grammar.SINGLE):
        if kind in rule.kinds:
            m = rule.key.match(text)
            if m:
                return rule, (idx, m.groups() or m.group(0))
    return None


def _family_key(kind: str, text: str) -> tuple[object, ...] | None:
    pos = text[3:] if text.startswith("no ") else text
    found = _single(kind, pos)
    return found[1] if found else None


def _seq_of(text: str) -> tuple[int, bool] | None:
    m = _SEQ.match(text)
    if not m:
        return None
    return int(m.group(1)), m.group(2).startswith("remark")


class ConfigEngine:
    """One device's running and startup configuration."""

    def __init__(self, hostname: str, text: str) -> None:
        self.hostname = hostname
        self.root = parse(text)
        self.startup = copy.deepcopy(self.root)
        self.vocab: dict[str, set[tuple[str, ...]]] = {k: set(v) for k, v in _BASE_VOCAB.items()}
        learn(self.vocab, self.root)
        self._default = ConfigSession(self)

    # -- the convenience session (tests, seed) -------------------------------------
    def session(self) -> ConfigSession:
        """A new mode stack on this config (one per SSH session)."""
        return ConfigSession(self)

    def enter_config(self) -> None:
        self._default.enter_config()

    def apply(self, line: str) -> str | None:
        return self._default.apply(line)

    def prompt_suffix(self) -> str:
        return self._default.prompt_suffix()

    @property
    def in_config(self) -> bool:
        return self._default.in_config

    # -- views ------------------------------------------------------------------------
    def lines(self, root: Node | None = None) -> list[str]:
        """Config lines (no ``!``), indented as in ``show running-config``."""
        out: list[str] = []
        _render(root or self.root, 0, out, separators=False)
        return out

    def _text(self, root: Node) -> str:
        body: list[str] = []
        _render(root, 0, body, separators=True)
        text = "\n".join(["!", *body, "end"]) + "\n"
        return (f"Building configuration...\n\nCurrent configuration : {len(text)} bytes\n"
                + text)

    def running_config(self) -> str:
        """``show running-config``."""
        return self._text(self.root)

    def startup_config(self) -> str:
        """``show startup-config``."""
        return self._text(self.startup)

    def write_memory(self) -> None:
        self.startup = copy.deepcopy(self.root)

    def section(self, pattern: str) -> str:
        """``show running-config | section REGEX``: matching top-level lines and children.

        >>> ConfigEngine("r", "vlan 10\\n name A\\nvlan 20\\n name B\\n").section("vlan 20")
        'vlan 20\\n name B\\n'
        """
        rx = _regex(pattern)
        out: list[str] = []
        for child in self.root.children:
            if rx.search(child.text):
                _render(Node("", "global", [child]), 0, out, separators=False)
            else:
                # IOS also prints a parent when one of its children matches
                sub = [c for c in child.children if rx.search(c.text)]
                if sub:
                    out.append(child.text)
                    for c in sub:
                        _render(Node("", child.kind, [c]), 1, out, separators=False)
        return "".join(line + "\n" for line in out)

    def include(self, pattern: str) -> str:
        """``show running-config | include REGEX``.

        >>> ConfigEngine("r", "vlan 10\\n name A\\nhostname r\\n").include("name")
        ' name A\\nhostname r\\n'
        """
        rx = _regex(pattern)
        lines = self.running_config().splitlines()
        return "".join(line + "\n" for line in lines if rx.search(line))


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error:
        return re.compile(re.escape(pattern))


def _display(kind: str, text: str) -> str:
    if kind == "std-nacl":
        # IOS pads the action of standard ACL entries: " 20 deny   any"
        m = re.match(r"^(\d+ )?deny (.*)$", text)
        if m:
            return f"{m.group(1) or ''}deny   {m.group(2)}"
    return text


def _render(node: Node, depth: int, out: list[str], separators: bool) -> None:
    pad = " " * depth
    for child in node.children:
        text = _display(node.kind, child.text)
        if "\n" in text:
            out.extend(text.split("\n"))
        else:
            out.append(pad + text)
        if child.kind:
            if separators and depth and child.kind in grammar.SECTION_EXIT:
                out.insert(len(out) - 1, pad + "!")
            _render(child, depth + 1, out, separators)
            if child.kind in grammar.SECTION_EXIT:
                out.append(pad + grammar.SECTION_EXIT[child.kind])
            if separators and depth == 0:
                out.append("!")


class ConfigSession:
    """The mode stack of one session in configuration mode."""

    def __init__(self, engine: ConfigEngine) -> None:
        self.engine = engine
        self.stack: list[Node] = []
        self._banner: list[str] | None = None
        self._banner_delim = ""

    @property
    def in_config(self) -> bool:
        return bool(self.stack)

    def enter_config(self) -> None:
        self.stack = [self.engine.root]

    def end(self) -> None:
        self.stack = []
        self._banner = None

    def prompt_suffix(self) -> str:
        if not self.stack:
            return ""
        if len(self.stack) == 1:
            return "(config)"
        node = self.stack[-1]
        parent = self.stack[-2]
        op = opener_for(parent.kind, node.text)
        return f"({op.prompt if op else 'config-' + node.kind})"

    def apply_all(self, lines: Iterable[str]) -> list[tuple[str, str]]:
        """Apply lines in order; return ``(line, error)`` for each rejected one."""
        errors = []
        for line in lines:
            err = self.apply(line)
            if err:
                errors.append((line, err))
        return errors

    def apply(self, line: str) -> str | None:
        """Apply one config-mode line; None on success, else the IOS error text."""
        if "\n" in line and self._banner is None and not line.lstrip().startswith("banner "):
            errs = [e for e in (self.apply(part) for part in line.split("\n")) if e]
            return errs[0] if errs else None
        if not self.stack:
            return INVALID
        if self._banner is not None:
            return self._banner_line(line)
        text = _norm(line)
        if not text or text.startswith("!"):
            return None
        if text == "end":
            self.end()
            return None
        if text == "exit" or text in ("exit-address-family", "exit-peer-policy",
                                      "exit-peer-session"):
            self.stack.pop()
            return None
        if text.startswith("do "):
            return None
        neg = text.startswith(("no ", "default "))
        pos = text.split(" ", 1)[1] if neg else text
        level = self._level_for(pos)
        if level is None:
            return INVALID
        del self.stack[level + 1:]
        parent = self.stack[-1]
        op = opener_for(parent.kind, pos)
        if op:
            return self._open(parent, pos, op, neg)
        if pos.startswith("banner ") and not neg:
            return self._banner_start(line.strip())
        if parent.kind in grammar.ACL_KINDS:
            return self._acl(parent, pos, neg)
        return self._leaf(parent, pos, neg)

    # -- helpers ------------------------------------------------------------------------
    def _level_for(self, pos: str) -> int | None:
        """The mode (stack index) a line belongs to: best vocabulary match, deepest wins."""
        sig = _signature(pos)
        vocab = self.engine.vocab
        best, best_level = 0, None
        for level in range(len(self.stack) - 1, -1, -1):
            known = vocab.get(self.stack[level].kind, set())
            score = 0
            for n in range(len(sig), 0, -1):
                if sig[:n] in known:
                    score = n
                    break
            if score > best:
                best, best_level = score, level
        return best_level

    def _open(self, parent: Node, pos: str, op: grammar.Opener, neg: bool) -> str | None:
        existing = parent.find(pos)
        if existing is None and op.kind == "wlan":
            # `no wlan NAME` / `wlan NAME` address the WLAN by profile name alone
            name = pos.split()[1]
            existing = next((c for c in parent.children
                             if c.kind == "wlan" and c.text.split()[1] == name), None)
        if neg:
            if existing is not None:
                parent.children.remove(existing)
            return None
        if existing is None:
            existing = Node(pos, op.kind)
            parent.children.append(existing)
        self.stack.append(existing)
        return None

    def _leaf(self, parent: Node, pos: str, neg: bool) -> str | None:
        kind = parent.kind
        if not neg:
            pos = _protect_secrets(kind, pos, f"{self.engine.hostname} {parent.text} {pos}")
        single = _single(kind, pos)
        children = parent.children
        if single is not None:
            rule, key = single
            idx = _remove_family(parent, key)
            if neg:
                new = rule.neg.format(*key[1]) if rule.neg and isinstance(key[1], tuple) \
                    else rule.neg
            else:
                new = pos if rule.pos_shown else None
            if new is not None:
                kids = parent.children
                kids.insert(len(kids) if idx is None else idx, Node(new))
            return None
        if neg:
            exact = parent.find(pos)
            if exact is not None:
                children.remove(exact)
                return None
            starts = [c for c in children if c.text.startswith(pos + " ")]
            if len(starts) == 1:
                children.remove(starts[0])
            return None
        if parent.find("no " + pos) is not None:
            # the `no` form is what IOS shows for a default-on command; undo it
            children.remove(parent.find("no " + pos))  # type: ignore[arg-type]
            return None
        if parent.find(pos) is None:
            children.append(Node(pos))
        return None

    def _acl(self, parent: Node, pos: str, neg: bool) -> str | None:
        children = parent.children
        seq = _seq_of(pos)
        if neg:
            if pos.isdigit():
                n = int(pos)
                parent.children = [c for c in children if (_seq_of(c.text) or (-1,))[0] != n]
                return None
            if seq:
                parent.children = [c for c in children if _seq_of(c.text) != seq]
                return None
            parent.children = [c for c in children if (_SEQ.sub(r"\2", c.text)) != pos]
            return None
        if seq is None:
            last = max((s[0] for c in children if (s := _seq_of(c.text))), default=0)
            pos = f"{last + 10} {pos}"
            seq = (last + 10, pos.split()[1] == "remark")
        for c in children:
            if _seq_of(c.text) == seq:
                if seq[1]:
                    c.text = pos
                    return None
                return None if c.text == pos else DUPLICATE_SEQ
        children.append(Node(pos))
        children.sort(key=lambda c: ((_seq_of(c.text) or (0, False))[0],
                                     not (_seq_of(c.text) or (0, False))[1]))
        return None

    def _banner_start(self, line: str) -> str | None:
        parts = line.split()
        if len(parts) < 3:
            return INVALID
        delim = parts[2][:2] if parts[2].startswith("^") else parts[2][:1]
        self._banner_delim = delim
        self._banner = [_norm(line)]
        if "\n" in line:
            first, *rest = line.split("\n")
            self._banner = [_norm(first)]
            for part in rest:
                self._banner_line(part)
        return None

    def _banner_line(self, line: str) -> str | None:
        assert self._banner is not None
        self._banner.append(line.rstrip())
        if self._banner_delim in line:
            text = "\n".join(self._banner)
            self._banner = None
            root = self.stack[0]
            kind_key = _family_key("global", text.split("\n")[0])
            idx = _remove_family(root, kind_key) if kind_key else None
            root.children.insert(len(root.children) if idx is None else idx, Node(text))
        return None


def _remove_family(parent: Node, key: tuple[object, ...]) -> int | None:
    """Remove the lines sharing ``key``; return where the first one was."""
    first: int | None = None
    kept: list[Node] = []
    for i, child in enumerate(parent.children):
        head = child.text.split("\n")[0]
        if not child.kind and _family_key(parent.kind, head) == key:
            if first is None:
                first = i
            continue
        kept.append(child)
    parent.children = kept
    return first


_SECRET = re.compile(r"^(?P<head>(?:enable|username \S+.*?) secret)(?: (?P<t>[0589]))? (?P<v>\S+)$")
_PASSWORD = re.compile(r"^(?P<head>(?:enable|username \S+.*?|) ?password)(?: (?P<t>[07]))?"
                       r" (?P<v>\S+)$")
_KEY = re.compile(r"^(?P<head>.*?\b(?:server-key|key|key-string))(?: (?P<t>[067]))? (?P<v>\S+)$")
_PSK = re.compile(r"^(?P<head>security wpa psk set-key ascii)(?: (?P<t>[08]))? (?P<v>\S+)$")
_MGMTUSER = re.compile(r"^mgmtuser username (?P<u>\S+) password (?P<pt>[08]) (?P<p>\S+)"
                       r"(?: secret (?P<st>[08]) (?P<s>\S+))?$")
_KEY_KINDS = frozenset({"radius", "tacacs", "locsvr", "keychain-key", "global"})


def _protect_secrets(kind: str, text: str, salt_src: str) -> str:
    """Store secrets the way IOS does: hashed or type-7 encoded, never in clear.

    >>> _protect_secrets("global", "enable secret 0 cisco", "s")[:16]
    'enable secret 9 '
    >>> _protect_secrets("tacacs", "key 0 cisco", "s")[:6]
    'key 7 '
    >>> _protect_secrets("tacacs", "key 7 0822455D0A16", "s")
    'key 7 0822455D0A16'
    >>> _protect_secrets("if", "tunnel key 2241", "s")
    'tunnel key 2241'
    """
    salt = salt_for(salt_src)
    seed = sum(salt.encode()) % 16
    m = _SECRET.match(text)
    if m and kind == "global":
        if m["t"] in (None, "0"):
            return f"{m['head']} 9 {type9_hash(m['v'], salt)}"
        return text
    m = _PSK.match(text)
    if m and kind == "wlan":
        if m["t"] in (None, "0"):
            return f"{m['head']} 8 {type8_hash(m['v'], salt)}"
        return text
    m = _MGMTUSER.match(text)
    if m and kind == "ap-profile":
        out = f"mgmtuser username {m['u']} password 8 "
        out += m["p"] if m["pt"] == "8" else type8_hash(m["p"], salt)
        if m["s"]:
            out += " secret 8 " + (m["s"] if m["st"] == "8" else type8_hash(m["s"], salt))
        return out
    m = _KEY.match(text)
    if m and kind in _KEY_KINDS and (kind != "global" or text.startswith(("radius-server",
                                                                          "tacacs-server"))):
        if m["t"] in (None, "0"):
            return f"{m['head']} 7 {type7_encode(m['v'], seed)}"
        return text
    m = _PASSWORD.match(text)
    if m and kind in ("global", "line") and m["t"] in (None, "0"):
        return f"{m['head']} 7 {type7_encode(m['v'], seed)}"
    return text
