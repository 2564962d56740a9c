"""``audit --since REV_OR_DATE [--until REV_OR_DATE]``: what changed, who did it, who approved.

Two histories, both git:

* **the intent** — the project's commits over ``inventory/`` and ``templates/`` between the
  two points (commit, author, date, message), each attributed to the devices the files it
  touched feed; and, per device, the intended config at the first point against the
  intended config now (rendered from the inventory and templates of that commit with the
  current code), so "what should have changed on this device" is a list of lines;
* **the backups** — the commits of ``backups/`` that changed each device's running config,
  with the lines they added and removed and their git trailers: a deploy records its
  change reference, approvers, pipeline, deployer and intent commit there
  (:mod:`nornir_tasks.live.provenance`).

A point is a commit of either repository or a date (``2026-11-01``, ``2026-11-01 12:00``,
anything ``git log --since`` takes). A commit of one repository is turned into its
commit date for the other.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nornir_tasks.errors import UsageError

INTENT_PATHS = ("inventory", "templates")
_RS, _US, _GS = "\x1e", "\x1f", "\x1d"
_FORMAT = f"{_RS}%H{_US}%cI{_US}%an <%ae>{_US}%s{_US}%(trailers:unfold,only){_GS}"


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str
    author: str
    subject: str
    trailers: tuple[tuple[str, str], ...] = ()

    def to_data(self) -> dict[str, object]:
        return {"commit": self.sha, "date": self.date, "author": self.author,
                "message": self.subject, "trailers": dict(self.trailers)}


@dataclass(frozen=True)
class Change:
    """One commit's change to one device: lines added and removed (scrubbed text)."""

    commit: Commit
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


@dataclass
class History:
    since: str
    until: str | None
    intent_range: str = ""
    backups_range: str = ""
    #: every intent commit in the range, newest first, with the files it touched
    intent_commits: list[Change] = field(default_factory=list)
    #: host -> intent commits that touched a file feeding the device
    intent_by_device: dict[str, list[Change]] = field(default_factory=dict)
    #: host -> the device's intended config at ``since`` vs now (one pseudo-change)
    intended_diff: dict[str, Change] = field(default_factory=dict)
    #: host -> backups commits that changed the device's running config, newest first
    backups_by_device: dict[str, list[Change]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def first_seen(self, host: str, line: str, added: bool) -> Commit | None:
        """The newest backups commit that added (or removed) ``line`` on ``host``."""
        text = " ".join(line.split())
        for change in self.backups_by_device.get(host, []):
            lines = change.added if added else change.removed
            if any(" ".join(x.split()) == text for x in lines):
                return change.commit
        return None


def _git(repo: Path, *args: str, check: bool = True) -> str:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True,
                              text=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed; the audit history reads git") from None
    if check and done.returncode != 0:
        raise UsageError(f"{repo}: git {' '.join(args[:3])} failed: "
                         f"{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout if done.returncode == 0 else ""


def is_repo(path: Path) -> bool:
    return path.is_dir() and bool(_git(path, "rev-parse", "--git-dir", check=False).strip())


def _commit_of(repo: Path, point: str) -> str | None:
    if not is_repo(repo) or point.startswith("-"):
        return None
    out = _git(repo, "rev-parse", "--verify", "-q", f"{point}^{{commit}}", check=False)
    return out.strip() or None


def _date_of(repo: Path, sha: str) -> str:
    return _git(repo, "log", "-1", "--format=%cI", sha).strip()


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?([+-]\d{2}:?\d{2}|Z)?$")


@dataclass(frozen=True)
class Point:
    """A point of history as one repository sees it: a commit of its own, or a date."""

    commit: str | None = None
    date: str | None = None

    def log_args(self, end: Point | None) -> list[str]:
        args: list[str] = []
        rng = "HEAD"
        if self.commit:
            rng = f"{self.commit}..{end.commit if end and end.commit else 'HEAD'}"
        elif end and end.commit:
            rng = end.commit
        if self.date:
            args.append(f"--since={self.date}")
        if end and end.date:
            args.append(f"--until={end.date}")
        return [*args, rng]

    def text(self) -> str:
        return self.commit[:12] if self.commit else f"date {self.date}"


def resolve(point: str, here: Path, other: Path) -> Point:
    """``point`` for the repository ``here``: its own commit, or a date.

    Raises:
        UsageError: neither a commit of either repository nor a date.
    """
    sha = _commit_of(here, point)
    if sha:
        return Point(commit=sha)
    sha = _commit_of(other, point)
    if sha:
        return Point(date=_date_of(other, sha))
    if _DATE.match(point.strip()):
        return Point(date=point.strip())
    raise UsageError(f"{point!r} is neither a commit of {here} or {other} nor a date "
                     "(YYYY-MM-DD or YYYY-MM-DD HH:MM)")


def _parse_log(text: str) -> list[tuple[Commit, str]]:
    r"""``git log`` output in :data:`_FORMAT` -> (commit, what follows: patch or file list).

    >>> log = "\x1eabc\x1f2026-11-25T12:00:00+00:00\x1fKari <k@x>\x1fdeploy\x1f"
    >>> log += "Change-Ref: net!7\nApproved-By: ola\n\x1d\nbackups/a/a.cfg\n"
    >>> c, body = _parse_log(log)[0]
    >>> c.subject, dict(c.trailers)["Approved-By"], body.split()
    ('deploy', 'ola', ['backups/a/a.cfg'])
    """
    out = []
    for record in text.split(_RS)[1:]:
        head, _, body = record.partition(_GS)
        sha, date, author, subject, trailer_text = (head.split(_US) + [""] * 5)[:5]
        trailers = tuple((k.strip(), v.strip()) for k, _, v in
                         (line.partition(":") for line in trailer_text.splitlines())
                         if k.strip())
        out.append((Commit(sha, date, author, subject, trailers), body))
    return out


def _patch_by_file(patch: str) -> dict[str, tuple[list[str], list[str]]]:
    files: dict[str, tuple[list[str], list[str]]] = {}
    current: tuple[list[str], list[str]] | None = None
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            name = line.split(" b/", 1)[-1]
            current = files.setdefault(name, ([], []))
        elif current is None or line.startswith(("+++", "---", "@@", "index ")):
            continue
        elif line.startswith("+"):
            current[0].append(line[1:])
        elif line.startswith("-"):
            current[1].append(line[1:])
    return files


def backups_history(repo: Path, since: Point, until: Point | None,
                    paths: dict[str, str]) -> dict[str, list[Change]]:
    """host -> the backups commits that changed its file (``paths``: host -> file)."""
    if not is_repo(repo):
        return {}
    by_file = {v: k for k, v in paths.items()}
    text = _git(repo, "log", f"--format={_FORMAT}", "-p", "--no-color", "--unified=0",
                "--no-renames", *since.log_args(until), "--", *sorted(paths.values()))
    out: dict[str, list[Change]] = {}
    for commit, patch in _parse_log(text):
        for name, (added, removed) in sorted(_patch_by_file(patch).items()):
            host = by_file.get(name)
            if host is not None:
                out.setdefault(host, []).append(
                    Change(commit, tuple(added), tuple(removed), (name,)))
    return out


def intent_history(project: Path, since: Point, until: Point | None,
                   inventory: str = "inventory") -> list[Change]:
    """Commits of the project over the inventory and templates/, newest first, with the
    files each touched (the inventory's files named ``inventory/...`` wherever it lives)."""
    text = _git(project, "log", f"--format={_FORMAT}", "--name-only", "--no-renames",
                *since.log_args(until), "--", inventory, "templates")
    prefix = inventory.rstrip("/") + "/"

    def name(f: str) -> str:
        return "inventory/" + f[len(prefix):] if f.startswith(prefix) else f
    return [Change(commit, files=tuple(name(line) for line in body.split() if line))
            for commit, body in _parse_log(text)]


def feeds(path: str, host: str, site: str, role: str) -> bool:
    """Whether a changed intent file can change ``host``'s intended config.

    >>> feeds("inventory/host_vars/a-sw01.yml", "a-sw01", "a", "access")
    True
    >>> feeds("inventory/group_vars/site_b.yml", "a-sw01", "a", "access")
    False
    >>> feeds("inventory/group_vars/site_b.yml", "c-core01", "c", "core")
    True
    >>> feeds("templates/c9800/wlans.j2", "a-sw01", "a", "access")
    False
    """
    if path.startswith("inventory/host_vars/"):
        return Path(path).stem == host
    if path.startswith("inventory/group_vars/site_"):
        # the core pair routes every site, the controller tags every site's APs
        return Path(path).stem == f"site_{site}" or role in ("core", "wlc")
    if path.startswith("templates/c9800/"):
        return role == "wlc"
    return not path.startswith("templates/radius/")


def intended_at(project: Path, commit: str, hosts: Sequence[str],
                inventory: str = "inventory") -> dict[str, str]:
    """The intended configs of ``hosts`` as the inventory and templates of ``commit`` give
    them (rendered by the current code). Hosts that did not exist then are left out."""
    from nornir_tasks.audit.render import render_many
    from nornir_tasks.intent.loader import load_intent

    tmp = Path(tempfile.mkdtemp(prefix="fellesnett-audit-"))
    try:
        archive = tmp / "tree.tar"
        with open(archive, "wb") as fh:
            done = subprocess.run(["git", "-C", str(project), "archive", "--format=tar",
                                   commit, inventory, "templates"], stdout=fh,
                                  stderr=subprocess.PIPE, check=False)
        if done.returncode != 0:
            raise UsageError(f"git archive {commit[:12]} failed: {done.stderr.decode().strip()}")
        with tarfile.open(archive) as tar:
            tar.extractall(tmp / "tree", filter="data")
        intent = load_intent(tmp / "tree" / inventory)
        present = [h for h in hosts if h in intent.devices]
        return render_many(intent, present, tmp / "tree" / "templates")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def project_root(inventory: Path) -> tuple[Path, str] | None:
    """The git work tree holding the inventory, and the inventory's path inside it."""
    if not inventory.is_dir():
        return None
    top = _git(inventory, "rev-parse", "--show-toplevel", check=False).strip()
    if not top:
        return None
    try:
        rel = inventory.resolve().relative_to(Path(top).resolve()).as_posix()
    except ValueError:
        return None
    return Path(top), rel
