"""fellesnett.net.audit: nornir_tasks.ansible.actions.audit (code and tests there)."""

from nornir_tasks.ansible.plugin import action_module

ActionModule = action_module("audit")
