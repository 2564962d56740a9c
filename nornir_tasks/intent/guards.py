"""What the loader refuses before it trusts a file: bounds on reading, and secrets.

The inventory is written by people and read by CI, so bad input must end in a located
error, never in a hang, a leak or a file from elsewhere:

* a symbolic link whose target leaves the inventory is refused by name, before anything
  is read through it (a config must not be built from ``/etc/...``);
* a YAML document with aliases is checked as a node graph before it becomes Python
  objects: aliases may not expand it to more than :data:`EXPANSION_FACTOR` times its
  size (the "billion laughs" bomb), nor may it nest deeper than :data:`MAX_DEPTH`. The
  check walks each distinct node once, so a bomb costs what its text cost to parse;
* an ``ansible_*`` credential variable must be vault-encrypted (``!vault``) or a Jinja
  expression (``{{ lookup('env', ...) }}``), never plain text;
* an error message never repeats the value of a key that may hold a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: deeper than any inventory needs (hosts.yml: about 10 levels); far below the depth at
#: which PyYAML's constructor or the fast reader would exhaust the Python stack
MAX_DEPTH = 64
#: aliases may make a document this many times its written size...
EXPANSION_FACTOR = 10
#: ...or this many values, whichever is larger
EXPANSION_FLOOR = 100_000

#: Ansible connection variables that hold a secret (ansible_password, ansible_ssh_pass,
#: ansible_become_password, ansible_ssh_private_key_passphrase, ansible_httpapi_password...)
_CREDENTIAL = re.compile(r"ansible_\w*(?:pass|secret|token)")
#: key names whose value may be a secret: an error message never repeats such a value
_SECRET_KEY = re.compile(r"pass|secret|key|community|psk|token", re.IGNORECASE)
#: a value Ansible templates whole: ``{{ lookup('env', 'X') }}``
_TEMPLATE = re.compile(r"\s*\{\{.*\}\}\s*", re.DOTALL)

REDACTED = "value not shown: the key may hold a secret"


# --------------------------------------------------------------------------- secrets


@dataclass(frozen=True)
class Vaulted:
    """A value encrypted with ``ansible-vault encrypt_string`` (``!vault |``). Only
    Ansible can read it; to fellesnett it is an opaque, and acceptable, secret."""

    ciphertext: str

    def __repr__(self) -> str:
        return "Vaulted(...)"


def construct_vaulted(loader: Any, node: yaml.Node) -> Vaulted:
    """PyYAML constructor of the ``!vault`` tag (a scalar; anything else is an error)."""
    return Vaulted(str(loader.construct_scalar(node)))


def is_credential_key(key: object) -> bool:
    """Is ``key`` an Ansible variable that holds a secret?

    >>> is_credential_key("ansible_ssh_private_key_passphrase"), is_credential_key("ansible_host")
    (True, False)
    """
    return isinstance(key, str) and _CREDENTIAL.match(key) is not None


def is_plain_credential(key: object, value: object) -> bool:
    """Is this an Ansible credential variable written in plain text?

    >>> is_plain_credential("ansible_become_password", "Hunter2!")
    True
    >>> is_plain_credential("ansible_password", "{{ lookup('env', 'NET_PASSWORD') }}")
    False
    >>> is_plain_credential("ansible_password", Vaulted("$ANSIBLE_VAULT;1.1;AES256 ..."))
    False
    >>> is_plain_credential("ansible_user", "netops"), is_plain_credential("ansible_ssh_pass", None)
    (False, False)
    """
    if not is_credential_key(key):
        return False
    if value is None or isinstance(value, Vaulted):
        return False
    return not (isinstance(value, str) and _TEMPLATE.fullmatch(value))


PLAIN_CREDENTIAL = ("a plain-text secret: encrypt it (ansible-vault encrypt_string gives "
                    "a `!vault |` value) or look it up at run time "
                    "(\"{{ lookup('env', 'NAME') }}\")")


def may_be_secret(parts: Iterable[object]) -> bool:
    """Does a key path name a key that may hold a secret?

    >>> may_be_secret(("aaa", "radius", "key_secret")), may_be_secret(("zones", "guest"))
    (True, False)
    """
    # "[key]" is pydantic's marker of a mapping's key that failed (the key is the name)
    return any(isinstance(p, str) and p != "[key]" and _SECRET_KEY.search(p) for p in parts)


# --------------------------------------------------------------------------- YAML bounds


def node_graph_problem(root: yaml.Node) -> tuple[yaml.Node, str] | None:
    """Why a composed document must not be constructed, and the node to locate it at.

    Aliases make the graph a DAG (or, recursively, a cycle); its expanded size is
    computed bottom-up, each distinct node once, so a bomb costs no more to refuse than
    its text cost to parse.

    >>> bomb = 'a: &a ["x", "x"]\\nb: &b [*a, *a]\\nc: &c [*b, *b]\\nd: [*c, *c]\\n'
    >>> node_graph_problem(yaml.compose(bomb)) is None
    True
    >>> deep = "[" * 70 + "]" * 70
    >>> node_graph_problem(yaml.compose(deep))[1]
    'nested more than 64 levels deep'
    """
    size: dict[int, int] = {}  # expanded values under a collection node, itself included
    on_path: set[int] = set()  # the collections from the root to the current one
    reused: dict[int, yaml.Node] = {}  # collections reached more than once (anchored)
    distinct = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            size[key] = 1 + sum(size.get(id(c), 1) for c in _children(node))
            continue
        if key in size:
            reused[key] = node
            continue
        if key in on_path:
            return node, "an alias refers to the node it is part of (recursive alias)"
        if len(on_path) >= MAX_DEPTH:
            return node, f"nested more than {MAX_DEPTH} levels deep"
        on_path.add(key)
        children = _children(node)
        distinct += 1 + sum(isinstance(c, yaml.ScalarNode) for c in children)
        stack.append((node, True))
        stack.extend((c, False) for c in children if not isinstance(c, yaml.ScalarNode))
    total = size.get(id(root), 1)
    limit = max(EXPANSION_FLOOR, EXPANSION_FACTOR * distinct)
    if total > limit:
        anchor = max(reused.values(), key=lambda n: size[id(n)], default=root)
        return anchor, (f"aliases of the anchor here expand the document to {total:,} "
                        f"values, more than {limit:,} (a YAML alias bomb?); write the "
                        "values out or use fewer aliases")
    return None


def _children(node: yaml.Node) -> Sequence[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value  # type: ignore[no-any-return]
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return ()


# --------------------------------------------------------------------------- links


def escaping_link(root: Path, folder: Path, name: str) -> str | None:
    """Where the link ``folder/name`` really leads, if that is outside ``root`` (resolved).

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     inv = Path(d, "inv"); inv.mkdir(); (inv / "real.yml").touch()
    ...     os.symlink("/etc/hostname", inv / "x.yml"); os.symlink("real.yml", inv / "y.yml")
    ...     escaping_link(inv.resolve(), inv, "x.yml"), escaping_link(inv.resolve(), inv, "y.yml")
    ('/etc/hostname', None)
    """
    target = (folder / name).resolve()
    return None if target.is_relative_to(root) else str(target)
