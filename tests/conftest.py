"""Shared fixtures: the reference inventory, one build of it, and the golden-file switch."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.lab.topology import missing_prerequisites

ROOT = Path(__file__).resolve().parent.parent
INVENTORY = ROOT / "inventory"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the current render (review the diff!)")


@pytest.fixture(scope="session")
def intent() -> Intent:
    return load_intent(INVENTORY)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full build of the reference estate, shared by read-only tests."""
    from nornir_tasks.build import build

    out = tmp_path_factory.mktemp("build") / "build"
    build(INVENTORY, out)
    return out


@pytest.fixture(scope="session")
def sim_secrets(intent: Intent) -> dict[str, str]:
    """A plaintext for every secret the intent names, as the ``FELLESNETT_SECRET_*``
    variables a push reads. Each starts with ``Test-``: a device config, backup or report
    that contains ``Test-`` has leaked one."""
    from nornir_tasks.handover.secrets_doc import secret_uses

    names = sorted({use.name for use in secret_uses(intent)})
    return {f"FELLESNETT_SECRET_{n.upper()}": f"Test-{n}-1" for n in names}


@pytest.fixture
def inventory_copy(tmp_path: Path) -> Path:
    """A private copy of the reference inventory that a test may break."""
    dst = tmp_path / "inventory"
    shutil.copytree(INVENTORY, dst)
    return dst


@pytest.fixture(scope="module")
def lab_machine() -> None:
    """Skip with the reason, or fail under CI=true (which installs everything)."""
    missing = missing_prerequisites()
    if missing:
        reason = "the packet lab cannot run here: " + "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
