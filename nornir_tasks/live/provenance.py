"""Who and what a change came from, written as git trailers into the backup commits.

The backups' history then answers "who approved this": each deploy's post-change commit
names the merge request, its approvers, the pipeline and the intent commit it deployed.
In GitLab CI the values come from the pipeline's predefined variables; elsewhere from
``--change-ref`` and the ``FELLESNETT_*`` variables below.
"""

from __future__ import annotations

import getpass
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path


def intent_commit(inventory: Path) -> str:
    """The commit of the repository holding the inventory ('+dirty' when it has changes)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(inventory), *args], capture_output=True,
                                  text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""
    sha = git("rev-parse", "HEAD")
    if not sha:
        return "unknown (not a git checkout)"
    return sha + ("+dirty" if git("status", "--porcelain", "--", ".") else "")


def trailers(inventory: Path, change_ref: str | None,
             env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Git trailers describing a deploy.

    >>> t = trailers(Path("/nonexistent"), None, {"CI_MERGE_REQUEST_IID": "42",
    ...     "CI_PROJECT_PATH": "net/fellesnett", "FELLESNETT_APPROVERS": "kari, ola",
    ...     "CI_PIPELINE_URL": "https://gitlab/p/1", "GITLAB_USER_LOGIN": "kari"})
    >>> t["Change-Ref"], t["Approved-By"], t["Deployed-By"]
    ('net/fellesnett!42', 'kari, ola', 'kari')
    """
    env = os.environ if env is None else env
    ref = change_ref or env.get("FELLESNETT_CHANGE_REF")
    if not ref and env.get("CI_MERGE_REQUEST_IID"):
        ref = f"{env.get('CI_PROJECT_PATH', '')}!{env['CI_MERGE_REQUEST_IID']}"
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    out = {
        "Change-Ref": ref or "none given",
        "Approved-By": env.get("FELLESNETT_APPROVERS") or env.get(
            "CI_MERGE_REQUEST_APPROVED_BY", "not recorded"),
        "Pipeline": env.get("CI_PIPELINE_URL", "none (run by hand)"),
        "Deployed-By": env.get("GITLAB_USER_LOGIN") or user,
        "Intent-Commit": env.get("CI_COMMIT_SHA") or intent_commit(inventory),
    }
    return {k: " ".join(v.split()) for k, v in out.items()}


def message(subject: str, fields: Mapping[str, str]) -> str:
    """A commit message: subject, blank line, ``Key: value`` trailers."""
    return subject + "\n\n" + "\n".join(f"{k}: {v}" for k, v in fields.items()) + "\n"
