"""Local users, argon2 password hashes, short-lived signed access tokens and role checks.

Access tokens are HS256 JWTs signed with the installation's secret key and live ``token_minutes``
(30 by default): long enough for a working session, short enough that a leaked token expires
the same day. Decoding accepts HS256 only (the header is checked before the signature, so ``none``
or an RSA/HMAC confusion never reaches the verifier) and requires ``sub``, ``exp`` and ``iat``.
Refresh tokens (:mod:`theralab.privacy.refresh`) renew them with rotation. Roles are ``admin``,
``researcher``, ``clinician`` and ``patient``; ``admin`` passes every role check.

Passwords follow NIST SP 800-63B: at least 12 characters, no composition rules, refused when
common or equal to the user name. A generated (one-time) password marks the account
``must_change_password``; its tokens carry ``pwd_change`` and open nothing but the change itself.
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
_DUMMY_HASH = _hasher.hash("theralab-timing-equaliser")
ALGORITHM = "HS256"
#: The only signature algorithms a token may name (never ``none``, never an asymmetric one).
ALLOWED_ALGORITHMS = ("HS256",)


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


MIN_PASSWORD, MAX_PASSWORD = 12, 256
#: A few of the most common passwords (lower-cased); a site can extend it. Variants that only add
#: digits or punctuation to one of them are refused too.
COMMON_PASSWORDS = frozenset("""
password passw0rd password1 123456789012 qwertyuiop qwerty123456 iloveyou letmein welcome admin
administrator changeme trustno1 monkey dragon football baseball sunshine princess theralab
hospital clinician patient researcher secret abc123 1q2w3e4r5t6y
""".split())


def check_password_policy(password: str, username: str = "") -> None:
    """Raise InputError when ``password`` is too short or long, common, or the user name."""
    if len(password) < MIN_PASSWORD:
        raise InputError("password too short", where="password", hint=f"use at least {MIN_PASSWORD} characters; "
                         "a passphrase of several words is easiest")
    if len(password) > MAX_PASSWORD:
        raise InputError("password too long", where="password", hint=f"at most {MAX_PASSWORD} characters")
    lowered = password.lower()
    core = lowered.strip("0123456789!@#$%^&*()-_=+.,;:?' ")
    if lowered in COMMON_PASSWORDS or core in COMMON_PASSWORDS or len(set(password)) < 4:
        raise InputError("password too common", where="password", hint="choose a less guessable passphrase")
    if username and lowered == username.lower():
        raise InputError("password equals the user name", where="password")


def create_user(session: Session, username: str, password: str, roles: list[str], *,
                must_change_password: bool = False, patient_id: str = "") -> User:
    """Create a local user; raises ConflictError when the name is taken.

    ``must_change_password`` marks a one-time password; ``patient_id`` links a ``patient`` account
    to the one patient record it may see.
    """
    _check_roles(roles)
    check_password_policy(password, username)
    if not username or len(username) > 120 or any(ord(c) < 32 for c in username):
        raise InputError("invalid user name", where="username")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise ConflictError(f"user {username!r} already exists", where="username")
    user = User(username=username, password_hash=hash_password(password), roles=",".join(roles),
                must_change_password=must_change_password, patient_id=patient_id)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str, *, one_time: bool = False) -> None:
    """Replace a user's password (``one_time``: it must be changed at the next login)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    check_password_policy(password, username)
    user.password_hash = hash_password(password)
    user.must_change_password = one_time


def change_password(session: Session, username: str, current: str, new: str) -> User:
    """The user's own change: the current password must be right and the new one must differ."""
    user = authenticate(session, username, current)
    if new == current:
        raise InputError("the new password must differ from the current one", where="new_password")
    check_password_policy(new, username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """Return the user when the credentials are right, else raise AuthError (same message either way)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_password(password, _DUMMY_HASH)  # same work either way: no user enumeration by timing
        raise AuthError("wrong username or password")
    if not user.active or not verify_password(password, user.password_hash):
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


def issue_token(user: User, settings: Settings | None = None, scope: str | None = None) -> str:
    """Sign a short-lived access token carrying the user name, roles and SMART scopes.

    ``scope`` is what the login was granted (:func:`theralab.privacy.scopes.grant`); None gives the
    role defaults. The token always names its scopes, so routes can enforce them.
    """
    from theralab.privacy.scopes import defaults

    settings = settings or get_settings()
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": user.username,
        "roles": sorted(user.role_set),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.token_minutes)).timestamp()),
        "jti": secrets.token_hex(8),
        "scope": scope if scope else " ".join(defaults(user.role_set)),
    }
    if getattr(user, "must_change_password", False):
        claims["pwd_change"] = True
    if getattr(user, "patient_id", ""):
        claims["patient"] = user.patient_id
    return jwt.encode(claims, secret_key(settings), algorithm=ALGORITHM)


def decode_token(token: str, settings: Settings | None = None) -> dict[str, object]:
    """Verify a token's signature and expiry; raise AuthError otherwise."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALLOWED_ALGORITHMS:
            raise AuthError("invalid access token", where="alg", hint="log in again")
        return jwt.decode(token, secret_key(settings), algorithms=list(ALLOWED_ALGORITHMS),
                          options={"require": ["exp", "iat", "sub"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("access token expired", hint="log in again") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("invalid access token", hint="log in again") from exc


def require_role(user_roles: set[str], *allowed: str) -> None:
    """Raise ForbiddenError unless the user holds one of ``allowed`` (admin always passes)."""
    if "admin" in user_roles or not allowed or user_roles.intersection(allowed):
        return
    raise ForbiddenError(f"this action needs one of the roles {', '.join(allowed)}")
