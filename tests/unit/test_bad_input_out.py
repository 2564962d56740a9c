"""``fellesnett build --out X`` replaces X only when it is absent, empty or an earlier
build: a file or a foreign directory given by mistake is refused (exit 2, X untouched),
where the build used to replace it silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nornir_tasks.build import MANIFEST, TARBALL, write_tree_atomically
from nornir_tasks.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
FELLESNETT = Path(sys.executable).with_name("fellesnett")
LIMIT = "kindergarten"


def _build(out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(FELLESNETT), "build", "--json", "--limit", LIMIT, "--out",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_an_existing_file_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "notes.txt"
    out.write_text("a week of work\n")
    proc = _build(out)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"--out {out}: exists and is not a directory" in proc.stderr
    assert out.read_text() == "a week of work\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_foreign_directory_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "project"
    (out / "src").mkdir(parents=True)
    (out / "src" / "main.py").write_text("print('mine')\n")
    proc = _build(out)
    assert proc.returncode == 2, proc.stderr
    assert f"--out {out}: a directory that is not empty and not a fellesnett build" \
        in proc.stderr
    assert _tree(out) == {"src/main.py": b"print('mine')\n"}


def test_an_earlier_build_is_replaced_but_not_one_with_files_added(tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert _build(out).returncode == 0
    (out / f"{TARBALL}.minisig").write_text("signature\n")  # beside the tree: a build's own
    proc = _build(out)
    assert proc.returncode == 0, proc.stderr
    (out / "docs" / "my-notes.md").write_text("mine\n")
    before = _tree(out)
    proc = _build(out)
    assert proc.returncode == 2, proc.stderr
    assert "holds files the build did not write (docs/my-notes.md)" in proc.stderr
    assert _tree(out) == before


@pytest.mark.parametrize("kind", ["file", "foreign", "added"])
def test_write_tree_atomically_refuses_before_writing(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    if kind == "file":
        out.write_text("x")
    else:
        out.mkdir()
        (out / "other.txt").write_text("x")
        if kind == "added":
            (out / MANIFEST).write_text(f"{'0' * 64}  configs/a.cfg\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UsageError, match=f"--out {out}"):
        write_tree_atomically(out, {"configs/a.cfg": b"new\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary tree left


def test_write_tree_atomically_takes_absent_empty_and_its_own(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree_atomically(out, {"a.txt": b"1", MANIFEST: f"{'0' * 64}  a.txt\n".encode()})
    write_tree_atomically(out, {"b.txt": b"2"})  # its own earlier tree
    assert _tree(out) == {"b.txt": b"2"}
    empty = tmp_path / "empty"
    empty.mkdir()
    write_tree_atomically(empty, {"c.txt": b"3"})
    assert _tree(empty) == {"c.txt": b"3"}
