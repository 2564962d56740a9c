"""``docs/secrets.md``: every secret the intent names, where it is used, never a value.

:func:`secret_uses` is also what the runbook's names table and the tests' simulated
secrets are drawn from, so the checklist and the environment variables a push reads are
one list.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel

from nornir_tasks.design.structured import secret_placeholder
from nornir_tasks.handover.facts import SWITCH_ROLES
from nornir_tasks.handover.markdown import GENERATED, NONE, md_table, md_text
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import (
    Aaa,
    LocalUser,
    RadiusConfig,
    Role,
    SnmpUser,
    Ssid,
    TacacsConfig,
)


@dataclass(frozen=True, slots=True)
class SecretUse:
    """One place the intent refers to a secret by name."""

    name: str
    key: str  # inventory key path, e.g. aaa.local_users[0].secret
    purpose: str
    devices: str


def _walk_secrets(obj: object, path: str) -> Iterator[tuple[str, str, BaseModel]]:
    """Yield (key path, secret name, owning model) for every secret-named field.

    Secret references follow one naming rule in the model (``secret`` or ``*_secret``),
    so a walk finds new ones without this module having to learn about them first.
    """
    if isinstance(obj, BaseModel):
        if _secret_free(type(obj)):
            return  # a device or site: thousands of them, none can hold a secret
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            key = f"{path}.{name}" if path else name
            if (name == "secret" or name.endswith("_secret")) and isinstance(value, str):
                yield key, value, obj
            else:
                yield from _walk_secrets(value, key)
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            yield from _walk_secrets(obj[k], f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _walk_secrets(item, f"{path}[{i}]")


#: field types whose values hold no model, so no secret field below them
_LEAVES = (str, int, float, bytes, type(None), Enum, ipaddress.IPv4Address,
           ipaddress.IPv4Network, ipaddress.IPv4Interface, ipaddress.IPv6Address,
           ipaddress.IPv6Network, ipaddress.IPv6Interface)
_CONTAINERS = (list, tuple, dict, set, frozenset, Union, UnionType)
_FREE: dict[type[BaseModel], bool] = {}


def _secret_free(cls: type[BaseModel]) -> bool:
    """No instance of ``cls`` holds a secret-named field at any depth, by its field types
    (validated models hold what their annotations say). Anything the types do not tell
    (``Any``, a class of unknown kind) counts as possibly holding one, so it is walked.

    >>> from nornir_tasks.intent.model import Aaa, Device
    >>> _secret_free(Device), _secret_free(Aaa)
    (True, False)
    """
    if cls not in _FREE:
        _FREE[cls] = False  # while deciding: a model that contains itself is walked
        _FREE[cls] = all(not (name == "secret" or name.endswith("_secret"))
                         and _free_type(info.annotation)
                         for name, info in cls.model_fields.items())
    return _FREE[cls]


def _free_type(tp: object) -> bool:
    origin = get_origin(tp)
    if origin is Annotated:
        return _free_type(get_args(tp)[0])
    if origin is not None:
        return origin in _CONTAINERS and all(_free_type(a) for a in get_args(tp)
                                             if a is not Ellipsis)
    if not isinstance(tp, type):
        return False
    if issubclass(tp, BaseModel):
        return _secret_free(tp)
    return issubclass(tp, _LEAVES)


def secret_uses(intent: Intent) -> list[SecretUse]:
    """Every secret reference in the intent, with what it is for and where it is needed."""
    roles = Counter(d.role for d in intent.devices.values())
    wlcs = sorted(h for h, d in intent.devices.items() if d.role is Role.wlc)
    managed = (f"every switch ({sum(roles[r] for r in SWITCH_ROLES)}) and controller "
               f"({roles[Role.wlc]})")
    on_wlc = ", ".join(wlcs) or NONE
    # the controller's AP join profile logs APs in as the first local user by name, with
    # the enable secret (design/wlc.py); without local users APs get no login of ours
    users = sorted(u.name for u in intent.aaa.local_users)
    ap_login = users[0] if users and roles[Role.ap] else None

    def servers(names: Iterable[str]) -> str:
        return ", ".join(names)

    def describe(owner: BaseModel, field: str) -> tuple[str, str]:
        if isinstance(owner, TacacsConfig):
            return ("TACACS+ shared key", f"{managed}; the same key on TACACS+ servers "
                    f"{servers(s.name for s in owner.servers)}")
        if isinstance(owner, RadiusConfig):
            return ("RADIUS shared key (802.1X, MAB, CoA)", f"{managed}; the same key as "
                    f"client secret on RADIUS servers {servers(s.name for s in owner.servers)}")
        if isinstance(owner, LocalUser):
            where = managed
            if owner.name == ap_login:
                where += f"; APs ({roles[Role.ap]}), via the controller's AP join profile"
            return (f"password of local user `{owner.name}` (privilege {owner.privilege})",
                    where)
        if isinstance(owner, Aaa) and field == "enable_secret":
            where = managed
            if ap_login is not None:
                where += f"; APs ({roles[Role.ap]}), via the controller's AP join profile"
            return ("enable secret", where)
        if isinstance(owner, SnmpUser):
            what = "authentication" if field == "auth_secret" else "privacy"
            return (f"SNMPv3 {what} key of user `{owner.name}`",
                    f"{managed}; the same key on the SNMP collectors "
                    f"{', '.join(str(a) for a in intent.management.snmp_collectors)}")
        if isinstance(owner, Ssid):
            return (f"WPA pre-shared key of SSID `{owner.ssid}` (WLAN {owner.wlan_id})",
                    f"controller {on_wlc}; given to guests")
        # a secret field this module does not know yet: still listed, by its key
        return (f"`{field}`", NONE)

    roots: list[tuple[str, object]] = [
        ("aaa", intent.aaa), ("management", intent.management), ("wireless", intent.wireless),
        ("zones", intent.zones), ("address_pools", intent.pools),
        ("zone_policy", intent.policy), ("services", intent.services),
        ("port_profiles", intent.port_profiles), ("device_models", intent.device_models),
        ("sites", intent.sites), ("hosts", intent.devices),
    ]
    uses: list[SecretUse] = []
    for root, obj in roots:
        for key, name, owner in _walk_secrets(obj, root):
            purpose, devices = describe(owner, key.rsplit(".", 1)[-1])
            uses.append(SecretUse(name, key, purpose, devices))
    return sorted(uses, key=lambda u: (u.name, u.key))


def secrets_md(intent: Intent) -> str:
    """``docs/secrets.md``: the checklist of secret names and where each is used."""
    uses = secret_uses(intent)
    out = ["# Secrets to provision", "", GENERATED, "",
           "Intended configs and handover files carry placeholders of the form "
           f"`{secret_placeholder('NAME')}` instead of secret values; the deploy step "
           "resolves each from the environment or ansible-vault. This list holds names only, "
           "never values. Provision every secret below before the first deploy.", "",
           "## Checklist", ""]
    out += [f"- [ ] `{secret_placeholder(n)}`" for n in sorted({u.name for u in uses})]
    out += ["", "## Where each secret is used", ""]
    out += md_table(["Placeholder", "Inventory key", "Used for", "Needed on"],
                    ([f"`{secret_placeholder(u.name)}`", f"`{u.key}`", u.purpose, u.devices]
                     for u in uses))
    return md_text(out)


__all__ = [
    "SecretUse",
    "secret_uses",
    "secrets_md",
]
