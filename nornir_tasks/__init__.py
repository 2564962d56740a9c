"""fellesnett: infrastructure as code for a merged municipal network.

Intent (``inventory/``) -> design (structured config) -> render (Jinja2) -> build output,
verify, live operations and handover. The package is named ``nornir_tasks`` because its
live operations are Nornir tasks; the command is ``fellesnett``.
"""

__version__ = "0.1.0"
