"""Shared FastAPI dependencies: database session, current user, role checks, audit.

Routes declare what they need with ``Annotated`` types::

    @router.get("/patients/{pid}")
    def read(pid: str, user: Annotated[Principal, Depends(require_roles("clinician", "researcher"))],
             session: SessionDep): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from theralab.errors import AuthError
from theralab.privacy import audit
from theralab.privacy.auth import decode_token, require_role
from theralab.runtime.db import session_scope

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: user name and roles from a verified token."""

    username: str
    roles: frozenset[str]

    def audit(self, action: str, resource_type: str = "", resource_id: str = "", outcome: str = "ok",
              session: Session | None = None) -> None:
        """Append an audit record for this caller (identifiers only, never payloads).

        Pass the request's ``session`` when the route writes too: the record then commits with the
        route's own changes (and SQLite never sees two writers in one request).
        """
        audit.record(self.username, action, resource_type=resource_type, resource_id=resource_id, outcome=outcome,
                     session=session)


def get_current_user(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """Resolve the caller from the bearer token, or from the web UI's session cookie."""
    token = token or request.cookies.get("theralab_token")
    if not token:
        raise AuthError("not logged in", hint="POST /v1/auth/token with username and password, then send "
                        "'Authorization: Bearer <token>'")
    claims = decode_token(token)
    roles = claims.get("roles") or []
    return Principal(username=str(claims["sub"]), roles=frozenset(str(r) for r in roles))  # type: ignore[union-attr]


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """Dependency factory: the caller must hold one of ``roles`` (admin always passes)."""

    def _check(user: CurrentUser) -> Principal:
        require_role(set(user.roles), *roles)
        return user

    return _check
