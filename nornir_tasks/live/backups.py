"""``backups/``: device configs as a git history, one commit per run (as Oxidized keeps them).

Files are ``<site>/<host>.cfg``, secrets scrubbed (:func:`scrub`), so the history can be
shared with auditors and the operator. The repository is separate from this one (``backups/``
is ignored here) because it changes on every run and belongs to the network, not the code.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from nornir_tasks.errors import UsageError
from nornir_tasks.live.secrets import mask_line

DEFAULT_DIR = Path("backups")
_AUTHOR = ["-c", "user.name=fellesnett", "-c", "user.email=fellesnett@localhost",
           "-c", "commit.gpgsign=false"]


def scrub(running: str) -> str:
    """A device config with every secret masked, ending in one newline.

    >>> print(scrub("hostname a\\nenable secret 9 $9$abc$def\\n!\\nend"), end="")
    hostname a
    enable secret <<secret>>
    !
    end
    """
    return "\n".join(mask_line(line.rstrip()) for line in running.strip().splitlines()) + "\n"


class BackupRepo:
    """The backups git repository (created on first use)."""

    def __init__(self, root: Path = DEFAULT_DIR) -> None:
        self.root = root
        self._written: set[str] = set()
        self._mutex = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Several runs (CI shards) may share one backups checkout: one git writer at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root.parent / f".{self.root.name}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def _git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(["git", *_AUTHOR, "-C", str(self.root), *args],
                                  capture_output=True, text=True, check=check)
        except FileNotFoundError:
            raise UsageError("git is not installed; backups are kept as a git history") from None
        except subprocess.CalledProcessError as exc:
            raise UsageError(f"{self.root}: git {' '.join(args)} failed: "
                             f"{exc.stderr.strip() or exc.stdout.strip()}") from None

    def ensure(self) -> None:
        with self._locked():
            if not (self.root / ".git").is_dir():
                self._init()

    def _init(self) -> None:
        self._git("init", "-q", "-b", "main")
        (self.root / "README.md").write_text(
            "# Device configuration backups\n\nWritten by `fellesnett backup` and by "
            "`fellesnett deploy --apply` (before and after each change), one commit per run. "
            "Secrets are scrubbed. Restore with `fellesnett rollback --to <commit>`.\n")
        self._git("add", "README.md")
        self._git("commit", "-q", "-m", "backups: start the history")

    def path_of(self, site: str, host: str) -> str:
        return f"{site}/{host}.cfg"

    def write(self, site: str, host: str, running: str) -> None:
        """Store one device's scrubbed config (atomically; safe from several threads)."""
        target = self.root / self.path_of(site, host)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{host}.")
        with os.fdopen(fd, "w") as fh:
            fh.write(scrub(running))
        os.replace(tmp, target)
        with self._mutex:
            self._written.add(self.path_of(site, host))

    def commit(self, message: str) -> str | None:
        """Commit the files this run wrote since its last commit (and only those: another
        run sharing the checkout commits its own); None when none of them changed."""
        with self._mutex:
            paths, self._written = sorted(self._written), set()
        if not paths:
            return None
        with self._locked():
            self._git("add", "--", *paths)
            if self._git("diff", "--cached", "--quiet", "--", *paths,
                         check=False).returncode == 0:
                return None
            self._git("commit", "-q", "-m", message, "--", *paths)
            return self._git("rev-parse", "HEAD").stdout.strip()

    def head(self) -> str | None:
        result = self._git("rev-parse", "--verify", "-q", "HEAD", check=False)
        return result.stdout.strip() or None

    def resolve(self, rev: str) -> str:
        """The commit a revision names (checked once per run, not once per device)."""
        if not (self.root / ".git").is_dir():
            raise UsageError(f"{self.root}: no backup history yet; run `fellesnett backup`")
        resolved = self._git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        if resolved.returncode != 0:
            raise UsageError(f"--to {rev!r}: no such revision in {self.root}")
        return resolved.stdout.strip()

    def read(self, rev: str, site: str, host: str, resolved: bool = False) -> str:
        """The scrubbed config of one device at a revision (``resolved``: ``rev`` is a
        commit :meth:`resolve` returned)."""
        commit = rev if resolved else self.resolve(rev)
        shown = self._git("show", f"{commit}:{self.path_of(site, host)}", check=False)
        if shown.returncode != 0:
            raise UsageError(f"--to {rev!r}: {host} has no backup at that revision "
                             f"({self.path_of(site, host)})")
        return shown.stdout
