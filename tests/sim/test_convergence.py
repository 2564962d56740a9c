"""hier_config remediation pushed into the engine converges, and its rollback restores.

hier_config 3.7.1 has no ``Platform.CISCO_XE``; ``Platform.CISCO_IOS`` is its IOS and
IOS-XE driver. Secret values (and their type digit: the project renders type 0 on the
C9800, which a device always shows as type 8) are masked on both sides, as the live
diff will have to do.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hier_config import Platform, WorkflowRemediation, get_hconfig

from nornir_tasks.sim.engine import ConfigEngine, Node, parse
from nornir_tasks.sim.seed import seed_config

GOLDEN = sorted((Path(__file__).parents[1] / "golden").glob("*.cfg"))
_MASK = re.compile(r"\b(secret|server-key|key|set-key ascii|password) \d \S+")


def mask(text: str) -> str:
    return _MASK.sub(lambda m: f"{m[1]} N MASKED", text)


def workflow(running: str, intended: str) -> WorkflowRemediation:
    return WorkflowRemediation(get_hconfig(Platform.CISCO_IOS, mask(running)),
                               get_hconfig(Platform.CISCO_IOS, mask(intended)))


def push_lines(config: object) -> list[str]:
    return [c.cisco_style_text() for c in config.all_children_sorted()]  # type: ignore[attr-defined]


def lineages(text: str) -> list[tuple[str, ...]]:
    """Every line with its parents, sorted: the config as a multiset, order aside.

    hier_config alone cannot see a doubled single-valued line (its idempotent commands
    hide the stale one), so the tests compare the device state itself too.
    """
    out: list[tuple[str, ...]] = []

    def walk(node: Node, chain: tuple[str, ...]) -> None:
        for child in node.children:
            out.append((*chain, child.text))
            walk(child, (*chain, child.text))

    walk(parse(mask(text)), ())
    return sorted(out)


def push(engine: ConfigEngine, lines: list[str]) -> None:
    session = engine.session()
    session.enter_config()
    errors = session.apply_all(lines)
    assert errors == []


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_remediation_converges_and_rollback_restores(path: Path) -> None:
    intended = path.read_text()
    seed = seed_config(path.stem, intended)
    assert "<<secret:" not in seed
    flow = workflow(seed, intended)
    remediation = push_lines(flow.remediation_config)
    rollback = push_lines(flow.rollback_config)
    assert 5 <= len(remediation) <= 40, "the seed should drift a little, not a lot"

    engine = ConfigEngine(path.stem, seed)
    push(engine, remediation)
    assert push_lines(workflow(engine.running_config(), intended).remediation_config) == []
    assert lineages(engine.running_config()) == lineages(intended)

    push(engine, rollback)
    assert push_lines(workflow(engine.running_config(), seed).remediation_config) == []
    assert push_lines(workflow(seed, engine.running_config()).remediation_config) == []
    assert lineages(engine.running_config()) == lineages(seed)


def test_seed_is_deterministic_and_keeps_the_management_path() -> None:
    path = next(p for p in GOLDEN if p.stem == "radhuset-core01")
    intended = path.read_text()
    seed = seed_config(path.stem, intended)
    assert seed == seed_config(path.stem, intended)
    assert seed != seed_config("other-host", intended)
    lines = set(seed.splitlines())
    for keep in ("hostname radhuset-core01", "line vty 0 4", "aaa new-model"):
        assert keep in lines
    assert "snmp-server community public RO" in lines
    assert re.search(r"^enable secret 9 \$9\$", seed, re.M)
