"""``/v1/precision``: roles, audit without payload, uploads, and 4xx on bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import theralab.privacy.deps as deps


def _client(app, *roles: str) -> TestClient:
    app.dependency_overrides[deps.get_current_user] = lambda: deps.Principal("t", frozenset(roles))
    return TestClient(app)


def _audit() -> list[tuple[str, str, str]]:
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.action, e.resource_type, e.resource_id) for e in events]


def test_oncology_match_needs_role_and_is_audited(app):
    body = {"variants": [{"gene": "BRAF", "protein_change": "p.Val600Glu"}], "oncotree_code": "MEL"}
    assert _client(app, "viewer").post("/v1/precision/oncology/match", json=body).status_code == 403
    r = _client(app, "clinician").post("/v1/precision/oncology/match", json=body)
    assert r.status_code == 200, r.text
    assert [m["therapy"] for m in r.json()["tier_I"]] == ["Vemurafenib"]
    assert _audit()[-1] == ("precision.oncology.match", "tumour", "1 variants; MEL")
    bad = _client(app, "researcher").post("/v1/precision/oncology/match", json={"variants": []})
    assert bad.status_code == 422


def test_prs_upload(app, shared_data):
    d = shared_data / "precision" / "prs_test"
    client = _client(app, "researcher")
    r = client.post("/v1/precision/risk/prs",
                    files={"scorefile": ("PGS001229_22.txt", (d / "PGS001229_22.txt").read_bytes()),
                           "vcf": ("g.vcf.gz", (d / "cineca_synthetic_subset.vcf.gz").read_bytes())},
                    data={"incidence": "0.1", "or_per_sd": "1.5"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["counts"] == {"matched": 782, "ambiguous": 47, "absent": 6} and len(body["samples"]) == 2504
    first = body["samples"][0]
    assert first["iid"].endswith("HG00096") and first["score"] == pytest.approx(0.54502, abs=1e-5)
    assert 0 < first["absolute_risk"] < 0.1  # below-average score -> below the 10% baseline
    assert _audit()[-1] == ("precision.prs", "genotypes", "2504 samples; score PGS001229_22")
    wrong = (d / "PGS001229_22.txt").read_text().replace("#genome_build=GRCh37", "#genome_build=GRCh38")
    r = client.post("/v1/precision/risk/prs", files={"scorefile": ("s.txt", wrong.encode()),
                                                      "vcf": ("g.vcf.gz", (d / "cineca_synthetic_subset.vcf.gz")
                                                              .read_bytes())},
                    data={"genotype_build": "GRCh37"})
    assert r.status_code == 422 and "GRCh38" in r.json()["message"]
    empty = client.post("/v1/precision/risk/prs", files={"scorefile": ("s.txt", b""), "vcf": ("g.vcf", b"x")})
    assert empty.status_code == 422


def test_imaging_classify_and_bad_images(app):
    from PIL import Image

    client = _client(app, "clinician")
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).save(buf, format="PNG")
    r = client.post("/v1/precision/imaging/classify", files={"image": ("x.png", buf.getvalue())})
    assert r.status_code == 200, r.text
    body = r.json()
    assert 0 <= body["probability"] <= 1 and np.asarray(body["heatmap"]).shape == (28, 28)
    small = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (10, 10), dtype=np.uint8)).save(small, format="PNG")
    r = client.post("/v1/precision/imaging/classify", files={"image": ("s.png", small.getvalue())})
    assert r.status_code == 422 and "smaller" in r.json()["message"]
    r = client.post("/v1/precision/imaging/classify", files={"image": ("t.txt", b"not an image")})
    assert r.status_code == 422


def test_risk_predict_with_a_registered_model(app, tmp_path):
    import pandas as pd

    from theralab.precision.risk import save_model, train_classifier

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(60, 10, 300), "sex": rng.choice(["F", "M"], 300)})
    frame["event"] = (rng.uniform(size=300) < 1 / (1 + np.exp(-(frame["age"] - 60) / 8))).astype(int)
    model, metrics = train_classifier(frame, "event", kind="logistic")
    save_model(model, tmp_path / "models" / "age-risk" / "1", name="age-risk", metrics=metrics)
    client = _client(app, "clinician")
    r = client.post("/v1/precision/risk/predict", json={"model": "age-risk", "explain": True,
                                                        "rows": [{"age": 80, "sex": "M"}, {"age": 40, "sex": "F"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["predictions"][0]["probability"] > 0.8 > 0.2 > body["predictions"][1]["probability"]
    assert body["explanations"][0]["age"] > 0 > body["explanations"][1]["age"]
    assert _audit()[-1] == ("precision.risk.predict", "model", "age-risk; 2 rows")
    assert client.post("/v1/precision/risk/predict", json={"model": "nope", "rows": [{}]}).status_code == 404
    assert client.post("/v1/precision/risk/predict", json={"model": "age-risk", "rows": [{"x": 1}]}).status_code == 422
