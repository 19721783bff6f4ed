"""Refresh tokens with rotation, reuse detection and revocation.

A login returns a short-lived access token and an opaque refresh token (random, 256 bits; only its
SHA-256 is stored). Exchanging a refresh token returns a new pair and marks the old one used:
*rotation*. Presenting a used token again means it was copied, so the whole family (every token
descending from that login) is revoked and the caller must log in again: *reuse detection*
(OAuth 2.0 Security BCP, section 4.14). Logging out revokes the family.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from theralab.errors import AuthError
from theralab.privacy.tables import RefreshToken, User
from theralab.runtime.db import utcnow

REFRESH_HOURS = 12


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, username: str, family: str | None = None, hours: float = REFRESH_HOURS,
          scope: str = "") -> str:
    """A new refresh token for ``username`` (in ``family``, or a new family for a fresh login).

    ``scope`` is the login's granted scopes: a refresh renews them, never widens them.
    """
    token = secrets.token_urlsafe(32)
    session.add(RefreshToken(token_hash=_digest(token), username=username, family=family or secrets.token_hex(16),
                             expires_at=utcnow() + timedelta(hours=hours), scope=scope))
    session.flush()
    return token


def revoke_family(session: Session, family: str) -> None:
    session.execute(update(RefreshToken).where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))


def rotate(session: Session, token: str) -> tuple[User, str, str]:
    """Exchange ``token`` for (its user, a new refresh token, the login's scopes); AuthError when
    unknown, expired, revoked or reused (a reuse revokes the family)."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(token or "")))
    if row is None:
        raise AuthError("invalid refresh token", hint="log in again")
    if row.revoked_at is not None:
        raise AuthError("refresh token revoked", hint="log in again")
    if row.used_at is not None:
        revoke_family(session, row.family)
        session.commit()  # the revocation must survive the error this raises
        raise AuthError("refresh token already used: every token of this login is now revoked",
                        hint="log in again; if you did not reuse it, someone copied it")
    if row.expires_at <= utcnow():
        raise AuthError("refresh token expired", hint="log in again")
    user = session.scalar(select(User).where(User.username == row.username))
    if user is None or not user.active:
        revoke_family(session, row.family)
        raise AuthError("account disabled", hint="ask an administrator")
    row.used_at = utcnow()
    return user, issue(session, user.username, row.family, scope=row.scope), row.scope


def revoke(session: Session, token: str) -> bool:
    """Log out: revoke the family of ``token``; False when the token is unknown."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(token or "")))
    if row is None:
        return False
    revoke_family(session, row.family)
    return True
