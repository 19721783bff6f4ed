"""Login, logout and password-change pages: the token goes into an HttpOnly, SameSite=Strict cookie.

Failed logins are throttled like the API's (429 with ``Retry-After``); an account with a one-time
password is sent to ``/password`` and can open nothing else until it has chosen its own.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from theralab.errors import AuthError, InputError
from theralab.privacy import audit
from theralab.privacy.auth import authenticate, change_password, decode_token, issue_token
from theralab.privacy.throttle import ThrottledError, login_throttle
from theralab.runtime.db import session_scope
from theralab.settings import get_settings
from theralab.web.templating import render

router = APIRouter()


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _with_cookie(response: Response, token: str) -> Response:
    response.set_cookie("theralab_token", token, httponly=True, samesite="strict",
                        secure=get_settings().host not in ("127.0.0.1", "localhost"),
                        max_age=get_settings().token_minutes * 60)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, username: str = Form(..., max_length=120), password: str = Form(..., max_length=256),
          next: str = Form("/", max_length=2000)) -> Response:
    address = _address(request)
    try:
        login_throttle.check(username, address)
        with session_scope() as session:
            user = authenticate(session, username, password)
            token = issue_token(user)
            must_change = bool(user.must_change_password)
    except ThrottledError as exc:
        audit.record(username, "web.login", outcome="denied", channel="web", source=address)
        response = render(request, "login.html", {"next": _safe_next(next), "error": f"{exc.message} ({exc.hint})"},
                          status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except AuthError as exc:
        login_throttle.failure(username, address)
        audit.record(username, "web.login", outcome="denied", channel="web", source=address)
        return render(request, "login.html", {"next": _safe_next(next), "error": exc.message}, status_code=401)
    login_throttle.success(username)
    audit.record(username, "web.login", channel="web", source=address)
    target = f"/password?next={_safe_next(next)}" if must_change else _safe_next(next)
    return _with_cookie(RedirectResponse(target, status_code=303), token)


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request, next: str = "/") -> Response:
    token = request.cookies.get("theralab_token")
    if not token:
        return RedirectResponse("/login?next=/password", status_code=303)
    forced = bool(decode_token(token).get("pwd_change"))
    if not forced:  # a voluntary change keeps the navigation; a forced one offers nothing else to open
        from theralab.privacy.deps import get_current_user

        request.state.user = get_current_user(request, None)
    return render(request, "password.html", {"next": _safe_next(next), "error": None, "forced": forced})


@router.post("/password")
def password_change(request: Request, current_password: str = Form(..., max_length=256),
                    new_password: str = Form(..., max_length=256), next: str = Form("/", max_length=2000)) -> Response:
    token = request.cookies.get("theralab_token")
    if not token:
        return RedirectResponse("/login?next=/password", status_code=303)
    username = str(decode_token(token)["sub"])
    try:
        with session_scope() as session:
            user = change_password(session, username, current_password, new_password)
            fresh = issue_token(user)
    except (AuthError, InputError) as exc:
        audit.record(username, "web.password", outcome="denied", channel="web", source=_address(request))
        return render(request, "password.html", {"next": _safe_next(next), "error": exc.message, "forced": True},
                      status_code=422)
    audit.record(username, "web.password", channel="web", source=_address(request))
    return _with_cookie(RedirectResponse(_safe_next(next), status_code=303), fresh)


@router.get("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie("theralab_token")
    return response
