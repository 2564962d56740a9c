"""fellesnett.net.backup: nornir_tasks.ansible.actions.backup (code and tests there)."""

from nornir_tasks.ansible.plugin import action_module

ActionModule = action_module("backup")
