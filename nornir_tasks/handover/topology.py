"""Topology pictures from the intent: SVG files and mermaid diagrams GitLab renders.

* :func:`estate_svg` -- the core pair, the internet firewall, the controller and every site
  hanging off the core switch its circuit lands on (solid: L2 802.1Q hand-off, dashed:
  GRE over L3VPN), coloured by site kind;
* :func:`site_svg` -- one site: the core it hangs off, its gateway, access switches and APs;
* :func:`estate_mermaid` / :func:`site_mermaid` -- the same as mermaid ``flowchart``
  blocks for ``docs/topology.md`` and the site sheets.

Written by hand in pure Python (no graphviz): a fixed grid layout, fixed number formatting
and sorted input make the bytes a function of the intent alone. No PNG: rasterising would
need a renderer whose output changes with its version and fonts, which would break the
byte-reproducible bundle; every browser and GitLab show the SVG.

Who connects to whom inside a site is not a separate fact of the intent: an AP's
``connected_to`` names its switch; a switch hangs off the switch whose downlink port
description names it (the core site's access switches alternate between the cores),
otherwise off the site gateway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from nornir_tasks.handover.markdown import GENERATED, md_table
from nornir_tasks.intent.loader import Intent
from nornir_tasks.intent.memo import per_intent
from nornir_tasks.intent.model import Overlay, Role, Site, SiteKind

#: fills of the core site and, by position among the other kinds, of the kinds that do not
#: choose their own (site_kinds.<kind>.colour)
CORE_FILL = "#fde2b3"
KIND_PALETTE = ("#cfe3ff", "#d9f2d0", "#eadcf7", "#eeeeee", "#fff3bf", "#ffd8d8", "#d3f0ef",
                "#e9e1d4")
ROLE_FILL = {Role.core: "#fde2b3", Role.distribution: "#cfe3ff", Role.access: "#e6f0ff",
             Role.wlc: "#f7d9e3", Role.ap: "#e8f6e0"}
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'

BOX_W, BOX_H, GAP_X, GAP_Y = 190, 46, 14, 26
COLUMNS = 6


@dataclass(frozen=True)
class _Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def top(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y

    @property
    def bottom(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h


def _clip(text: str, n: int) -> str:
    """Cut a label to ``n`` characters.

    >>> _clip("Kaiskuru bo- og omsorgssenter", 12)
    'Kaiskuru bo…'
    """
    return text if len(text) <= n else text[:n - 1].rstrip() + "…"


def _text(x: int, y: int, s: str, size: int = 11, weight: str = "normal",
          anchor: str = "middle") -> str:
    return (f'<text x="{x}" y="{y}" {FONT} font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}">{escape(s)}</text>')


def _rect(b: _Box, fill: str, dash: bool = False) -> str:
    extra = ' stroke-dasharray="4 3"' if dash else ""
    return (f'<rect x="{b.x}" y="{b.y}" width="{b.w}" height="{b.h}" rx="6" fill="{fill}" '
            f'stroke="#555"{extra}/>')


def _line(a: tuple[int, int], b: tuple[int, int], dash: bool = False,
          colour: str = "#555") -> str:
    extra = ' stroke-dasharray="6 4"' if dash else ""
    return (f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" stroke="{colour}" '
            f'stroke-width="1.4"{extra}/>')


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    return "\n".join([*head, *body, "</svg>"]) + "\n"


def _bw(mbps: int) -> str:
    """Bandwidth as a short label.

    >>> _bw(1000), _bw(200), _bw(10000)
    ('1G', '200M', '10G')
    """
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


def _circuit_label(site: Site) -> str:
    c = site.circuit
    if c is None:
        return ""
    kind = "GRE/L3VPN" if c.overlay is Overlay.gre else c.type.value.upper()
    return f"{kind} {_bw(c.bandwidth_mbps)}"


def _site_counts(intent: Intent, slug: str) -> tuple[int, int]:
    hosts = intent.site_devices(slug)
    sw = sum(1 for h in hosts if intent.devices[h].role in (Role.core, Role.distribution,
                                                              Role.access))
    aps = sum(1 for h in hosts if intent.devices[h].role is Role.ap)
    return sw, aps


# --------------------------------------------------------------------------- estate


def kind_fill(intent: Intent, kind: SiteKind) -> str:
    """The fill of a kind's sites: its own colour, else the core's or the next of the
    palette (the reference estate's kinds get the colours they always had)."""
    own = intent.site_kinds[kind].colour if kind in intent.site_kinds else None
    if own is not None:
        return own
    if kind == SiteKind.core:
        return CORE_FILL
    others = [k for k in intent.site_kinds if k != SiteKind.core]
    rank = others.index(kind) if kind in others else len(others)
    return KIND_PALETTE[rank % len(KIND_PALETTE)]


def estate_svg(intent: Intent) -> str:
    """The estate: core pair, firewall, controller, every site by the core it lands on."""
    cores = sorted(h for h, d in intent.devices.items() if d.role is Role.core)
    wlcs = sorted(h for h, d in intent.devices.items() if d.role is Role.wlc)
    core_site = next((s for s, site in intent.sites.items() if site.kind == SiteKind.core), "")
    landing: dict[str, list[str]] = {c: [] for c in cores}
    for slug, site in sorted(intent.sites.items(), key=lambda kv: (kv[1].index, kv[0])):
        if site.circuit is not None:
            landing.setdefault(site.circuit.core, []).append(slug)
    groups = [c for c in landing if landing[c]] or cores
    group_w = COLUMNS * (BOX_W + GAP_X) + 40
    width = max(len(groups), 1) * group_w + 40
    rows = max((len(v) + COLUMNS - 1) // COLUMNS for v in landing.values()) if landing else 0
    top = 250
    height = top + rows * (BOX_H + GAP_Y) + 90
    body: list[str] = [
        _text(20, 28, f"fellesnett — estate topology ({len(intent.sites)} sites)", 16,
              "bold", "start"),
        _text(20, 46, "Solid: L2 circuit, zones as VRF-lite on 802.1Q; dashed: GRE per zone "
              "over a provider L3VPN. Box: switches · APs · circuit.", 11, "normal",
              "start"),
    ]
    # central boxes
    mid = width // 2
    inet = _Box(mid - 90, 62, 180, 30)
    fw = _Box(mid - 90, 106, 180, 30)
    body += [_line(inet.bottom, fw.top), _rect(inet, "#ffffff"),
             _text(mid, 81, "Internet"), _rect(fw, "#ffd6d6"),
             _text(mid, 125, "Internet firewall (NAT, per-zone /29)")]
    core_box: dict[str, _Box] = {}
    for i, core in enumerate(groups):
        cx = 20 + i * group_w + group_w // 2
        b = _Box(cx - 110, 160, 220, 46)
        core_box[core] = b
        body += [_line(fw.bottom, b.top)]
    if len(core_box) >= 2:
        a, b = list(core_box.values())[:2]
        body.append(_line((a.x + a.w, a.y + a.h // 2), (b.x, b.y + b.h // 2), colour="#c60"))
    for core, b in core_box.items():
        body += [_rect(b, kind_fill(intent, SiteKind.core)),
                 _text(b.x + b.w // 2, b.y + 19, core, 12, "bold"),
                 _text(b.x + b.w // 2, b.y + 35,
                       f"{intent.sites[core_site].name if core_site else ''} · "
                       f"{len(landing.get(core, []))} sites")]
    for j, wlc in enumerate(wlcs):
        d = intent.devices[wlc]
        b = _Box(mid - 95, 100 + 56 * (j + 1) + 50 * (len(core_box) < 2), 190, 40)
        label = f"{wlc} (SSO pair)" if d.standby_address else wlc
        body += [_rect(b, ROLE_FILL[Role.wlc]), _text(mid, b.y + 24, _clip(label, 30))]
    for i, core in enumerate(groups):
        sites = landing.get(core, [])
        gx = 20 + i * group_w + 20
        spine_x = gx - 8
        cb = core_box[core]
        if sites:
            last_row = (len(sites) - 1) // COLUMNS
            body.append(_line(cb.bottom, (cb.bottom[0], top - 20)))
            body.append(_line((spine_x, top - 20), (cb.bottom[0], top - 20)))
            body.append(_line((spine_x, top - 20),
                              (spine_x, top + last_row * (BOX_H + GAP_Y) - 8)))
        for k, slug in enumerate(sites):
            site = intent.sites[slug]
            r, col = divmod(k, COLUMNS)
            b = _Box(gx + col * (BOX_W + GAP_X), top + r * (BOX_H + GAP_Y), BOX_W, BOX_H)
            gre = site.circuit is not None and site.circuit.overlay is Overlay.gre
            if col == 0:
                end = gx + min(COLUMNS, len(sites) - r * COLUMNS) * (BOX_W + GAP_X)
                body.append(_line((spine_x, b.y - 8), (end - GAP_X - BOX_W // 2, b.y - 8)))
            body.append(_line((b.top[0], b.y - 8), b.top, dash=gre))
            sw, aps = _site_counts(intent, slug)
            body += [_rect(b, kind_fill(intent, site.kind), dash=gre),
                     _text(b.x + b.w // 2, b.y + 18, _clip(site.name, 30), 11, "bold"),
                     _text(b.x + b.w // 2, b.y + 34,
                           f"{sw} sw · {aps} AP · {_circuit_label(site)}", 10)]
    legend_y = height - 40
    x = 20
    for kind in intent.site_kinds:
        body += [_rect(_Box(x, legend_y, 16, 16), kind_fill(intent, kind)),
                 _text(x + 22, legend_y + 12, kind.value.replace("_", " "), 11, "normal",
                       "start")]
        x += 150
    return _svg(width, height, "fellesnett estate topology", body)


# --------------------------------------------------------------------------- one site


def _word(host: str, text: str | None) -> bool:
    """Does ``text`` name ``host`` as a whole word (not inside a longer name)?

    The regex ``(?<![\\w-])<host>(?![\\w-])`` by hand: compiling one per host and port
    description (more hosts than the regex cache holds) was most of a county's site pages.

    >>> _word("sw1", "uplink to sw1"), _word("sw1", "sw10"), _word("sw1", "x-sw1")
    (True, False, False)
    """
    if not text:
        return False
    at = text.find(host)
    while at >= 0:
        end = at + len(host)
        if (at == 0 or not _is_word_char(text[at - 1])) and (
                end == len(text) or not _is_word_char(text[end])):
            return True
        if at == len(text):
            return False
        at = text.find(host, at + 1)
    return False


def _is_word_char(ch: str) -> bool:
    """``[\\w-]`` as ``re`` reads it (``\\w``: alphanumeric in Unicode, or ``_``)."""
    return ch.isalnum() or ch in "_-"


@per_intent
def _site_links(intent: Intent) -> dict[str, tuple[tuple[str, str, str], ...]]:
    return {}  # filled per site as asked: the sheet, the mermaid and the SVG ask each


def site_links(intent: Intent, slug: str) -> list[tuple[str, str, str]]:
    """``(upper, lower, lower's port on upper)`` for every switch, controller and AP of a
    site, upper-most first; the site gateway (or core pair) has no upper device here."""
    memo = _site_links(intent)
    if slug not in memo:
        memo[slug] = tuple(_find_site_links(intent, slug))
    return list(memo[slug])


def _find_site_links(intent: Intent, slug: str) -> list[tuple[str, str, str]]:
    hosts = intent.site_devices(slug)
    switches = [h for h in hosts if intent.devices[h].role in (Role.core, Role.distribution,
                                                               Role.access, Role.wlc)]
    roots = {h for h in switches if intent.devices[h].role is Role.core} or \
        {intent.gateway_of(slug)} if switches else set()
    links: list[tuple[str, str, str]] = []
    for h in sorted(switches, key=lambda x: (_rank(intent, x), x)):
        if h in roots:
            continue
        uppers = []
        for other in switches:
            if other == h or intent.devices[other].role in (Role.access, Role.wlc):
                continue
            for pa in intent.devices[other].ports:
                if _word(h, pa.description):
                    uppers.append((other, pa.range))
        if not uppers:
            gw = sorted(roots)[0]
            uppers = [(gw, "")]
        for upper, port in sorted(uppers):
            links.append((upper, h, port))
    for h in sorted(hosts):
        d = intent.devices[h]
        if d.role is Role.ap and d.connected_to is not None:
            links.append((d.connected_to.switch, h, d.connected_to.port))
    return links


def _rank(intent: Intent, host: str) -> int:
    order = (Role.core, Role.distribution, Role.wlc, Role.access, Role.ap)
    return order.index(intent.devices[host].role)


def _levels(intent: Intent, slug: str) -> list[list[str]]:
    links = site_links(intent, slug)
    lower = {b for _, b, _ in links}
    hosts = [h for h in intent.site_devices(slug)]
    roots = sorted((h for h in hosts if h not in lower), key=lambda h: (_rank(intent, h), h))
    children: dict[str, list[str]] = {}
    for a, b, _ in links:
        children.setdefault(a, [])
        if b not in children[a]:
            children[a].append(b)
    levels: list[list[str]] = [roots]
    seen = set(roots)
    while True:
        nxt = []
        for h in levels[-1]:
            for c in sorted(children.get(h, []), key=lambda x: (_rank(intent, x), x)):
                if c not in seen:
                    seen.add(c)
                    nxt.append(c)
        if not nxt:
            break
        levels.append(nxt)
    return levels


def site_svg(intent: Intent, slug: str) -> str:
    """One site: upstream core and circuit, gateway, access switches, APs."""
    site = intent.sites[slug]
    levels = _levels(intent, slug)
    c = site.circuit
    if c is not None:
        levels = [[c.core], *levels]
    slot_w, box_w, box_h, row_h = 172, 160, 40, 86
    widest = max(len(level) for level in levels)
    width = max(widest * slot_w + 40, 520)
    height = 70 + len(levels) * row_h + 10
    pos: dict[str, _Box] = {}
    for i, level in enumerate(levels):
        span = len(level) * slot_w
        x0 = (width - span) // 2
        for j, h in enumerate(level):
            pos[h] = _Box(x0 + j * slot_w + (slot_w - box_w) // 2, 70 + i * row_h, box_w,
                          box_h)
    body = [_text(20, 26, f"{site.name} ({slug})", 15, "bold", "start"),
            _text(20, 44, f"{site.kind.value} · index {site.index}"
                  + (f" · {c.circuit_id} {c.provider} {_circuit_label(site)}" if c else
                     " · core site"), 11, "normal", "start")]
    if c is not None:
        gw = intent.gateway_of(slug)
        gre = c.overlay is Overlay.gre
        top_end, low_end = pos[c.core].bottom, pos[gw].top
        body.append(_line(top_end, low_end, dash=gre, colour="#c60"))
        body.append(_text((top_end[0] + low_end[0]) // 2 + 6, (top_end[1] + low_end[1]) // 2 + 4,
                          f"{c.circuit_id} {_circuit_label(site)}", 10, "normal", "start"))
    for upper, lower, _port in site_links(intent, slug):
        if upper in pos and lower in pos:
            body.append(_line(pos[upper].bottom, pos[lower].top))
    for h, b in pos.items():
        if h in intent.devices and intent.device_site.get(h) == slug:
            d = intent.devices[h]
            fill = ROLE_FILL[d.role]
            sub = f"{d.role.value} · {d.model}"
        else:
            fill, sub = kind_fill(intent, SiteKind.core), "core (upstream)"
        body += [_rect(b, fill), _text(b.x + b.w // 2, b.y + 17, _clip(h, 26), 10, "bold"),
                 _text(b.x + b.w // 2, b.y + 31, _clip(sub, 26), 9)]
    return _svg(width, height, f"{site.name} topology", body)


# --------------------------------------------------------------------------- mermaid


def _mid(name: str) -> str:
    """A mermaid node id for a host or site name.

    >>> _mid("alta-skole-acc01")
    'n_alta_skole_acc01'
    """
    return "n_" + _NOT_ID.sub("_", name)


_NOT_ID = re.compile(r"[^A-Za-z0-9_]")


def _mlabel(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def estate_mermaid(intent: Intent) -> list[str]:
    """A mermaid block: core pair, firewall, controller, sites grouped by kind."""
    cores = sorted(h for h, d in intent.devices.items() if d.role is Role.core)
    wlcs = sorted(h for h, d in intent.devices.items() if d.role is Role.wlc)
    out = ["```mermaid", "flowchart LR", f"  inet(({_mlabel('Internet')}))",
           f"  fw[{_mlabel('Internet firewall')}]", "  inet --- fw"]
    core_site = next((s for s, v in intent.sites.items() if v.kind == SiteKind.core), None)
    if core_site:
        out.append(f"  subgraph {_mid('site_' + core_site)}"
                   f"[{_mlabel(intent.sites[core_site].name + ' (core site)')}]")
        out += [f"    {_mid(h)}[{_mlabel(h)}]" for h in cores + wlcs]
        out.append("  end")
    out += [f"  fw --- {_mid(h)}" for h in cores]
    if len(cores) == 2:
        out.append(f"  {_mid(cores[0])} === {_mid(cores[1])}")
    for w in wlcs:
        out += [f"  {_mid(w)} --- {_mid(h)}" for h in cores]
    for kind in intent.site_kinds:
        if kind == SiteKind.core:
            continue
        members = sorted((s for s, v in intent.sites.items() if v.kind == kind),
                         key=lambda s: (intent.sites[s].index, s))
        if not members:
            continue
        out.append(f"  subgraph {_mid('kind_' + kind.value)}[{_mlabel(kind.value)}]")
        out += [f"    {_mid('site_' + s)}[{_mlabel(intent.sites[s].name)}]" for s in members]
        out.append("  end")
    for slug, site in sorted(intent.sites.items(), key=lambda kv: (kv[1].index, kv[0])):
        c = site.circuit
        if c is None:
            continue
        arrow = "-.-" if c.overlay is Overlay.gre else "---"
        out.append(f"  {_mid(c.core)} {arrow}|{_mlabel(_circuit_label(site))}| "
                   f"{_mid('site_' + slug)}")
    out.append("```")
    return out


def site_mermaid(intent: Intent, slug: str) -> list[str]:
    """A mermaid block for one site sheet: upstream core, gateway, switches, APs."""
    site = intent.sites[slug]
    out = ["```mermaid", "flowchart TB"]
    c = site.circuit
    if c is not None:
        gw = intent.gateway_of(slug)
        arrow = "-.-" if c.overlay is Overlay.gre else "---"
        out.append(f"  {_mid(c.core)}[{_mlabel(c.core + ' (core)')}] {arrow}"
                   f"|{_mlabel(c.circuit_id + ' ' + _circuit_label(site))}| "
                   f"{_mid(gw)}")
    for h in intent.site_devices(slug):
        d = intent.devices[h]
        shape = (f"([{_mlabel(h)}])" if d.role is Role.ap else f"[{_mlabel(h)}]")
        out.append(f"  {_mid(h)}{shape}")
    for upper, lower, port in site_links(intent, slug):
        label = f"|{_mlabel(port)}|" if port else ""
        out.append(f"  {_mid(upper)} ---{label} {_mid(lower)}")
    out.append("```")
    return out


def topology_md(intent: Intent, sheet_sites: set[str]) -> str:
    """``docs/topology.md``: the estate diagram, the SVG, and links to each site's."""
    out = ["# Topology", "", GENERATED, "",
           "The whole estate as a picture: [topology.svg](topology.svg) (opens in any "
           "browser). Solid lines are L2 circuits carrying the zones as VRF-lite on 802.1Q, "
           "dashed lines GRE tunnels over a provider L3VPN. Each site sheet has the site's "
           "own diagram; per-site pictures are in `topology/<slug>.svg`.", "",
           "![Estate topology](topology.svg)", "", "## Estate", ""]
    out += estate_mermaid(intent)
    out += ["", "## Sites", ""]
    rows = []
    for slug, site in sorted(intent.sites.items(), key=lambda kv: (kv[1].index, kv[0])):
        sw, aps = _site_counts(intent, slug)
        pic = f"[svg](topology/{slug}.svg)" if slug in sheet_sites else "—"
        sheet = f"[{slug}](sites/{slug}.md)" if slug in sheet_sites else slug
        rows.append([sheet, site.name, site.kind.value,
                     site.circuit.core if site.circuit else "—",
                     _circuit_label(site) or "—", sw, aps, pic])
    out += md_table(["Site", "Name", "Kind", "Core", "Circuit", "Switches", "APs", "Picture"],
                    rows, right=[5, 6])
    return "\n".join(out) + "\n"
