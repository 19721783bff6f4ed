"""Login and logout pages: the token goes into an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from theralab.errors import AuthError
from theralab.privacy import audit
from theralab.privacy.auth import authenticate, issue_token
from theralab.runtime.db import session_scope
from theralab.settings import get_settings
from theralab.web.templating import render

router = APIRouter()


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, username: str = Form(...), password: str = Form(...), next: str = Form("/")) -> Response:
    try:
        with session_scope() as session:
            user = authenticate(session, username, password)
            token = issue_token(user)
    except AuthError as exc:
        audit.record(username, "web.login", outcome="denied")
        return render(request, "login.html", {"next": _safe_next(next), "error": exc.message}, status_code=401)
    audit.record(username, "web.login")
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie("theralab_token", token, httponly=True, samesite="strict",
                        max_age=get_settings().token_minutes * 60)
    return response


@router.get("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie("theralab_token")
    return response
