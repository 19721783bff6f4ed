"""Local users, argon2 password hashes, short-lived signed access tokens and role checks.

Tokens are HS256 JWTs signed with the installation's secret key and live ``token_minutes``
(30 by default): long enough for a working session, short enough that a leaked token expires
the same day. Roles are ``admin``, ``researcher``, ``clinician`` and ``patient``; ``admin``
passes every role check.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from theralab.errors import AuthError, ConflictError, ForbiddenError, InputError, NotFoundError
from theralab.privacy.tables import ROLES, User
from theralab.settings import Settings, get_settings

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """True when ``password`` matches ``password_hash`` (constant-time)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


def _check_roles(roles: list[str]) -> None:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise InputError(f"unknown role(s) {unknown or roles}", hint=f"choose from {', '.join(ROLES)}")


def create_user(session: Session, username: str, password: str, roles: list[str]) -> User:
    """Create a local user; raises ConflictError when the name is taken."""
    _check_roles(roles)
    if len(password) < 8:
        raise InputError("password too short", where="password", hint="use at least 8 characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError(f"user {username!r} already exists", where="username")
    user = User(username=username, password_hash=hash_password(password), roles=",".join(roles))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> None:
    """Replace a user's password."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    user.password_hash = hash_password(password)


def authenticate(session: Session, username: str, password: str) -> User:
    """Return the user when the credentials are right, else raise AuthError (same message either way)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise AuthError("wrong username or password")
    return user


def secret_key(settings: Settings | None = None) -> str:
    """The signing key: from settings, else a random key kept in ``<data_dir>/secret.key``."""
    settings = settings or get_settings()
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def issue_token(user: User, settings: Settings | None = None) -> str:
    """Sign a short-lived access token carrying the user name and roles."""
    settings = settings or get_settings()
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "roles": sorted(user.role_set),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.token_minutes)).timestamp()),
    }
    return jwt.encode(claims, secret_key(settings), algorithm="HS256")


def decode_token(token: str, settings: Settings | None = None) -> dict[str, object]:
    """Verify a token's signature and expiry; raise AuthError otherwise."""
    try:
        return jwt.decode(token, secret_key(settings), algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("access token expired", hint="log in again") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("invalid access token", hint="log in again") from exc


def require_role(user_roles: set[str], *allowed: str) -> None:
    """Raise ForbiddenError unless the user holds one of ``allowed`` (admin always passes)."""
    if "admin" in user_roles or not allowed or user_roles.intersection(allowed):
        return
    raise ForbiddenError(f"this action needs one of the roles {', '.join(allowed)}")
