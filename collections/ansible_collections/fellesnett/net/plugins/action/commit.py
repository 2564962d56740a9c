"""fellesnett.net.commit: nornir_tasks.ansible.actions.commit (code and tests there)."""

from nornir_tasks.ansible.plugin import action_module

ActionModule = action_module("commit")
