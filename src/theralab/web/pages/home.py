"""The home page: one card per domain, saying plainly which are not built yet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from theralab.web.pages import WebUser
from theralab.web.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "home.html")
