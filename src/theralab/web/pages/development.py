"""Development page: an interactive PK simulator and a dissolution-profile comparison.

The page is a thin client of the API (``/v1/development/...``), called with the login cookie, so
the numbers on screen are exactly what the API and CLI give.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("development")


@router.get("/development", response_class=HTMLResponse)
def development_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "development.html")
