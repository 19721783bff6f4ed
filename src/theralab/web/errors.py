"""Error pages: a browser that asks for a page gets an HTML page with a way back, never raw JSON.

The API's handlers (``theralab.api.app``) answer JSON; these wrap them. A request is a *page
request* when its path is outside ``/v1`` (and the API docs) and its ``Accept`` header asks for HTML
(what a browser sends when it navigates). ``fetch`` calls from page scripts send ``*/*`` and keep the
JSON body they parse. 401 on a page is handled by the login redirect in :mod:`theralab.web.app`.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from theralab.errors import TheralabError
from theralab.web.templating import render

log = logging.getLogger(__name__)

TITLES = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Please log in", "This page needs you to log in first."),
    403: ("Not allowed", "Your account's role does not give access to this page."),
    404: ("Page not found", "There is no page at this address. It may have moved, or the link may be mistyped."),
    405: ("Not allowed here", "This address does not accept that kind of request."),
    409: ("Conflict", "The request conflicts with the current state of the record."),
    413: ("Too large", "The upload is larger than this installation accepts."),
    422: ("Check the input", "Some of the values given could not be used."),
    429: ("Too many attempts", "Please wait a moment and try again."),
    500: ("Something went wrong", "The server hit an unexpected problem. The error was logged; "
          "please try again, and tell your administrator if it keeps happening."),
}
API_PREFIXES = ("/v1", "/docs", "/redoc", "/openapi", "/static", "/static-vendor", "/docs-assets")


def wants_html(request: Request) -> bool:
    """True for a browser navigating to a page (not the API, not a script's fetch)."""
    path = request.url.path
    if any(path == p or path.startswith(p + "/") for p in API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _back(request: Request) -> str | None:
    """The referring page when it is on this site (so "Go back" never leaves it), else None."""
    referer = request.headers.get("referer", "")
    if not referer:
        return None
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc.lower() != request.headers.get("host", "").lower():
        return None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return target if target.startswith("/") and not target.startswith("//") and target != request.url.path else None


def error_page(request: Request, status: int, message: str | None = None, hint: str | None = None,
               headers: dict[str, str] | None = None) -> Response:
    """Render the error page for ``status`` with the problem in words and links back."""
    if getattr(request.state, "user", None) is None and request.cookies.get("theralab_token"):
        try:  # an unknown route ran no dependency: still show the navigation of whoever is logged in
            from theralab.privacy.deps import get_current_user

            request.state.user = get_current_user(request, None)
        except Exception:  # noqa: BLE001 - an expired or forged cookie just means no navigation
            request.state.user = None
    title, default = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    if status >= 500:
        message, hint = default, None  # never show a stack trace or an internal message to a browser
    context: dict[str, Any] = {"status": status, "title": title, "message": message or default, "hint": hint,
                               "back": _back(request)}
    response = render(request, "error.html", context, status_code=status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def install_error_pages(app: FastAPI) -> None:
    """Wrap the app's JSON error handlers so page requests get :func:`error_page` instead."""
    theralab_json = app.exception_handlers.get(TheralabError)
    validation_json = app.exception_handlers.get(RequestValidationError)

    async def _theralab(request: Request, exc: Exception) -> Response:
        if wants_html(request) and isinstance(exc, TheralabError) and exc.status_code != 401:
            if exc.status_code == 403:
                from theralab.privacy.deps import audit_refusal

                audit_refusal(request, 403)
            return error_page(request, exc.status_code, exc.message, getattr(exc, "hint", None),
                              headers=dict(getattr(exc, "headers", None) or {}))
        return await theralab_json(request, exc)  # type: ignore[misc]

    async def _http(request: Request, exc: Exception) -> Response:
        if wants_html(request) and isinstance(exc, StarletteHTTPException):
            detail = exc.detail if exc.status_code != 404 and isinstance(exc.detail, str) else None
            return error_page(request, exc.status_code, detail, headers=dict(exc.headers or {}))
        return await http_exception_handler(request, exc)  # type: ignore[arg-type]

    async def _validation(request: Request, exc: Exception) -> Response:
        if wants_html(request) and isinstance(exc, RequestValidationError):
            problems = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', '')}"
                        for e in exc.errors()]
            return error_page(request, 422, "; ".join(problems) or None,
                              "Go back, correct the highlighted value and submit again.")
        return await validation_json(request, exc)  # type: ignore[misc]

    numeric_json = app.exception_handlers.get(ValueError)

    async def _numeric(request: Request, exc: Exception) -> Response:
        if wants_html(request):
            log.warning("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
            return error_page(request, 422, "The values given are outside what this computation supports.",
                              "Go back and try less extreme values.")
        return await numeric_json(request, exc)  # type: ignore[misc]

    async def _server_error(request: Request, exc: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
        if wants_html(request):
            return error_page(request, 500)
        from fastapi.responses import JSONResponse

        return JSONResponse(status_code=500, content={"error": "InternalError", "message": "internal server error",
                                                      "where": None, "hint": "the error was logged"})

    if theralab_json is not None:
        app.add_exception_handler(TheralabError, _theralab)
    if validation_json is not None:
        app.add_exception_handler(RequestValidationError, _validation)
    if numeric_json is not None:
        app.add_exception_handler(ValueError, _numeric)
        app.add_exception_handler(ArithmeticError, _numeric)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(500, _server_error)
