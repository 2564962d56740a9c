"""The survey report: the estate as the devices described it (``REPORT.md``), and the
physical topology as a Graphviz file (``topology.dot``) and a Mermaid picture in the
report (GitLab draws it)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from nornir_tasks.interfaces import interface_sort_key
from nornir_tasks.legacy.surveyed import Neighbour, neighbours_from

_LOGICAL = re.compile(r"^(Vlan|Port-channel|Trk|Loopback|Null|Tunnel|StackPort)",
                      re.IGNORECASE)


def _physical(interfaces: dict[str, Any]) -> dict[str, Any]:
    return {n: i for n, i in interfaces.items() if not _LOGICAL.match(n)}


def _mid(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def render(results: dict[str, dict[str, Any]], errors: dict[str, str], when: str,
           end_of_life: dict[str, dict[str, str]]) -> tuple[str, str]:
    """(REPORT.md, topology.dot) for one survey run."""
    hosts = sorted(results)
    out = [f"# Survey of the networks that run today ({when})", "",
           f"{len(hosts)} devices read, {len(errors)} unreachable.", "",
           "## Devices", "",
           "| device | platform | model | software | serial | end of support | ports in use "
           "| ports unused | ports disabled |", "|---|---|---|---|---|---|---:|---:|---:|"]
    for h in hosts:
        r = results[h]
        f = r["facts"]
        ports = _physical(r["interfaces"])
        used = sum(1 for i in ports.values() if i["enabled"] and i["up"])
        unused = sum(1 for i in ports.values() if i["enabled"] and not i["up"])
        disabled = sum(1 for i in ports.values() if not i["enabled"])
        eol = end_of_life.get(f["model"], {})
        eol_text = f"{eol['date']} ([source]({eol['source']}))" if eol else "unknown"
        out.append(f"| {h} | {r['platform']} | {f['model']} | {f['os_version']} | "
                   f"{f['serial']} | {eol_text} | {used} | {unused} | {disabled} |")
    for h, why in sorted(errors.items()):
        out.append(f"| {h} | unreachable: {why.splitlines()[0][:120]} | | | | | | | |")
    out += ["", "## VLANs and where they are carried", "",
            "| VLAN | names | devices |", "|---:|---|---|"]
    vlans: dict[int, dict[str, set[str]]] = defaultdict(lambda: {"names": set(), "hosts": set()})
    for h in hosts:
        for vid, v in results[h]["vlans"].items():
            vlans[int(vid)]["names"].add(v["name"])
            vlans[int(vid)]["hosts"].add(h)
    for vid in sorted(vlans):
        out.append(f"| {vid} | {', '.join(sorted(vlans[vid]['names']))} | "
                   f"{', '.join(sorted(vlans[vid]['hosts']))} |")
    links: list[tuple[str, Neighbour]] = []
    aps: list[tuple[str, Neighbour]] = []
    phones: list[tuple[str, Neighbour]] = []
    for h in hosts:
        for n in neighbours_from(results[h]["neighbours"]):
            row = (h, n)
            {"ap": aps, "phone": phones}.get(n.kind, links).append(row)
    out += ["", "## Physical topology (LLDP and CDP)", "", "```mermaid", "graph LR"]
    dot = ["graph survey {", "  node [shape=box];"]
    for h, n in links:
        label = f"{n.port} - {n.port_id}".replace('"', "'")
        out.append(f"  {_mid(h)}[{h}] ---|{label}| {_mid(n.name)}[{n.name}]")
        dot.append(f'  "{h}" -- "{n.name}" [label="{label}"];')
    for h, n in aps:
        out.append(f"  {_mid(h)} --- {_mid(n.name)}(({n.name}))")
        dot.append(f'  "{h}" -- "{n.name}" [label="{n.port}"]; "{n.name}" [shape=ellipse];')
    out += ["```", "", *_neighbour_table(links, "Links between switches and routers"),
            *_neighbour_table(aps, "Access points and the switch ports they hang on"),
            *_neighbour_table(phones, "Phones")]
    out += ["## MAC addresses seen per port", ""]
    for h in hosts:
        per_port: dict[str, list[str]] = defaultdict(list)
        for m in results[h]["macs"]:
            per_port[m["port"]].append(f"{m['mac']} (VLAN {m['vlan']})")
        if not per_port:
            continue
        out += [f"### {h}", "", "| port | MAC addresses |", "|---|---|"]
        for port in sorted(per_port, key=interface_sort_key):
            out.append(f"| {port} | {', '.join(sorted(per_port[port]))} |")
        out.append("")
    dot.append("}")
    return "\n".join(out) + "\n", "\n".join(dot) + "\n"


def _neighbour_table(rows: list[tuple[str, Neighbour]], title: str) -> list[str]:
    out = [f"### {title}", ""]
    if not rows:
        return [*out, "None found.", ""]
    out += ["| device | port | neighbour | its port | platform | address | MAC | by |",
            "|---|---|---|---|---|---|---|---|"]
    for h, n in sorted(rows, key=lambda r: (r[0], interface_sort_key(r[1].port))):
        out.append(f"| {h} | {n.port} | {n.name} | {n.port_id} | {n.platform} | "
                   f"{n.address} | {n.chassis_id} | {', '.join(sorted(set(n.protocols)))} |")
    return [*out, ""]
