"""``fellesnett init DIR``: a new estate from nothing, ready for ``site add``.

It writes what every estate needs before its first site: the zones, pools, policy, port
profiles, device models, AAA, services and wireless of ``group_vars/all`` (the reference
municipality's, commented, with the municipality's own name, DNS domain and guest SSID
put in), and the core site with its core pair, its controller pair and its data-centre
switch pair, addressed from the pools by the same allocator as ``site add``. The files
are written by the reference estate's own generator (:mod:`nornir_tasks.estate`), so an
estate started here reads exactly like the reference one.

Nothing is left half-written: the estate is made in a scratch directory beside ``DIR``,
must validate, and only then is renamed into place. ``DIR`` must not exist or be empty.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nornir_tasks
from nornir_tasks.errors import UsageError
from nornir_tasks.estate import SiteSpec, write_estate
from nornir_tasks.intent.loader import load_intent
from nornir_tasks.intent.model import SiteKind
from nornir_tasks.site_add import print_result
from nornir_tasks.site_layout import host_prefix, slugify

#: the shared settings every estate starts from: the reference inventory's (an editable
#: install or a clone of the repository has it; a wheel does not ship the inventory)
TEMPLATE = Path(nornir_tasks.__file__).resolve().parent.parent / "inventory"


@dataclass(frozen=True)
class InitResult:
    out: Path
    municipality: str
    domain: str
    core_site: str
    hosts: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {"inventory": str(self.out), "municipality": self.municipality,
                "domain": self.domain, "core_site": self.core_site, "hosts": list(self.hosts)}

    def report(self) -> str:
        return "\n".join([
            f"created the estate of {self.municipality} in {self.out}/",
            f"  core site {self.core_site}: {', '.join(self.hosts)}",
            f"  DNS domain {self.domain}",
            "next: review group_vars/all/ (servers, SSIDs, pools), then",
            f"  fellesnett build -i {self.out} --out build",
            f"  fellesnett site add -i {self.out} --name ... --kind school ...",
        ])


def default_domain(municipality: str) -> str:
    """``Nordby kommune`` -> ``fellesnett.nordby.kommune.no``.

    >>> default_domain("Nordre Fjord kommune")
    'fellesnett.nordre-fjord.kommune.no'
    """
    short = re.sub(r"\s+kommune$", "", municipality.strip(), flags=re.IGNORECASE)
    return f"fellesnett.{host_prefix(slugify(short))}.kommune.no"


def init_estate(out: Path, municipality: str, *, core_site: str = "Rådhuset",
                domain: str | None = None, guest_ssid: str | None = None,
                access_switches: int = 0, aps: int = 0) -> InitResult:
    """Write a new estate at ``out``: shared settings and the core site; all or nothing.

    Raises:
        UsageError: ``out`` is in use, or a fact is unusable.
        IntentError: the estate would not validate (a name the devices cannot take).
    """
    out = Path(out)
    if out.is_symlink() or (out.exists() and (not out.is_dir() or any(out.iterdir()))):
        raise UsageError(f"{out} exists and is not an empty directory; `init` starts an "
                         "estate from nothing (use `site add` on an existing one)")
    municipality = municipality.strip()
    if not municipality or any(c in municipality for c in "\n\r\t"):
        raise UsageError("--municipality must be one line of text, e.g. 'Nordby kommune'")
    short = re.sub(r"\s+kommune$", "", municipality, flags=re.IGNORECASE)
    domain = (domain or default_domain(municipality)).lower()
    if not re.fullmatch(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
                        domain):
        raise UsageError(f"--domain {domain!r} is not a DNS domain name")
    guest_ssid = guest_ssid or f"{host_prefix(slugify(short)).title()}-Gjest"
    if not 1 <= len(guest_ssid.encode()) <= 32 or any(c.isspace() for c in guest_ssid):
        raise UsageError(f"--guest-ssid {guest_ssid!r}: 1-32 bytes without blanks")
    if not slugify(core_site)[:1].isalpha():
        raise UsageError(f"--core-site {core_site!r} must start with a letter: it names the "
                         "core switches")
    for what, n in (("--core-access-switches", access_switches), ("--aps", aps)):
        if n < 0:
            raise UsageError(f"{what} must be 0 or more, got {n}")
    shared = TEMPLATE / "group_vars" / "all"
    if not shared.is_dir():
        raise UsageError(f"the shared settings to start from are missing ({shared}); "
                         "run fellesnett from a clone of its repository")

    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.init-", dir=out.parent))
    try:
        gv = scratch / "all"
        shutil.copytree(shared, gv)
        _personalise(gv, municipality, short, domain, guest_ssid)
        new = scratch / "inventory"
        write_estate(new, [SiteSpec(core_site, SiteKind.core, access_switches, aps, 0)], gv)
        roles = TEMPLATE / "zz_roles.yml"
        if roles.is_file():
            shutil.copy(roles, new / "zz_roles.yml")
        intent = load_intent(new)
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(new, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return InitResult(out, municipality, domain, core_site, tuple(sorted(
        h for h, d in intent.devices.items() if d.role.value in ("core", "wlc"))))


def _personalise(gv: Path, municipality: str, short: str, domain: str, guest: str) -> None:
    """Put the municipality's own name, domain and guest SSID into the shared settings,
    line by line, so every comment of the template stays."""
    mailbox = f"nettdrift@{domain.split('.', 1)[1] if domain.count('.') > 1 else domain}"
    _replace(gv / "management.yml", [
        (r"^(  domain_name: ).*$", domain),
        (r"^(  contact: ).*$", f"{municipality} IKT, {mailbox}"),
        (r"^(    )\S.* - fellesnett\. Authorised access only\.$",
         f"{municipality} - fellesnett. Authorised access only."),
    ])
    _replace(gv / "wireless.yml", [(r"^(      ssid: )\S+-Gjest$", guest)])


def _replace(path: Path, rules: list[tuple[str, str]]) -> None:
    """Each pattern's line, its first group kept and the rest replaced by the value."""
    text = path.read_text(encoding="utf-8")
    for pattern, value in rules:
        def keep_key(m: re.Match[str], value: str = value) -> str:
            return m.group(1) + value

        text, n = re.subn(pattern, keep_key, text, count=1, flags=re.MULTILINE)
        if n != 1:  # the template changed under this code: say so rather than skip
            raise RuntimeError(f"internal error: {path.name} has no line matching {pattern!r}")
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- command line


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "init", help="create a new estate from nothing: shared settings and the core site",
        description="Create a new estate's inventory in DIR: zones, pools, policy, port "
        "profiles, AAA, services and wireless (commented, to review), and the core site with "
        "its core pair, controller pair and data-centre switches. Add sites with `site add`. "
        "Missing facts are asked for when run in a terminal.")
    p.add_argument("dir", type=Path, metavar="DIR", help="new inventory directory")
    p.add_argument("--municipality", help="e.g. 'Nordby kommune' (banner, contact, SSID)")
    p.add_argument("--core-site", help="name of the core site (default: Rådhuset)")
    p.add_argument("--domain", help="DNS domain of the devices (default: "
                   "fellesnett.<municipality>.kommune.no)")
    p.add_argument("--guest-ssid", help="guest SSID (default: <Municipality>-Gjest)")
    p.add_argument("--core-access-switches", type=int, default=0, metavar="N",
                   help="access switches at the core site (default 0)")
    p.add_argument("--aps", type=int, default=0, metavar="N",
                   help="access points at the core site (default 0)")
    p.add_argument("--json", action="store_true", help="print a machine-readable summary")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    municipality = args.municipality or _ask("Municipality (e.g. Nordby kommune)", None)
    core_site = args.core_site or _ask("Core site", "Rådhuset")
    result = init_estate(args.dir, municipality, core_site=core_site, domain=args.domain,
                         guest_ssid=args.guest_ssid,
                         access_switches=args.core_access_switches, aps=args.aps)
    print_result(result, args.json)
    return 0


def _ask(question: str, default: str | None) -> str:
    """A fact the flags did not give: asked in a terminal, an error in a pipeline."""
    if not sys.stdin.isatty():
        if default is not None:
            return default
        raise UsageError(f"{question.split(' (')[0].lower()} is required: pass it as a flag")
    hint = f" [{default}]" if default else ""
    answer = input(f"{question}{hint}: ").strip()
    if not answer and default is None:
        raise UsageError(f"{question.split(' (')[0].lower()} is required")
    return answer or (default or "")
