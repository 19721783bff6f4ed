"""``/v1/auth``: log in for a short-lived access token and a refresh token; refresh (rotating),
log out (revoking), change the password (forced after a one-time password); who am I.

Failed logins are throttled per user name and per address (429 with ``Retry-After``); every
login, refusal, refresh and logout is audited.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select

from theralab.api.schemas import RequestModel
from theralab.errors import AuthError
from theralab.privacy import audit, oidc, refresh, scopes
from theralab.privacy.auth import authenticate, change_password, issue_token, secret_key
from theralab.privacy.deps import CurrentUser, SessionDep, client_address
from theralab.privacy.tables import User
from theralab.privacy.throttle import login_throttle
from theralab.settings import get_settings

router = APIRouter(prefix="/auth", tags=["auth"])
OIDC_COOKIE = "theralab_oidc"


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="access token lifetime in seconds")
    refresh_token: str = Field(description="opaque; exchange at /v1/auth/refresh (each one works once)")
    must_change_password: bool = Field(False, description="true after a one-time password: change it first")
    scope: str = Field("", description="granted SMART scopes, space-separated (role defaults unless fewer asked)")


class RefreshIn(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordIn(RequestModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class Done(BaseModel):
    ok: bool


class Me(BaseModel):
    username: str
    roles: list[str]
    scopes: list[str] = Field(default_factory=list, description="the token's SMART scopes")


def _pair(session: SessionDep, user: User, family: str | None = None, token: str | None = None,
          scope: str = "") -> Token:
    scope = scope or " ".join(scopes.defaults(user.role_set))
    return Token(access_token=issue_token(user, scope=scope), expires_in=get_settings().token_minutes * 60,
                 refresh_token=token or refresh.issue(session, user.username, family, scope=scope),
                 must_change_password=bool(user.must_change_password), scope=scope)


@router.post("/token", response_model=Token)
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> Token:
    """Exchange username and password (form fields) for an access token and a refresh token.

    The optional ``scope`` form field asks for fewer SMART scopes than the roles imply
    (e.g. ``user/Observation.read``); without it the token carries the role defaults.
    """
    address = client_address(request)
    try:
        login_throttle.check(form.username, address)
        user = authenticate(session, form.username, form.password)
    except Exception as exc:
        if isinstance(exc, AuthError):
            login_throttle.failure(form.username, address)
        audit.record(form.username, "auth.login", outcome="denied", source=address)
        raise
    login_throttle.success(form.username)
    granted = " ".join(scopes.grant(user.role_set, " ".join(form.scopes)))
    audit.record(user.username, "auth.login", source=address, session=session)
    return _pair(session, user, scope=granted)


@router.post("/refresh", response_model=Token)
def refresh_token(request: Request, body: RefreshIn, session: SessionDep) -> Token:
    """Rotate: a new access and refresh token for a valid refresh token (a reused one revokes its login)."""
    try:
        user, new, scope = refresh.rotate(session, body.refresh_token)
    except AuthError:
        audit.record("anonymous", "auth.refresh", outcome="denied", source=client_address(request))
        raise
    audit.record(user.username, "auth.refresh", source=client_address(request), session=session)
    return _pair(session, user, token=new, scope=scope)


@router.post("/logout", response_model=Done)
def logout(request: Request, body: RefreshIn, session: SessionDep) -> Done:
    """Revoke the refresh token and every token rotated from the same login."""
    ok = refresh.revoke(session, body.refresh_token)
    audit.record("anonymous", "auth.logout", outcome="ok" if ok else "not-found", source=client_address(request),
                 session=session)
    return Done(ok=ok)


@router.post("/password", response_model=Token)
def password(body: PasswordIn, user: CurrentUser, session: SessionDep) -> Token:
    """Change the caller's password (required after a one-time password); returns fresh tokens."""
    try:
        changed = change_password(session, user.username, body.current_password, body.new_password)
    except Exception:
        user.audit("auth.password", "User", user.username, outcome="denied")
        raise
    user.audit("auth.password", "User", user.username, session=session)
    return _pair(session, changed)


@router.get("/oidc/login", response_class=RedirectResponse, status_code=307,
            responses={307: {"description": "to the identity provider's authorization endpoint"}})
def oidc_login(request: Request) -> RedirectResponse:
    """Start an OpenID Connect login (authorization code + PKCE) at the site's identity provider."""
    config = oidc.OidcConfig.from_env()
    url, txn = oidc.begin(config, secret_key())
    response = RedirectResponse(url, status_code=307)
    response.set_cookie(OIDC_COOKIE, txn, max_age=oidc.TRANSACTION_SECONDS, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/v1/auth/oidc")
    return response


@router.get("/oidc/callback", response_model=Token)
def oidc_callback(request: Request, session: SessionDep,
                  code: Annotated[str, Query(max_length=2000)] = "",
                  state: Annotated[str, Query(max_length=200)] = "") -> Token:
    """The identity provider's redirect: verify it, then issue theralab tokens for the local account it names."""
    config = oidc.OidcConfig.from_env()
    address = client_address(request)
    try:
        username = oidc.finish(config, secret_key(), code, state, request.cookies.get(OIDC_COOKIE))
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise AuthError("no active theralab account for this identity", hint="ask an administrator to create it")
    except Exception:
        audit.record("anonymous", "auth.oidc", outcome="denied", source=address)
        raise
    audit.record(user.username, "auth.oidc", source=address, session=session)
    return _pair(session, user)


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    """The caller's name and roles."""
    return Me(username=user.username, roles=sorted(user.roles), scopes=sorted(user.granted_scopes))
