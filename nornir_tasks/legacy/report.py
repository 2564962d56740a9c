"""``fellesnett legacy report``: what the importer would carry from legacy configs, and
the not-carried report per device, grouped by feature, every line accounted for.

The report is written atomically (a scratch directory beside ``--out``, renamed into
place); secrets are masked in every line it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nornir_tasks.errors import UsageError
from nornir_tasks.legacy import READERS, read_config
from nornir_tasks.legacy.model import LegacyDevice

CONFIG_SUFFIXES = (".cfg", ".conf", ".txt")


def config_files(paths: Sequence[Path]) -> list[Path]:
    """The config files named, and those in the folders named (``*.cfg``, ``*.conf``,
    ``*.txt``), in name order; a path that is neither is an error."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file()
                          and p.suffix in CONFIG_SUFFIXES)
        elif path.is_file():
            out.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    if not out:
        raise UsageError(f"no config files (*{', *'.join(CONFIG_SUFFIXES)}) in "
                         f"{', '.join(map(str, paths))}")
    return out


def read_files(paths: Sequence[Path], platform: str | None = None) -> list[LegacyDevice]:
    devices = []
    for path in config_files(paths):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
        try:
            devices.append(read_config(text, str(path), platform))
        except ValueError as exc:
            raise UsageError(f"{path}: cannot read the config: {exc}") from None
    return devices


def device_markdown(dev: LegacyDevice) -> str:
    s = dev.summary()
    title = dev.hostname or Path(dev.source).stem
    out = [f"# {title}: what the import carries", "",
           f"`{dev.source}`: {dev.platform}"
           + (f" {dev.model}" if dev.model else "")
           + (f", software {dev.software}" if dev.software else "") + ".", "",
           f"{s['lines_read']} lines read: {s['carried']} carried, {s['not_carried']} not "
           f"carried, {s['framing']} framing (blank lines, `!`, `exit`, `end`, the header). "
           "Secrets are masked (`<<secret>>`).", ""]
    vlans = ", ".join(f"{v.id}" + (f" {v.name}" if v.name else "") + (" (voice)" if v.voice
                                                                       else "")
                      for v in dev.vlans.values())
    subnets = ", ".join(f"VLAN {v.vlan} {v.address}" for v in dev.svis.values() if v.address)
    out += ["## Carried", "",
            f"- **VLANs** (each becomes a zone by the mapping file): {vlans or 'none'}",
            f"- **Ports** (the port map): {len(dev.ports)}, "
            f"{sum(p.mode == 'access' for p in dev.ports.values())} access, "
            f"{sum(p.mode == 'trunk' for p in dev.ports.values())} trunk, "
            f"{sum(p.shutdown for p in dev.ports.values())} shut down",
            f"- **Legacy subnets** (for the record; the zones' prefixes come from the "
            f"pools): {subnets or 'none'}",
            ""]
    for note in dev.notes:
        out.append(f"> {note}")
    if dev.notes:
        out.append("")
    out += ["## Not carried, by feature", ""]
    for feature, lines in dev.by_feature().items():
        out += [f"### {feature} ({sum(ln.span for ln in lines)} lines)", "",
                "| line | in | text | why |", "|---:|---|---|---|"]
        for ln in lines:
            text = ln.text.replace("\n", " ⏎ ").replace("|", "\\|")
            ctx = " › ".join(ln.context).replace("|", "\\|")
            out.append(f"| {ln.number} | {ctx} | `{text}` | {ln.reason} |")
        out.append("")
    return "\n".join(out)


def write_report(devices: list[LegacyDevice], out: Path) -> None:
    """``out/<device>.md`` per device, ``out/summary.json``; all or nothing."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())) \
            and not (out / "summary.json").is_file():
        raise UsageError(f"{out} exists and is not an earlier report: give a new directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        names: set[str] = set()
        for dev in devices:
            name = (dev.hostname or Path(dev.source).stem).lower()
            while name in names:
                name += "-2"
            names.add(name)
            (scratch / f"{name}.md").write_text(device_markdown(dev) + "\n", encoding="utf-8")
        (scratch / "summary.json").write_text(
            json.dumps([d.summary() for d in devices], indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.rename(scratch, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def register(sub: Any) -> None:
    legacy = sub.add_parser("legacy", help="read the running configs of today's networks")
    legacy_sub = legacy.add_subparsers(dest="legacy_command", required=True,
                                       metavar="SUBCOMMAND")
    p = legacy_sub.add_parser(
        "report", help="what the import carries from legacy configs, and what it does not",
        description="Read Cisco IOS classic and HPE ArubaOS-Switch running configs; print "
        "per device the lines carried (VLANs, ports) and not carried (by feature, with the "
        "reason), every line accounted for. Secrets are masked.")
    p.add_argument("configs", nargs="+", type=Path, metavar="CONFIG",
                   help="config files, or folders of *.cfg, *.conf, *.txt")
    p.add_argument("--platform", choices=sorted(READERS),
                   help="the platform of every file (default: detected per file)")
    p.add_argument("--out", "-o", type=Path,
                   help="write <device>.md and summary.json here (atomically)")
    p.add_argument("--json", action="store_true", help="print the per-device summary as JSON")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    devices = read_files(args.configs, args.platform)
    if args.out is not None:
        write_report(devices, args.out)
    if args.json:
        print(json.dumps([d.summary() for d in devices], indent=2, ensure_ascii=False))
    else:
        for d in devices:
            s = d.summary()
            print(f"{d.hostname or d.source}: {s['lines_read']} lines, {s['carried']} "
                  f"carried, {s['not_carried']} not carried "
                  f"({', '.join(f'{k} {v}' for k, v in s['not_carried_by_feature'].items())}), "
                  f"{s['framing']} framing; {len(d.vlans)} VLANs, {len(d.ports)} ports")
            for note in d.notes:
                print(f"  note: {note}")
        if args.out is not None:
            print(f"report: {args.out}/")
    return 0
