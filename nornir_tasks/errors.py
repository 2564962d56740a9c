"""Located errors for bad intent and bad arguments.

Every problem names the inventory file, the key path inside it and what is
wrong, so an engineer can fix the YAML without reading Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the intent.

    >>> str(Problem("group_vars/all/zones.yml", "zones.pupils.vlan", "must be 2..4094"))
    'group_vars/all/zones.yml: zones.pupils.vlan: must be 2..4094'
    """

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class IntentError(Exception):
    """The intent cannot be used; carries every problem found, sorted by file."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(Exception):
    """A command-line argument is wrong (bad --limit pattern, missing directory, ...)."""


def key_path(*parts: object) -> str:
    """Join key-path parts the way the errors print them.

    >>> key_path("site", "circuit", "type")
    'site.circuit.type'
    >>> key_path("ports", 3, "profile")
    'ports[3].profile'
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
