"""The operator handover: what goes into the bundle beyond configs, and the tools around it.

* :mod:`~nornir_tasks.handover.bundle` -- read a bundle (tarball or directory) in memory;
* :mod:`~nornir_tasks.handover.verify` -- check it against ``MANIFEST.sha256``;
* :mod:`~nornir_tasks.handover.sign` -- detached minisign signatures beside it;
* :mod:`~nornir_tasks.handover.diff` -- the change log between two bundles;
* :mod:`~nornir_tasks.handover.ros` -- the risk and vulnerability analysis (ROS) from the
  intent alone;
* :mod:`~nornir_tasks.handover.topology` -- topology pictures (SVG) and mermaid diagrams;
* :mod:`~nornir_tasks.handover.tables` -- DHCP scopes (CSV), the VLAN/VRF table, the
  runbook copy;
* :mod:`~nornir_tasks.handover.cli` -- ``fellesnett handover verify | diff | sign | keygen``.

The bundle files are produced by :func:`handover_docs` for ``build/docs/``; like every
other doc they are a pure function of the intent (same inventory, same bytes).
"""

from __future__ import annotations

from nornir_tasks.handover.docs import handover_docs

__all__ = ["handover_docs"]
