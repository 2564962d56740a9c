"""The handover's procedures speak of the estate they ship with: the runbook's examples
use this estate's names (not the reference estate's), and the repository's live guide
exports every secret the reference estate uses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from nornir_tasks.handover.secrets_doc import secret_uses
from nornir_tasks.handover.tables import (
    EXAMPLE_ACCESS,
    EXAMPLE_SITE,
    RUNBOOK,
    runbook_examples,
    runbook_md,
)
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.intent.model import Role

ROOT = Path(__file__).resolve().parents[2]


def test_reference_runbook_keeps_its_examples() -> None:
    intent = load_intent(ROOT / "inventory")
    text = runbook_md(intent)
    assert text.startswith(RUNBOOK.read_text(encoding="utf-8").rstrip("\n"))


def test_another_estate_gets_its_own_names(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    subprocess.run([sys.executable, "-m", "nornir_tasks.estate", str(estate),
                    "--devices", "100"], check=True, capture_output=True, timeout=300)
    intent = load_intent(estate)
    assert EXAMPLE_SITE not in intent.sites  # the synthetic estate renames every site
    text = runbook_md(intent)
    assert f"site_{EXAMPLE_SITE}" not in text and EXAMPLE_ACCESS not in text
    names = runbook_examples(intent)
    site = names[f"site_{EXAMPLE_SITE}"].removeprefix("site_")
    switch = names[EXAMPLE_ACCESS]
    assert site in intent.sites and intent.device_site[switch] == site
    assert intent.devices[switch].role is Role.access
    assert f"--limit {switch}" in text and f"--limit site_{site}" in text


def test_live_guide_exports_every_secret() -> None:
    intent = load_intent(ROOT / "inventory")
    needed = {f"FELLESNETT_SECRET_{u.name.upper()}" for u in secret_uses(intent)}
    guide = (ROOT / "docs" / "live.md").read_text(encoding="utf-8")
    exported = set(re.findall(r"FELLESNETT_SECRET_[A-Z0-9_]+(?==)", guide))
    assert needed <= exported, sorted(needed - exported)
