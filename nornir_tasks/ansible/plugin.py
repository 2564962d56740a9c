"""Glue between Ansible's plugin classes and :mod:`nornir_tasks.ansible.actions`.

The plugin files of the in-repository collection ``fellesnett.net``
(``collections/ansible_collections/fellesnett/net/plugins/``) are one line each: they
call :func:`action_module`, :func:`vars_module` or :func:`preload_callback` and export
the class Ansible looks for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nornir_tasks.ansible import AnsibleInputError, actions

ACTIONS: dict[str, tuple[actions.Action, dict[str, Any]]] = {
    "render": (actions.render, actions.RENDER_SPEC),
    "backup": (actions.backup, actions.BACKUP_SPEC),
    "commit": (actions.commit, actions.COMMIT_SPEC),
    "plan": (actions.plan, actions.PLAN_SPEC),
    "report": (actions.report, actions.REPORT_SPEC),
    "audit": (actions.audit, actions.AUDIT_SPEC),
}


def action_module(name: str) -> type:
    """The ``ActionModule`` class of ``fellesnett.net.<name>``."""
    from ansible.plugins.action import ActionBase  # type: ignore[import-untyped]

    action, spec = ACTIONS[name]

    class ActionModule(ActionBase):  # type: ignore[misc]
        # runs on the controller only: no device session is opened for it
        _requires_connection = False
        TRANSFERS_FILES = False
        _VALID_ARGS = frozenset(spec)

        def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None
                ) -> dict[str, Any]:
            result: dict[str, Any] = super().run(tmp, task_vars)
            _, validated = self.validate_argument_spec(argument_spec=spec)
            check = bool(self._task.check_mode)
            diff = bool(self._task.diff)
            result.update(actions.guarded(action, validated, task_vars or {}, check, diff))
            return result

    ActionModule.__name__ = ActionModule.__qualname__ = "ActionModule"
    return ActionModule


def vars_module() -> type:
    """The ``VarsModule`` class of ``fellesnett.net.connection`` (see
    :mod:`nornir_tasks.ansible.connection`)."""
    from ansible.errors import AnsibleError  # type: ignore[import-untyped]
    from ansible.inventory.host import Host  # type: ignore[import-untyped]
    from ansible.plugins.vars import BaseVarsPlugin  # type: ignore[import-untyped]

    from nornir_tasks.ansible.connection import host_vars

    class VarsModule(BaseVarsPlugin):  # type: ignore[misc]
        is_stateless = True

        def get_vars(self, loader: Any, path: str, entities: Any, cache: bool = True
                     ) -> dict[str, Any]:
            if not isinstance(entities, list):
                entities = [entities]
            super().get_vars(loader, path, entities)
            base = Path(path)
            base = (base if base.is_dir() else base.parent).resolve().parent
            out: dict[str, Any] = {}
            for entity in entities:
                if not isinstance(entity, Host):
                    continue
                try:
                    out.update(host_vars(entity.name, entity.vars.get("role"), base))
                except AnsibleInputError as exc:
                    raise AnsibleError(str(exc)) from None
            return out

    return VarsModule


def filter_module() -> type:
    """The ``FilterModule`` of ``fellesnett.net``: ``mask`` hides secrets in any text."""
    from nornir_tasks.ansible.live import mask_text

    class FilterModule:
        def filters(self) -> dict[str, Any]:
            return {"mask": mask_text}

    return FilterModule


def preload_callback() -> type:
    """The ``CallbackModule`` of ``fellesnett.net.preload``: at the start of each play that
    uses a ``fellesnett_*`` role, load the intent in the ``ansible-playbook`` process, so
    that the forked workers inherit it (see :mod:`nornir_tasks.ansible.engine`)."""
    from ansible import context  # type: ignore[import-untyped]
    from ansible.plugins.callback import CallbackBase  # type: ignore[import-untyped]

    from nornir_tasks.ansible import engine

    class CallbackModule(CallbackBase):  # type: ignore[misc]
        CALLBACK_VERSION = 2.0
        CALLBACK_TYPE = "aggregate"
        CALLBACK_NAME = "fellesnett.net.preload"
        CALLBACK_NEEDS_ENABLED = True

        def v2_playbook_on_play_start(self, play: Any) -> None:
            roles = [getattr(r, "_role_name", "") for r in play.get_roles()]
            if not any(str(r).startswith("fellesnett_") for r in roles):
                return
            sources = context.CLIARGS.get("inventory") or ()
            for source in sources:
                for candidate in (Path(source), Path(source).parent):
                    if engine.looks_like_intent(candidate):
                        try:
                            engine.preload(candidate)
                        except Exception:  # noqa: BLE001,S112 - the plugin reports it
                            continue
                        break

    return CallbackModule
