"""What happened to each device in a live run, and the run's summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    unchanged = "unchanged"
    pending = "would change"  # dry run: a remediation exists and was not sent
    changed = "changed"
    rolled_back = "rolled back"
    failed = "failed"
    skipped = "skipped"

    @property
    def bad(self) -> bool:
        return self in (Status.failed, Status.rolled_back, Status.skipped)


@dataclass
class HostOutcome:
    host: str
    status: Status
    changes: int = 0
    #: masked remediation lines (or, for a rollback, the commands) - never a secret
    lines: list[str] = field(default_factory=list)
    stage: str = ""
    error: str = ""
    #: set when a rollback ran: what it found
    rollback: str = ""
    skipped_secret_lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "status": self.status.value, "changes": self.changes,
                "lines": self.lines, "stage": self.stage, "error": self.error,
                "rollback": self.rollback, "skipped_secret_lines": self.skipped_secret_lines}


def counts(outcomes: Iterable[HostOutcome]) -> dict[str, int]:
    c = Counter(o.status for o in outcomes)
    return {s.value: c.get(s, 0) for s in Status}


def exit_code(outcomes: Iterable[HostOutcome]) -> int:
    """1 when any device failed, was rolled back or was skipped after a failed canary."""
    return 1 if any(o.status.bad for o in outcomes) else 0
