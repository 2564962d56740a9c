"""fellesnett.net.connection: connection variables of each device (nornir_tasks.ansible.connection).

Enable it in ansible.cfg: vars_plugins_enabled = host_group_vars, fellesnett.net.connection
"""

DOCUMENTATION = """
    name: connection
    short_description: network_cli + cisco.ios.ios per device; simulators with FELLESNETT_SIM=1
    description:
      - Gives every switch and controller of the fellesnett inventory its connection
        variables. With C(FELLESNETT_SIM=1) it points them at the simulators of
        C(fellesnett sim start) (127.0.0.1 ports and login from their state.json).
    options:
      stage:
        ini:
          - key: stage
            section: vars_fellesnett_connection
        env:
          - name: ANSIBLE_VARS_PLUGIN_STAGE
    extends_documentation_fragment:
      - vars_plugin_staging
"""

from nornir_tasks.ansible.plugin import vars_module  # noqa: E402 - after the docs Ansible reads

VarsModule = vars_module()
