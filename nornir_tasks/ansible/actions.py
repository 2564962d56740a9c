"""One function per action plugin in ``plugins/action/``: task arguments in, result out.

Each function gets the task's arguments (already checked against its ``*_SPEC`` by
Ansible), the task variables, and whether the task runs in check mode and with
``--diff``. It returns the Ansible result dict. Bad input (an unknown host, bad intent, no
simulators, a missing file, a secret nobody set) is returned as ``failed`` with a message
naming the cause: :func:`guarded` turns the project's errors into that, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nornir_tasks.ansible import AnsibleInputError, engine, live

Args = Mapping[str, Any]
Vars = Mapping[str, Any]
Action = Callable[[Args, Vars, bool, bool], dict[str, Any]]

_PATH = {"type": "path", "required": True}

RENDER_SPEC: dict[str, Any] = {
    "intent_dir": _PATH,
    "output_dir": _PATH,
    "templates_dir": {"type": "path", "required": False},
    "structured": {"type": "bool", "default": False},
}
BACKUP_SPEC: dict[str, Any] = {
    "intent_dir": _PATH,
    "backup_dir": _PATH,
    "running": {"type": "raw", "required": True},
}
COMMIT_SPEC: dict[str, Any] = {
    "intent_dir": _PATH,
    "backup_dir": _PATH,
    "hosts": {"type": "list", "elements": "str", "required": True},
    "message": {"type": "str", "required": True},
}
PLAN_SPEC: dict[str, Any] = {
    "mode": {"type": "str", "required": True,
             "choices": ["diff", "push", "verify", "rollback", "rollback_verify", "discard"]},
    "intent_dir": {"type": "path", "required": False},
    "running": {"type": "raw", "required": False},
    "intended_file": {"type": "path", "required": False},
    "target": {"type": "raw", "required": False},
    "push_file": {"type": "path", "required": False},
    "rotate_secrets": {"type": "list", "elements": "str", "default": []},
    "report_dir": {"type": "path", "required": False},
}
REPORT_SPEC: dict[str, Any] = {
    "results": {"type": "dict", "required": True},
    "report_dir": _PATH,
}
AUDIT_SPEC: dict[str, Any] = {
    "intent_dir": _PATH,
    "configs_dir": _PATH,
    "report_file": {"type": "path", "required": False},
}


def guarded(action: Action, args: Args, task_vars: Vars, check: bool, diff: bool
            ) -> dict[str, Any]:
    """Run an action; the project's own errors become a failed result with their message."""
    from nornir_tasks.errors import IntentError, UsageError
    from nornir_tasks.verify import VerifyInputError

    try:
        return action(args, task_vars, check, diff)
    except IntentError as exc:
        return {"failed": True, "msg": "invalid intent:\n" + str(exc)}
    except (AnsibleInputError, UsageError, VerifyInputError) as exc:
        return {"failed": True, "msg": str(exc)}


def _host(task_vars: Vars) -> str:
    return str(task_vars["inventory_hostname"])


def render(args: Args, task_vars: Vars, check: bool, diff: bool) -> dict[str, Any]:
    """``fellesnett_render``: the device's config into ``output_dir/configs/<site>/<host>.cfg``."""
    root = engine.intent_dir(args["intent_dir"])
    templates = Path(args["templates_dir"]) if args.get("templates_dir") else None
    r = engine.render(root, _host(task_vars), templates)
    path = Path(args["output_dir"]) / r.relpath
    result = engine.write_text(path, r.text, check, diff, label=r.relpath)
    result.update({"site": r.site, "role": r.role, "relpath": r.relpath,
                   "lines": r.text.count("\n"), "sha256": engine.sha256(r.text)})
    if args.get("structured"):
        result["structured_config"] = engine.structured(root, r.host)
    return result


def backup(args: Args, task_vars: Vars, check: bool, diff: bool) -> dict[str, Any]:
    """``fellesnett_backup``: the running config, scrubbed, into ``<backup_dir>/<site>/<host>.cfg``.
    """
    root = engine.intent_dir(args["intent_dir"])
    host = _host(task_vars)
    intent = engine.intent_for(root)
    engine.config_device(intent, host, root)
    site = intent.device_site[host]
    text = live.backup_text(live.normalise_running(args["running"]))
    rel = f"{site}/{host}.cfg"
    result = engine.write_text(Path(args["backup_dir"]) / rel, text, check, diff, label=rel)
    result.update({"site": site, "relpath": rel})
    return result


def commit(args: Args, task_vars: Vars, check: bool, diff: bool) -> dict[str, Any]:
    """``fellesnett_commit``: one commit of the backups of ``hosts`` (none in check mode)."""
    if check:
        return {"changed": False, "commit": None, "msg": "check mode: nothing committed"}
    intent = engine.intent_for(engine.intent_dir(args["intent_dir"]))
    paths = [f"{intent.device_site[h]}/{h}.cfg" for h in args["hosts"]
             if h in intent.device_site]
    rev = live.commit_backups(Path(args["backup_dir"]), paths, str(args["message"]))
    return {"changed": rev is not None, "commit": rev}


def _intended(args: Args, task_vars: Vars, check: bool) -> str:
    """The intended config: the rendered file when given (deploy), else rendered in memory.

    In check mode the render step wrote nothing, so the file may be missing or stale: the
    config is rendered in memory, as the file would have been written.
    """
    if args.get("intended_file") and not (check and args.get("intent_dir")):
        text = engine.read_text(Path(args["intended_file"]))
        if text is None:
            raise AnsibleInputError(f"{args['intended_file']}: no such file; render first")
        return text
    if not args.get("intent_dir"):
        raise AnsibleInputError("give intended_file or intent_dir")
    return engine.render(engine.intent_dir(args["intent_dir"]), _host(task_vars)).text


def _need(args: Args, *names: str) -> None:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise AnsibleInputError(f"mode {args['mode']}: missing {', '.join(missing)}")


def plan(args: Args, task_vars: Vars, check: bool, diff: bool) -> dict[str, Any]:
    """``fellesnett_plan``: remediations (diff, push), convergence checks and rollbacks."""
    mode = args["mode"]
    if mode == "discard":
        _need(args, "push_file")
        live.discard(Path(args["push_file"]))
        return {"changed": False}
    if mode in ("rollback", "rollback_verify"):
        return _rollback(args, mode, check)
    _need(args, "running")
    running = live.normalise_running(args["running"])
    intended = _intended(args, task_vars, check)
    if mode == "verify":
        left = live.residual(running, intended, masked=True)
        if left:
            return {"failed": True, "converged": False, "residual": left,
                    "msg": _not_converged(left, "after the push")}
        return {"changed": False, "converged": True}
    p = live.plan_for(running, intended, args.get("rotate_secrets") or ())
    result: dict[str, Any] = {"changed": not p.empty, **live.plan_summary(p),
                              "secret": live.carries_secret(p), "push_file": None}
    if args.get("report_dir"):
        # a drift report: changed when the report changes, not while the drift stays
        _need(args, "intent_dir")
        root = engine.intent_dir(args["intent_dir"])
        rel = f"{engine.intent_for(root).device_site[_host(task_vars)]}/{_host(task_vars)}.diff"
        text = "".join(line + "\n" for line in p.display())
        wrote = engine.write_text(Path(args["report_dir"]) / rel, text, check, diff, label=rel)
        result["changed"], result["report_file"] = wrote["changed"], wrote["path"]
        if "diff" in wrote:
            result["diff"] = wrote["diff"]
    elif diff and not p.empty:
        result["diff"] = {"prepared": "\n".join(p.display())}
    if mode == "push" and not p.empty and not check:
        _need(args, "push_file")
        commands = live.push_commands(p)
        live.write_push_file(Path(args["push_file"]), commands)
        result.update({"push_file": str(args["push_file"]), "commands": len(commands)})
    return result


def _rollback(args: Args, mode: str, check: bool) -> dict[str, Any]:
    _need(args, "running", "target")
    current = live.normalise_running(args["running"])
    target = live.normalise_running(args["target"])
    if mode == "rollback_verify":
        left = live.residual(current, target, masked=False)
        if left:
            return {"failed": True, "converged": False, "residual": left,
                    "msg": _not_converged(left, "after the rollback")
                    + " - ROLLBACK INCOMPLETE: check the device by hand"}
        return {"changed": False, "converged": True}
    commands = live.rollback_to(current, target)
    result: dict[str, Any] = {"changed": bool(commands), "commands": len(commands),
                              "push_file": None}
    if commands and not check:
        _need(args, "push_file")
        live.write_push_file(Path(args["push_file"]), commands)
        result["push_file"] = str(args["push_file"])
    return result


def _not_converged(left: list[str], when: str) -> str:
    shown = "; ".join(line.strip() for line in left[:3])
    more = f" (+{len(left) - 3} more)" if len(left) > 3 else ""
    return f"{len(left)} line(s) still differ {when}: {shown}{more}"


def report(args: Args, task_vars: Vars, check: bool, diff: bool) -> dict[str, Any]:
    """``fellesnett_report``: the drift report of the play, as ``fellesnett diff`` writes it.

    ``results`` maps each host to its ``fellesnett_plan`` result (or to nothing when the
    host was not compared): ``drift.md`` is byte-identical to ``fellesnett diff``'s Markdown.
    """
    from nornir_tasks.live.outcome import HostOutcome, Status, counts
    from nornir_tasks.live.report import diff_json, diff_markdown

    outcomes = []
    for host in sorted(args["results"]):
        res = args["results"][host]
        if not isinstance(res, Mapping) or res.get("failed") or res.get("unreachable") \
                or res.get("skipped") or "changes" not in res:
            error = (res.get("msg") if isinstance(res, Mapping) else None) or "not compared"
            outcomes.append(HostOutcome(host, Status.failed, stage="read",
                                        error=str(error).splitlines()[0]))
            continue
        changes = int(res["changes"])
        outcomes.append(HostOutcome(host, Status.pending if changes else Status.unchanged,
                                    changes=changes, lines=list(res.get("remediation") or [])))
    if not outcomes:
        raise AnsibleInputError("results: no device was compared")
    out = Path(args["report_dir"])
    md = engine.write_text(out / "drift.md", diff_markdown(outcomes), check, diff)
    js = engine.write_text(out / "drift.json", diff_json(outcomes), check, False)
    summary = counts(outcomes)
    return {"changed": md["changed"] or js["changed"], "summary": summary,
            "markdown": md["path"], "json": js["path"], "drift": sum(
                1 for o in outcomes if o.changes and o.status is not Status.failed),
            "msg": ", ".join(f"{n} {s}" for s, n in summary.items() if n)}


def audit(args: Args, task_vars: Vars, check: bool, diff: bool) -> dict[str, Any]:
    """``fellesnett_audit``: prove the zone matrix on the rendered config TEXT of every device."""
    from nornir_tasks.build import config_hosts
    from nornir_tasks.verify import load_configs, verify

    root = engine.intent_dir(args["intent_dir"])
    intent = engine.intent_for(root)
    configs_dir = Path(args["configs_dir"])
    texts = load_configs(configs_dir)
    wanted = set(config_hosts(intent, None))
    missing = sorted(wanted - set(texts))
    if missing:
        raise AnsibleInputError(
            f"{configs_dir}: {len(missing)} device(s) have no rendered config (e.g. "
            f"{missing[0]}); the zone proof needs the whole estate: run the render playbook "
            "without --limit first")
    stale = sorted(set(texts) - wanted)
    if stale:
        raise AnsibleInputError(f"{configs_dir}: configs of devices not in the intent: "
                                f"{', '.join(stale[:5])}; remove them and render again")
    rep = verify(intent, texts)
    result: dict[str, Any] = {"changed": False, "proven": rep.ok,
                              "violations": len(rep.violations), "warnings": len(rep.warnings),
                              "devices": len(texts)}
    if args.get("report_file"):
        wrote = engine.write_text(Path(args["report_file"]), rep.to_markdown(), check, diff)
        result.update({"changed": wrote["changed"], "report_file": wrote["path"]})
        if "diff" in wrote:
            result["diff"] = wrote["diff"]
    if not rep.ok:
        result["failed"] = True
        result["msg"] = (f"{len(rep.violations)} zone-policy violation(s): "
                         + "; ".join(f.text() for f in rep.violations[:5]))
    else:
        result["msg"] = f"zone matrix proven on the config text of {len(texts)} devices"
    return result
