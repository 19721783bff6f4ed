"""The authorisation walk (issue 18 part 3): every documented API operation refuses a missing, expired,
forged, wrongly-signed or under-scoped token, except an explicit public list; a patient account reads
its own record and never another patient's."""

from __future__ import annotations

import json
import re
import time

import jwt
import pytest

#: Operations anyone may call: logging in (password or OpenID Connect), refreshing and logging out
#: (they carry their own credential), the health probe, and the list of CPIC drugs (public reference data).
PUBLIC = {
    ("POST", "/v1/auth/token"),
    ("GET", "/v1/auth/oidc/login"),
    ("GET", "/v1/auth/oidc/callback"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("GET", "/v1/health"),
    ("GET", "/v1/pgx/drugs"),
}
#: Patient or genetic data (or administration): a patient account not linked to the object gets 403.
SENSITIVE = re.compile(r"^/v1/(ehr|alerts|privacy/(audit|research)|devices|ingest|pgx/call|observations$|"
                       r"trials/(for-patient|\{trial_id\}/(match|funnel|patients)))")


def _operations(app):
    for path, ops in app.openapi()["paths"].items():
        for method in ops:
            yield method.upper(), path


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _bad_tokens():
    from theralab.privacy.auth import secret_key

    now = int(time.time())
    claims = {"sub": "root", "roles": ["admin"], "iat": now, "exp": now + 600}
    return {
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 60}, secret_key(), algorithm="HS256"),
        "forged": jwt.encode(claims, "not-the-site-key", algorithm="HS256"),
        "alg-none": jwt.encode(claims, None, algorithm="none"),
        "other-alg": jwt.encode(claims, secret_key(), algorithm="HS512"),
        "garbage": "a.b.c",
    }


def test_every_non_public_operation_refuses_bad_tokens(api, monkeypatch):
    from theralab.runtime import jobs

    monkeypatch.setattr(jobs, "start_in_background", lambda job_id: None)
    ops = sorted(set(_operations(api.app)))
    assert len(ops) >= 60
    bad = _bad_tokens()
    failures, walked = [], 0
    for method, path in ops:
        if method == "GET" and path.endswith(("/stream", "/events")):
            pass  # refused before the stream starts, so safe to call
        if (method, path) in PUBLIC:
            continue
        walked += 1
        url = _url(path)
        resp = api.request(method, url)
        if resp.status_code != 401:
            failures.append((method, path, "missing", resp.status_code))
        for name, token in bad.items():
            resp = api.request(method, url, headers={"Authorization": f"Bearer {token}"})
            if resp.status_code != 401:
                failures.append((method, path, name, resp.status_code))
    assert failures == []
    assert walked == len(ops) - len(PUBLIC & set(ops))
    print(f"authorisation walk: {walked} non-public operations x 6 bad credentials, {len(PUBLIC)} public")


def test_under_scoped_patient_token_is_refused_on_patient_data(api):
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        create_user(session, "pat-p1", "password-pat-p1", ["patient"], patient_id="p1")
    patient = {"Authorization": "Bearer " + api.post(
        "/v1/auth/token", data={"username": "pat-p1", "password": "password-pat-p1"}).json()["access_token"]}
    sensitive = [(m, p) for m, p in sorted(set(_operations(api.app))) if SENSITIVE.match(p)]
    assert len(sensitive) >= 20
    bodies = {"/v1/privacy/consent/{patient_id}": {"purpose": "research", "granted": False}}
    refused = []
    for method, path in sensitive:
        kwargs = {"json": bodies[path]} if method == "POST" and path in bodies else {}
        resp = api.request(method, _url(path), headers=patient, **kwargs)
        refused.append(resp.status_code)
        assert resp.status_code in (401, 403), (method, path, resp.status_code)


def _import_two_patients(api) -> list[str]:
    from theralab.ehr.synthetic import generate_cohort

    entries = [e for bundle in generate_cohort(2, seed=3) for e in bundle["entry"]]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    resp = api.post("/v1/ehr/import", content=json.dumps(bundle), headers=api.login("doc"))
    assert resp.status_code == 200, resp.text
    return [e["resource"]["id"] for e in entries if e["resource"]["resourceType"] == "Patient"]


def test_a_patient_reads_itself_and_never_another_patient(api):
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    a, b = _import_two_patients(api)
    with session_scope() as session:
        create_user(session, "alice", "password-alice", ["patient"], patient_id=a)
    headers = {"Authorization": "Bearer " + api.post(
        "/v1/auth/token", data={"username": "alice", "password": "password-alice"}).json()["access_token"]}
    assert api.get(f"/v1/ehr/patients/{a}", headers=headers).json()["id"] == a
    assert api.get(f"/v1/ehr/patients/{a}/fhir", headers=headers).status_code == 200
    assert api.get(f"/v1/privacy/consent/{a}", headers=headers).status_code == 200
    for url in (f"/v1/ehr/patients/{b}", f"/v1/ehr/patients/{b}/fhir", f"/v1/privacy/consent/{b}",
                "/v1/ehr/patients", f"/v1/trials/for-patient/{b}"):
        assert api.get(url, headers=headers).status_code == 403, url
    # a forged 'patient' claim is worthless without the key
    from theralab.privacy.auth import secret_key

    now = int(time.time())
    forged = jwt.encode({"sub": "alice", "roles": ["patient"], "patient": b, "iat": now, "exp": now + 60},
                        secret_key() + "x", algorithm="HS256")
    assert api.get(f"/v1/ehr/patients/{b}", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


@pytest.mark.parametrize("path", ["/", "/chem", "/jobs", "/ehr"])
def test_web_pages_send_anonymous_users_to_login(api, path):
    api.cookies.clear()
    resp = api.get(path, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login")


def _declared_scopes(app) -> dict[tuple[str, str], str]:
    """(method, path) -> the SMART scope its role dependency declares (walking the dependency tree)."""
    from fastapi.routing import APIRoute

    def scope_of(dependant) -> str | None:
        for dep in dependant.dependencies:
            found = getattr(dep.call, "required_scope", None) or scope_of(dep)
            if found:
                return found
        return None

    out = {}

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                scope = scope_of(route.dependant)
                for method in route.methods:
                    if scope:
                        out[(method, prefix + route.path)] = scope
            elif hasattr(route, "original_router"):  # an included router (FastAPI includes them lazily)
                walk(route.original_router.routes, prefix + route.include_context.prefix)

    walk(app.routes, "")
    return out


def test_every_patient_data_operation_declares_and_enforces_a_scope(api, monkeypatch):
    """Each operation on patient or genetic data declares a SMART scope; a token whose scopes grant
    nothing (``openid`` only, admin role) is refused with 403 on every one of them."""
    from sqlalchemy import select

    from theralab.privacy.auth import issue_token
    from theralab.privacy.tables import User
    from theralab.runtime import jobs
    from theralab.runtime.db import session_scope

    monkeypatch.setattr(jobs, "start_in_background", lambda job_id: None)
    declared = _declared_scopes(api.app)
    ops = sorted(set(_operations(api.app)))
    sensitive = [(m, p) for m, p in ops if SENSITIVE.match(p) and (m, p) not in PUBLIC
                 and not p.startswith(("/v1/devices", "/v1/ingest"))]
    assert [op for op in sensitive if op not in declared and op != ("POST", "/v1/observations")] == []
    assert all(op in declared for op in ops if op[1].startswith(("/v1/assistant/inbox", "/v1/privacy/consent")))
    with session_scope() as session:
        root = session.scalar(select(User).where(User.username == "root"))
        token = issue_token(root, scope="openid")
    headers = {"Authorization": f"Bearer {token}"}
    wrong = []
    for method, path in sorted(declared):
        if path.endswith("/stream"):
            continue
        resp = api.request(method, _url(path), headers=headers)
        if resp.status_code != 403 or resp.json().get("where") != "scope":
            wrong.append((method, path, resp.status_code))
    assert wrong == []
    print(f"scopes: {len(declared)} operations declare a SMART scope; each refused an openid-only admin token")


def test_user_a_cannot_read_patient_b_on_any_patient_route(api):
    """Every GET with a patient id (path or query) refuses a clinician whose care team lacks patient B."""
    from theralab.privacy import careteam
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    a, b = _import_two_patients(api)
    with session_scope() as session:
        create_user(session, "carla", "password-carla-a", ["clinician", "researcher"])
        careteam.add_member(session, "team-a", "carla")
        careteam.add_patients(session, "team-a", [a])
    headers = {"Authorization": "Bearer " + api.post(
        "/v1/auth/token", data={"username": "carla", "password": "password-carla-a"}).json()["access_token"]}
    schema = api.app.openapi()["paths"]
    walked, failures = 0, []
    for path, ops in schema.items():
        for method, op in ops.items():
            params = {p["name"]: p["in"] for p in op.get("parameters", [])}
            if method != "get" or params.get("patient_id") not in ("path", "query"):
                continue
            walked += 1
            url = re.sub(r"\{[^}]+\}", "1", path.replace("{patient_id}", b))
            if params["patient_id"] == "query":
                url += f"?patient_id={b}"
            resp = api.get(url, headers=headers)
            if resp.status_code != 403:
                failures.append((path, resp.status_code))
    assert walked >= 6 and failures == []
    print(f"care teams: {walked} GET operations with a patient id refuse patient B to user A")
