"""A detect-secrets plugin for Cisco IOS-XE / C9800 secrets, and the scan the tests run.

detect-secrets' stock plugins look for ``password = "..."``, keys of cloud providers and
high-entropy strings; they do not know ``enable secret 9 $9$...``, ``key 7 0822...``,
``snmp-server community X`` or a WPA pre-shared key. This plugin does, so a scan over the
backups, the audit reports and the handover bundle catches any secret a device config
could leak, plaintext, type 7 or hashed. Masked values (``<<secret>>``,
``<<secret:name>>``) are what every file here must carry instead.

Use it from the command line (``detect-secrets`` is a development dependency)::

    detect-secrets scan -n --all-files --plugin nornir_tasks/audit/secret_scan.py
        --exclude-secrets '<NOT_SECRETS>' backups/ build/

(one command line; ``NOT_SECRETS`` below: commit ids, placeholders, prose). :func:`scan`
does the same, faster, for the tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from detect_secrets.plugins.base import RegexBasedDetector

#: values that are not secrets: a git commit id (reports name commits); what
#: detect-secrets' keyword plugin captures from a placeholder (``<<secret:tacacs_key>>``
#: gives ``tacacs_key>>...``, the runbook's ``<<secret:NAME>>`` gives ``NAME>>...``); and
#: prose standing in for a value in documentation (``'new value'``)
NOT_SECRETS = r"^[0-9a-f]{40}$|^[A-Za-z][A-Za-z0-9_]*>>|^[a-z]+( [a-z]+)+$"
#: a masked value, as text or HTML-escaped
_MASKED = r"(?!<<secret|&lt;&lt;secret)"
#: the value; a crypt hash's ``$9$`` prefix is left out of it, or detect-secrets takes the
#: value for a template variable (``$name``) and drops it
_VALUE = r"(?:\$\d{1,2}\$)?([^\s\"'<&]+)"


class CiscoSecretDetector(RegexBasedDetector):
    """Secrets as IOS-XE prints or accepts them (anything but a masked placeholder).

    >>> d = CiscoSecretDetector()
    >>> sorted(s.secret_value for s in d.analyze_line("x.cfg", "enable secret 9 $9$ab$cd", 1))
    ['ab$cd']
    >>> list(d.analyze_line("x.cfg", "enable secret <<secret>>", 1))
    []
    """

    secret_type = "Cisco IOS secret"

    denylist = [re.compile(p) for p in (
        rf"(?<![\w-])(?:secret|password|key|server-key|set-key ascii|psk) \d{{1,2}} "
        rf"{_MASKED}{_VALUE}",
        rf"snmp-server community {_MASKED}{_VALUE}",
        r"\$(?:1|5|8|9|14)\$([^\s\"'<&]+)",
        rf"(?<![\w-])(?:secret|password) {_MASKED}([^\s<&\"']{{4,}})\s*$",
    )]


#: file types whose content detect-secrets reads line by line (no file-format parsing)
LINE_TYPES = frozenset({".cfg", ".json", ".md", ".csv", ".html", ".txt", ".conf", ".sha256",
                        ".svg", ""})
_CHUNK = 4000


def _run(files: list[str], cwd: Path) -> dict[str, list[dict[str, object]]]:
    exe = str(Path(sys.executable).with_name("detect-secrets"))
    cmd = [exe, "scan", "-n", "--all-files", "--plugin", str(Path(__file__).resolve()),
           "--exclude-secrets", NOT_SECRETS, *files]
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"detect-secrets failed: {done.stderr.strip()[-500:]}")
    results: dict[str, list[dict[str, object]]] = json.loads(done.stdout)["results"]
    return results


def scan(*roots: Path, jobs: int = 0) -> dict[str, list[dict[str, object]]]:
    """detect-secrets (every stock plugin and this one, no network verification) over every
    file below each of ``roots`` (``.git`` left out); file -> findings, each with its
    ``type`` and ``line_number``; empty when clean. A file is named relative to its root,
    prefixed with the root's position when there are several (``1:backups/a/b.cfg``).

    Configs and reports repeat lines by the thousand (a handover bundle: 350,000 lines,
    29,000 distinct), and every detector here works on one line at a time, so the files of
    line-based types are scanned as their distinct lines, per file type, in parallel
    chunks, and each finding is mapped back to every file and line that holds it. Other
    files (YAML, INI: parsed as a whole by detect-secrets) are scanned as they are.
    """
    where: dict[str, dict[str, list[tuple[str, int]]]] = {}
    whole: list[tuple[Path, str, str]] = []
    for i, root in enumerate(roots):
        label = f"{i}:" if len(roots) > 1 else ""
        for path in sorted(root.rglob("*")):
            if path.is_file() and ".git" not in path.relative_to(root).parts:
                rel = path.relative_to(root).as_posix()
                if path.suffix in LINE_TYPES:
                    _lines(path, label + rel, where)
                else:
                    whole.append((root, rel, label + rel))
    return _scan(where, whole, jobs)


def _lines(path: Path, name: str, where: dict[str, dict[str, list[tuple[str, int]]]]) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = where.setdefault(path.suffix or ".txt", {})
    for n, line in enumerate(text.splitlines(), 1):
        lines.setdefault(line, []).append((name, n))


def _scan(where: dict[str, dict[str, list[tuple[str, int]]]], whole: list[tuple[Path, str, str]],
          jobs: int) -> dict[str, list[dict[str, object]]]:
    from concurrent.futures import ThreadPoolExecutor

    results: dict[str, list[dict[str, object]]] = {}
    with tempfile.TemporaryDirectory(prefix="fellesnett-scan-") as tmp:
        chunks: dict[str, list[str]] = {}
        for ext, lines in sorted(where.items()):
            distinct = list(lines)
            for i in range(0, len(distinct), _CHUNK):
                name = f"chunk{len(chunks):04d}{ext}"
                chunks[name] = distinct[i:i + _CHUNK]
                (Path(tmp) / name).write_text("\n".join(chunks[name]) + "\n", encoding="utf-8")
        jobs = max(1, jobs or os.cpu_count() or 1)
        names = sorted(chunks)
        batches: list[tuple[list[str], Path]] = [(names[i::jobs], Path(tmp))
                                                 for i in range(min(jobs, len(names)))]
        named: dict[tuple[Path, str], str] = {}
        by_root: dict[Path, list[str]] = {}
        for root, rel, name in whole:
            by_root.setdefault(root, []).append(rel)
            named[(root, rel)] = name
        batches += [(rels, root) for root, rels in by_root.items()]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            found = list(pool.map(lambda b: (_run(*b), b[1]), batches))
        for result, cwd in found:
            for name, findings in result.items():
                if (cwd, name) in named:
                    results.setdefault(named[(cwd, name)], []).extend(findings)
                    continue
                ext = Path(name).suffix or ".txt"
                for f in findings:
                    line = chunks[name][int(str(f["line_number"])) - 1]
                    for rel, n in where[ext][line]:
                        results.setdefault(rel, []).append({**f, "filename": rel,
                                                            "line_number": n})
    return {k: sorted(v, key=lambda f: (int(str(f["line_number"])), str(f["type"])))
            for k, v in sorted(results.items())}
