"""The operator handover: what goes into the bundle beyond configs, and the tools around it.

The documents (``build/docs/``), each a pure function of the intent (same inventory, same
bytes):

* :mod:`~nornir_tasks.handover.documents` -- :func:`build_docs`, every document of the
  bundle, and the bundle's ``README.md``;
* :mod:`~nornir_tasks.handover.ipplan` -- the IP plan (Markdown and CSV);
* :mod:`~nornir_tasks.handover.zones_doc` -- zones, the zone policy as written, SSIDs;
* :mod:`~nornir_tasks.handover.secrets_doc` -- the secrets to provision;
* :mod:`~nornir_tasks.handover.sites` -- one sheet per site, with port maps;
* :mod:`~nornir_tasks.handover.ros` -- the risk and vulnerability analysis (ROS) from the
  intent alone;
* :mod:`~nornir_tasks.handover.tables` -- DHCP scopes (CSV), the VLAN/VRF table, the
  runbook copy;
* :mod:`~nornir_tasks.handover.topology` -- topology pictures (SVG) and mermaid diagrams;
* :mod:`~nornir_tasks.handover.facts` -- intent facts several documents state alike
  (gateway address, site and zone order, the ports a rule opens);
* :mod:`~nornir_tasks.handover.markdown` -- cells, pipe tables, the "generated" banner.

Imports run one way, top to bottom, all at module level::

    documents
      ├──> ipplan, zones_doc, secrets_doc, sites, ros, tables, topology
      │      sites ──> topology;  tables ──> secrets_doc
      └──> facts, markdown          (the bottom: neither imports a document module)

The bundle tools, which read a built bundle and never the intent:

* :mod:`~nornir_tasks.handover.bundle` -- read a bundle (tarball or directory) in memory;
* :mod:`~nornir_tasks.handover.verify` -- check it against ``MANIFEST.sha256``;
* :mod:`~nornir_tasks.handover.sign` -- detached minisign signatures beside it;
* :mod:`~nornir_tasks.handover.diff` -- the change log between two bundles;
* :mod:`~nornir_tasks.handover.cli` -- ``fellesnett handover verify | diff | sign | keygen``.

They sit above :mod:`nornir_tasks.build` (its bundle layout: ``MANIFEST``, ``TARBALL``),
which calls :func:`~nornir_tasks.handover.documents.build_docs`; no document module
imports a bundle tool or the build.

This package module imports nothing at import time, so ``fellesnett handover verify``
does not load the document code: :func:`handover_docs` (the ROS, tables and topology
files) is re-exported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nornir_tasks.handover.documents import handover_docs

__all__ = ["handover_docs"]


def __getattr__(name: str) -> object:
    # PEP 562: a lazy re-export (for lightness, not to dodge a cycle: documents does not
    # import this package's names)
    if name == "handover_docs":
        from nornir_tasks.handover.documents import handover_docs

        return handover_docs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
