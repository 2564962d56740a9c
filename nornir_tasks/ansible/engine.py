"""The intent, once per process, and files written the way Ansible modules write them.

``ansible-playbook`` forks a worker per task and host, so a cache in a worker dies with it.
:func:`preload` is therefore called in the parent (by the ``fellesnett_preload`` callback
at the start of each play): forked workers inherit the loaded intent and the compiled
templates, and each one only designs and renders its own device (a few ms). Without the
callback every worker loads the intent itself: slower, same bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir_tasks.ansible import AnsibleInputError
from nornir_tasks.build import CONFIG_ROLES, config_path, render_host
from nornir_tasks.intent.loader import Intent, load_intent
from nornir_tasks.render import TEMPLATES, environment

Fingerprint = tuple[int, int, int]

#: resolved intent directory -> (fingerprint of its files, intent)
_INTENTS: dict[Path, tuple[Fingerprint, Intent]] = {}
#: (intent directory, templates) -> (fingerprint, host -> config text), filled by preload
_RENDERED: dict[tuple[Path, Path], tuple[Fingerprint, dict[str, str]]] = {}
#: how many times the intent was really loaded in this process (tests read it)
LOADS = 0


def fingerprint(root: Path) -> Fingerprint:
    """(files, bytes, newest mtime) of an intent directory: changes when any file does."""
    count = size = newest = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            count, size, newest = count + 1, size + st.st_size, max(newest, st.st_mtime_ns)
    return count, size, newest


def intent_dir(value: Any) -> Path:
    """The intent directory named by a task argument (an Ansible inventory directory)."""
    if not value:
        raise AnsibleInputError("no intent directory given (intent_dir); it is the Ansible "
                                "inventory directory, normally `{{ inventory_dir }}`")
    root = Path(str(value)).expanduser().resolve()
    if not (root / "hosts.yml").is_file():
        raise AnsibleInputError(f"{root}: not a fellesnett inventory (no hosts.yml)")
    return root


def intent_for(root: Path) -> Intent:
    """The validated intent of ``root``, loaded once per process while its files are unchanged.

    Raises :class:`~nornir_tasks.errors.IntentError` (file: key path: reason) on bad intent.
    """
    global LOADS
    root = root.resolve()
    fp = fingerprint(root)
    cached = _INTENTS.get(root)
    if cached is not None and cached[0] == fp:
        return cached[1]
    intent = load_intent(root)
    LOADS += 1
    _INTENTS[root] = (fp, intent)
    return intent


def preload(root: Path, live: bool = True, render_all: bool = True) -> Intent:
    """Load the intent, compile the templates and import the live code, in this process.

    With ``render_all`` every device is rendered here too (the reference estate in about
    half a second, on all CPUs for large estates), so a forked worker only looks its
    device up; the texts are the ones :func:`render` would produce.
    """
    from nornir_tasks.build import config_hosts
    from nornir_tasks.build import render_all as render_estate

    root = root.resolve()
    intent = intent_for(root)
    env = environment(TEMPLATES)
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)
    if render_all:
        key = (root, TEMPLATES)
        fp = _INTENTS[root][0]
        if key not in _RENDERED or _RENDERED[key][0] != fp:
            _RENDERED[key] = (fp, render_estate(intent, config_hosts(intent, None)))
    if live:
        import nornir_tasks.live.backups  # noqa: F401 - imported here, inherited by forks
        import nornir_tasks.live.remediation  # noqa: F401
    return intent


def looks_like_intent(path: Path) -> bool:
    return (path / "hosts.yml").is_file() and (path / "group_vars" / "all").is_dir()


@dataclass(frozen=True)
class Rendered:
    host: str
    site: str
    role: str
    #: ``configs/<site>/<host>.cfg``, as ``fellesnett build`` lays it out
    relpath: str
    text: str


def config_device(intent: Intent, host: str, root: Path) -> str:
    """The role of ``host``; an error when it is unknown or gets no config of its own."""
    device = intent.devices.get(host)
    if device is None:
        raise AnsibleInputError(f"{host}: not a device of the intent in {root}")
    if device.role not in CONFIG_ROLES:
        raise AnsibleInputError(
            f"{host}: role {device.role.value} gets no config of its own (access points are "
            "configured by the controller); target the groups core, distribution, access, wlc")
    return device.role.value


def render(root: Path, host: str, templates: Path | None = None) -> Rendered:
    """The config of one device: the same design step and templates as ``fellesnett build``."""
    root = root.resolve()
    intent = intent_for(root)
    role = config_device(intent, host, root)
    templates = (templates or TEMPLATES).resolve()
    cached = _RENDERED.get((root, templates))
    if cached is not None and cached[0] == _INTENTS[root][0] and host in cached[1]:
        text = cached[1][host]
    else:
        text = render_host(intent, host, templates)
    return Rendered(host, intent.device_site[host], role, config_path(intent, host), text)


def structured(root: Path, host: str) -> Any:
    """The structured config of one device as JSON-ready data (``fellesnett design``)."""
    from nornir_tasks.design import design_device
    from nornir_tasks.design.structured import to_data

    intent = intent_for(root)
    config_device(intent, host, root)
    return to_data(design_device(intent, host))


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnsibleInputError(f"{path}: cannot read: {exc}") from None


def write_text(path: Path, text: str, check: bool, want_diff: bool, mode: int = 0o644,
               label: str | None = None) -> dict[str, Any]:
    """Write ``text`` to ``path`` unless it already holds it; check mode writes nothing.

    The result has ``changed`` and, with ``want_diff``, a ``diff`` as Ansible's file
    modules give it (``--diff`` shows it).
    """
    before = read_text(path)
    changed = before != text
    result: dict[str, Any] = {"changed": changed, "path": str(path)}
    if changed and want_diff:
        result["diff"] = {"before": before or "", "after": text,
                          "before_header": f"{label or path} (before)",
                          "after_header": f"{label or path} (after)"}
    if changed and not check:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except OSError as exc:
            raise AnsibleInputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return result

