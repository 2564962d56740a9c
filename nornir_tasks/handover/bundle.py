"""Read a handover bundle -- ``handover.tar.gz`` or a directory -- into memory.

A bundle is the set of files ``fellesnett build`` packs: ``configs/``, ``docs/``,
``radius/`` and ``MANIFEST.sha256``. It arrives in one of three shapes, all read the same:

* the tarball, whose members live under ``handover/`` (read in memory, never extracted,
  so a hostile member name cannot write anywhere);
* the tarball unpacked (``tar xzf handover.tar.gz`` gives ``handover/``);
* a ``build/`` directory, which also holds the tarball itself beside the tree.

Paths in a :class:`Bundle` are relative to the bundle root, POSIX style. Files that sit
beside the tree but are not part of it -- the tarball in ``build/`` and detached
signatures (``*.minisig``) -- are set aside in :attr:`Bundle.beside`, never counted as
extra files.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from nornir_tasks.build import MANIFEST, TAR_ROOT, TARBALL
from nornir_tasks.errors import UsageError

SIGNATURE_SUFFIX = ".minisig"
#: Refuse a tarball that unpacks to more than this (a handover of a county is ~50 MB).
MAX_UNPACKED = 2 * 1024**3


@dataclass
class Bundle:
    """The files of one bundle, by path relative to its root."""

    source: Path
    kind: str  # "tarball" or "directory"
    files: dict[str, bytes] = field(default_factory=dict)
    #: members a safe reader must not trust: links, devices, names leaving the root
    unsafe: list[str] = field(default_factory=list)
    #: top-level files beside the tree that the manifest does not cover
    beside: list[str] = field(default_factory=list)

    @property
    def manifest(self) -> bytes | None:
        return self.files.get(MANIFEST)


def is_beside(rel: str) -> bool:
    """Files at the top of a build directory that are not part of the bundle tree.

    >>> is_beside("handover.tar.gz"), is_beside("MANIFEST.sha256.minisig")
    (True, True)
    >>> is_beside("docs/handover.tar.gz"), is_beside("MANIFEST.sha256")
    (False, False)
    """
    return "/" not in rel and (rel == TARBALL or rel.endswith(SIGNATURE_SUFFIX))


def safe_relpath(name: str) -> str | None:
    """A member name as a path inside the bundle, or None when it would leave it.

    >>> safe_relpath("handover/docs/README.md"), safe_relpath("handover/../../etc/passwd")
    ('handover/docs/README.md', None)
    >>> safe_relpath("/etc/passwd"), safe_relpath("./handover/x")
    (None, 'handover/x')
    """
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or "\\" in name:
        return None
    return p.as_posix() if p.parts else None


def read_bundle(path: Path) -> Bundle:
    """Read a bundle; raise :class:`UsageError` naming the path when it is not one."""
    if path.is_dir():
        return _read_directory(path)
    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    if not tarfile.is_tarfile(path):
        raise UsageError(f"{path}: neither a directory nor a tar archive")
    return _read_tarball(path)


def _read_directory(path: Path) -> Bundle:
    root = path
    # the unpacked tarball: everything lives one level down, under handover/
    if not (path / MANIFEST).exists() and (path / TAR_ROOT).is_dir():
        root = path / TAR_ROOT
    out = Bundle(source=path, kind="directory")
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink() or (not p.is_file() and not p.is_dir()):
            out.unsafe.append(f"{rel} (not a regular file)")
        elif p.is_file():
            if is_beside(rel):
                out.beside.append(rel)
            else:
                out.files[rel] = p.read_bytes()
    return out


def _read_tarball(path: Path) -> Bundle:
    out = Bundle(source=path, kind="tarball")
    total = 0
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                rel = safe_relpath(member.name)
                if rel is None:
                    out.unsafe.append(f"{member.name} (leaves the bundle)")
                    continue
                if member.isdir():
                    continue
                if not member.isfile():
                    out.unsafe.append(f"{rel} (not a regular file)")
                    continue
                if rel != TAR_ROOT and not rel.startswith(f"{TAR_ROOT}/"):
                    out.unsafe.append(f"{rel} (outside {TAR_ROOT}/)")
                    continue
                total += member.size
                if total > MAX_UNPACKED:
                    raise UsageError(f"{path}: unpacks to more than {MAX_UNPACKED} bytes")
                fh = tar.extractfile(member)
                assert fh is not None  # a regular file always has data
                out.files[rel[len(TAR_ROOT) + 1:]] = fh.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, EOFError) and exc.filename:
            raise
        raise UsageError(f"{path}: damaged archive: {exc}") from exc
    return out


def signature_path(bundle: Path) -> Path:
    """Where the detached signature of a bundle lives.

    A tarball is signed as a whole (``handover.tar.gz.minisig``); a directory through its
    manifest (``MANIFEST.sha256.minisig``), which pins every other file.

    >>> signature_path(Path("build/handover.tar.gz")).as_posix()
    'build/handover.tar.gz.minisig'
    """
    if bundle.is_dir():
        root = bundle if (bundle / MANIFEST).exists() or not (bundle / TAR_ROOT).is_dir() \
            else bundle / TAR_ROOT
        return root / f"{MANIFEST}{SIGNATURE_SUFFIX}"
    return bundle.with_name(bundle.name + SIGNATURE_SUFFIX)


def signed_bytes(bundle: Path) -> bytes:
    """The bytes a bundle's signature covers (see :func:`signature_path`)."""
    if bundle.is_dir():
        target = signature_path(bundle).with_suffix("")  # .../MANIFEST.sha256
        if not target.is_file():
            raise UsageError(f"{bundle}: no {MANIFEST} to sign or check")
        return target.read_bytes()
    if not bundle.is_file():
        raise UsageError(f"{bundle}: no such file or directory")
    return bundle.read_bytes()
