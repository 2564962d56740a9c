"""The console entry point ends ``build`` with a hard exit (no interpreter teardown):
what it printed must still arrive whole, and the exit code must be the command's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FELLESNETT = Path(sys.executable).with_name("fellesnett")
#: stdout block-buffered, as in a pipeline (some shells and CI images set it unbuffered)
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def test_build_output_is_flushed_before_the_hard_exit(tmp_path: Path) -> None:
    out = tmp_path / "build"
    proc = subprocess.run([str(FELLESNETT), "build", "--json", "--out", str(out)],
                          cwd=ROOT, env=BUFFERED, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)  # a pipe is block-buffered: lost without a flush
    assert summary["ok"] is True and summary["verify"] == "proven"
    assert (out / "MANIFEST.sha256").is_file()


def test_hard_exit_keeps_the_error_code_and_message(tmp_path: Path) -> None:
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    (inv / "hosts.yml").write_text("all: [unclosed\n")
    proc = subprocess.run([str(FELLESNETT), "build", "--inventory", str(inv),
                           "--out", str(tmp_path / "build")],
                          env=BUFFERED, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "hosts.yml" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "build").exists()
