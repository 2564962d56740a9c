"""Fixtures for the handover tests: unpacked copies of the reference bundle."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from nornir_tasks.build import TARBALL


@pytest.fixture
def unpacked(built: Path, tmp_path: Path) -> Path:
    """The reference bundle unpacked elsewhere, as an operator gets it: ``handover/``."""
    dest = tmp_path / "elsewhere"
    dest.mkdir()
    with tarfile.open(built / TARBALL) as tar:
        tar.extractall(dest, filter="data")
    return dest / "handover"


@pytest.fixture
def tarball(built: Path, tmp_path: Path) -> Path:
    """A private copy of the reference tarball that a test may sign or damage."""
    dst = tmp_path / "handover.tar.gz"
    shutil.copy(built / TARBALL, dst)
    return dst
