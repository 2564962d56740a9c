"""fellesnett.net.preload: load the intent once, in the ansible-playbook process.

Enable it in ansible.cfg: callbacks_enabled = fellesnett.net.preload
"""

DOCUMENTATION = """
    name: preload
    type: aggregate
    short_description: load the fellesnett intent before the workers fork
    description:
      - At the start of each play that uses a fellesnett_* role, loads the intent of the
        inventory directory and compiles the templates in the ansible-playbook process, so
        that every forked worker inherits them instead of loading them again.
    requirements:
      - enable in ansible.cfg (callbacks_enabled)
"""

from nornir_tasks.ansible.plugin import preload_callback  # noqa: E402 - after the docs Ansible reads

CallbackModule = preload_callback()
