"""``/v1/pgx`` through FastAPI's TestClient: clinician role, audit, VCF upload, errors, drugs."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

import theralab.privacy.deps as deps

DATA = Path(__file__).resolve().parents[1] / "data" / "pgx"


def _client(app, *roles: str) -> TestClient:
    app.dependency_overrides[deps.get_current_user] = lambda: deps.Principal("t", frozenset(roles))
    return TestClient(app)


def _audit() -> list[tuple[str, str, str, str]]:
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        return [
            (e.actor, e.action, e.resource_type, e.resource_id)
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_call_as_clinician_is_audited(app) -> None:
    client = _client(app, "clinician")
    with open(DATA / "two_samples.vcf.gz", "rb") as fh:
        r = client.post(
            "/v1/pgx/call",
            files={"vcf": ("p.vcf.gz", fh.read())},
            data={"sample": "S2", "outside_calls": "CYP2D6\t*4/*4\n", "medications": "codeine,clopidogrel"},
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sample"] == "S2"
    assert body["genes"]["CYP2C19"]["call"]["diplotypes"][0]["name"] == "*2/*2"
    assert body["genes"]["CYP2C19"]["phenotype"]["phenotype"] == "Poor Metabolizer"
    assert body["genes"]["CYP2D6"]["call"]["status"] == "outside call"
    assert body["genes"]["CYP2C9"]["call"]["status"] == "not called"
    assert [(m["drug"], m["actionable"]) for m in body["medications"]] == [("codeine", True), ("clopidogrel", True)]
    assert _audit() == [("t", "pgx.call", "vcf", "S2")]


def test_researcher_is_refused_and_the_refusal_audited(app) -> None:
    """Decided in issue 18: an individual's PGx call is clinical decision support, so clinician only
    (researchers work on de-identified exports); the refusal itself is audited, with no genotype."""
    client = _client(app, "researcher")
    r = client.post(
        "/v1/pgx/call", files={"vcf": ("p.vcf", (DATA / "two_samples.vcf").read_bytes())}, data={"sample": "S1"}
    )
    assert r.status_code == 403
    assert _audit() == [("anonymous", "POST /v1/pgx/call", "Route", "/v1/pgx/call")]


def test_bad_input_is_422_with_hint(app) -> None:
    client = _client(app, "clinician")
    r = client.post("/v1/pgx/call", files={"vcf": ("p.vcf", (DATA / "two_samples.vcf").read_bytes())})
    assert r.status_code == 422
    assert "2 samples" in r.json()["message"] and "--sample" in r.json()["hint"]
    r = client.post(
        "/v1/pgx/call", files={"vcf": ("p.vcf", (DATA / "grch37.vcf").read_bytes())}, data={"build": "GRCh38"}
    )
    assert r.status_code == 422 and "GRCh37" in r.json()["message"] and r.json()["where"] == "vcf"
    r = client.post("/v1/pgx/call", files={"vcf": ("p.vcf", (DATA / "grch37.vcf").read_bytes())})
    assert r.status_code == 200 and "declares GRCh37" in r.json()["warnings"][0]
    r = client.post("/v1/pgx/call", files={"vcf": ("p.vcf", b"")})
    assert r.status_code == 422 and "empty" in r.json()["message"]


def test_drugs(app) -> None:
    client = _client(app, "researcher")
    r = client.get("/v1/pgx/drugs", params={"gene": "CYP2C19"})
    assert r.status_code == 200
    names = [d["drug"] for d in r.json()]
    assert "clopidogrel" in names and len(names) == 14
