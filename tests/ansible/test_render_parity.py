"""The render playbook writes the same bytes as `fellesnett build`, for the whole estate."""

from __future__ import annotations

from pathlib import Path

from ansible_helpers import BIN, ansible_env, run

from nornir_tasks.build import config_hosts
from nornir_tasks.intent.loader import load_intent

ROOT_INVENTORY = Path(__file__).resolve().parents[2] / "inventory"
#: every switch and controller of the reference estate gets a config
CONFIGS = len(config_hosts(load_intent(ROOT_INVENTORY), None))


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.cfg"))}


def test_render_playbook_is_byte_identical_to_fellesnett_build(tmp_path: Path) -> None:
    env = ansible_env()
    out = tmp_path / "ansible"
    proc = run([str(BIN / "ansible-playbook"), "playbooks/render.yml",
                "-e", f"fellesnett_render_output_dir={out}"], env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    build = run([str(BIN / "fellesnett"), "build", "--no-verify", "--out",
                 str(tmp_path / "build")], env)
    assert build.returncode == 0, build.stderr
    ours, theirs = _tree(out / "configs"), _tree(tmp_path / "build" / "configs")
    assert len(theirs) == CONFIGS  # every switch and the controller of the reference estate
    assert sorted(ours) == sorted(theirs)
    different = [p for p in theirs if ours[p] != theirs[p]]
    assert not different, f"{len(different)} configs differ, e.g. {different[:3]}"
    # one changed device per config, and access points were never targeted
    assert proc.stdout.count("changed: [") == CONFIGS
    assert "-ap0" not in proc.stdout
