"""Ansible parity: the tested Python behind the repository's Ansible plugins and roles.

The roles under ``roles/`` are thin: every decision is made here, by the same code
``fellesnett`` runs, so Ansible's variable precedence can never change the data.

* :mod:`~nornir_tasks.ansible.engine` loads the intent with ``load_intent`` (cached per
  process and warmed in the ``ansible-playbook`` parent, so forked workers inherit it),
  renders a device with ``render_host`` and writes files with check-mode/diff semantics;
* :mod:`~nornir_tasks.ansible.live` turns ``show running-config`` output into backups,
  hier_config remediations (``nornir_tasks.live.remediation``), push files and verdicts;
* :mod:`~nornir_tasks.ansible.connection` gives each device its connection variables
  (``network_cli`` + ``cisco.ios.ios``; with ``FELLESNETT_SIM=1`` the simulators' ports and
  login from their ``state.json``);
* :mod:`~nornir_tasks.ansible.actions` is one function per action plugin: arguments in,
  an Ansible result dict out, never a traceback for bad input.
"""

from __future__ import annotations


class AnsibleInputError(Exception):
    """Bad input to a plugin (unknown host, missing file, ...): reported as ``msg``."""
