"""The FastAPI application factory.

``create_app()`` wires one router per domain under ``/v1``, the web pages at ``/``, static files,
and the error handlers that turn every :class:`~theralab.errors.TheralabError` and every request
validation problem into a 4xx JSON body saying what was wrong and where. Domain routers are listed
in ``ROUTERS``; a router module that fails to import is skipped with a warning so one broken
optional dependency never takes the whole server down.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from theralab import __version__
from theralab.errors import TheralabError

log = logging.getLogger(__name__)

# module path (relative to theralab.api.routes) of each domain router; each exposes ``router``.
ROUTERS = [
    "auth",
    "jobs",
    "models",
    "chem",
    "admet",
    "screening",
    "development",
    "ehr",
    "trials",
    "criteria",
    "matching",
    "pgx",
    "monitoring",
    "vitals",
    "alerts",
    "generate",
]


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(TheralabError)
    async def _theralab_error(_request: Request, exc: TheralabError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(status_code=exc.status_code, content=exc.to_dict(), headers=headers)

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
    yield


def create_app(*, with_web: bool = True) -> FastAPI:
    """Build the theralab ASGI application."""
    app = FastAPI(
        lifespan=_lifespan,
        title="theralab",
        version=__version__,
        description="From molecule to patient: discovery, development, trials, precision medicine, monitoring.",
    )
    _error_handlers(app)
    for name in ROUTERS:
        try:
            module = importlib.import_module(f"theralab.api.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"theralab.api.routes.{name}":
                continue  # domain not built yet
            log.warning("router %s skipped: %s", name, exc)
            continue
        app.include_router(module.router, prefix="/v1")

    @app.get("/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    if with_web:
        from theralab.web.app import mount_web

        mount_web(app)
    return app
