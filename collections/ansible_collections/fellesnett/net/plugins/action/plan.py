"""fellesnett.net.plan: nornir_tasks.ansible.actions.plan (code and tests there)."""

from nornir_tasks.ansible.plugin import action_module

ActionModule = action_module("plan")
