"""`fellesnett handover verify`: an intact bundle verifies anywhere; every kind of
tampering is named; the detached signature is checked with the public key."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from nornir_tasks.build import MANIFEST, deterministic_tarball
from nornir_tasks.cli import main

CFG = "configs/alta_skole/alta-skole-acc01.cfg"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = main(["handover", *argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_the_bundle_unpacked_elsewhere_verifies(unpacked: Path, tarball: Path, built: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for target in (unpacked, unpacked.parent, tarball, built):
        code, report = run(capsys, "verify", str(target))
        assert code == 0, report
        assert report["ok"] and report["files_checked"] > 300
        assert not (report["tampered"] or report["missing"] or report["extra"])
    # the build directory holds the tarball beside the tree: named, never "extra"
    assert report["not_covered"] == ["handover.tar.gz"]


def test_sha256sum_agrees(unpacked: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum")
    subprocess.run(["sha256sum", "--quiet", "-c", MANIFEST], cwd=unpacked, check=True)


def test_a_changed_byte_a_missing_and_an_added_file_are_each_named(
        unpacked: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = unpacked / CFG
    data = bytearray(cfg.read_bytes())
    data[100] ^= 0x01
    cfg.write_bytes(bytes(data))
    (unpacked / "docs" / "ros.md").unlink()
    (unpacked / "docs" / "notes.txt").write_text("slipped in\n")
    code, report = run(capsys, "verify", str(unpacked))
    assert code == 1
    assert report["tampered"] == [CFG]
    assert report["missing"] == ["docs/ros.md"]
    assert report["extra"] == ["docs/notes.txt"]
    capsys.readouterr()
    assert main(["handover", "verify", str(unpacked)]) == 1
    text = capsys.readouterr().out
    assert "FAILED" in text and f"tampered: {CFG}" in text and "missing: docs/ros.md" in text


def test_a_tampered_tarball_is_named(unpacked: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    files = {p.relative_to(unpacked).as_posix(): p.read_bytes()
             for p in unpacked.rglob("*") if p.is_file()}
    files[CFG] = files[CFG].replace(b"hostname ", b"hostname evil-", 1)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(deterministic_tarball(files))
    code, report = run(capsys, "verify", str(bad))
    assert code == 1 and report["tampered"] == [CFG]


def test_unsafe_members_and_a_broken_manifest_fail(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in (("handover/MANIFEST.sha256", b"nonsense\n"),
                           ("../escape.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("handover/docs/link")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    evil = tmp_path / "evil.tar.gz"
    evil.write_bytes(raw.getvalue())
    code, report = run(capsys, "verify", str(evil))
    assert code == 1
    assert report["unsafe"] == ["../escape.txt (leaves the bundle)",
                                "handover/docs/link (not a regular file)"]
    assert report["manifest_errors"] == ["MANIFEST.sha256 line 1: not '<sha256>  <path>': "
                                         "'nonsense'"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p / "absent", "no such file or directory"),
    (lambda p: (p / "x.txt").write_text("hi") and p / "x.txt", "neither a directory nor a tar"),
])
def test_not_a_bundle_exits_2_with_a_located_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, message: str) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    assert main(["handover", "verify", str(target)]) == 2
    err = capsys.readouterr().err
    assert str(target) in err and message in err and "Traceback" not in err


# --------------------------------------------------------------------------- signatures


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    key, pub = tmp_path / "keys" / "fellesnett.key", tmp_path / "keys" / "fellesnett.pub"
    assert main(["handover", "keygen", "--key", str(key), "--pubkey", str(pub),
                 "--no-password"]) == 0
    assert key.stat().st_mode & 0o077 == 0
    return key, pub


def test_signature_good_and_bad(tarball: Path, keys: tuple[Path, Path], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    key, pub = keys
    before = tarball.read_bytes()
    capsys.readouterr()
    assert main(["handover", "sign", str(tarball), "--key", str(key), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["signature"] == f"{tarball}.minisig"
    assert tarball.read_bytes() == before  # the bundle itself is untouched
    code, report = run(capsys, "verify", str(tarball), "--pubkey", str(pub))
    assert code == 0 and report["signature"]["ok"], report
    assert "sha256:" in report["signature"]["trusted_comment"]

    # a different key does not verify it
    other_key, other_pub = tmp_path / "o.key", tmp_path / "o.pub"
    assert main(["handover", "keygen", "--key", str(other_key), "--pubkey", str(other_pub),
                 "--no-password"]) == 0
    code, report = run(capsys, "verify", str(tarball), "--pubkey", str(other_pub))
    assert code == 1 and "signed by key" in report["signature"]["error"]

    # a re-packed tarball with the same files passes the manifest but not the signature
    data = bytearray(before)
    data[-9] ^= 0xFF  # inside the gzip trailer: the archive no longer matches
    tarball.write_bytes(bytes(data))
    code, report = run(capsys, "verify", str(tarball), "--pubkey", str(pub))
    assert code == 1 and report["signature"]["ok"] is False

    # no signature at all
    Path(f"{tarball}.minisig").unlink()
    tarball.write_bytes(before)
    code, report = run(capsys, "verify", str(tarball), "--pubkey", str(pub))
    assert code == 1 and "no signature file" in report["signature"]["error"]


def test_directory_is_signed_through_its_manifest(unpacked: Path, keys: tuple[Path, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    key, pub = keys
    assert main(["handover", "sign", str(unpacked), "--key", str(key)]) == 0
    assert (unpacked / "MANIFEST.sha256.minisig").is_file()
    code, report = run(capsys, "verify", str(unpacked), "--pubkey", str(pub))
    assert code == 0, report
    assert report["not_covered"] == ["MANIFEST.sha256.minisig"]
    manifest = unpacked / MANIFEST
    manifest.write_text(manifest.read_text().replace("  docs/ros.md\n", "  docs/x.md\n"))
    code, report = run(capsys, "verify", str(unpacked), "--pubkey", str(pub))
    assert code == 1 and report["signature"]["ok"] is False


def test_password_protected_key(tarball: Path, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    key, pub = tmp_path / "p.key", tmp_path / "p.pub"
    monkeypatch.setenv("FELLESNETT_SIGNING_PASSWORD", "correct horse")
    assert main(["handover", "keygen", "--key", str(key), "--pubkey", str(pub)]) == 0
    assert b"minisign" in pub.read_bytes()
    monkeypatch.setenv("FELLESNETT_SIGNING_PASSWORD", "wrong")
    assert main(["handover", "sign", str(tarball), "--key", str(key)]) == 2
    assert "wrong password" in capsys.readouterr().err
    monkeypatch.setenv("FELLESNETT_SIGNING_PASSWORD", "correct horse")
    assert main(["handover", "sign", str(tarball), "--key", str(key)]) == 0
    assert run(capsys, "verify", str(tarball), "--pubkey", str(pub))[0] == 0
    # keygen never overwrites a key
    assert main(["handover", "keygen", "--key", str(key), "--pubkey", str(pub)]) == 2


def test_the_minisign_tool_verifies_our_signature(tarball: Path, keys: tuple[Path, Path]
                                                  ) -> None:
    if shutil.which("minisign") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("minisign is required in CI (.ci/run installs it with apt)")
        pytest.skip("minisign is not installed (apt-get install minisign)")
    key, pub = keys
    assert main(["handover", "sign", str(tarball), "--key", str(key)]) == 0
    done = subprocess.run(["minisign", "-Vm", str(tarball), "-p", str(pub)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Signature and comment signature verified" in done.stdout + done.stderr
