"""``fellesnett build``: validate -> design -> render -> write the handover output atomically.

Output layout (default ``build/``)::

    configs/<site>/<host>.cfg    every switch and the controller pair
    docs/...                     IP plan, zones and matrix, SSIDs, one sheet per site
    radius/...                   RADIUS authorisation policy (FreeRADIUS files, CSV)
    MANIFEST.sha256              sha256 of every file above, sorted by path
    handover.tar.gz              all of the above under handover/, byte-reproducible

The new tree is written beside the old one and swapped in only when complete, so an
invalid intent or a crash mid-way leaves the previous output untouched.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import gzip
import hashlib
import io
import itertools
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nornir_tasks.design import design_device
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.intent.model import Role
from nornir_tasks.limit import select_hosts
from nornir_tasks.render import TEMPLATES, render_config

CONFIG_ROLES = (Role.core, Role.distribution, Role.access, Role.wlc)
TAR_ROOT = "handover"
MANIFEST = "MANIFEST.sha256"
TARBALL = "handover.tar.gz"
#: where the RADIUS policy files sit in the output (nornir_tasks.radius.PATHS)
RADIUS_DIR = "radius/"
#: below this many devices a process pool costs more than it saves
PARALLEL_THRESHOLD = 100


class VerifyFailed(Exception):
    """The rendered configs break the zone matrix; nothing was written."""

    def __init__(self, report: Any) -> None:
        self.report = report
        super().__init__(f"{len(report.violations)} zone-policy violation(s)")


@dataclass
class BuildResult:
    out: Path
    configs: dict[str, str] = field(default_factory=dict)  # host -> relative path
    docs: list[str] = field(default_factory=list)
    tarball_sha256: str = ""
    seconds: float = 0.0
    lines: int = 0
    verified: str = "skipped"

    def summary(self) -> dict[str, Any]:
        return {
            "ok": True,
            "out": str(self.out),
            "devices": len(self.configs),
            "config_lines": self.lines,
            "docs": len(self.docs),
            "handover": str(self.out / TARBALL),
            "handover_sha256": self.tarball_sha256,
            "verify": self.verified,
            "seconds": round(self.seconds, 3),
        }


def config_hosts(intent: Intent, limit: str | None) -> list[str]:
    """Hosts that get a config file, after ``--limit``."""
    selected = select_hosts(limit, intent.groups)
    return sorted(h for h in selected if intent.devices[h].role in CONFIG_ROLES)


def config_path(intent: Intent, host: str) -> str:
    return f"configs/{intent.device_site[host]}/{host}.cfg"


def render_host(intent: Intent, host: str, templates: Path = TEMPLATES) -> str:
    cfg = design_device(intent, host)
    return render_config(cfg.platform, cfg, templates)


# A forked worker inherits the parent's intent: pickling it per task would cost more than
# rendering. Set just before the pool forks.
_WORKER_INTENT: Intent | None = None


def _render_chunk(hosts: list[str]) -> list[tuple[str, str]]:
    assert _WORKER_INTENT is not None
    return [(h, render_host(_WORKER_INTENT, h)) for h in hosts]


#: a job that runs beside the render, on the same intent: its result is text files
SideJob = Callable[[Intent], dict[str, str]]


def _side_job(job: SideJob) -> dict[str, str]:
    assert _WORKER_INTENT is not None
    return job(_WORKER_INTENT)


def render_all(intent: Intent, hosts: list[str], workers: int | None = None,
               progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Render every host; in forked worker processes when the estate is large."""
    out: dict[str, str] = {}
    for done in render_stream(intent, hosts, workers):
        out.update(done)
        if progress:
            progress(len(done))
    return out


#: hosts per task of a render worker: small enough that the parent reads (parses) the
#: first configs while the workers render the rest
CHUNK = 32


def render_stream(intent: Intent, hosts: list[str], workers: int | None = None,
                  side: SideJob | None = None,
                  side_result: dict[str, str] | None = None,
                  ) -> Iterator[list[tuple[str, str]]]:
    """Rendered configs chunk by chunk, as they are done: in forked worker processes
    when the estate is large (the caller works on each chunk meanwhile). The first chunk
    is empty and comes at once: the workers are started, the caller may work.

    ``side`` (a module-level function, so that it pickles by name) runs in the pool too,
    first: its files are in ``side_result`` once the stream is exhausted.
    The documents go there, so that the parent spends its time reading the configs.
    """
    global _WORKER_INTENT
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(hosts) < PARALLEL_THRESHOLD or os.name != "posix":
        yield []
        if side is not None and side_result is not None:
            side_result.update(side(intent))
        for h in hosts:
            yield [(h, render_host(intent, h))]
        return
    import multiprocessing

    chunks = [hosts[i:i + CHUNK] for i in range(0, len(hosts), CHUNK)]
    _WORKER_INTENT = intent
    try:
        ctx = multiprocessing.get_context("fork")
        # the intent's objects go to the collector's permanent generation before the
        # fork: a worker's collections then never walk them, which would copy every page
        # they sit on (the gc module's own advice for forking servers)
        gc.freeze()
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            pending = pool.submit(_side_job, side) if side is not None else None
            results = pool.map(_render_chunk, chunks)
            yield []
            yield from results
            if pending is not None and side_result is not None:
                side_result.update(pending.result())  # before the caller's loop ends
    finally:
        _WORKER_INTENT = None
        gc.unfreeze()


def manifest_text(files: dict[str, bytes]) -> str:
    """sha256sum-compatible manifest (``sha256sum -c`` checks it), sorted by path.

    >>> manifest_text({"b.txt": b"", "a.txt": b"x"}).splitlines()[0][:16]
    '2d711642b726b044'
    """
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n"
                   for path, data in sorted(files.items()))


def deterministic_tarball(files: dict[str, bytes]) -> bytes:
    """A .tar.gz whose bytes depend only on the file names and contents."""
    gz = io.BytesIO()
    # the tar stream is compressed as it is written (never held whole: 290 MB at 10,000
    # devices); deflate's output does not depend on how its input is chunked.
    # mtime=0 and no file name in the gzip header: same bytes on every machine.
    # Level 1: the compression runs beside the file writes and was the longer of the two
    # (10,000 devices: 2.6 s at level 6, 1.1 s at level 1, for 16 MB -> 23 MB); the configs
    # repeat so much that level 1 still shrinks them twelvefold (docs/benchmarks.md)
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=1) as fh, \
            tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = sorted({str(Path(p).parent) for p in files} - {"."})
        all_dirs = sorted({d for p in dirs for d in _parents(p)})
        for d in [TAR_ROOT, *(f"{TAR_ROOT}/{d}" for d in all_dirs)]:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            _normalise(info)
            tar.addfile(info)
        for path in sorted(files):
            data = files[path]
            info = tarfile.TarInfo(f"{TAR_ROOT}/{path}")
            info.size = len(data)
            info.mode = 0o644
            _normalise(info)
            tar.addfile(info, io.BytesIO(data))
    return gz.getvalue()


def _parents(p: str) -> Iterable[str]:
    parts = Path(p).parts
    for i in range(1, len(parts) + 1):
        yield "/".join(parts[:i])


def _normalise(info: tarfile.TarInfo) -> None:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""


def check_out(out: Path) -> Path:
    """``out`` resolved, if a build may replace it; a :class:`UsageError` naming it if not.

    Only what a build wrote is replaced: ``out`` must be absent, an empty directory, or a
    tree whose ``MANIFEST.sha256`` lists every file in it (beside it only the tarball and
    signatures). A regular file, a foreign directory (``--out .``, ``--out inventory``)
    or a build someone added files to would be lost. The CLI asks before it spends the
    build's time; :func:`write_tree_atomically` asks again before it writes.
    """
    from nornir_tasks.errors import UsageError
    from nornir_tasks.handover.bundle import is_beside

    try:
        out = out.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop
        raise UsageError(f"--out {out}: {exc}") from None
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"--out {out}: exists and is not a directory; refusing to "
                             "replace it with the build (choose another --out)")
        try:
            manifest = (out / MANIFEST).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            manifest = None
        if manifest is None:
            if any(out.iterdir()):  # not walked: it may be a home directory
                raise UsageError(f"--out {out}: a directory that is not empty and not a "
                                 f"fellesnett build (no {MANIFEST}); refusing to replace it "
                                 "(choose another --out)")
        else:
            listed = {line.split("  ", 1)[1] for line in manifest.splitlines() if "  " in line}
            foreign = sorted(
                rel for rel in (p.relative_to(out).as_posix() for p in out.rglob("*")
                                if p.is_symlink() or not p.is_dir())
                if rel != MANIFEST and rel not in listed and not is_beside(rel))
            if foreign:
                more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
                raise UsageError(f"--out {out}: holds files the build did not write "
                                 f"({', '.join(foreign[:3])}{more}); refusing to replace it "
                                 "(move them away or choose another --out)")
    return out


def write_tree_atomically(out: Path, files: dict[str, bytes], *,
                          late: Callable[[], dict[str, bytes]] | None = None) -> None:
    """Write ``files`` as the new content of ``out``; the old tree survives any failure,
    and a tree a build did not write is refused before anything is written
    (:func:`check_out`). ``late`` gives files that are still being made while ``files``
    are written (the tarball); they go in before the swap.
    """
    out = check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        def entries() -> Iterator[tuple[str, bytes]]:
            yield from files.items()
            if late is not None:  # asked only once the others are on disk
                yield from late().items()

        made: set[Path] = set()
        for rel, data in entries():
            path = tmp / rel
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(data)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / "tree")
        os.rename(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


#: what :func:`build` leaves for the process's exit to reclaim (``keep_heap``)
_KEPT: list[object] = []


def _handover_files(selected: set[str] | None, intent: Intent) -> dict[str, str]:
    """The documents, the RADIUS authorisation policy and the firewall's forwarding
    policy: they ship with the configs they must match."""
    from nornir_tasks.firewall import build_firewall
    from nornir_tasks.handover.documents import build_docs
    from nornir_tasks.radius import build_radius

    files = {f"docs/{rel}": text for rel, text in build_docs(intent, selected).items()}
    for extra in (build_radius(intent), build_firewall(intent)):
        files.update(extra)
    return files


def _radius_only(files: dict[str, str]) -> dict[str, str]:
    return {rel: text for rel, text in files.items() if rel.startswith(RADIUS_DIR)}


def build(inventory: Path, out: Path, limit: str | None = None, workers: int | None = None,
          progress: Callable[[str, int, int], None] | None = None,
          run_verify: bool = True, keep_heap: bool = False) -> BuildResult:
    """The main job. Raises IntentError / UsageError / VerifyFailed before anything is
    written.

    A full build proves the zone matrix on the rendered text (``fellesnett verify``) and
    ships the proven matrix in the docs; a ``--limit`` build renders part of the estate,
    which cannot be proven alone, so it skips the proof and says so.

    ``keep_heap`` is for a process that exits right after (the CLI's hard exit): the
    proof's parse caches are kept to the end instead of freed object by object (a
    second at 10,000 devices).
    """
    from nornir_tasks.errors import UsageError
    from nornir_tasks.firewall import PATH as FIREWALL_PATH

    start = time.perf_counter()
    intent = load_intent(inventory)
    hosts = config_hosts(intent, limit)
    if not hosts:
        raise UsageError(f"--limit {limit!r} selects no device that has a config")
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress("render", done, len(hosts))

    prove = run_verify and limit is None
    if prove:
        from nornir_tasks.verify import ConfigReader, quiet_gc, release, verify_devices
        from nornir_tasks.verify.report import dumps

        reader = ConfigReader(intent)
    result = BuildResult(out=out)
    files: dict[str, bytes] = {}
    selected = set(hosts) if limit else None
    side: dict[str, str] = {}
    stream = render_stream(intent, hosts, workers, functools.partial(_handover_files, selected),
                           side)
    with contextlib.ExitStack() as stack:
        first = next(stream, [])  # the workers are running (and collect their garbage)
        if prove:
            stack.enter_context(quiet_gc())
        # the workers write the documents and policies beside the configs; this process
        # reads each config as it arrives: the proof's parse costs no extra time
        # each text is kept once, as the bytes to write (a 10,000-device estate's
        # configs are 290 MB)
        for chunk in itertools.chain([first], stream):
            for host, text in chunk:
                rel = config_path(intent, host)
                files[rel] = text.encode()
                result.configs[host] = rel
                result.lines += text.count("\n")
                if prove:
                    reader.add(host, text)
            step(len(chunk))
        for rel, text in sorted(side.items()):
            files[rel] = text.encode()
            if rel.startswith("docs/"):
                result.docs.append(rel)
        if prove:
            if progress:
                progress("verify", 0, 1)
            devices, notes = reader.finish()
            try:
                report = verify_devices(intent, devices, notes, _radius_only(side),
                                        side.get(FIREWALL_PATH))
            finally:
                release(devices)
            if not report.ok:
                raise VerifyFailed(report)
            files["docs/zone-matrix.md"] = report.to_markdown().encode()
            data = report.to_data()
            data.pop("timings_s", None)  # the bundle stays byte-reproducible
            files["docs/zone-matrix.json"] = (dumps(data) + "\n").encode()
            result.docs += ["docs/zone-matrix.md", "docs/zone-matrix.json"]
            result.verified = "proven"
        elif limit is not None:
            result.verified = "skipped: a --limit build is part of the estate"
        # still inside quiet_gc: the reader's caches (millions of lines) live until the
        # build returns, and a full collection would walk them all again
        files[MANIFEST] = manifest_text(files).encode()
        if progress:
            progress("write", 0, 1)
        # the tarball is compressed in a thread while the files are written: zlib and the
        # writes release the GIL, so the two take the time of the longer one
        with ThreadPoolExecutor(max_workers=1) as compressor:
            pending = compressor.submit(deterministic_tarball, files)

            def tarball() -> dict[str, bytes]:
                data = pending.result()
                result.tarball_sha256 = hashlib.sha256(data).hexdigest()
                return {TARBALL: data}

            write_tree_atomically(out, files, late=tarball)
        if prove and keep_heap:
            _KEPT.append(reader)
            gc.freeze()  # and no collection walks them either
    result.seconds = time.perf_counter() - start
    return result
