"""Consent (issue 18 part 5): per-patient decisions, immediate withdrawal, checked by matching and exports."""

from __future__ import annotations

import json

import pytest

from theralab.errors import ForbiddenError, InputError
from theralab.privacy import consent
from theralab.runtime.db import session_scope


def test_latest_decision_wins_and_modes(tl_env, monkeypatch):
    with session_scope() as s:
        assert consent.allowed(s, "p1", "research")  # opt-out: included until withdrawn
        consent.record(s, "p1", "research", False, "doc")
    with session_scope() as s:
        assert not consent.allowed(s, "p1", "research")
        with pytest.raises(ForbiddenError):
            consent.require(s, "p1", "research")
        consent.record(s, "p1", "research", True, "doc")
    with session_scope() as s:
        assert consent.allowed(s, "p1", "research") and consent.allowed(s, "p1", "trial_contact")
        monkeypatch.setenv("THERALAB_CONSENT_MODE", "opt-in")
        assert consent.filter_allowed(s, ["p1", "p2"], "research") == ["p1"]  # p2 never consented
        assert consent.state(s, "p2").effective == {"research": False, "trial_contact": False, "data_sharing": False,
                                                    "assistant": False}
        with pytest.raises(InputError):
            consent.record(s, "p1", "marketing", True, "doc")


def _import(api, n=2):
    from theralab.ehr.synthetic import generate_cohort

    bundles = list(generate_cohort(n, seed=5))
    entries = [e for b in bundles for e in b["entry"]]
    resp = api.post("/v1/ehr/import", content=json.dumps({"resourceType": "Bundle", "type": "collection",
                                                          "entry": entries}), headers=api.login("doc"))
    assert resp.status_code == 200, resp.text
    return [e["resource"] for e in entries if e["resource"]["resourceType"] == "Patient"]


def test_withdrawal_is_effective_at_once_for_matching_and_export(api):
    patients = _import(api)
    a, b = patients[0]["id"], patients[1]["id"]
    doc, res = api.login("doc"), api.login("res")
    assert api.get(f"/v1/trials/for-patient/{a}", headers=doc).status_code == 200
    export = api.get("/v1/privacy/research-export", headers=res)
    assert export.status_code == 200 and export.headers["X-Patients-Included"] == "2"
    # a patient account withdraws its own trial contact and research consent
    from theralab.privacy.auth import create_user

    with session_scope() as s:
        create_user(s, "pat-a", "password-pat-a", ["patient"], patient_id=a)
    login = api.post("/v1/auth/token", data={"username": "pat-a", "password": "password-pat-a"})
    pat = {"Authorization": "Bearer " + login.json()["access_token"]}
    for purpose in ("trial_contact", "research"):
        r = api.post(f"/v1/privacy/consent/{a}", json={"purpose": purpose, "granted": False}, headers=pat)
        assert r.status_code == 201 and r.json()["effective"][purpose] is False
    assert api.post(f"/v1/privacy/consent/{b}", json={"purpose": "research", "granted": False},
                    headers=pat).status_code == 403  # not their record
    assert api.post(f"/v1/privacy/consent/{a}", json={"purpose": "research", "granted": True},
                    headers=res).status_code == 403  # researchers cannot grant on a patient's behalf
    # the very next requests honour it
    refused = api.get(f"/v1/trials/for-patient/{a}", headers=doc)
    assert refused.status_code == 403 and refused.json()["where"] == "consent"
    export = api.get("/v1/privacy/research-export", headers=res)
    assert export.headers["X-Patients-Included"] == "1" and export.headers["X-Patients-Withheld"] == "1"
    body = export.text
    lines = [json.loads(line) for line in body.splitlines()]
    kept = patients[1]
    names = [p for n in kept.get("name", []) for p in [*(n.get("given") or []), n.get("family", "")] if p]
    assert names and not any(name in body for name in names)  # de-identified
    assert a not in body and b not in body  # ids pseudonymised
    assert all(r.get("meta", {}).get("security", [{}])[0].get("code") == "PSEUDED" for r in lines)
    assert api.get("/v1/privacy/research-export", headers=doc).status_code == 403  # researcher only
