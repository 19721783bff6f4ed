"""HTTP hardening for the whole app: security headers, request size limits, CSRF origin checks, local docs.

* **Headers** on every response: a Content-Security-Policy that allows nothing from other origins
  (no CDN, no framing), ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin``, and ``Cache-Control: no-store`` on everything but static assets,
  so no proxy or browser cache keeps a patient page or API answer.
* **Size limits**: a body larger than ``max_body`` (``Content-Length`` or counted while streaming)
  is refused with 413 before a route reads it.
* **CSRF**: the session cookie is ``SameSite=Strict``; in addition a state-changing request that
  relies on the cookie (every web form, or an API call without a bearer token) must come from this
  origin when the browser says where it comes from (``Origin``, else ``Referer``): a cross-site
  form post gets 403. (OWASP "verifying origin with standard headers".)
* **Docs offline**: Swagger UI from the ``swagger-ui-bundle`` package and ReDoc from
  ``drf-spectacular-sidecar`` when present, served under ``/docs-assets``; nothing from a CDN.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: No inline scripts: every page script is a file under /static (tests/web/test_csp.py keeps templates free of
#: them; data for a script travels in non-executable ``<script type="application/json">`` blocks). Inline styles
#: stay allowed: plotly.js writes them.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; worker-src 'self' blob:")
#: Swagger UI's page (FastAPI's HTML) starts the bundle with an inline script: only /docs gets it back.
DOCS_CSP = CSP.replace("script-src 'self';", "script-src 'self' 'unsafe-inline';")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer Chrome sends "Origin: null" on form posts, which the CSRF
    # check must refuse; same-origin still sends nothing to other sites
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
CACHEABLE_PREFIXES = ("/static", "/docs-assets")
MAX_BODY = 256 * 1024 * 1024
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class _TooLarge(Exception):
    pass


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            (b"cache-control", b"no-store"), *HEADERS]})
    await send({"type": "http.response.body", "body": raw})


def cross_origin(scope: Scope) -> bool:
    """True when the browser says this request comes from another origin than the one it targets."""
    host = _header(scope, b"host")
    claimed = _header(scope, b"origin") or _header(scope, b"referer")
    if not claimed:
        return False
    if claimed == "null":
        return True
    return urlsplit(claimed).netloc.lower() != host.lower()


class SecurityMiddleware:
    """Pure ASGI middleware (streams pass through untouched) applying the rules in the module doc."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        method = scope.get("method", "GET")
        cookie_auth = "theralab_token=" in _header(scope, b"cookie") and not _header(scope, b"authorization")
        if method in UNSAFE and (not path.startswith("/v1/") or cookie_auth) and cross_origin(scope):
            await _send_json(send, 403, {"error": "ForbiddenError", "message": "cross-site request refused",
                                         "where": "Origin", "hint": "submit the form from this site"})
            return
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self.max_body:
            await _send_json(send, 413, {"error": "InputError", "message": "request body too large",
                                         "where": "body", "hint": f"at most {self.max_body // 2**20} MiB"})
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return message

        cache = not path.startswith(CACHEABLE_PREFIXES)

        async def secured_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not (cache and k.lower() == b"cache-control")]
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in names]
                if cache:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, secured_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, {"error": "InputError", "message": "request body too large",
                                             "where": "body", "hint": f"at most {self.max_body // 2**20} MiB"})


def _asset_dirs() -> dict[str, Path]:
    dirs: dict[str, Path] = {}
    try:
        import swagger_ui_bundle

        dirs["swagger"] = Path(swagger_ui_bundle.swagger_ui_path)
    except ImportError:
        pass
    spec = importlib.util.find_spec("drf_spectacular_sidecar")  # static files only; never imported (Django)
    if spec and spec.submodule_search_locations:
        redoc = Path(next(iter(spec.submodule_search_locations))) / "static/drf_spectacular_sidecar/redoc/bundles"
        if (redoc / "redoc.standalone.js").is_file():
            dirs["redoc"] = redoc
    return dirs


def mount_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` from locally installed assets (the app is built with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN pages are never served)."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.staticfiles import StaticFiles

    dirs = _asset_dirs()
    for name, folder in dirs.items():
        app.mount(f"/docs-assets/{name}", StaticFiles(directory=folder), name=f"docs-{name}")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        if "swagger" not in dirs:
            return HTMLResponse("<p>Swagger UI assets are not installed (pip install swagger-ui-bundle); "
                                "the schema is at <a href='/openapi.json'>/openapi.json</a>.</p>")
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="theralab API",
                                   oauth2_redirect_url="/docs/oauth2-redirect",
                                   swagger_js_url="/docs-assets/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/swagger/favicon-32x32.png")
        page.headers["content-security-policy"] = DOCS_CSP
        return page

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def oauth2_redirect() -> HTMLResponse:
        page = get_swagger_ui_oauth2_redirect_html()
        page.headers["content-security-policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        if "redoc" not in dirs:
            return HTMLResponse("<p>ReDoc assets are not installed (pip install --no-deps drf-spectacular-sidecar); "
                                "use <a href='/docs'>/docs</a>.</p>")
        return get_redoc_html(openapi_url="/openapi.json", title="theralab API",
                              redoc_js_url="/docs-assets/redoc/redoc.standalone.js", with_google_fonts=False,
                              redoc_favicon_url="/docs-assets/swagger/favicon-32x32.png")
