"""Secrets in live operations: masked for comparison, resolved only at push time.

The intended config carries placeholders (``secret 9 <<secret:enable_secret>>``); a device
carries hashes (``secret 9 $9$...``, ``key 7 0822455D0A16``). Neither can be compared with
the other, so both sides are *masked* to the same canonical text (``secret <<secret>>``)
before diff, convergence check and backup. A masked line therefore differs only when the
line itself is missing or extra, never because a hash differs: secrets are not remediated
unless a rotation is asked for.

Masking remembers, per line path, the original text of each masked line, so that a push can
put the real thing back: the intended line with the secret's plaintext (from the environment
or an ansible-vault file, read at run time), or — to remove a line — the device's own text.
A placeholder is never sent to a device.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nornir_tasks.errors import UsageError

MASK = "<<secret>>"
PLACEHOLDER = re.compile(r"<<secret:(?P<name>[A-Za-z0-9_]+)>>")

# keyword, type digit, value (devices always print the digit); longest keywords first
# so that `server-key` is not read as `key`
_SECRET = re.compile(
    r"(?P<kw>(?<![\w-])(?:set-key ascii|server-key|secret|password|key))"
    r" (?P<type>\d{1,2}) (?P<value>\S+)"
)
# a crypt-style hash wherever it appears, whatever keyword precedes it
_HASH = re.compile(r"\$(?:1|5|8|9|14)\$\S+")
# values that are secrets without a type digit
_COMMUNITY = re.compile(r"^(?P<kw>snmp-server community) (?P<value>\S+)")

Path_ = tuple[str, ...]


def _norm(text: str) -> str:
    return " ".join(text.split())


def mask_line(line: str) -> str:
    """The canonical masked form of one config line (indentation kept).

    >>> mask_line("enable secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM")
    'enable secret <<secret>>'
    >>> mask_line("enable secret 9 <<secret:enable_secret>>")
    'enable secret <<secret>>'
    >>> mask_line(" key 7 0822455D0A16")
    ' key <<secret>>'
    >>> mask_line(" client 10.0.0.1 vrf MGMT server-key 7 <<secret:radius_key>>")
    ' client 10.0.0.1 vrf MGMT server-key <<secret>>'
    >>> mask_line(" mgmtuser username a password 0 <<secret:p>> secret 0 <<secret:s>>")
    ' mgmtuser username a password <<secret>> secret <<secret>>'
    >>> mask_line("snmp-server community public RO")
    'snmp-server community <<secret>> RO'
    >>> mask_line("appfw secret-thing $9$abc$def")
    'appfw secret-thing <<secret>>'
    >>> mask_line(" security wpa psk set-key ascii 8 abc")
    ' security wpa psk set-key ascii <<secret>>'
    >>> mask_line("service password-encryption"), mask_line("key chain OSPF")
    ('service password-encryption', 'key chain OSPF')
    """
    stripped = line.lstrip()
    indent = line[: len(line) - len(stripped)]
    negated = stripped.startswith("no ")
    body = stripped[3:] if negated else stripped
    if _COMMUNITY.match(body):
        body = _COMMUNITY.sub(lambda m: f"{m['kw']} {MASK}", body)
    else:
        body = _SECRET.sub(lambda m: f"{m['kw']} {MASK}", body)
    body = _HASH.sub(MASK, body)
    return indent + ("no " if negated else "") + body


def _walk(text: str) -> Iterator[tuple[Path_, str, str]]:
    """(masked path, original line, masked line) for each config line, by indentation."""
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("!"):
            continue
        indent = len(raw) - len(raw.lstrip())
        masked = mask_line(raw)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(t for _, t in stack) + (_norm(masked),)
        stack.append((indent, _norm(masked)))
        yield path, raw, masked


@dataclass(frozen=True)
class MaskedConfig:
    """A config with its secrets masked, and the originals of the masked lines by path."""

    text: str
    originals: Mapping[Path_, str] = field(default_factory=dict)

    def original(self, path: Path_) -> str | None:
        return self.originals.get(tuple(_norm(p) for p in path))


def mask_config(text: str) -> MaskedConfig:
    """Mask every secret of a config (intended or running).

    >>> m = mask_config("radius server A\\n key 7 0822\\ntacacs server B\\n key 7 <<secret:t>>\\n")
    >>> print(m.text, end="")
    radius server A
     key <<secret>>
    tacacs server B
     key <<secret>>
    >>> m.original(("tacacs server B", "key <<secret>>"))
    ' key 7 <<secret:t>>'
    """
    lines: list[str] = []
    originals: dict[Path_, str] = {}
    for path, raw, masked in _walk(text):
        lines.append(masked)
        if masked != raw:
            originals[path] = raw
    return MaskedConfig("\n".join(lines) + "\n", originals)


def secret_names(text: str) -> set[str]:
    """Names of the secrets a config refers to."""
    return {m["name"] for m in PLACEHOLDER.finditer(text)}


def is_masked(line: str) -> bool:
    return MASK in line


# ---------------------------------------------------------------------------- resolving


class SecretStore:
    """Plaintext secrets, looked up at run time and never written anywhere.

    Order: environment ``FELLESNETT_SECRET_<NAME>`` (upper case), then an ansible-vault
    encrypted YAML mapping named by ``FELLESNETT_VAULT`` whose password file is
    ``FELLESNETT_VAULT_PASSWORD_FILE`` (or ``ANSIBLE_VAULT_PASSWORD_FILE``).
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self._vault: dict[str, str] | None = None

    def _load_vault(self) -> dict[str, str]:
        if self._vault is not None:
            return self._vault
        self._vault = {}
        vault_file = self._env.get("FELLESNETT_VAULT")
        if not vault_file:
            return self._vault
        pw_file = (self._env.get("FELLESNETT_VAULT_PASSWORD_FILE")
                   or self._env.get("ANSIBLE_VAULT_PASSWORD_FILE"))
        if not pw_file:
            raise UsageError(f"FELLESNETT_VAULT={vault_file}: set FELLESNETT_VAULT_PASSWORD_FILE "
                             "to the file holding the vault password")
        self._vault = read_vault(Path(vault_file), Path(pw_file))
        return self._vault

    def lookup(self, name: str) -> str | None:
        value = self._env.get(f"FELLESNETT_SECRET_{name.upper()}")
        return value if value is not None else self._load_vault().get(name)

    def get(self, name: str) -> str:
        value = self.lookup(name)
        if not value:
            raise UsageError(
                f"secret {name!r} is needed for this push but not set: export "
                f"FELLESNETT_SECRET_{name.upper()} or add {name!r} to the vault "
                "named by FELLESNETT_VAULT")
        return value


def read_vault(vault_file: Path, password_file: Path) -> dict[str, str]:
    """Decrypt an ansible-vault YAML file holding ``name: value`` pairs."""
    import yaml
    from ansible.errors import AnsibleError  # type: ignore[import-untyped]
    from ansible.parsing.vault import VaultLib, VaultSecret  # type: ignore[import-untyped]

    try:
        password = password_file.read_bytes().strip()
        blob = vault_file.read_bytes()
    except OSError as exc:
        raise UsageError(f"{exc.filename}: {exc.strerror}") from None
    try:
        plain = VaultLib([("default", VaultSecret(password))]).decrypt(blob)
    except AnsibleError as exc:
        raise UsageError(f"{vault_file}: cannot decrypt the vault: {exc.message}") from None
    data = yaml.safe_load(plain) or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise UsageError(f"{vault_file}: the vault must hold a mapping of secret names to values")
    return {k: str(v) for k, v in data.items()}


def fill_secrets(line: str, store: SecretStore) -> str:
    """An intended line with each placeholder replaced by its plaintext, typed ``0``.

    The rendered type digit (9 for a hash, 7 for a key) describes what the device will
    show; what is sent is the plaintext, which IOS accepts as type 0 and stores hashed.

    >>> store = SecretStore({"FELLESNETT_SECRET_ENABLE": "s3cret"})
    >>> fill_secrets("enable secret 9 <<secret:enable>>", store)
    'enable secret 0 s3cret'
    """
    def one(m: re.Match[str]) -> str:
        value = m["value"]
        found = PLACEHOLDER.fullmatch(value)
        if not found:
            return m.group(0)
        return f"{m['kw']} 0 {store.get(found['name'])}"

    return _SECRET.sub(one, line)
