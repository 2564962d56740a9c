"""Intended configs for the audit, from any inventory and template tree (forked workers on
large estates, as :func:`nornir_tasks.build.render_all` does for the build)."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from nornir_tasks.build import PARALLEL_THRESHOLD, render_host
from nornir_tasks.intent.loader import Intent
from nornir_tasks.render import TEMPLATES

_JOB: tuple[Intent, Path] | None = None


def _chunk(hosts: list[str]) -> list[tuple[str, str]]:
    assert _JOB is not None
    intent, templates = _JOB
    return [(h, render_host(intent, h, templates)) for h in hosts]


def render_many(intent: Intent, hosts: list[str], templates: Path = TEMPLATES
                ) -> dict[str, str]:
    """host -> intended config text."""
    global _JOB
    workers = os.cpu_count() or 1
    if workers <= 1 or len(hosts) < PARALLEL_THRESHOLD or os.name != "posix":
        return {h: render_host(intent, h, templates) for h in hosts}
    import multiprocessing

    _JOB = (intent, templates)
    try:
        chunks = [hosts[i:i + 32] for i in range(0, len(hosts), 32)]
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            return {h: text for done in pool.map(_chunk, chunks) for h, text in done}
    finally:
        _JOB = None
