"""No page carries an inline executable script, so the Content-Security-Policy can forbid them.

Scripts live in ``web/static`` (``theralab.js``, ``pages/<page>.js``); data for them goes in
``<script type="application/json">`` blocks, which browsers never execute. This is the check behind
dropping ``'unsafe-inline'`` from ``script-src``: it reads every template (so a page is covered even
where no test renders it), and the browser harness (test_browser_pages.py) checks the rendered pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import theralab.web

TEMPLATES = Path(theralab.web.__file__).resolve().parent / "templates"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
DATA_TYPES = ("application/json", "application/ld+json")
HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def inline_scripts(text: str) -> list[str]:
    """The inline executable scripts and ``on…=`` handlers in one template's text."""
    found = []
    for attrs, body in SCRIPT.findall(text):
        if "src=" in attrs:
            continue
        kind = re.search(r"type\s*=\s*[\"']([^\"']+)", attrs)
        if kind and kind.group(1).lower() in DATA_TYPES:
            continue
        found.append(f"<script{attrs}> {body.strip()[:50]!s}")
    found += [f"handler: {m.group(0)[-60:]}" for m in HANDLER.finditer(text)]
    if re.search(r"href\s*=\s*[\"']javascript:", text, re.I):
        found.append("javascript: link")
    return found


def test_the_checker_finds_inline_scripts_and_passes_data_blocks():
    assert inline_scripts('<script>alert(1)</script>')
    assert inline_scripts('<button onclick="go()">x</button>')
    assert not inline_scripts('<script src="/static/pages/x.js"></script>')
    assert not inline_scripts('<script type="application/json" id="d">{"a": 1}</script>')


def test_no_template_has_an_inline_executable_script():
    offenders = {path.name: found for path in sorted(TEMPLATES.rglob("*.html"))
                 if (found := inline_scripts(path.read_text()))}
    assert not offenders, "templates with inline scripts (move them to web/static/pages/<page>.js):\n" + "\n".join(
        f"  {name}: {'; '.join(found)}" for name, found in offenders.items())
