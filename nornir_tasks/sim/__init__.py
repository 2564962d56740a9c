"""Stateful Cisco IOS-XE and C9800 SSH simulators on 127.0.0.1 (see ``fellesnett sim``).

Public API: :class:`~nornir_tasks.sim.engine.ConfigEngine`,
:func:`~nornir_tasks.sim.manager.start` / ``stop`` / ``status`` / ``load_state``,
:func:`~nornir_tasks.sim.faults.set_fault` / ``clear_faults``,
:func:`~nornir_tasks.sim.seed.seed_config`, :class:`~nornir_tasks.sim.shell.SimDevice`.
"""
