"""``fellesnett audit``: is what runs what was approved, what changed since, who approved it.

Modules: :mod:`~nornir_tasks.audit.features` (which feature each config line belongs to,
a table), :mod:`~nornir_tasks.audit.compliance` (intended vs running per feature, unsaved
changes, software version), :mod:`~nornir_tasks.audit.collect` (fresh reads over the live
runner), :mod:`~nornir_tasks.audit.history` (intent and backups git history),
:mod:`~nornir_tasks.audit.run` (the audit), ``report_json`` / ``report_markdown`` /
``report_html`` (one data structure, three formats) and :mod:`~nornir_tasks.audit.cli`.
"""
