"""Golden configs: one device of each role and site kind, compared byte for byte.

A change to the design or the templates that alters any of these must change the golden
file in the same commit. Regenerate with ``pytest tests/unit/test_golden.py
--update-golden`` and review the diff; never regenerate blindly.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from nornir_tasks.build import render_host
from nornir_tasks.intent.loader import Intent

GOLDEN = Path(__file__).resolve().parents[1] / "golden"

# host -> why it is representative
CASES = {
    "radhuset-core01": "core switch: HSRP, every site's transit, NNI and GRE underlay",
    "radhuset-wlc01": "Catalyst 9800 HA/SSO pair",
    "radhuset-acc01": "access switch at the core site",
    "alta-ungdomsskole-dist01": "school distribution switch (site gateway, VRF-lite over l2)",
    "alta-ungdomsskole-acc01": "school access switch with APs",
    "alta-skole-acc01": "school access switch with IP-phone ports",
    "komagfjord-skole-dist01": "school gateway over L3VPN (GRE per zone)",
    "bossekop-barnehage-sw01": "kindergarten: single switch as site gateway",
    "pp-tjenesten-dist01": "education unit distribution switch",
    "pp-tjenesten-acc01": "education unit access switch",
    "alta-helsesenter-dist01": "municipal site with distribution switch",
    "barnevernet-sw01": "municipal single-switch site (no pupils zone)",
}


@pytest.mark.parametrize("host", sorted(CASES))
def test_golden(host: str, intent: Intent, request: pytest.FixtureRequest) -> None:
    text = render_host(intent, host)
    path = GOLDEN / f"{host}.cfg"
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file for {host}: run with --update-golden and review"
    expected = path.read_text()
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            f"golden/{host}.cfg", "rendered", n=2))
        pytest.fail(f"{host} ({CASES[host]}) differs from its golden file:\n{diff[:6000]}")


def test_every_role_and_site_kind_has_a_golden_case(intent: Intent) -> None:
    covered = {(intent.devices[h].role.value, intent.site_of(h).kind.value) for h in CASES}
    roles = {r for r, _ in covered}
    kinds = {k for _, k in covered}
    assert {"core", "distribution", "access", "wlc"} <= roles
    assert {"core", "school", "kindergarten", "education_unit", "municipal"} <= kinds


def test_no_stale_golden_files() -> None:
    assert {p.stem for p in GOLDEN.glob("*.cfg")} <= set(CASES)
