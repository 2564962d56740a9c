"""The main job: complete, reproducible, atomic, and honest about bad input."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from nornir_tasks import build as build_mod
from nornir_tasks.build import MANIFEST, TARBALL, build, config_hosts
from nornir_tasks.cli import main
from nornir_tasks.errors import IntentError
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.model import Role


def tree(path: Path) -> dict[str, str]:
    return {p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def test_every_switch_and_the_controller_pair_get_a_config(intent: Intent, built: Path) -> None:
    want = {h for h, d in intent.devices.items()
            if d.role in (Role.core, Role.distribution, Role.access, Role.wlc)}
    have = {p.stem for p in (built / "configs").rglob("*.cfg")}
    assert have == want
    assert len([h for h in want if intent.devices[h].role is Role.wlc]) == 1
    for host in want:
        cfg = built / "configs" / intent.device_site[host] / f"{host}.cfg"
        text = cfg.read_text()
        assert f"hostname {host}\n" in text
        assert text.rstrip().endswith("end")
    # APs are configured through the controller, never on their own
    assert not any(d.role is Role.ap for h, d in intent.devices.items() if h in have)


def test_manifest_covers_every_file_and_verifies(built: Path) -> None:
    lines = (built / MANIFEST).read_text().splitlines()
    listed = {}
    for line in lines:
        digest, path = line.split("  ", 1)
        listed[path] = digest
    files = tree(built)
    del files[MANIFEST], files[TARBALL]
    assert listed == files
    assert list(listed) == sorted(listed)


def test_tarball_holds_exactly_the_tree(built: Path) -> None:
    with tarfile.open(built / TARBALL) as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        for m in members.values():
            assert m.mtime == 0 and m.uid == 0 and m.uname == ""
        contents = {name.removeprefix("handover/"): hashlib.sha256(
            tar.extractfile(m).read()).hexdigest() for name, m in members.items()}  # type: ignore[union-attr]
    files = tree(built)
    del files[TARBALL]
    assert contents == files


def test_two_builds_are_byte_identical(tmp_path: Path, built: Path) -> None:
    again = tmp_path / "again"
    build(Path("inventory"), again)
    assert tree(again) == tree(built)


def test_parallel_render_gives_the_same_bytes(intent: Intent) -> None:
    hosts = config_hosts(intent, None)
    serial = build_mod.render_all(intent, hosts, workers=1)
    old = build_mod.PARALLEL_THRESHOLD
    build_mod.PARALLEL_THRESHOLD = 1
    try:
        parallel = build_mod.render_all(intent, hosts, workers=2)
    finally:
        build_mod.PARALLEL_THRESHOLD = old
    assert parallel == serial


def test_invalid_intent_leaves_previous_output_intact(inventory_copy: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "out"
    build(inventory_copy, out, limit="kindergarten")
    before = tree(out)
    zones = inventory_copy / "group_vars" / "all" / "zones.yml"
    zones.write_text(zones.read_text().replace("vlan: 120", "vlan: 110"))
    with pytest.raises(IntentError) as err:
        build(inventory_copy, out)
    assert any(p.file == "group_vars/all/zones.yml" and p.path == "zones.staff.vlan"
               for p in err.value.problems)
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["inventory", "out"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["inventory", "out"]


def test_crash_while_packing_leaves_previous_output_intact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    build(Path("inventory"), out, limit="kindergarten")
    before = tree(out)

    def boom(files: dict[str, bytes]) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_mod, "deterministic_tarball", boom)
    with pytest.raises(OSError):
        build(Path("inventory"), out)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_limit_selects_ansible_style(intent: Intent) -> None:
    hosts = config_hosts(intent, "access:&municipal")
    assert hosts and all(intent.devices[h].role is Role.access and
                         intent.site_of(h).kind.value == "municipal" for h in hosts)
    assert config_hosts(intent, "site_alta_skole") == sorted(
        h for h in intent.site_devices("alta_skole") if intent.devices[h].role is not Role.ap)
    no_kg = config_hosts(intent, "!kindergarten")
    assert not any(intent.site_of(h).kind.value == "kindergarten" for h in no_kg)
    schools = config_hosts(intent, "school_*")
    assert schools and {intent.site_of(h).kind.value for h in schools} == {"school"}
    assert set(schools) == {h for h in config_hosts(intent, "school")}
    assert config_hosts(intent, "school_alta_skole") == config_hosts(intent, "site_alta_skole")


def test_no_secret_values_in_configs(built: Path) -> None:
    secret_line = re.compile(r"\b(secret|key|password|server-key)\s+\d\s+(\S+)")
    for cfg in (built / "configs").rglob("*.cfg"):
        for line in cfg.read_text().splitlines():
            m = secret_line.search(line)
            if m:
                assert m.group(2).startswith("<<secret:"), f"{cfg.name}: {line}"


def test_cli_build_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["build", "--out", str(tmp_path / "b"), "--limit", "kindergarten", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True and summary["devices"] == 13
    assert Path(summary["handover"]).is_file()
    digest = hashlib.sha256(Path(summary["handover"]).read_bytes()).hexdigest()
    assert summary["handover_sha256"] == digest


@pytest.mark.parametrize("argv, message", [
    (["build", "--limit", "no_such_group"], "matches no group or host"),
    (["build", "--inventory", "does/not/exist"], "not an inventory"),
    (["build", "--limit", "~[unclosed"], "bad regular expression"),
    (["build", "--workers", "0"], "--workers must be at least 1"),
    (["validate", "--limit", "ap:&core"], "selects no host"),
])
def test_bad_arguments_exit_2_without_traceback(argv: list[str], message: str,
                                                tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "nornir_tasks.cli", *argv, "--out",
                           str(tmp_path / "o")] if argv[0] == "build" else
                          [sys.executable, "-m", "nornir_tasks.cli", *argv],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_cli_located_error_for_broken_intent(inventory_copy: Path) -> None:
    site = inventory_copy / "group_vars" / "site_alta_skole.yml"
    site.write_text(site.read_text().replace("type: l2", "type: internet"))
    proc = subprocess.run([sys.executable, "-m", "nornir_tasks.cli", "build", "--inventory",
                           str(inventory_copy), "--out", str(inventory_copy.parent / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "group_vars/site_alta_skole.yml: site.circuit.type:" in proc.stderr
    assert "IPsec" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_strict_undefined_fails_loudly(intent: Intent) -> None:
    import jinja2

    from nornir_tasks.render import render_config

    class Broken:
        platform = "ios_xe"

    with pytest.raises(jinja2.UndefinedError):
        render_config("ios_xe", Broken())


def test_tarball_is_valid_gzip_with_fixed_header(built: Path) -> None:
    data = (built / TARBALL).read_bytes()
    assert data[:2] == b"\x1f\x8b"
    assert data[4:8] == b"\x00\x00\x00\x00"  # mtime 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getnames()[0] == "handover"


GLUED = re.compile(r"[0-9a-z](ip|no|tunnel|switchport|description|standby|vrf|shutdown|"
                   r"access-session|spanning-tree|storm-control|service-policy) ")


def test_rendered_configs_are_well_formed_cli(built: Path) -> None:
    """Whitespace control in a template can glue two commands or drop an indent: every
    line must be a clean CLI line, whatever the feature."""
    for cfg in (built / "configs").rglob("*.cfg"):
        in_banner = False
        for n, line in enumerate(cfg.read_text().splitlines(), 1):
            where = f"{cfg.name}:{n}: {line!r}"
            if line.startswith("banner "):
                in_banner = True
                continue
            if in_banner:
                in_banner = line != "^C"
                continue
            assert line and line == line.rstrip() and "\t" not in line, where
            indent = len(line) - len(line.lstrip(" "))
            assert indent <= 3, where
            assert not GLUED.search(line.lstrip()), where


def test_a_config_that_breaks_the_matrix_is_not_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The build proves the matrix on the rendered TEXT: a design bug that opens pupils
    to everything is caught, reported with the core's ACL line, and nothing is written."""
    import dataclasses

    from nornir_tasks.design import switch
    from nornir_tasks.design.structured import AclEntry

    out = tmp_path / "out"
    build(Path("inventory"), out, limit="kindergarten")
    before = tree(out)
    real = switch.zone_acls

    def leaky(intent: object) -> list[object]:
        acls = real(intent)  # type: ignore[arg-type]
        return [dataclasses.replace(a, entries=[AclEntry(1, "permit", "ip"), *a.entries])
                if a.name == "ZONE-PUPILS-IN" else a for a in acls]

    monkeypatch.setattr(switch, "zone_acls", leaky)
    rc = main(["build", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "nothing was written" in err
    assert "ZONE-PUPILS-IN" in err and "radhuset-core0" in err and "admin_systems" in err
    assert tree(out) == before
