"""fellesnett.net.render: nornir_tasks.ansible.actions.render (code and tests there)."""

from nornir_tasks.ansible.plugin import action_module

ActionModule = action_module("render")
