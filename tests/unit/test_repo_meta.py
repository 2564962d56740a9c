"""Keep the repository honest about itself: README commands, CI entry point, lint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:sh|bash|console)\n(python3 -m venv[^\n]+)\n```", text)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    marker = ci.index("# --- README test command ---")
    test_cmd = ci[marker + 1]
    assert test_cmd in _readme_commands()
    assert "pytest" in test_cmd


def test_readme_main_command_builds_the_reference_estate() -> None:
    assert any(c.endswith("fellesnett build") for c in _readme_commands())


def test_top_level_layout_is_the_agreed_one() -> None:
    for name in ("playbooks", "inventory", "roles", "templates", "nornir_tasks", "tests",
                 "ansible.cfg", "pyproject.toml", "README.md", ".ci/run", "bench", "docs"):
        assert (ROOT / name).exists(), name


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert ruff, "ruff is a dev dependency"
    proc = subprocess.run([ruff, "check", "nornir_tasks", "tests", "bench"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_inventory_format_doc_is_generated_from_the_models() -> None:
    from nornir_tasks.intent.schema_docs import render

    committed = (ROOT / "docs" / "inventory-format.md").read_text()
    assert committed == render(), (
        "docs/inventory-format.md is stale: python -m nornir_tasks.intent.schema_docs "
        "> docs/inventory-format.md")


def test_docs_live_exports_every_secret_of_the_intent() -> None:
    """docs/live.md's `export` of the secrets is the reference intent's list of secret
    names (docs/secrets.md of a build), not a list typed once and left to drift."""
    import re

    from nornir_tasks.handover.secrets_doc import secret_uses
    from nornir_tasks.intent.loader import load_intent

    text = (ROOT / "docs" / "live.md").read_text()
    exported = set(re.findall(r"FELLESNETT_SECRET_([A-Z0-9_]+)=", text))
    names = {u.name.upper() for u in secret_uses(load_intent(ROOT / "inventory"))}
    assert exported == names
