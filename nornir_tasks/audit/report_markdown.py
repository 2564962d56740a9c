"""The audit report as Markdown (a GitLab merge-request comment), and the terminal summary.

Diffs read from the intent's side: ``-`` a line the intent has and the device lacks
(missing), ``+`` a line the device has and the intent lacks (extra). Section lines above a
differing line are shown unprefixed, for context.
"""

from __future__ import annotations

from typing import Any

MARK = {"compliant": "✓", "drift": "✗", "n/a": "·"}


def diff_lines(feature: dict[str, Any]) -> list[str]:
    """Missing and extra lines of one feature as a diff, with their section lines.

    >>> diff_lines({"missing": [{"path": ["ip access-list extended A", "20 deny ip any any"]}],
    ...             "extra": [{"path": ["vlan 999"]}, {"path": ["vlan 999", "name X"]}]})
    ['  ip access-list extended A', '-  20 deny ip any any', '+ vlan 999', '+  name X']
    """
    out: list[str] = []
    for sign, key in (("-", "missing"), ("+", "extra")):
        shown: tuple[str, ...] = ()
        for entry in feature[key]:
            path = tuple(entry["path"])
            for depth in range(len(path) - 1):
                if shown[:depth + 1] != path[:depth + 1]:
                    parent = path[:depth + 1]
                    if parent not in {tuple(e["path"]) for e in feature[key]}:
                        out.append("  " + " " * depth + path[depth])
            out.append(f"{sign} " + " " * (len(path) - 1) + path[-1])
            shown = path
    return out


def _esc(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_text(data: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    s = data["summary"]
    lines = [f"audit: {s['devices']} devices, {s['compliant']} compliant, "
             f"{s['with_drift']} with drift ({s['drift_lines']} lines), {s['unsaved']} with "
             f"unsaved changes, {s['software_mismatch']} on the wrong software, "
             f"{s['not_audited']} not audited; zone proof: {s['zone_proof']}"]
    for d in data["devices"]:
        if not d["compliant"]:
            lines.append(f"  {d['host']}: {'; '.join(d['findings'])}")
    for d in data.get("legacy", []):
        lines.append(f"  {d['host']}: {_legacy_text(d)}")
    lines.append(f"verdict: {s['verdict']} (exit {s['exit_code']})")
    return "\n".join(lines) + "\n"


def _legacy_text(d: dict[str, Any]) -> str:
    """A device the migration has not finished: not drift, and not compared."""
    what = (f"migrating (phase {d['phase']} done)" if d["state"] == "migrating"
            else "legacy")
    surveyed = f", surveyed {d['surveyed']}" if d["surveyed"] else ""
    back = f"; rolled back: {d['rolled_back']}" if d["rolled_back"] else ""
    return (f"{what} (migration wave {d['wave']}, {d['method']}, legacy name "
            f"{d['legacy_name']}{surveyed}){back}: not compared with the intent")


def to_markdown(data: dict[str, Any]) -> str:
    s, src = data["summary"], data["sources"]
    features = [f["name"] for f in data["features"]]
    features += [n for n in data["fleet"] if n not in features]
    out = ["# Compliance audit", "",
           f"**Verdict: {s['verdict']}** (exit {s['exit_code']}) — {s['devices']} devices, "
           f"{s['compliant']} compliant, {s['with_drift']} with drift, {s['unsaved']} with "
           f"unsaved changes, {s['software_mismatch']} on the wrong software, "
           f"{s['not_audited']} not audited. Zone proof: **{s['zone_proof']}**.", "",
           "| source | value |", "|---|---|",
           f"| devices read from | {src['mode']} |",
           f"| limit | {_esc(src['limit'] or 'all devices')} |",
           f"| intent commit | `{src['intent_commit']}` |",
           f"| backups head (audited) | `{src['backups_head'] or 'none'}` |",
           f"| backups commit of this read | `{src['read_commit'] or 'none (no change)'}` |", "",
           "## Fleet", "", "Devices per feature: compliant / drift / not used.", "",
           "| feature | what | ✓ | ✗ | · |", "|---|---|---:|---:|---:|"]
    titles = {f["name"]: f["title"] for f in data["features"]}
    for name in features:
        c = data["fleet"][name]
        out.append(f"| {name} | {_esc(titles.get(name, 'lines matching no feature'))} | "
                   f"{c['compliant']} | {c['drift']} | {c['n/a']} |")
    legacy = data.get("legacy", [])
    if legacy:
        out += ["", "## Sites not yet migrated", "",
                "Devices of the migration plan that are not migrated: they run their legacy "
                "config (or a phase of the migration) and are not compared with the intent.",
                "", "| device | site | state |", "|---|---|---|"]
        out += [f"| {d['host']} | {d['site']} | {_esc(_legacy_text(d))} |" for d in legacy]
    bad = [d for d in data["devices"] if not d["compliant"]]
    out += ["", "## Devices with findings", ""]
    if not bad:
        out += ["None: every device runs its intended config.", ""]
    else:
        out += ["| device | site | " + " | ".join(features) + " | unsaved | software |",
                "|---|---|" + "---|" * len(features) + "---|---|"]
        for d in bad:
            cells = []
            for name in features:
                f = d["features"].get(name)
                if f is None:
                    cells.append("—")
                elif f["status"] == "drift":
                    cells.append(f"✗ -{len(f['missing'])} +{len(f['extra'])}")
                else:
                    cells.append(MARK[f["status"]])
            u = d["unsaved"]
            unsaved = "not checked" if u is None else ("✓" if u["clean"] else (
                f"✗ {len(u['not_saved'])} unsaved, {len(u['lost_on_save'])} lost on save"))
            sw = d["software"]
            software = sw["status"] if sw["status"] != "mismatch" else (
                f"✗ {sw['running']} (expected {sw['expected']})")
            out.append(f"| {d['host']} | {d['site']} | " + " | ".join(cells)
                       + f" | {unsaved} | {_esc(software)} |")
        out.append("")
        for d in bad:
            out += [f"<details><summary><b>{d['host']}</b> ({d['role']}, {d['model']}): "
                    f"{_esc('; '.join(d['findings']))}</summary>", ""]
            for name, f in d["features"].items():
                if f["status"] != "drift":
                    continue
                out += [f"**{name}** — {len(f['missing'])} missing, {len(f['extra'])} extra",
                        "", "```diff", *diff_lines(f), "```", ""]
                seen = [(e, "+") for e in f["extra"] if "seen_in" in e]
                seen += [(e, "-") for e in f["missing"] if "seen_in" in e]
                for e, sign in seen:
                    c = e["seen_in"]
                    out.append(f"- `{sign} {_esc(e['path'][-1])}` — backups commit "
                               f"`{c['commit'][:12]}` {c['date']} {_esc(c['author'])}: "
                               f"{_esc(c['message'])}")
                if seen:
                    out.append("")
            u = d["unsaved"]
            if u is not None and not u["clean"]:
                out += ["**unsaved changes** (running vs startup)", "", "```diff",
                        *diff_lines({"missing": [{"path": p} for p in u["lost_on_save"]],
                                     "extra": [{"path": p} for p in u["not_saved"]]}),
                        "```", ""]
            out += ["</details>", ""]
    proof = data["zone_proof"]
    out += ["## Zone proof", ""]
    if proof is None:
        out += ["Skipped (--no-zone-proof).", ""]
    else:
        out += [f"**{proof['verdict']}** on the {proof['basis']} "
                f"({proof['stats'].get('zone_pairs', 0)} zone pairs, "
                f"{proof['stats'].get('probe_outcomes', 0)} probe outcomes, "
                f"{proof['warnings']} warnings).", ""]
        out += [f"- {_esc(v)}" for v in proof["violations"]]
        if proof["violations"]:
            out.append("")
    out += _history_md(data["history"])
    out += ["## Ignore rules (from the inventory)", ""]
    if not data["ignore_rules"]:
        out += ["None.", ""]
    else:
        out += ["| match | section | reason |", "|---|---|---|"]
        out += [f"| `{_esc(r['match'])}` | {'yes' if r['section'] else 'no'} | "
                f"{_esc(r['reason'])} |" for r in data["ignore_rules"]]
        out.append("")
    return "\n".join(out)


def _history_md(h: dict[str, Any] | None) -> list[str]:
    if h is None:
        return []
    out = ["## History", "",
           f"Intent: {_esc(h['intent_range'])}; backups: {_esc(h['backups_range'])}.", ""]
    out += [f"> {_esc(n)}" for n in h["notes"]]
    if h["notes"]:
        out.append("")
    out += ["### Intent commits", ""]
    if not h["intent_commits"]:
        out += ["None in the window.", ""]
    else:
        out += ["| commit | date | author | message | files |", "|---|---|---|---|---|"]
        out += [f"| `{c['commit'][:12]}` | {c['date']} | {_esc(c['author'])} | "
                f"{_esc(c['message'])} | {len(c.get('files', []))} |" for c in h["intent_commits"]]
        out.append("")
    out += ["### Per device", ""]
    if not h["devices"]:
        out += ["No device changed in the window.", ""]
    for host, d in h["devices"].items():
        out += [f"#### {host}", ""]
        if d["intent_commits"]:
            out += ["Intent commits feeding it: "
                    + ", ".join(f"`{c[:12]}`" for c in d["intent_commits"]), ""]
        ic = d["intended_changes"]
        if ic is not None:
            out += ["Intended config changed:", "", "```diff",
                    *(f"- {x}" for x in ic["removed"]), *(f"+ {x}" for x in ic["added"]),
                    "```", ""]
        for c in d["backup_commits"]:
            trailers = "; ".join(f"{k}: {v}" for k, v in sorted(c["trailers"].items()))
            out += [f"- backups `{c['commit'][:12]}` {c['date']} {_esc(c['author'])}: "
                    f"{_esc(c['message'])}" + (f" ({_esc(trailers)})" if trailers else ""),
                    "", "  ```diff", *(f"  - {x}" for x in c.get("removed", [])),
                    *(f"  + {x}" for x in c.get("added", [])), "  ```", ""]
    return out
