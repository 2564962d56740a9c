"""The handover files beyond configs, IP plan and site sheets, for ``build/docs/``.

Called by :func:`nornir_tasks.docs.build_docs`; returns ``{path relative to docs/: text}``.
Estate-wide files stay complete under ``--limit`` (a risk report or DHCP table cut down to
a few sites would mislead); per-site pictures follow the site-sheet selection.
"""

from __future__ import annotations

from nornir_tasks.intent.loader import Intent

#: The estate-wide files this module adds, and what each holds (for the docs README).
CONTENTS = (
    ("ros.md", "Risk and vulnerability analysis (ROS) derived from the intent: findings, "
     "consequences, mitigations"),
    ("ros.json", "The same ROS findings for a risk register"),
    ("vlans-vrfs.md", "Every VLAN and VRF: zones, route targets, core-only VLANs, WAN "
     "VLANs and GRE tunnels per site"),
    ("dhcp.md", "DHCP scopes per site and zone, and the assumptions behind them"),
    ("dhcp-scopes.csv", "The DHCP scopes as CSV for the DHCP servers"),
    ("topology.md", "Estate diagram (mermaid) and the list of per-site pictures"),
    ("topology.svg", "Estate topology picture: core pair, firewall, controller, sites and "
     "circuits"),
    ("runbook.md", "Runbook: deploy, rollback, add a site, replace a switch, rotate a "
     "secret, verify a bundle"),
)


def handover_docs(intent: Intent, sheet_sites: set[str]) -> dict[str, str]:
    """The handover files, by path relative to ``build/docs``."""
    from nornir_tasks.handover.ros import ros_json, ros_markdown
    from nornir_tasks.handover.tables import (
        dhcp_csv,
        dhcp_md,
        dhcp_scopes,
        runbook_md,
        vlans_vrfs_md,
    )
    from nornir_tasks.handover.topology import estate_svg, site_svg, topology_md

    scopes = dhcp_scopes(intent)
    out = {
        "ros.md": ros_markdown(intent),
        "ros.json": ros_json(intent),
        "vlans-vrfs.md": vlans_vrfs_md(intent),
        "dhcp.md": dhcp_md(intent, scopes),
        "dhcp-scopes.csv": dhcp_csv(scopes),
        "topology.md": topology_md(intent, sheet_sites),
        "topology.svg": estate_svg(intent),
        "runbook.md": runbook_md(intent),
    }
    for slug in sorted(sheet_sites):
        out[f"topology/{slug}.svg"] = site_svg(intent, slug)
    return out
