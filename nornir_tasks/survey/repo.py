"""The survey repository: one folder per device, one git commit per survey run.

Layout (read back by :func:`nornir_tasks.legacy.surveyed.read_survey`)::

    devices/<host>/running-config.txt   scrubbed: every secret masked, as `backup` does
    devices/<host>/survey.json          what the getters and parsers returned
    REPORT.md, topology.dot             the report of the last run
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from nornir_tasks.legacy.surveyed import CONFIG, DEVICES, SURVEY
from nornir_tasks.legacy.text import masked
from nornir_tasks.live.backups import BackupRepo


def scrub_legacy(config: str) -> str:
    """A legacy config with every secret masked (IOS hashes and ArubaOS-Switch's quoted
    values alike), ending in one newline.

    >>> scrub_legacy('password manager user-name "admin" plaintext "x1"\\nhostname "a"')
    'password manager user-name "admin" plaintext <<secret>>\\nhostname "a"\\n'
    """
    return "\n".join(masked(line.rstrip()) for line in config.strip().splitlines()) + "\n"


class SurveyRepo(BackupRepo):
    """A :class:`BackupRepo` (locking, one commit per run) with the survey's layout."""

    def _init(self) -> None:
        self._git("init", "-q", "-b", "main")
        (self.root / "README.md").write_text(
            "# Survey of the networks that run today\n\nWritten by `fellesnett survey`, one "
            "commit per run: per device its running config (secrets scrubbed) and what it "
            "said about itself and its neighbours (`survey.json`); `REPORT.md` describes the "
            "whole estate. `fellesnett import` reads this layout.\n")
        self._git("add", "README.md")
        self._git("commit", "-q", "-m", "survey: start the history")

    def path_of(self, site: str, host: str) -> str:
        return f"{DEVICES}/{host}/{CONFIG}"

    def write_device(self, host: str, data: dict[str, Any]) -> None:
        """Store one device: its scrubbed config (when read) and its survey.json."""
        data = dict(data)
        config = data.pop("config", None)
        if config is not None:
            self.write("", host, scrub_legacy(config))
        self._write_file(f"{DEVICES}/{host}/{SURVEY}",
                         json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")

    def write_top(self, name: str, text: str) -> None:
        self._write_file(name, text)

    def _write_file(self, rel: str, text: str) -> None:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, target)
        with self._mutex:
            self._written.add(rel)
