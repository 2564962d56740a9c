"""--limit follows Ansible's host-pattern semantics."""

from __future__ import annotations

import pytest

from nornir_tasks.errors import UsageError
from nornir_tasks.limit import select_hosts

GROUPS = {
    "all": frozenset({"s1-acc01", "s1-dist01", "k1-sw01", "m1-sw01", "s1-ap01"}),
    "school": frozenset({"s1-acc01", "s1-dist01", "s1-ap01"}),
    "site_s1": frozenset({"s1-acc01", "s1-dist01", "s1-ap01"}),
    "kindergarten": frozenset({"k1-sw01"}),
    "site_k1": frozenset({"k1-sw01"}),
    "municipal": frozenset({"m1-sw01"}),
    "access": frozenset({"s1-acc01", "k1-sw01", "m1-sw01"}),
    "distribution": frozenset({"s1-dist01"}),
    "ap": frozenset({"s1-ap01"}),
}


@pytest.mark.parametrize("expr, want", [
    ("all", {"s1-acc01", "s1-dist01", "k1-sw01", "m1-sw01", "s1-ap01"}),
    ("site_s1", {"s1-acc01", "s1-dist01", "s1-ap01"}),
    ("access:&municipal", {"m1-sw01"}),
    ("access,&municipal", {"m1-sw01"}),
    ("!kindergarten:!ap", {"s1-acc01", "s1-dist01", "m1-sw01"}),
    ("&access", {"s1-acc01", "k1-sw01", "m1-sw01"}),
    ("site_*", {"s1-acc01", "s1-dist01", "s1-ap01", "k1-sw01"}),
    ("*-sw01", {"k1-sw01", "m1-sw01"}),
    ("~^s1-(acc|dist)", {"s1-acc01", "s1-dist01"}),
    # exclusions apply after unions whatever the written order (as Ansible does)
    ("!ap,school", {"s1-acc01", "s1-dist01"}),
    ("kindergarten,municipal", {"k1-sw01", "m1-sw01"}),
    ("s1-acc01", {"s1-acc01"}),
])
def test_patterns(expr: str, want: set[str]) -> None:
    assert select_hosts(expr, GROUPS) == want


def test_unknown_term_is_an_error_not_a_silent_narrowing() -> None:
    with pytest.raises(UsageError, match="'scool' matches no group"):
        select_hosts("school,scool", GROUPS)
