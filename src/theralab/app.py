"""The composition root: the one place that builds theralab's server (API and web UI together).

``theralab serve`` and the tests call :func:`create_app`. The API (``theralab.api``) and the web UI
(``theralab.web``) never import each other; both sit on the same domain library and on the
authentication dependencies in :mod:`theralab.privacy.deps`.
"""

from __future__ import annotations

from fastapi import FastAPI

from theralab.api.app import create_api
from theralab.web.app import mount_web


def create_app(*, with_web: bool = True) -> FastAPI:
    """Build the ASGI application: the ``/v1`` API, and the web pages unless ``with_web`` is False."""
    app = create_api()
    if with_web:
        mount_web(app)
    return app
