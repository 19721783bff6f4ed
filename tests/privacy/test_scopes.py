"""SMART-on-FHIR-style scopes (issue 18 part 3): tokens carry scopes, routes declare the scope they need,
an under-scoped token gets 403 and an audit event, roles keep working through their default scopes."""

from __future__ import annotations

import pytest

from theralab.errors import InputError
from theralab.privacy import scopes


def test_parse_v1_and_v2_permissions():
    s = scopes.Scope.parse("user/Observation.read")
    assert (s.context, s.resource, s.read, s.write) == ("user", "Observation", True, False)
    assert scopes.Scope.parse("patient/*.rs").read and not scopes.Scope.parse("patient/*.rs").write
    assert scopes.Scope.parse("user/Patient.cud").write and not scopes.Scope.parse("user/Patient.cud").read
    assert scopes.Scope.parse("openid") is None and scopes.Scope.parse("launch/patient") is None
    for bad in ("user/observation.read", "user/Observation.delete", "doctor/*.read", "user/*", "a b"):
        with pytest.raises(InputError):
            scopes.Scope.parse(bad)


def test_grant_narrows_to_what_roles_allow():
    assert scopes.grant({"clinician"}, None) == ["user/*.*"]
    assert scopes.grant({"clinician"}, "user/Observation.read openid") == ["user/Observation.read", "openid"]
    assert scopes.grant({"clinician"}, "patient/Observation.read") == ["patient/Observation.read"]
    # a patient cannot ask for user-level scopes: what it asks for is dropped, and nothing left is an error
    assert scopes.grant({"patient"}, "patient/Consent.read user/*.read") == ["patient/Consent.read"]
    with pytest.raises(InputError):
        scopes.grant({"patient"}, "user/*.read")
    with pytest.raises(InputError):
        scopes.grant({"clinician"}, " ".join(f"user/R{i:03d}x.read" for i in range(60)))


def test_permits():
    assert scopes.permits(["user/*.read"], "Patient.read")
    assert not scopes.permits(["user/*.read"], "Patient.write")
    assert scopes.permits(["user/Observation.*"], "Observation.write")
    assert not scopes.permits(["user/Observation.*", "openid", "junk/"], "Patient.read")


def test_under_scoped_token_is_refused_and_audited(api):
    from sqlalchemy import select

    from theralab.privacy.audit import seal
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    resp = api.post("/v1/auth/token", data={"username": "doc", "password": "password-doc",
                                            "scope": "user/Observation.read"})
    assert resp.status_code == 200 and resp.json()["scope"] == "user/Observation.read"
    narrow = {"Authorization": f"Bearer {resp.json()['access_token']}"}
    assert api.get("/v1/auth/me", headers=narrow).json()["scopes"] == ["user/Observation.read"]
    assert api.get("/v1/observations?patient_id=p1", headers=narrow).status_code == 200
    refused = api.get("/v1/ehr/patients", headers=narrow)
    assert refused.status_code == 403 and refused.json()["where"] == "scope"
    assert "Patient.read" in refused.json()["message"]
    seal()
    with session_scope() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.actor == "doc",
                                                               AuditEvent.outcome == "denied")))
    assert any(e.action == "GET /v1/ehr/patients" for e in events)
    # a refresh renews the same scopes, never the role defaults
    again = api.post("/v1/auth/refresh", json={"refresh_token": resp.json()["refresh_token"]}).json()
    assert again["scope"] == "user/Observation.read"
    renewed = {"Authorization": f"Bearer {again['access_token']}"}
    assert api.get("/v1/ehr/patients", headers=renewed).status_code == 403
    # without 'scope' the role defaults apply: roles keep working as before
    assert api.get("/v1/ehr/patients", headers=api.login("doc")).status_code == 200


def test_a_scope_the_role_does_not_have_is_refused_at_login(api):
    resp = api.post("/v1/auth/token", data={"username": "pat", "password": "password-pat", "scope": "user/*.read"})
    assert resp.status_code == 422 and resp.json()["where"] == "scope"
    bad = api.post("/v1/auth/token", data={"username": "doc", "password": "password-doc", "scope": "user/x.read"})
    assert bad.status_code == 422
