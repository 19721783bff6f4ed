"""The REST API: one router per domain under ``/v1`` and the error handlers.

``create_api()`` wires the routers listed in ``ROUTERS`` and the handlers that turn every
:class:`~theralab.errors.TheralabError` and every request validation problem into a 4xx JSON body
saying what was wrong and where. Routers are imported statically: a router that cannot import is a
broken installation and must fail loudly at start-up, not vanish from the API with a log line.
The web UI is mounted beside the API by the composition root, :func:`theralab.app.create_app`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from theralab import __version__
from theralab.api.schemas import ERROR_RESPONSES, HealthOut
from theralab.errors import TheralabError
from theralab.privacy.deps import audit_refusal

log = logging.getLogger(__name__)

from theralab.api.routes import (  # noqa: E402 - after the logger, grouped as the API's table of contents
    admet,
    alerts,
    assistant,
    auth,
    chem,
    criteria,
    development,
    dti,
    ehr,
    generate,
    jobs,
    literature,
    matching,
    models,
    monitoring,
    pgx,
    precision,
    privacy,
    screening,
    trials,
    trials_outcome,
    vitals,
)

#: Every domain router, in the order OpenAPI lists them; each module exposes ``router``.
ROUTERS = [auth, jobs, models, chem, admet, screening, development, ehr, trials, criteria, matching, pgx,
           monitoring, vitals, alerts, assistant, privacy, dti, trials_outcome, precision, generate,
           literature]


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TheralabError)
    async def _theralab_error(request: Request, exc: TheralabError) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if exc.status_code in (401, 403):
            audit_refusal(request, exc.status_code)
        return JSONResponse(status_code=exc.status_code, content=exc.to_dict(), headers=headers)

    @app.exception_handler(ValueError)
    @app.exception_handler(ArithmeticError)
    async def _numeric_error(request: Request, exc: Exception) -> JSONResponse:
        # Domain code raises ValueError / OverflowError / ZeroDivisionError when the numbers it was
        # given are outside what it can compute (a root not bracketed, an int too big for the
        # database): that is the request's fault, so it is a 422 saying so, never a 500. Logged
        # with the route so a real bug hiding behind it is still visible.
        log.warning("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse(status_code=422, content={
            "error": "InputError",
            "message": f"the request's values are outside what this computation supports ({type(exc).__name__})",
            "where": None,
            "hint": "check the ranges in /docs and try less extreme values",
        })

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"where": None, "message": "invalid request"}
        return JSONResponse(
            status_code=422,
            content={
                "error": "InputError",
                "message": first["message"],
                "where": first["where"],
                "hint": "see /docs for the request schema",
                "problems": problems,
            },
        )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At start-up, mark jobs left 'running' by a crashed server as 'interrupted' (resumable)."""
    try:
        from theralab.runtime.jobs import recover_interrupted

        interrupted = recover_interrupted()
        if interrupted:
            log.warning("%d job(s) were interrupted by a restart; resume them: %s", len(interrupted), interrupted)
    except Exception as exc:  # noqa: BLE001 - an unmigrated database must not stop the server starting
        log.warning("could not check for interrupted jobs (%s); run 'theralab db upgrade'", exc)
    _warm_models(app)
    yield


def _warm_models(app: FastAPI) -> None:
    """Load THERALAB_WARM_MODELS (e.g. ``panel``; set by ``theralab serve``) in this worker process, in
    the background, so the first request does not pay the load (one panel per worker process)."""
    import os
    import threading

    names = os.environ.get("THERALAB_WARM_MODELS", "")
    if not names:
        return

    def load() -> None:
        try:
            from theralab.discovery.admet.panel_model import warm

            log.info("warm models loaded: %s", warm(names))
        except Exception as exc:  # noqa: BLE001 - requests load lazily and report their own errors
            log.warning("could not warm %s: %s", names, exc)

    app.state.warm_thread = threading.Thread(target=load, name="theralab-warm", daemon=True)
    app.state.warm_thread.start()


def create_api() -> FastAPI:
    """Build the API application (no web pages; :func:`theralab.app.create_app` adds them)."""
    app = FastAPI(
        lifespan=_lifespan,
        title="theralab",
        version=__version__,
        description="From molecule to patient: discovery, development, trials, precision medicine, monitoring.",
        docs_url=None,
        redoc_url=None,
    )
    from theralab.api.security import SecurityMiddleware, mount_docs

    app.add_middleware(SecurityMiddleware)
    mount_docs(app)
    _error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router, prefix="/v1", responses=ERROR_RESPONSES)

    @app.get("/v1/health", tags=["meta"], response_model=HealthOut)
    def health() -> HealthOut:
        return HealthOut(status="ok", version=__version__)

    return app
