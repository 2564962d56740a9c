"""Compliance of one device: intended config vs running config, per feature.

Both sides are masked first (:func:`nornir_tasks.live.secrets.mask_config`), so a secret is
never compared, never shown, and a line differs only when it is missing or extra, not
because a hash differs. Lines the inventory's ``audit.ignore`` rules name are left out on
both sides. A line is compared by its *path* (the line and the section lines above it), so
``vlan 150`` under one policy profile is not taken for the same line under another.

>>> r = compare("hostname a\\nusername ops secret 9 <<secret:x>>\\nvlan 10\\n name A\\n",
...             "hostname a\\nusername ops secret 9 $9$h$z\\nusername old secret 9 $9$q$r\\n")
>>> {f: (len(x.missing), len(x.extra)) for f, x in r.items() if not x.compliant}
{'aaa': (0, 1), 'vlans': (2, 0)}
>>> r["aaa"].extra
(('username old secret <<secret>>',),)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nornir_tasks.audit.features import FEATURE_NAMES, OTHER, Path, classify, config_paths
from nornir_tasks.intent.model import AuditIgnore
from nornir_tasks.live.secrets import mask_config


@dataclass(frozen=True)
class FeatureResult:
    """One cell of the fleet table."""

    feature: str
    #: lines the intent has and the device lacks / the device has and the intent lacks
    missing: tuple[Path, ...] = ()
    extra: tuple[Path, ...] = ()
    #: lines of this feature in the intended config (0: the feature is not used here)
    intended: int = 0

    @property
    def compliant(self) -> bool:
        return not self.missing and not self.extra

    @property
    def status(self) -> str:
        if not self.compliant:
            return "drift"
        return "compliant" if self.intended else "n/a"


@dataclass(frozen=True)
class IgnoreRules:
    """The inventory's ``audit.ignore`` rules, compiled, for one platform."""

    rules: tuple[tuple[re.Pattern[str], bool], ...] = ()

    @classmethod
    def of(cls, rules: Iterable[AuditIgnore], platform: str | None = None) -> IgnoreRules:
        return cls(tuple((re.compile(r.match), r.section) for r in rules
                         if not r.platforms or platform in {p.value for p in r.platforms}))

    def ignores(self, path: Path) -> bool:
        """True when a rule names the line, or (for a section rule) a line above it.

        >>> rules = IgnoreRules(((re.compile("^crypto pki certificate chain "), True),))
        >>> rules.ignores(("crypto pki certificate chain TP", "certificate self-signed 01"))
        True
        >>> rules.ignores(("hostname a",))
        False
        """
        for pattern, section in self.rules:
            if pattern.search(path[-1]):
                return True
            if section and any(pattern.search(p) for p in path[:-1]):
                return True
        return False


def masked_paths(text: str) -> list[Path]:
    """The paths of a config's lines, secrets masked."""
    return config_paths(mask_config(text).text)


def _split(paths: Sequence[Path], rules: IgnoreRules) -> tuple[list[Path], int]:
    kept = [p for p in paths if not rules.ignores(p)]
    return kept, len(paths) - len(kept)


def compare(intended: str, running: str, rules: IgnoreRules = IgnoreRules()
            ) -> dict[str, FeatureResult]:
    """Per feature: the lines missing on the device and the lines it has in excess.

    Every feature of :data:`FEATURE_NAMES` is in the result; ``other`` only when a device
    line matched no feature.
    """
    return compare_counted(intended, running, rules)[0]


def compare_counted(intended: str, running: str, rules: IgnoreRules = IgnoreRules()
                    ) -> tuple[dict[str, FeatureResult], int]:
    """:func:`compare`, and how many lines (both sides) the ignore rules left out."""
    return compare_paths(masked_paths(intended), masked_paths(running), rules)


def compare_paths(intended: Sequence[Path], running: Sequence[Path],
                  rules: IgnoreRules = IgnoreRules()) -> tuple[dict[str, FeatureResult], int]:
    """:func:`compare_counted` on configs already split into masked paths."""
    want, ignored_w = _split(intended, rules)
    have, ignored_h = _split(running, rules)
    want_set, have_set = set(want), set(have)
    missing: dict[str, list[Path]] = {}
    extra: dict[str, list[Path]] = {}
    count: dict[str, int] = {}
    for p in want:
        f = classify(p)
        count[f] = count.get(f, 0) + 1
        if p not in have_set:
            missing.setdefault(f, []).append(p)
    for p in have:
        if p not in want_set:
            extra.setdefault(classify(p), []).append(p)
    names = list(FEATURE_NAMES)
    if OTHER in missing or OTHER in extra:
        names.append(OTHER)
    return ({f: FeatureResult(f, tuple(missing.get(f, ())), tuple(extra.get(f, ())),
                              count.get(f, 0)) for f in names}, ignored_w + ignored_h)


@dataclass(frozen=True)
class Unsaved:
    """Running vs startup config: what a reload would lose or bring back."""

    not_saved: tuple[Path, ...] = ()   # in running, not in startup
    lost_on_save: tuple[Path, ...] = ()  # in startup, not in running

    @property
    def clean(self) -> bool:
        return not self.not_saved and not self.lost_on_save


def unsaved(running: str, startup: str, rules: IgnoreRules = IgnoreRules()) -> Unsaved:
    """Lines the running config has that the startup config lacks, and the reverse.

    >>> unsaved("hostname a\\nvlan 5\\n", "hostname a\\n").not_saved
    (('vlan 5',),)
    """
    return unsaved_paths(masked_paths(running), masked_paths(startup), rules)


def unsaved_paths(running: Sequence[Path], startup: Sequence[Path],
                  rules: IgnoreRules = IgnoreRules()) -> Unsaved:
    """:func:`unsaved` on configs already split into masked paths."""
    run, _ = _split(running, rules)
    start, _ = _split(startup, rules)
    run_set, start_set = set(run), set(start)
    return Unsaved(tuple(p for p in run if p not in start_set),
                   tuple(p for p in start if p not in run_set))


_VERSION = re.compile(r"Cisco IOS XE Software, Version (?P<v>\S+)")
_VERSION_ALT = re.compile(r", Version (?P<v>[^,\s]+),")
_MODEL = re.compile(r"^Model Number\s*:\s*(?P<v>\S+)", re.M)
_SERIAL = re.compile(r"^System Serial Number\s*:\s*(?P<v>\S+)", re.M)


def show_version_to_facts(text: str) -> dict[str, str]:
    """Version, model and serial from ``show version`` (absent keys: not printed).

    >>> show_version_to_facts("Cisco IOS XE Software, Version 17.12.04\\n"
    ...     "Model Number                       : C9300-48P\\n"
    ...     "System Serial Number               : FOC1\\n")
    {'version': '17.12.04', 'model': 'C9300-48P', 'serial': 'FOC1'}
    """
    out: dict[str, str] = {}
    m = _VERSION.search(text) or _VERSION_ALT.search(text)
    if m:
        out["version"] = m["v"]
    for key, rx in (("model", _MODEL), ("serial", _SERIAL)):
        found = rx.search(text)
        if found:
            out[key] = found["v"]
    return out


def normalise_version(version: str) -> str:
    """IOS-XE prints ``17.12.04`` where the release is called ``17.12.4``.

    >>> normalise_version("17.09.04a"), normalise_version("17.12.4")
    ('17.9.4a', '17.12.4')
    """
    return ".".join(re.sub(r"^0+(?=\d)", "", part) for part in version.strip().split("."))


@dataclass(frozen=True)
class SoftwareCheck:
    expected: str | None
    running: str | None

    @property
    def status(self) -> str:
        """``ok``, ``mismatch``, ``unknown`` (not read) or ``not set`` (no expectation).

        >>> SoftwareCheck("17.12.4", "17.12.04").status, SoftwareCheck("17.12.4", "17.9.4a").status
        ('ok', 'mismatch')
        """
        if self.expected is None:
            return "not set"
        if self.running is None:
            return "unknown"
        same = normalise_version(self.expected) == normalise_version(self.running)
        return "ok" if same else "mismatch"


@dataclass
class DeviceAudit:
    """Everything the audit found about one device."""

    host: str
    site: str
    role: str
    model: str
    platform: str
    #: where the running config came from: "read" (this run) or "backup"
    source: str = "none"
    backup_rev: str | None = None
    read_error: str = ""
    features: dict[str, FeatureResult] = field(default_factory=dict)
    unsaved: Unsaved | None = None
    software: SoftwareCheck = SoftwareCheck(None, None)
    serial: str | None = None
    #: lines (intended and device together) the inventory's ignore rules left out
    ignored: int = 0

    @property
    def audited(self) -> bool:
        return bool(self.features)

    @property
    def drift_lines(self) -> int:
        return sum(len(f.missing) + len(f.extra) for f in self.features.values())

    @property
    def findings(self) -> list[str]:
        """Short reasons this device is not compliant (empty: compliant)."""
        out = []
        if not self.audited:
            out.append(f"not audited: {self.read_error or 'no running config'}")
            return out
        drift = [f for f, r in self.features.items() if not r.compliant]
        if drift:
            out.append(f"drift in {', '.join(drift)}")
        if self.unsaved is not None and not self.unsaved.clean:
            out.append("unsaved changes (running != startup)")
        if self.software.status == "mismatch":
            out.append(f"software {self.software.running} (expected {self.software.expected})")
        if self.read_error:
            out.append(f"not read this run ({self.read_error}); audited from backup "
                       f"{(self.backup_rev or '')[:12]}")
        return out

    @property
    def compliant(self) -> bool:
        return not self.findings
