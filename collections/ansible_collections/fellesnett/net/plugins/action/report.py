"""fellesnett.net.report: nornir_tasks.ansible.actions.report (code and tests there)."""

from nornir_tasks.ansible.plugin import action_module

ActionModule = action_module("report")
