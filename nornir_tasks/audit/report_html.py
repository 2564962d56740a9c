"""The audit report as one self-contained static HTML page.

No server and no external asset: CSS and JavaScript are inline, the page works from a file
or an artefact store. The fleet table (devices x features) is rendered here, so the page
reads without JavaScript; the script adds filtering, sorting, a live count of the rows
shown and of the drifted devices per feature (``#shown-count``, ``#feature-counts``), and
opens a device's diff from the table; a URL fragment such as
``#status=findings&feature=aaa&sort=drift%20lines&dir=desc`` presets the view. Same data,
same bytes: nothing depends on the clock.
"""

from __future__ import annotations

from html import escape
from typing import Any

from nornir_tasks.audit.report_markdown import diff_lines

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
background:#fafbfc}
header{background:#12355b;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:22px}
main{padding:16px 24px}.verdict{font-weight:700;padding:2px 8px;border-radius:4px}
.v-compliant{background:#2e7d32;color:#fff}.v-findings{background:#c62828;color:#fff}
.v-incomplete{background:#ef6c00;color:#fff}
table{border-collapse:collapse;margin:8px 0 16px;background:#fff}
th,td{border:1px solid #d0d7de;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef2f6;position:sticky;top:0}th.sortable{cursor:pointer;user-select:none}
th.sortable:after{content:" \\2195";color:#8a949e}th.asc:after{content:" \\2191"}
th.desc:after{content:" \\2193"}
td.c{text-align:center;white-space:nowrap;font-family:ui-monospace,Menlo,Consolas,monospace}
a.host{white-space:nowrap}
.compliant{background:#e8f5e9;color:#1b5e20}.drift{background:#ffebee;color:#b71c1c;
font-weight:600;cursor:pointer}.na{color:#9aa4ae}.bad{color:#b71c1c;font-weight:600}
.controls{display:flex;gap:12px;flex-wrap:wrap;align-items:center;margin:8px 0}
.controls input,.controls select{padding:4px 6px;font-size:14px}
pre.diff{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;overflow:auto;margin:4px 0 12px}
pre.diff .del{color:#b71c1c;background:#ffebee;display:block}
pre.diff .add{color:#1b5e20;background:#e8f5e9;display:block}
pre.diff .ctx{color:#57606a;display:block}
details{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:6px 10px}
details[open]{box-shadow:0 1px 4px rgba(0,0,0,.12)}summary{cursor:pointer}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
.muted{color:#57606a}.wrap{overflow-x:auto}
"""

_JS = r"""
(function () {
  "use strict";
  var table = document.getElementById("fleet");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var q = document.getElementById("filter-text");
  var role = document.getElementById("filter-role");
  var status = document.getElementById("filter-status");
  var feature = document.getElementById("filter-feature");
  var shown = document.getElementById("shown-count");
  var counts = document.getElementById("feature-counts");

  function apply() {
    var text = q.value.trim().toLowerCase();
    var n = 0;
    var drift = {};
    rows.forEach(function (r) {
      var ok = (!text || r.dataset.search.indexOf(text) >= 0) &&
        (!role.value || r.dataset.role === role.value) &&
        (!status.value || r.dataset.status === status.value) &&
        (!feature.value || r.dataset.drift.split(" ").indexOf(feature.value) >= 0);
      r.hidden = !ok;
      if (ok) {
        n += 1;
        r.dataset.drift.split(" ").forEach(function (f) {
          if (f) { drift[f] = (drift[f] || 0) + 1; }
        });
      }
    });
    shown.textContent = String(n);
    Array.prototype.forEach.call(counts.querySelectorAll("[data-feature]"), function (c) {
      c.textContent = String(drift[c.dataset.feature] || 0);
    });
  }

  function sortBy(th) {
    var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.dataset.type === "num";
    var dir = th.classList.contains("asc") ? -1 : 1;
    Array.prototype.forEach.call(th.parentNode.children, function (h) {
      h.classList.remove("asc", "desc");
    });
    th.classList.add(dir === 1 ? "asc" : "desc");
    rows.sort(function (a, b) {
      var x = a.cells[idx].dataset.key || a.cells[idx].textContent;
      var y = b.cells[idx].dataset.key || b.cells[idx].textContent;
      var c = numeric ? (Number(x) - Number(y)) : x.localeCompare(y);
      if (c === 0) { c = a.dataset.host.localeCompare(b.dataset.host); }
      return c * dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function openDevice(host) {
    var d = document.getElementById("dev-" + host);
    if (d) { d.open = true; d.scrollIntoView({block: "start"}); }
  }

  Array.prototype.forEach.call(table.tHead.querySelectorAll("th.sortable"), function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });
  [q, role, status, feature].forEach(function (el) {
    el.addEventListener("input", apply);
    el.addEventListener("change", apply);
  });
  body.addEventListener("click", function (ev) {
    var cell = ev.target.closest("td.drift, a.host");
    if (cell) { ev.preventDefault(); openDevice(cell.closest("tr").dataset.host); }
  });
  // a link may carry the view: #status=findings&feature=aaa&sort=drift%20lines&dir=desc
  var hash = window.location.hash.slice(1);
  if (hash.indexOf("=") >= 0) {
    var params = new URLSearchParams(hash);
    q.value = params.get("q") || "";
    role.value = params.get("role") || "";
    status.value = params.get("status") || "";
    feature.value = params.get("feature") || "";
    var key = params.get("sort");
    Array.prototype.forEach.call(table.tHead.querySelectorAll("th.sortable"), function (th) {
      if (th.textContent === key) {
        sortBy(th);
        if (params.get("dir") === "desc") { sortBy(th); }
      }
    });
  }
  apply();
  document.body.dataset.ready = "1";
}());
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _diff_pre(feature: dict[str, Any]) -> str:
    out = []
    for line in diff_lines(feature):
        cls = {"-": "del", "+": "add"}.get(line[0], "ctx")
        out.append(f'<span class="{cls}">{_e(line)}</span>')
    return '<pre class="diff">' + "".join(out) + "</pre>"


def _cell(f: dict[str, Any] | None) -> str:
    if f is None:
        return '<td class="c na" data-key="-1">—</td>'
    if f["status"] == "drift":
        n = len(f["missing"]) + len(f["extra"])
        return (f'<td class="c drift" data-key="{n}" title="{len(f["missing"])} missing, '
                f'{len(f["extra"])} extra">-{len(f["missing"])} +{len(f["extra"])}</td>')
    if f["status"] == "compliant":
        return '<td class="c compliant" data-key="0">✓</td>'
    return '<td class="c na" data-key="-1">·</td>'


def to_html(data: dict[str, Any]) -> str:
    s, src = data["summary"], data["sources"]
    features = [f["name"] for f in data["features"]]
    features += [n for n in data["fleet"] if n not in features]
    titles = {f["name"]: f["title"] for f in data["features"]}
    roles = sorted({d["role"] for d in data["devices"]})
    h: list[str] = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>fellesnett compliance audit</title>", f"<style>{_CSS}</style>", "</head>",
        "<body>", "<header><h1>Compliance audit</h1>",
        f'<div>Verdict: <span class="verdict v-{_e(s["verdict"])}" id="verdict">'
        f'{_e(s["verdict"])}</span> (exit {s["exit_code"]}) · {s["devices"]} devices · '
        f'zone proof: <b id="zone-verdict">{_e(s["zone_proof"])}</b></div></header>', "<main>",
        '<table id="summary"><tbody>']
    for key, label in (("devices", "devices"), ("compliant", "compliant"),
                       ("with_drift", "with drift"), ("drift_lines", "drift lines"),
                       ("unsaved", "with unsaved changes"),
                       ("software_mismatch", "on the wrong software"),
                       ("not_read", "audited from an older backup (not read)"),
                       ("not_audited", "not audited")):
        h.append(f'<tr><th>{label}</th><td class="c" id="sum-{key}">{s[key]}</td></tr>')
    h += ["</tbody></table>", '<table id="sources"><tbody>',
          f"<tr><th>devices read from</th><td>{_e(src['mode'])}</td></tr>",
          f"<tr><th>limit</th><td>{_e(src['limit'] or 'all devices')}</td></tr>",
          f"<tr><th>intent commit</th><td><code>{_e(src['intent_commit'])}</code></td></tr>",
          f"<tr><th>backups head (audited)</th><td><code>{_e(src['backups_head'] or 'none')}"
          "</code></td></tr>",
          f"<tr><th>backups commit of this read</th><td><code>"
          f"{_e(src['read_commit'] or 'none (no change)')}</code></td></tr>",
          "</tbody></table>"]

    h += ["<h2>Fleet</h2>", '<div class="controls">',
          '<label>Find <input id="filter-text" type="search" placeholder="host or site">'
          "</label>",
          '<label>Role <select id="filter-role"><option value="">all</option>'
          + "".join(f'<option value="{_e(r)}">{_e(r)}</option>' for r in roles)
          + "</select></label>",
          '<label>Status <select id="filter-status"><option value="">all</option>'
          '<option value="findings">with findings</option>'
          '<option value="compliant">compliant</option></select></label>',
          '<label>Drift in <select id="filter-feature"><option value="">any feature</option>'
          + "".join(f'<option value="{_e(f)}">{_e(f)}</option>' for f in features)
          + "</select></label>",
          f'<span>showing <b id="shown-count">{len(data["devices"])}</b> of '
          f'<b id="total-count">{len(data["devices"])}</b> devices</span>', "</div>",
          '<div class="wrap"><table id="fleet"><thead><tr>',
          '<th class="sortable">device</th><th class="sortable">site</th>'
          '<th class="sortable">role</th><th class="sortable" data-type="num">drift lines</th>']
    h += [f'<th class="sortable" data-type="num" title="{_e(titles.get(f, "other"))}">'
          f"{_e(f)}</th>" for f in features]
    h += ['<th class="sortable">unsaved</th><th class="sortable">software</th></tr></thead>',
          "<tbody>"]
    for d in data["devices"]:
        drifted = [f for f in features if d["features"].get(f, {}).get("status") == "drift"]
        u, sw = d["unsaved"], d["software"]
        unsaved = ("not checked" if u is None else "✓" if u["clean"] else
                   f"{len(u['not_saved']) + len(u['lost_on_save'])} lines")
        software = (f"{sw['running']} (expected {sw['expected']})" if sw["status"] == "mismatch"
                    else sw["status"])
        h.append(
            f'<tr data-host="{_e(d["host"])}" data-role="{_e(d["role"])}" '
            f'data-status="{"compliant" if d["compliant"] else "findings"}" '
            f'data-drift="{_e(" ".join(drifted))}" '
            f'data-search="{_e((d["host"] + " " + d["site"]).lower())}">'
            f'<td><a class="host" href="#dev-{_e(d["host"])}">{_e(d["host"])}</a>'
            + ("" if d["compliant"] else ' <span class="bad" title="'
               + _e("; ".join(d["findings"])) + '">●</span>')
            + f'</td><td>{_e(d["site"])}</td><td>{_e(d["role"])}</td>'
            f'<td class="c" data-key="{d["drift_lines"]}">{d["drift_lines"]}</td>'
            + "".join(_cell(d["features"].get(f)) for f in features)
            + f'<td class="{"" if u is None or u["clean"] else "bad"}">{_e(unsaved)}</td>'
            f'<td class="{"bad" if sw["status"] == "mismatch" else ""}">{_e(software)}</td>'
            "</tr>")
    h += ["</tbody>", '<tfoot id="feature-counts"><tr><th colspan="4">devices with drift '
          "(shown rows)</th>"]
    h += [f'<td class="c" data-feature="{_e(f)}">{data["fleet"][f]["drift"]}</td>'
          for f in features]
    h += ["<td></td><td></td></tr></tfoot></table></div>"]

    h += ["<h2>Devices</h2>"]
    for d in data["devices"]:
        h.append(f'<details id="dev-{_e(d["host"])}"><summary><b>{_e(d["host"])}</b> '
                 f'<span class="muted">{_e(d["site"])} · {_e(d["role"])} · {_e(d["model"])}'
                 + (f' · serial {_e(d["serial"])}' if d["serial"] else "")
                 + "</span> — "
                 + (_e("; ".join(d["findings"])) if d["findings"] else "compliant")
                 + "</summary>")
        h.append(f'<p class="muted">config from {_e(d["source"])}'
                 + (f' (backups <code>{_e((d["backup_commit"] or "")[:12])}</code>)'
                    if d["backup_commit"] else "")
                 + f'; software {_e(d["software"]["running"] or "not read")}, expected '
                 f'{_e(d["software"]["expected"] or "not set")}; '
                 f'{d["ignored_lines"]} line(s) ignored by the inventory\'s rules</p>')
        for name, f in d["features"].items():
            if f["status"] != "drift":
                continue
            h.append(f'<h4>{_e(name)}: {len(f["missing"])} missing, {len(f["extra"])} extra</h4>')
            h.append(_diff_pre(f))
            seen = [("+", e) for e in f["extra"] if "seen_in" in e]
            seen += [("-", e) for e in f["missing"] if "seen_in" in e]
            if seen:
                h.append("<ul>" + "".join(
                    f'<li><code>{_e(sign + " " + e["path"][-1])}</code> — backups commit '
                    f'<code>{_e(e["seen_in"]["commit"][:12])}</code> {_e(e["seen_in"]["date"])} '
                    f'{_e(e["seen_in"]["author"])}: {_e(e["seen_in"]["message"])}</li>'
                    for sign, e in seen) + "</ul>")
        u = d["unsaved"]
        if u is not None and not u["clean"]:
            h.append("<h4>unsaved changes (running vs startup)</h4>")
            h.append(_diff_pre({"missing": [{"path": p} for p in u["lost_on_save"]],
                                "extra": [{"path": p} for p in u["not_saved"]]}))
        h.append("</details>")

    proof = data["zone_proof"]
    h.append("<h2>Zone proof</h2>")
    if proof is None:
        h.append("<p>Skipped.</p>")
    else:
        h.append(f'<p><b>{_e(proof["verdict"])}</b> on the {_e(proof["basis"])} '
                 f'({proof["stats"].get("zone_pairs", 0)} zone pairs, '
                 f'{proof["stats"].get("probe_outcomes", 0)} probe outcomes, '
                 f'{proof["warnings"]} warnings).</p>')
        if proof["violations"]:
            h.append('<ul id="zone-violations">' + "".join(
                f"<li>{_e(v)}</li>" for v in proof["violations"]) + "</ul>")
    h += _history_html(data["history"])
    h.append("<h2>Ignore rules (from the inventory)</h2>")
    h.append("<table><thead><tr><th>match</th><th>section</th><th>reason</th></tr></thead>"
             "<tbody>" + "".join(
                 f'<tr><td><code>{_e(r["match"])}</code></td><td>'
                 f'{"yes" if r["section"] else "no"}</td><td>{_e(r["reason"])}</td></tr>'
                 for r in data["ignore_rules"]) + "</tbody></table>")
    h += ["</main>", f"<script>{_JS}</script>", "</body>", "</html>", ""]
    return "\n".join(h)


def _history_html(hist: dict[str, Any] | None) -> list[str]:
    if hist is None:
        return []
    out = ["<h2>History</h2>",
           f"<p>Intent: {_e(hist['intent_range'])}; backups: {_e(hist['backups_range'])}.</p>"]
    out += [f'<p class="muted">{_e(n)}</p>' for n in hist["notes"]]
    out.append('<h3>Intent commits</h3><table id="intent-commits"><thead><tr><th>commit</th>'
               "<th>date</th><th>author</th><th>message</th><th>files</th></tr></thead><tbody>")
    out += [f'<tr><td><code>{_e(c["commit"][:12])}</code></td><td>{_e(c["date"])}</td>'
            f'<td>{_e(c["author"])}</td><td>{_e(c["message"])}</td>'
            f'<td>{len(c.get("files", []))}</td></tr>' for c in hist["intent_commits"]]
    out.append("</tbody></table><h3>Per device</h3>")
    for host, d in hist["devices"].items():
        out.append(f'<details class="hist" id="hist-{_e(host)}"><summary><b>{_e(host)}</b> — '
                   f'{len(d["backup_commits"])} backup commit(s), {len(d["intent_commits"])} '
                   "intent commit(s)</summary>")
        ic = d["intended_changes"]
        if ic is not None:
            out.append("<p>Intended config changed:</p>" + _diff_pre({
                "missing": [{"path": [x]} for x in ic["removed"]],
                "extra": [{"path": [x]} for x in ic["added"]]}))
        for c in d["backup_commits"]:
            trailers = "; ".join(f"{k}: {v}" for k, v in sorted(c["trailers"].items()))
            out.append(f'<p>backups <code>{_e(c["commit"][:12])}</code> {_e(c["date"])} '
                       f'{_e(c["author"])}: <b>{_e(c["message"])}</b>'
                       + (f'<br><span class="muted">{_e(trailers)}</span>' if trailers else "")
                       + "</p>")
            out.append(_diff_pre({"missing": [{"path": [x]} for x in c.get("removed", [])],
                                  "extra": [{"path": [x]} for x in c.get("added", [])]}))
        out.append("</details>")
    return out
