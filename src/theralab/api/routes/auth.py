"""``/v1/auth``: log in for a short-lived token; who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from theralab.privacy import audit
from theralab.privacy.auth import authenticate, issue_token
from theralab.privacy.deps import CurrentUser, SessionDep
from theralab.settings import get_settings

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    username: str
    roles: list[str]


@router.post("/token", response_model=Token)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep) -> Token:
    """Exchange username and password (form fields) for a bearer token."""
    try:
        user = authenticate(session, form.username, form.password)
    except Exception:
        audit.record(form.username, "auth.login", outcome="denied")
        raise
    audit.record(user.username, "auth.login", session=session)
    return Token(access_token=issue_token(user), expires_in=get_settings().token_minutes * 60)


@router.get("/me", response_model=Me)
def me(user: CurrentUser) -> Me:
    """The caller's name and roles."""
    return Me(username=user.username, roles=sorted(user.roles))
