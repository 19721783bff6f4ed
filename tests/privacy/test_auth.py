"""Users, password hashes, tokens, roles and the audit trail."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from theralab.errors import AuthError, ConflictError, ForbiddenError, InputError
from theralab.privacy import audit
from theralab.privacy.auth import (
    authenticate,
    create_user,
    decode_token,
    hash_password,
    issue_token,
    require_role,
    verify_password,
)
from theralab.privacy.tables import AuditEvent
from theralab.runtime.db import session_scope


def test_password_hash_is_argon2_and_salted():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password("correct horse", first)
    assert not verify_password("wrong", first)
    assert not verify_password("x", "not-a-hash")


def test_users_authenticate_and_carry_roles_in_tokens(tl_env_any_db):
    with session_scope() as session:
        create_user(session, "ana", "s3cret-passphrase", ["clinician"])
    with session_scope() as session:
        user = authenticate(session, "ana", "s3cret-passphrase")
        token = issue_token(user)
        with pytest.raises(AuthError):
            authenticate(session, "ana", "wrong-pass")
        with pytest.raises(AuthError):
            authenticate(session, "nobody", "whatever1")
        with pytest.raises(ConflictError):
            create_user(session, "ana", "another-passphrase", ["researcher"])
        with pytest.raises(InputError, match="role"):
            create_user(session, "bob", "another-passphrase", ["wizard"])
    claims = decode_token(token)
    assert claims["sub"] == "ana" and claims["roles"] == ["clinician"]
    assert claims["exp"] - claims["iat"] == 30 * 60


def test_expired_and_tampered_tokens_are_rejected(tl_env, monkeypatch):
    import jwt

    from theralab.privacy.auth import secret_key

    expired = jwt.encode({"sub": "a", "roles": [], "iat": int(time.time()) - 60, "exp": int(time.time()) - 5},
                         secret_key(), algorithm="HS256")
    with pytest.raises(AuthError, match="expired"):
        decode_token(expired)
    forged = jwt.encode({"sub": "a", "roles": ["admin"], "iat": int(time.time()), "exp": int(time.time()) + 60},
                        "other-key", algorithm="HS256")
    with pytest.raises(AuthError, match="invalid"):
        decode_token(forged)


def test_role_checks():
    require_role({"clinician"}, "clinician", "researcher")
    require_role({"admin"}, "clinician")  # admin passes everything
    with pytest.raises(ForbiddenError, match="clinician"):
        require_role({"patient"}, "clinician")


def test_audit_records_identifiers_only(tl_env_any_db):
    audit.record("ana", "patient.read", resource_type="Patient", resource_id="p-1")
    with session_scope() as session:
        events = list(session.scalars(select(AuditEvent)))
        assert [(e.actor, e.action, e.resource_type, e.resource_id, e.outcome) for e in events] == [
            ("ana", "patient.read", "Patient", "p-1", "ok")
        ]
        columns = set(AuditEvent.__table__.columns.keys())
    # identifiers and context only: no column could hold a payload
    assert columns == {"id", "at", "actor", "action", "resource_type", "resource_id", "outcome", "patient_id",
                       "channel", "source", "seq", "prev_hash", "hash"}
