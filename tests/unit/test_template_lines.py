"""Every template line that ends in a block tag after some text keeps its newline.

The renderer runs Jinja with ``trim_blocks``: the newline after a block tag is dropped.
On a line like ``logging host {{ h }}{% if vrf %} vrf {{ vrf }}{% endif %}`` that glues
the next command onto this one (``... vrf MGMTlogging host ...``), which a device
rejects. It shipped that way in every config for a day; the golden files had it too.
Such a line ends its tag with ``+%}`` (trim_blocks off for that tag), or is followed by
an empty line that trim_blocks eats instead. A line that starts with a macro call
(``{{ trunk(p) }}{% endfor %}``) is left out: the macros end their output with a newline
on purpose, for the tag to eat.
"""

from __future__ import annotations

import re
from pathlib import Path

from nornir_tasks.render import TEMPLATES

TAG_AT_END = re.compile(r"\{%-?[^%]*?[^+]%\}$")


def offending_lines() -> list[str]:
    out = []
    for path in sorted(Path(TEMPLATES).rglob("*.j2")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            text = line.strip()
            if text.startswith(("{%", "{{")) or not TAG_AT_END.search(text):
                continue
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if nxt.strip():
                out.append(f"{path.relative_to(TEMPLATES)}:{i + 1}: {text}")
    return out


def test_no_template_line_loses_its_newline() -> None:
    assert offending_lines() == []


def test_the_rendered_logging_lines_are_one_command_each(tmp_path: Path) -> None:
    from nornir_tasks.build import build

    result = build(Path(__file__).resolve().parents[2] / "inventory", tmp_path / "b",
                   run_verify=False)
    for host, rel in result.configs.items():
        for line in (tmp_path / "b" / rel).read_text().splitlines():
            if line.startswith("logging "):
                assert re.fullmatch(r"logging (source-interface \S+|host \S+)( vrf \S+)?|"
                                    r"logging (buffered \d+ \w+|console|trap \w+|"
                                    r"origin-id hostname)", line) or line in (
                    "logging console", "logging userinfo"), (host, line)
