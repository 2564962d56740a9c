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

from nornir_tasks.intent.loader import GLOBAL_SECTIONS
from nornir_tasks.intent.model import Device, Site

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


def render() -> str:
    out = ["# Inventory format", "",
           "Generated from `nornir_tasks/intent/model.py` by "
           "`python -m nornir_tasks.intent.schema_docs`; do not edit by hand.", "",
           "Every mapping rejects unknown keys, so a typo is an error that names the key.", ""]
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
