"""Detached minisign signatures for handover bundles.

The municipality holds an Ed25519 key pair in the `minisign <https://jedisct1.github.io/
minisign/>`_ format (``minisign -G`` or ``fellesnett handover keygen``); the operator gets
the public key out of band. ``fellesnett handover sign`` writes the signature *beside* the
bundle (``handover.tar.gz.minisig``), so the tarball itself stays byte-reproducible, and
``fellesnett handover verify --pubkey`` checks it. Files are interchangeable with the
``minisign`` tool: ``minisign -Vm handover.tar.gz -p fellesnett.pub`` verifies the same
signature.

The format is implemented by `py-minisign` (on top of ``cryptography``'s Ed25519). A
password-protected secret key (the default of ``minisign -G``) is unlocked with the
password from ``FELLESNETT_SIGNING_PASSWORD``, or asked for on a terminal.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError
from nornir_tasks.handover.bundle import signature_path, signed_bytes

PASSWORD_ENV = "FELLESNETT_SIGNING_PASSWORD"
UNTRUSTED_COMMENT = "fellesnett handover signature"


def _minisign() -> Any:
    try:
        import minisign  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise UsageError("signing needs the py-minisign package: pip install "
                         "py-minisign") from exc
    return minisign


def _password(purpose: str, required: bool) -> str | None:
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value
    if sys.stdin.isatty():
        return getpass.getpass(f"{purpose}: ")
    if required:
        raise UsageError(f"the secret key is password-protected: set {PASSWORD_ENV}")
    return None


def generate_keypair(key: Path, pubkey: Path, *, password: bool = True) -> str:
    """Write a new minisign key pair; return the key id. Never overwrites a file."""
    ms = _minisign()
    for path in (key, pubkey):
        if path.exists():
            raise UsageError(f"{path}: exists; refusing to overwrite a key")
    pair = ms.KeyPair.generate()
    if password:
        secret = _password("password for the new secret key", required=True)
        if not secret:
            raise UsageError(f"{PASSWORD_ENV} is empty; use --no-password for an unprotected "
                             "key")
        pair.secret_key.encrypt(secret)
    key.parent.mkdir(parents=True, exist_ok=True)
    pubkey.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(bytes(pair.secret_key) + b"\n")
    pubkey.write_bytes(bytes(pair.public_key) + b"\n")
    return key_id(pubkey)


def key_id(pubkey: Path) -> str:
    """The key id minisign prints for a public key (16 hex digits, upper case)."""
    pk = _load_public(pubkey)
    return bytes(pk._keynum_pk.key_id).hex().upper()


def _load_public(path: Path) -> Any:
    ms = _minisign()
    try:
        return ms.PublicKey.from_file(path)
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such public key file") from exc
    except (ms.Error, ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a minisign public key ({exc})") from exc


def sign_bundle(bundle: Path, key: Path, *, timestamp: int | None = None) -> dict[str, Any]:
    """Sign ``bundle`` (tarball, or a directory through its manifest) with ``key``."""
    ms = _minisign()
    try:
        sk = ms.SecretKey.from_file(key)
    except FileNotFoundError as exc:
        raise UsageError(f"{key}: no such secret key file") from exc
    except (ms.Error, ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{key}: not a minisign secret key ({exc})") from exc
    if sk.is_encrypted():
        password = _password(f"password for {key}", required=True)
        try:
            sk.decrypt(password)
        except ms.Error as exc:
            raise UsageError(f"{key}: {exc}") from exc
    data = signed_bytes(bundle)
    target = signature_path(bundle)
    digest = hashlib.sha256(data).hexdigest()
    stamp = int(time.time()) if timestamp is None else timestamp
    trusted = (f"timestamp:{stamp}\tfile:{target.name.removesuffix('.minisig')}\thashed"
               f"\tsha256:{digest}")
    try:
        sig = sk.sign(data, prehash=True, untrusted_comment=UNTRUSTED_COMMENT,
                      trusted_comment=trusted)
    finally:
        sk.wipe()
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(bytes(sig) + b"\n")
    os.replace(tmp, target)
    return {"signature": str(target), "signed": str(bundle), "sha256": digest,
            "key_id": bytes(sig._key_id).hex().upper(), "trusted_comment": trusted}


def check_signature(bundle: Path, pubkey: Path,
                    signature: Path | None = None) -> dict[str, Any]:
    """``{"ok": bool, ...}`` for the detached signature of ``bundle``.

    Raises :class:`UsageError` only for an unusable public key; a missing, malformed or
    wrong signature is a finding (``ok: False`` with the reason).
    """
    ms = _minisign()
    pk = _load_public(pubkey)
    sig_file = signature or signature_path(bundle)
    out: dict[str, Any] = {"file": str(sig_file), "ok": False, "key_id": None,
                           "trusted_comment": None, "error": None}
    if not sig_file.is_file():
        out["error"] = "no signature file (sign with `fellesnett handover sign`)"
        return out
    try:
        sig = ms.Signature.from_bytes(sig_file.read_bytes())
    except (ms.Error, ValueError, UnicodeDecodeError) as exc:
        out["error"] = f"not a minisign signature ({exc})"
        return out
    out["key_id"] = bytes(sig._key_id).hex().upper()
    try:
        pk.verify(signed_bytes(bundle), sig)
    except ms.VerifyError as exc:
        want = bytes(pk._keynum_pk.key_id).hex().upper()
        out["error"] = (f"signed by key {out['key_id']}, not by {want}"
                        if out["key_id"] != want else f"does not match the bundle ({exc})")
        return out
    out["ok"] = True
    out["trusted_comment"] = sig.trusted_comment
    return out
