"""`fellesnett site remove`: deletions only, the exact inverse of `site add`, all or
nothing."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from test_site_add import readd_args, tree

from nornir_tasks.cli import main
from nornir_tasks.errors import IntentError, UsageError
from nornir_tasks.intent.loader import HOSTS_FILE, SITE_GROUP_PREFIX, load_intent
from nornir_tasks.site_add import add_site
from nornir_tasks.site_remove import remove_site

SITE = "komagfjord_skole"


def only_removed(old: str, new: str) -> list[str]:
    """The lines ``new`` drops from ``old``; fails if any line was added or changed."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    gone: list[str] = []
    for op, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        assert op in ("equal", "delete"), f"{op} of old lines {i1}-{i2}: {a[i1:i2]!r}"
        if op == "delete":
            gone += a[i1:i2]
    return gone


def test_remove_deletes_the_site_and_only_its_lines(inventory_copy: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(inventory_copy)
    hosts_before = (inventory_copy / HOSTS_FILE).read_text(encoding="utf-8")
    devices = set(load_intent(inventory_copy).site_devices(SITE))
    assert main(["site", "remove", SITE, "-i", str(inventory_copy), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    after = tree(inventory_copy)
    gone = set(before) - set(after)
    assert set(after) <= set(before)  # nothing new, no temp file left behind
    assert gone == set(summary["deleted"]) and f"group_vars/{SITE_GROUP_PREFIX}{SITE}.yml" in gone
    assert {rel for rel in after if after[rel] != before[rel]} == {HOSTS_FILE}
    cut = only_removed(hosts_before, (inventory_copy / HOSTS_FILE).read_text(encoding="utf-8"))
    assert len(cut) == summary["lines_removed"]
    assert {line.split(":")[0].strip() for line in cut if "{role:" in line} == devices
    intent = load_intent(inventory_copy)
    assert SITE not in intent.sites and not devices & set(intent.devices)


def test_remove_then_add_restores_the_committed_bytes(inventory_copy: Path) -> None:
    """The last-allocated site, removed and added again with the same facts: the
    inventory is byte-identical, so remove is the exact inverse of add."""
    before = tree(inventory_copy)
    intent = load_intent(inventory_copy)
    slug, _ = max(intent.sites.items(), key=lambda kv: kv[1].index)
    args = readd_args(intent, slug)
    remove_site(inventory_copy, SITE_GROUP_PREFIX + slug)
    assert tree(inventory_copy) != before
    add_site(inventory_copy, **args)
    assert tree(inventory_copy) == before


@pytest.mark.parametrize(("site", "message"), [
    ("no_such_site", "no site site_no_such_site"),
    ("radhuset", "is the core site"),
])
def test_bad_sites_are_refused_and_change_nothing(inventory_copy: Path, site: str,
                                                  message: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    before = tree(inventory_copy)
    assert main(["site", "remove", site, "-i", str(inventory_copy)]) == 2
    assert message in capsys.readouterr().err
    assert tree(inventory_copy) == before


def test_an_invalid_inventory_is_refused(inventory_copy: Path) -> None:
    """Nothing is cut from an inventory that does not load: the loader's located error."""
    gv = inventory_copy / f"group_vars/{SITE_GROUP_PREFIX}alta_skole.yml"
    gv.write_text(gv.read_text(encoding="utf-8") + "surprise: 1\n", encoding="utf-8")
    before = tree(inventory_copy)
    with pytest.raises(IntentError) as err:
        remove_site(inventory_copy, SITE)
    assert any(f"{SITE_GROUP_PREFIX}alta_skole.yml" in str(p) and "surprise" in str(p)
               for p in err.value.problems)
    assert tree(inventory_copy) == before


def test_a_failed_replace_is_rolled_back(inventory_copy: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    before = tree(inventory_copy)
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if Path(dst).name == HOSTS_FILE:
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        remove_site(inventory_copy, SITE)
    assert tree(inventory_copy) == before


def test_an_unusual_hosts_yml_is_refused_not_mangled(inventory_copy: Path) -> None:
    hosts = inventory_copy / HOSTS_FILE
    text = hosts.read_text(encoding="utf-8")
    hosts.write_text(text.replace(f"{SITE_GROUP_PREFIX}{SITE}:", f"? {SITE_GROUP_PREFIX}{SITE}\n"
                                  f"        :", 1), encoding="utf-8")
    load_intent(inventory_copy)  # valid YAML and a valid inventory, just not cuttable
    before = tree(inventory_copy)
    with pytest.raises(UsageError, match="remove it by hand"):
        remove_site(inventory_copy, SITE)
    assert tree(inventory_copy) == before
