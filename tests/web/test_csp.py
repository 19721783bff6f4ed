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


def test_no_rendered_page_has_an_inline_executable_script(api):
    """Every page without path parameters, rendered for an admin (who may open them all)."""
    from fastapi.routing import APIRoute

    from theralab.web.app import PAGES

    api.post("/login", data={"username": "root", "password": "password-root", "next": "/"})
    def needs_query(route: APIRoute) -> bool:
        return any(getattr(getattr(q, "field_info", None), "is_required", lambda: False)()
                   for q in route.dependant.query_params)

    paths = sorted({route.path for module in PAGES for route in module.router.routes
                    if isinstance(route, APIRoute) and "GET" in route.methods and "{" not in route.path
                    and route.path != "/logout" and not needs_query(route)})
    offenders = {}
    for path in paths:
        response = api.get(path, headers={"accept": "text/html"})
        assert response.status_code == 200, (path, response.status_code)
        if found := inline_scripts(response.text):
            offenders[path] = found
    assert not offenders, "\n".join(f"  {path}: {'; '.join(found)}" for path, found in offenders.items())


def _script_src(policy: str) -> str:
    return next(part for part in policy.split(";") if part.strip().startswith("script-src"))


def test_pages_are_served_with_a_policy_that_forbids_inline_scripts(api):
    policy = api.get("/login").headers["content-security-policy"]
    assert "'unsafe-inline'" not in _script_src(policy) and "'unsafe-eval'" not in _script_src(policy)
    docs = api.get("/docs")
    if "swagger-ui-bundle.js" in docs.text:  # FastAPI's Swagger page starts itself with an inline script
        assert "'unsafe-inline'" in _script_src(docs.headers["content-security-policy"])
