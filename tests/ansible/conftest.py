"""Fixtures of the Ansible parity tests (helpers in ansible_helpers.py)."""

from ansible_helpers import sims  # noqa: F401 - the fixture
