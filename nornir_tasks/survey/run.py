"""One survey run: Nornir over every listed device, then the repository and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nornir import InitNornir

from nornir_tasks.survey.collect import survey_task
from nornir_tasks.survey.inventory import PLUGIN_NAME, Login, SurveyList
from nornir_tasks.survey.repo import SurveyRepo
from nornir_tasks.survey.report import render


def survey(devices: SurveyList, logins: dict[str, Login], repo_dir: Path, *,
           workers: int = 20, timeout: float = 10.0,
           end_of_life: dict[str, dict[str, str]] | None = None, when: str = ""
           ) -> dict[str, Any]:
    """Survey ``devices``; returns {surveyed: [...], unreachable: {host: why}, commit}."""
    nr = InitNornir(runner={"plugin": "threaded", "options": {"num_workers": workers}},
                    inventory={"plugin": PLUGIN_NAME, "options": {
                        "survey": devices, "logins": logins, "timeout": timeout}},
                    logging={"enabled": False})
    try:
        outcome = nr.run(task=survey_task, on_failed=True)
    finally:
        nr.close_connections(on_failed=True)
    results: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for host, multi in outcome.items():
        res = multi[0]
        if res.failed or not isinstance(res.result, dict):
            exc = res.exception
            errors[host] = f"{type(exc).__name__}: {exc}" if exc else str(res.result)
        else:
            results[host] = res.result
    repo = SurveyRepo(repo_dir)
    repo.ensure()
    for host, data in results.items():
        repo.write_device(host, {**data, "surveyed": when})
    for host, why in errors.items():
        repo.write_device(host, {"unreachable": why, "surveyed": when})
    report, dot = render(results, errors, when, end_of_life or {})
    repo.write_top("REPORT.md", report)
    repo.write_top("topology.dot", dot)
    commit = repo.commit(f"survey {when}: {len(results)} devices read, "
                         f"{len(errors)} unreachable")
    return {"surveyed": sorted(results), "unreachable": errors, "commit": commit,
            "repo": str(repo_dir)}
