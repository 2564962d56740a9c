"""The inventory format reference, generated from the intent models (the schema is the doc).

``python -m nornir_tasks.intent.schema_docs > docs/inventory-format.md``; a test keeps the
committed file equal to the output, so the reference cannot drift from the code.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from nornir_tasks.intent.guards import EXPANSION_FACTOR, EXPANSION_FLOOR, MAX_DEPTH
from nornir_tasks.intent.loader import GLOBAL_SECTIONS
from nornir_tasks.intent.model import HOSTNAME_MAX, SITE_KIND_MAX, Device, Site, SiteKind

#: where each top-level model lives in the inventory
SECTIONS: list[tuple[str, str, Any]] = [
    *((f"`{key}`", f"group_vars/all/*.yml, key `{key}`", model)
      for key, model in GLOBAL_SECTIONS.items()),
    ("`site`", "group_vars/site_<slug>.yml, key `site`", Site),
    ("host", "hosts.yml (one line per host) + host_vars/<host>.yml", Device),
]


def type_name(tp: Any) -> str:
    """Readable name of a field type.

    >>> type_name(list[int])
    'list of int'
    >>> type_name(int | None)
    'int or null'
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join("null" if a is type(None) else type_name(a) for a in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping {type_name(args[0])} → {type_name(args[1])}"
    if tp is SiteKind:
        return "site kind"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    return getattr(tp, "__name__", str(tp))


def _models(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    return [m for a in typing.get_args(tp) for m in _models(a)]


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    default = info.get_default(call_default_factory=True)
    if isinstance(default, enum.Enum):
        return f"`{default.value}`"
    if isinstance(default, BaseModel):
        return "(defaults)"
    return f"`{default!r}`" if default not in (None, [], {}) else "—"


#: what the loader refuses beyond the models (nornir_tasks/intent/guards.py, loader.py)
RULES = [
    "**Host names** (the keys under `hosts:`) are what the device's `hostname` takes: a "
    "lowercase letter first, a letter or digit last, only lowercase letters, digits and "
    f"hyphens between, at most {HOSTNAME_MAX} characters (docs/reference/ios-xe-syntax.md, "
    "Host names). `hosts.yml` lists at least one host.",
    "**Symbolic links** may point only inside the inventory: a link whose target leaves it "
    "is refused by name, and nothing is read through it.",
    "**YAML anchors and aliases** are read, but aliases may make a file at most "
    f"{EXPANSION_FACTOR} times its written size (or {EXPANSION_FLOOR:,} values), and a file "
    f"that uses them nests at most {MAX_DEPTH} levels: an alias bomb is refused at its "
    "anchor at once. A file nested deeper than the YAML reader goes is refused too.",
    "**Secrets are never written here.** A `*_secret` key holds the NAME of a secret, "
    "resolved at deploy time. An Ansible credential variable (`ansible_password`, "
    "`ansible_become_password`, `ansible_ssh_pass`, any `ansible_*` whose name holds "
    "`pass`, `secret` or `token`) is vault-encrypted (`!vault |`, from `ansible-vault "
    "encrypt_string`) or a lookup (`\"{{ lookup('env', 'NET_PASSWORD') }}\"`). An error "
    "never repeats the value of a key whose name holds `pass`, `secret`, `key`, "
    "`community`, `psk` or `token`.",
    "**Site kinds** are the keys of `site_kinds` (lowercase letters, digits and `_`, a "
    f"letter first, at most {SITE_KIND_MAX} characters). One is `core`, the kind of the one "
    "site with the core pair. Every `site.kind`, every key of a pool's `prefix_length` and "
    "every entry of an SSID's `site_kinds` is one of them. A site's group in `hosts.yml` "
    "sits under its kind's group, which is the kind's name, or `<kind>_site` for a kind "
    "named like a role group (`core_site`).",
    "**Servers a protocol needs:** `aaa.tacacs.servers` holds at least one server (device "
    "logins); `aaa.radius.servers` too, as soon as a port profile uses 802.1X or MAB or an "
    "SSID uses 802.1X.",
]


def render() -> str:
    out = ["# Inventory format", "",
           "Generated from `nornir_tasks/intent/model.py` by "
           "`python -m nornir_tasks.intent.schema_docs`; do not edit by hand.", "",
           "Every mapping rejects unknown keys, so a typo is an error that names the key.", "",
           "## Rules of the files", "", *(f"* {rule}" for rule in RULES), ""]
    seen: set[type[BaseModel]] = set()
    queue: list[tuple[str, str, type[BaseModel]]] = []
    for title, where, tp in SECTIONS:
        for model in _models(tp):
            queue.append((title, where, model))
    while queue:
        title, where, model = queue.pop(0)
        if model in seen:
            continue
        seen.add(model)
        out += [f"## {model.__name__}", ""]
        if where:
            out += [f"{title} — in {where}." if title else f"In {where}.", ""]
        if model.__doc__ and model.__doc__.strip() and "Usage docs" not in model.__doc__:
            out += [" ".join(model.__doc__.split()), ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            key = info.alias or name
            desc = " ".join((info.description or "").split()).replace("|", "\\|")
            out.append(f"| `{key}` | {type_name(info.annotation)} | {_default(info)} | "
                       f"{desc} |")
            for sub in _models(info.annotation):
                queue.append(("", "", sub))
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
