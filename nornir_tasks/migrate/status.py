"""Where the migration stands, for the audit and the reports: per device of the plan,
``migrated`` (clean-up done: held to the intent like any device), ``migrating`` (a phase
done, not the last) or ``legacy`` (not started, or rolled back), with the survey date."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nornir_tasks.migrate.plan import IN_PLACE, load_plan
from nornir_tasks.migrate.run import read_state


@dataclass(frozen=True)
class DeviceState:
    host: str
    site: str
    legacy: str  # the surveyed name (the simulators' and the survey's)
    state: str  # migrated | migrating | legacy
    wave: int
    method: str
    phase: str = ""  # the last phase done
    surveyed: str = ""
    rolled_back: str = ""


def migration_status(directory: Path) -> dict[str, DeviceState]:
    """The plan's devices (``<dir>/plan.yml``) with their state (``<dir>/state.json``)."""
    waves = load_plan(directory / "plan.yml")
    state = read_state(directory)["devices"]
    out = {}
    for wave in waves:
        for slug, site in wave["sites"].items():
            for host, d in site["devices"].items():
                done = state.get(host, {})
                phase = str(done.get("phase", ""))
                what = ("migrated" if phase == "cleanup" else
                        "migrating" if phase in ("prestage", "move") else "legacy")
                out[host] = DeviceState(host, slug, str(d["legacy"]), what, int(wave["wave"]),
                                        str(d.get("method", IN_PLACE)), phase,
                                        str(d.get("surveyed", "")),
                                        str(done.get("rolled_back", "")))
    return out
