"""The reference inventory is valid, is the estate it claims to be, and loads the same way
every time. The invalid side lives in ``test_intent_cases.py``."""

from __future__ import annotations

import dataclasses
import shutil
from collections import Counter
from pathlib import Path

import pytest

from nornir_tasks.errors import IntentError, Problem
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.intent.model import Role, SiteKind
from nornir_tasks.interfaces import expand_interface_range

EDUCATION = {SiteKind.school, SiteKind.kindergarten, SiteKind.education_unit}
SWITCH_ROLES = {Role.core, Role.distribution, Role.access}


def _hosts(intent: Intent, roles: set[Role], kinds: set[SiteKind]) -> list[str]:
    return sorted(h for h, d in intent.devices.items()
                  if d.role in roles and intent.site_of(h).kind in kinds)


# --------------------------------------------------------------------------- the estate


def test_reference_inventory_loads() -> None:
    intent = load_intent(Path(__file__).resolve().parents[2] / "inventory")
    assert intent.sites and intent.devices


def test_site_counts(intent: Intent) -> None:
    kinds = Counter(site.kind for site in intent.sites.values())
    assert kinds == {SiteKind.school: 18, SiteKind.kindergarten: 13,
                     SiteKind.education_unit: 3, SiteKind.municipal: 58, SiteKind.core: 1}


def test_switch_counts(intent: Intent) -> None:
    assert len(_hosts(intent, SWITCH_ROLES, EDUCATION)) >= 139
    assert len(_hosts(intent, SWITCH_ROLES, set(intent.site_kinds))) >= 200


def test_access_point_counts(intent: Intent) -> None:
    assert len(_hosts(intent, {Role.ap}, EDUCATION)) >= 148
    assert _hosts(intent, {Role.ap}, {SiteKind.municipal})


def test_every_site_has_a_switch_and_an_access_point(intent: Intent) -> None:
    for slug in intent.sites:
        roles = {intent.devices[h].role for h in intent.site_devices(slug)}
        assert roles & SWITCH_ROLES, slug
        assert Role.ap in roles, slug


def test_sixty_phone_ports_over_the_schools(intent: Intent) -> None:
    phones = [port for host in _hosts(intent, SWITCH_ROLES, {SiteKind.school})
              for pa in intent.devices[host].ports if pa.profile == "phone"
              for port in expand_interface_range(pa.range)]
    assert len(phones) == 60


def test_core_site(intent: Intent) -> None:
    (core,) = [s for s, site in intent.sites.items() if site.kind == SiteKind.core]
    roles = Counter(intent.devices[h].role for h in intent.site_devices(core))
    assert roles[Role.core] == 2
    assert roles[Role.wlc] == 1


def test_every_access_point_has_a_unique_mac(intent: Intent) -> None:
    macs = [d.mac for d in intent.devices.values() if d.role is Role.ap]
    assert None not in macs
    assert len(set(macs)) == len(macs)


def test_role_groups_follow_the_roles(intent: Intent) -> None:
    for role in Role:
        assert intent.groups[role.value] == {h for h, d in intent.devices.items()
                                             if d.role is role}


# --------------------------------------------------------------------------- problems


def test_problems_are_sorted_and_deduplicated() -> None:
    a = Problem("group_vars/all/zones.yml", "zones.guest.vlan", "x")
    b = Problem("group_vars/site_a.yml", "site.index", "y")
    c = Problem("hosts.yml", "a-sw01.ansible_host", "z")
    err = IntentError([c, a, b, a, c])
    assert err.problems == [a, b, c]
    assert str(err).splitlines() == [str(a), str(b), str(c)]


def test_problem_without_path_prints_file_and_message() -> None:
    assert str(Problem("host_vars/x.yml", "", "stale")) == "host_vars/x.yml: stale"


def test_reported_problems_are_sorted_and_unique(inventory_copy: Path) -> None:
    # semantic mistakes in two files, found by checks that run in another order than the
    # sorted one (devices are checked after sites)
    site = inventory_copy / "group_vars" / "site_alta_skole.yml"
    text = site.read_text(encoding="utf-8")
    broken = text.replace("  index: 9\n", "  index: 93\n").replace(
        "transit: 10.255.1.0/27", "transit: 10.255.1.0/28")
    assert broken.count("93") == 1 and "/28" in broken
    site.write_text(broken, encoding="utf-8")
    hosts = inventory_copy / "hosts.yml"
    text = hosts.read_text(encoding="utf-8")
    broken = text.replace("mac: f4db.e601.4f42", "mac: f4db.e672.6ad7")  # alta-skole-ap02
    broken = broken.replace("ansible_host: 10.0.2.196", "ansible_host: 10.0.99.1")
    assert broken.count("f4db.e672.6ad7") == 2 and "10.0.99.1" in broken
    hosts.write_text(broken, encoding="utf-8")
    with pytest.raises(IntentError) as info:
        load_intent(inventory_copy)
    problems = info.value.problems
    assert len(problems) >= 4
    assert problems == sorted(set(problems))


# --------------------------------------------------------------------------- determinism


def _fields(intent: Intent) -> dict[str, object]:
    return {f.name: getattr(intent, f.name) for f in dataclasses.fields(intent)
            if f.name not in ("root", "_memo")}  # _memo: answers cached on demand


def test_loading_is_deterministic(intent: Intent, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere"
    shutil.copytree(intent.root, copy)
    again = load_intent(copy)
    assert _fields(again) == _fields(intent)
    # same order too: configs and docs iterate these mappings
    for name in ("sites", "devices", "zones", "port_profiles", "device_models"):
        assert list(getattr(again, name)) == list(getattr(intent, name)), name


def test_errors_are_deterministic(inventory_copy: Path) -> None:
    hosts = inventory_copy / "hosts.yml"
    hosts.write_text(hosts.read_text(encoding="utf-8").replace(
        "ansible_host: 10.0.2.195", "ansible_host: 10.0.2.194"), encoding="utf-8")
    runs = []
    for _ in range(2):
        with pytest.raises(IntentError) as info:
            load_intent(inventory_copy)
        runs.append(info.value.problems)
    assert runs[0] == runs[1] and runs[0]
