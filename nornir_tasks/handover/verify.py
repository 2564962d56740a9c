"""``fellesnett handover verify``: is this bundle exactly the one that was built?

``MANIFEST.sha256`` lists the sha256 of every file of the bundle (``sha256sum -c`` reads
it too). Verification reads the bundle in memory and sorts every file into one of:

* **ok** -- listed, present, same hash;
* **tampered** -- listed and present, different hash;
* **missing** -- listed, absent;
* **extra** -- present, not listed (a file slipped in after the build);
* **unsafe** -- a tar member that is a link, a device or a name leaving the bundle.

Any finding but *ok*, a malformed manifest line, or a missing manifest fails the check.
With a public key, the detached signature beside the bundle is checked as well
(:mod:`nornir_tasks.handover.sign`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from nornir_tasks.build import MANIFEST
from nornir_tasks.handover.bundle import Bundle, safe_relpath

_LINE = re.compile(r"^(?P<digest>[0-9a-f]{64}) [ *](?P<path>.+)$")


@dataclass
class VerifyReport:
    """What :func:`verify_bundle` found; ``ok`` only when nothing at all is wrong."""

    source: str
    kind: str
    checked: int = 0
    tampered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    manifest_errors: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    signature: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        sig_ok = self.signature is None or bool(self.signature.get("ok"))
        return sig_ok and not (self.tampered or self.missing or self.extra or self.unsafe
                               or self.manifest_errors)

    def to_data(self) -> dict[str, Any]:
        return {"ok": self.ok, "bundle": self.source, "kind": self.kind,
                "files_checked": self.checked, "tampered": self.tampered,
                "missing": self.missing, "extra": self.extra, "unsafe": self.unsafe,
                "manifest_errors": self.manifest_errors, "not_covered": self.not_covered,
                "signature": self.signature}

    def to_text(self) -> str:
        verdict = "OK" if self.ok else "FAILED"
        lines = [f"handover verify {self.source}: {verdict} "
                 f"({self.checked} files checked against {MANIFEST})"]
        for label, items in (("manifest", self.manifest_errors), ("tampered", self.tampered),
                             ("missing", self.missing), ("extra", self.extra),
                             ("unsafe", self.unsafe)):
            lines += [f"  {label}: {item}" for item in items]
        if self.not_covered:
            lines.append("  not covered by the manifest (beside the tree): "
                         + ", ".join(self.not_covered))
        if self.signature is not None:
            s = self.signature
            lines.append(f"  signature {s['file']}: {'good' if s['ok'] else 'BAD'}"
                         + (f" (key {s['key_id']}, trusted comment: {s['trusted_comment']})"
                            if s["ok"] else f": {s['error']}"))
        return "\n".join(lines) + "\n"


def parse_manifest(text: bytes) -> tuple[dict[str, str], list[str]]:
    """``{path: sha256}`` of a manifest, and a located message per malformed line.

    >>> good = "0" * 64 + "  docs/README.md\\n"
    >>> parse_manifest(good.encode())
    ({'docs/README.md': '0000000000000000000000000000000000000000000000000000000000000000'}, [])
    >>> parse_manifest(b"nonsense\\n")[1]
    ["MANIFEST.sha256 line 1: not '<sha256>  <path>': 'nonsense'"]
    """
    listed: dict[str, str] = {}
    errors: list[str] = []
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        return {}, [f"{MANIFEST}: not UTF-8 text ({exc.reason} at byte {exc.start})"]
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            errors.append(f"{MANIFEST} line {no}: not '<sha256>  <path>': {line[:80]!r}")
            continue
        path = m["path"]
        if safe_relpath(path) != path or path == MANIFEST:
            errors.append(f"{MANIFEST} line {no}: path {path!r} is not a file of the bundle")
        elif path in listed:
            errors.append(f"{MANIFEST} line {no}: {path} is listed twice")
        else:
            listed[path] = m["digest"]
    return listed, errors


def verify_bundle(bundle: Bundle) -> VerifyReport:
    """Check every file of ``bundle`` against its manifest."""
    report = VerifyReport(source=str(bundle.source), kind=bundle.kind,
                          unsafe=sorted(bundle.unsafe), not_covered=sorted(bundle.beside))
    manifest = bundle.manifest
    if manifest is None:
        report.manifest_errors.append(f"no {MANIFEST} in the bundle: nothing to check against")
        report.extra = sorted(bundle.files)
        return report
    listed, report.manifest_errors = parse_manifest(manifest)
    present = {p: d for p, d in bundle.files.items() if p != MANIFEST}
    for path in sorted(listed):
        data = present.get(path)
        if data is None:
            report.missing.append(path)
            continue
        report.checked += 1
        if hashlib.sha256(data).hexdigest() != listed[path]:
            report.tampered.append(path)
    report.extra = sorted(set(present) - set(listed))
    return report
