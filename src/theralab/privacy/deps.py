"""Shared FastAPI dependencies: database session, current user, role checks, audit.

Routes declare what they need with ``Annotated`` types::

    @router.get("/patients/{pid}")
    def read(pid: str, user: Annotated[Principal, Depends(require_roles("clinician", "researcher"))],
             session: SessionDep): ...

Every refused request (401 or 403) is audited by the app's error handler with the route, the
caller (when known) and the network address; see :func:`theralab.api.app._error_handlers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from theralab.errors import AuthError, ForbiddenError
from theralab.privacy import audit, careteam, scopes
from theralab.privacy.auth import decode_token, require_role
from theralab.runtime.db import session_scope

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def get_session() -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    Audit events added in the request's transaction are sealed into the hash chain after it commits.
    """
    with session_scope() as session:
        yield session
    audit.seal()


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: user name and roles from a verified token, and where they call from."""

    username: str
    roles: frozenset[str]
    channel: str = "api"
    source: str = ""
    patient_id: str = ""
    #: SMART scopes of the token; None: the role defaults (a principal built in code, not from a token).
    scopes: frozenset[str] | None = None
    #: Care-team scoping applies (set for every principal built from a token; code-built ones see all).
    care_scoped: bool = False

    def audit(self, action: str, resource_type: str = "", resource_id: str = "", outcome: str = "ok",
              session: Session | None = None, patient_id: str = "") -> None:
        """Append an audit record for this caller (identifiers only, never payloads).

        Pass the request's ``session`` when the route writes too: the record then commits with the
        route's own changes (and SQLite never sees two writers in one request).
        """
        if not patient_id and resource_type == "Patient" and resource_id and "=" not in str(resource_id):
            patient_id = str(resource_id)
        audit.record(self.username, action, resource_type=resource_type, resource_id=resource_id, outcome=outcome,
                     patient_id=patient_id, channel=self.channel, source=self.source, session=session)

    @property
    def granted_scopes(self) -> frozenset[str]:
        """The token's scopes, or the role defaults when it names none."""
        return self.scopes if self.scopes is not None else frozenset(scopes.defaults(self.roles))

    def may_see_patient(self, patient_id: str, session: Session | None = None) -> bool:
        """Object-level check: a patient sees only their own record, staff the patients of their care teams.

        Without ``session`` the care-team tables are read in a short session of its own.
        """
        if session is None:
            with session_scope() as own:
                return careteam.may_see(own, self, patient_id)
        return careteam.may_see(session, self, patient_id)

    def require_patient(self, session: Session, patient_id: str) -> None:
        """Raise 403 (audited by the app) unless this caller may see ``patient_id``."""
        careteam.require(session, self, patient_id)

    def visible_patients(self, session: Session) -> set[str] | None:
        """The patient ids this caller may see; None: every patient."""
        return careteam.visible_ids(session, self)

    def require_scope(self, needed: str) -> None:
        """Raise 403 unless the token's scopes grant ``needed`` (``Resource.read|write``)."""
        if not scopes.permits(self.granted_scopes, needed):
            raise ForbiddenError(f"the token lacks a scope for {needed}", where="scope",
                                 hint=f"log in asking for e.g. user/{needed} (or without 'scope' for the defaults)")


class PasswordChangeRequired(ForbiddenError):
    """A token from a one-time password opens only the password change."""


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def get_current_user(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """Resolve the caller from the bearer token, or from the web UI's session cookie."""
    from_cookie = not token
    token = token or request.cookies.get("theralab_token")
    if not token:
        raise AuthError("not logged in", hint="POST /v1/auth/token with username and password, then send "
                        "'Authorization: Bearer <token>'")
    claims = decode_token(token)
    roles = claims.get("roles") or []
    granted = frozenset(str(claims["scope"]).split()) if "scope" in claims else None
    user = Principal(username=str(claims["sub"]), roles=frozenset(str(r) for r in roles),  # type: ignore[union-attr]
                     channel="web" if from_cookie else "api", source=client_address(request),
                     patient_id=str(claims.get("patient") or ""), scopes=granted, care_scoped=True)
    request.state.principal = user
    if claims.get("pwd_change") and request.url.path not in ("/v1/auth/password", "/v1/auth/me", "/password"):
        raise PasswordChangeRequired("the one-time password must be changed first",
                                     hint="POST /v1/auth/password with the current and a new password")
    return user


CurrentUser = Annotated[Principal, Depends(get_current_user)]


def require_roles(*roles: str, scope: str | None = None) -> Callable[[Principal], Principal]:
    """Dependency factory: the caller must hold one of ``roles`` (admin always passes) and, when
    ``scope`` is given (``Resource.read|write``), a token scope that grants it.

    The returned callable carries ``required_scope`` and ``required_roles`` so that tests can walk
    every route and check what it declares.
    """

    def _check(user: CurrentUser) -> Principal:
        require_role(set(user.roles), *roles)
        if scope:
            user.require_scope(scope)
        return user

    _check.required_scope = scope  # type: ignore[attr-defined]
    _check.required_roles = roles  # type: ignore[attr-defined]
    return _check


def audit_refusal(request: Request, status: int) -> None:
    """Audit a refused request: who (when known), which route, the patient id in it, from where."""
    from theralab.privacy import audit

    principal = getattr(request.state, "principal", None)
    template = getattr(request.scope.get("route"), "path", None) or request.url.path
    if request.url.path.startswith("/v1/") and not template.startswith("/v1/"):
        template = "/v1" + template  # the route object of an included router may omit the mount prefix
    try:
        audit.record(
            principal.username if principal else "anonymous",
            f"{request.method} {template}",
            resource_type="Route",
            resource_id=request.url.path,
            patient_id=str(request.path_params.get("patient_id") or request.query_params.get("patient_id") or ""),
            outcome="denied",
            channel=principal.channel if principal else ("web" if request.cookies.get("theralab_token") else "api"),
            source=request.client.host if request.client else "",
        )
    except Exception as exc:  # noqa: BLE001 - an audit failure must not turn a 401 into a 500
        logging.getLogger(__name__).error("could not audit a refused request: %s", exc)
