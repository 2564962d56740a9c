"""Who and what a change came from, written as git trailers into the backup commits.

The backups' history then answers "who approved this": each deploy's post-change commit
names the merge request, its approvers, the pipeline and the intent commit it deployed.
In GitLab CI the values come from the pipeline's predefined variables; elsewhere from
``--change-ref`` and the ``FELLESNETT_*`` variables below.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import subprocess
import urllib.request
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


_MR_IN_MESSAGE = re.compile(r"See merge request (?P<project>\S+)!(?P<iid>\d+)")


def merge_request(env: Mapping[str, str]) -> tuple[str, str] | None:
    """(project path, MR number) of the change: the MR pipeline's, or the one GitLab names
    in a merge commit's message ("See merge request net/fellesnett!17").

    >>> merge_request({"CI_COMMIT_MESSAGE": "Merge branch 'x'\\n\\nSee merge request net/fn!17"})
    ('net/fn', '17')
    """
    if env.get("CI_MERGE_REQUEST_IID"):
        return env.get("CI_PROJECT_PATH", ""), env["CI_MERGE_REQUEST_IID"]
    found = _MR_IN_MESSAGE.search(env.get("CI_COMMIT_MESSAGE", ""))
    return (found["project"], found["iid"]) if found else None


def approvers(env: Mapping[str, str], iid: str) -> str | None:
    """Usernames that approved the MR, from the GitLab API (needs FELLESNETT_API_TOKEN)."""
    token, api, project = (env.get("FELLESNETT_API_TOKEN"), env.get("CI_API_V4_URL"),
                           env.get("CI_PROJECT_ID"))
    if not (token and api and project):
        return None
    url = f"{api}/projects/{project}/merge_requests/{iid}/approvals"
    request = urllib.request.Request(url, headers={"PRIVATE-TOKEN": token})
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:  # noqa: S310 - API URL
            data = json.load(reply)
    except (OSError, ValueError) as exc:
        return f"unknown (GitLab API: {exc})"
    names = sorted(a["user"]["username"] for a in data.get("approved_by", []))
    return ", ".join(names) if names else "nobody"


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
    mr = merge_request(env)
    if not ref and mr:
        ref = f"{mr[0]}!{mr[1]}"
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "unknown"
    out = {
        "Change-Ref": ref or "none given",
        "Approved-By": (env.get("FELLESNETT_APPROVERS")
                        or (approvers(env, mr[1]) if mr else None) or "not recorded"),
        "Pipeline": env.get("CI_PIPELINE_URL", "none (run by hand)"),
        "Deployed-By": env.get("GITLAB_USER_LOGIN") or user,
        "Intent-Commit": env.get("CI_COMMIT_SHA") or intent_commit(inventory),
    }
    return {k: " ".join(v.split()) for k, v in out.items()}


def message(subject: str, fields: Mapping[str, str]) -> str:
    """A commit message: subject, blank line, ``Key: value`` trailers."""
    return subject + "\n\n" + "\n".join(f"{k}: {v}" for k, v in fields.items()) + "\n"
