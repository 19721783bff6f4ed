"""The web UI: server-rendered Jinja2 pages over the same domain library as the API.

Page modules are imported statically (``PAGES``): a page that cannot import fails the start-up.

``mount_web(app)`` adds the static files (our CSS/JS and plotly.js from the installed ``plotly``
package, so nothing comes from a CDN) and one router per page module. Pages authenticate with the
same signed token as the API, kept in an HttpOnly cookie.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from theralab.errors import AuthError, TheralabError
from theralab.privacy.deps import PasswordChangeRequired
from theralab.web.errors import install_error_pages

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

from theralab.web.pages import (  # noqa: E402 - after the logger, grouped as the UI's table of contents
    admet,
    assistant,
    auth,
    chem,
    development,
    domain_guard,  # noqa: E402
    dti,
    ecg,
    ehr,
    home,
    jobs,
    literature,
    monitoring,
    pgx,
    precision,
    screening,
    trials,
    trials_matching,
    trials_outcome,
)

#: Every page module; each exposes ``router`` (HTML routes).
PAGES = [home, auth, jobs, chem, development, trials, trials_matching, pgx, monitoring, ehr, screening,
         admet, ecg, assistant, dti, trials_outcome, precision,
         literature]


def plotly_js_path() -> Path:
    """plotly.min.js as shipped inside the installed ``plotly`` Python package."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def mount_web(app: FastAPI) -> None:
    """Attach static files, page routers and the login redirect to ``app``."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/static-vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(plotly_js_path(), media_type="application/javascript")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    for module in PAGES:
        app.include_router(module.router, include_in_schema=False, dependencies=[Depends(domain_guard)])

    api_handler = app.exception_handlers[TheralabError]

    async def _auth_redirect(request: Request, exc: Exception) -> Response:
        # The API answers 401 JSON; a page sends the browser to the login form instead.
        if request.url.path.startswith("/v1"):
            return await api_handler(request, exc)
        if request.cookies.get("theralab_token"):  # a refused credential (expired or forged), not a first visit
            from theralab.privacy.deps import audit_refusal

            audit_refusal(request, 403 if isinstance(exc, PasswordChangeRequired) else 401)
        if isinstance(exc, PasswordChangeRequired):
            return RedirectResponse(f"/password?next={request.url.path}", status_code=303)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    app.add_exception_handler(AuthError, _auth_redirect)
    app.add_exception_handler(PasswordChangeRequired, _auth_redirect)
    install_error_pages(app)
