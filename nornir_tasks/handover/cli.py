"""``fellesnett handover verify | diff | sign | keygen``.

Exit codes: ``verify`` 0 intact (and, with ``--pubkey``, signed), 1 any tampered, missing,
extra or unsafe file or a bad signature; ``diff`` 0 same, 1 different (as ``diff(1)``);
``sign`` / ``keygen`` 0 done. Every command: 2 for bad arguments or a path that is not a
bundle, with a message naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FOUND = 0, 1


def _cmd_verify(args: argparse.Namespace) -> int:
    from nornir_tasks.handover.bundle import read_bundle
    from nornir_tasks.handover.verify import verify_bundle

    if args.signature and not args.pubkey:
        from nornir_tasks.errors import UsageError

        raise UsageError("--signature needs --pubkey")
    report = verify_bundle(read_bundle(args.bundle))
    if args.pubkey:
        from nornir_tasks.handover.sign import check_signature

        report.signature = check_signature(args.bundle, args.pubkey, args.signature)
    if args.json:
        print(json.dumps(report.to_data(), indent=2, sort_keys=True))
    else:
        sys.stdout.write(report.to_text())
    return EXIT_OK if report.ok else EXIT_FOUND


def _cmd_diff(args: argparse.Namespace) -> int:
    from nornir_tasks.errors import UsageError
    from nornir_tasks.handover.bundle import read_bundle
    from nornir_tasks.handover.diff import diff_bundles

    if args.context < 0:
        raise UsageError("--context must be 0 or more")
    result = diff_bundles(read_bundle(args.old), read_bundle(args.new), args.context)
    text = result.to_json() if args.json else result.to_markdown(full=args.full)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_FOUND if result.changed else EXIT_OK


def _cmd_sign(args: argparse.Namespace) -> int:
    from nornir_tasks.handover.sign import sign_bundle

    info = sign_bundle(args.bundle, args.key)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        print(f"signed {info['signed']} (sha256 {info['sha256']}) with key {info['key_id']} "
              f"-> {info['signature']}")
    return EXIT_OK


def _cmd_keygen(args: argparse.Namespace) -> int:
    from nornir_tasks.handover.sign import generate_keypair

    kid = generate_keypair(args.key, args.pubkey, password=not args.no_password)
    print(f"key {kid}: secret key {args.key} (keep it with the municipality), public key "
          f"{args.pubkey} (give it to the operator)")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``handover`` and its sub-commands to the ``fellesnett`` parser."""
    top = sub.add_parser("handover", help="verify, sign and compare handover bundles")
    hsub = top.add_subparsers(dest="handover_command", required=True, metavar="SUBCOMMAND")

    p = hsub.add_parser(
        "verify", help="check a bundle against its MANIFEST.sha256 (and its signature)",
        description="Check every file of a handover bundle (handover.tar.gz, the unpacked "
        "handover/ directory, or a build/ directory) against MANIFEST.sha256: each "
        "tampered, missing or extra file is named. Exit 0 intact, 1 any finding, 2 not a "
        "bundle.")
    p.add_argument("bundle", type=Path, metavar="BUNDLE")
    p.add_argument("--pubkey", type=Path, metavar="FILE",
                   help="also check the detached minisign signature with this public key")
    p.add_argument("--signature", type=Path, metavar="FILE",
                   help="signature file (default: BUNDLE.minisig for a tarball, "
                        "MANIFEST.sha256.minisig inside a directory)")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=_cmd_verify)

    p = hsub.add_parser(
        "diff", help="what changed between two bundles (devices, config lines, zone matrix)",
        description="Compare two handover bundles (tarballs or directories): devices added "
        "and removed, config lines per device, zone-matrix verdicts, other files. Markdown "
        "(a merge-request comment) or --json. Exit 0 same, 1 different, 2 trouble.")
    p.add_argument("old", type=Path, metavar="OLD_BUNDLE")
    p.add_argument("new", type=Path, metavar="NEW_BUNDLE")
    p.add_argument("--json", action="store_true", help="machine-readable change log")
    p.add_argument("--full", action="store_true",
                   help="Markdown: include the line diff of docs and other files too")
    p.add_argument("--context", type=int, default=3, metavar="N",
                   help="lines of context around each change (default: %(default)s)")
    p.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE")
    p.set_defaults(func=_cmd_diff)

    p = hsub.add_parser(
        "sign", help="write a detached minisign signature beside a bundle",
        description="Sign a bundle with the municipality's minisign secret key: a tarball "
        "as a whole (BUNDLE.minisig), a directory through its MANIFEST.sha256 "
        "(MANIFEST.sha256.minisig). The bundle itself is not changed. A password-protected "
        "key is unlocked with $FELLESNETT_SIGNING_PASSWORD or a prompt.")
    p.add_argument("bundle", type=Path, metavar="BUNDLE")
    p.add_argument("--key", type=Path, required=True, metavar="KEYFILE",
                   help="minisign secret key (minisign -G or fellesnett handover keygen)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_sign)

    p = hsub.add_parser("keygen", help="create a minisign key pair for signing bundles")
    p.add_argument("--key", type=Path, required=True, metavar="KEYFILE",
                   help="secret key to write (mode 0600)")
    p.add_argument("--pubkey", type=Path, required=True, metavar="FILE",
                   help="public key to write (for the operator)")
    p.add_argument("--no-password", action="store_true",
                   help="leave the secret key unencrypted (a CI key in a protected "
                        "variable); default: encrypt it with $FELLESNETT_SIGNING_PASSWORD")
    p.set_defaults(func=_cmd_keygen)
