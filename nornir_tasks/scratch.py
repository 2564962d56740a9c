"""The inventory an edit would give, loaded before the edit is made.

Every command that writes into the inventory (``site add``, ``site add-circuit``,
``site remove``, ``zone add``) first loads the would-be inventory from a scratch copy:
a refusal then leaves the real one exactly as it was.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from nornir_tasks.intent.loader import Intent, load_intent


def load_edited(inventory: Path, files: Mapping[str, bytes], deleted: Iterable[str] = (),
                *, prefix: str = "fellesnett-edit-") -> Intent:
    """The intent of ``inventory`` with ``files`` (by relative path) written and
    ``deleted`` removed; raises its :class:`~nornir_tasks.errors.IntentError`, if any.

    Links are copied as links, so the copy refuses exactly what the inventory would (a
    link that leaves it) instead of reading through them.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        copy = Path(tmp) / "inventory"
        shutil.copytree(inventory, copy, symlinks=True)
        for rel, data in files.items():
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            (copy / rel).write_bytes(data)
        for rel in deleted:
            (copy / rel).unlink()
        return load_intent(copy)
