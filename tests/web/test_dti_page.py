"""Drug-target page: paste a sequence (or a training target id) and molecules, get a ranked table
with uncertainty, domain flags and a chart; bad input is a 422 with the reason; patients are refused."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import login

TARGETS = ["".join(np.random.default_rng(s).choice(list("ACDEFGHIKLMNPQRSTVWY"), 40)) for s in range(3)]


@pytest.fixture
def page_api(api, tmp_path):
    from theralab.discovery.dti import DTIData, DTIModel, TrainConfig
    from theralab.models.registry import register_dir

    d, t = np.meshgrid(np.arange(4), np.arange(3), indexing="ij")
    data = DTIData(["CCO", "c1ccccc1O", "CCN(CC)CC", "OC(=O)c1ccccc1"], TARGETS, d.ravel(), t.ravel(),
                   (5 + d + t).ravel().astype(np.float32), ["D0", "D1", "D2", "D3"], ["T0", "T1", "T2"], "tiny", "pKd")
    cfg = TrainConfig(model="baseline", members=2, network={"n_estimators": 20, "num_leaves": 4,
                                                            "min_child_samples": 2})
    model, _ = DTIModel.fit(data, np.arange(12), np.arange(0), cfg)
    model.save(tmp_path / "m", name="dti-page-test")
    register_dir(tmp_path / "m")
    return api


def test_rank_page(page_api):
    login(page_api, "res")
    assert "dti-page-test" in page_api.get("/dti").text
    page = page_api.post("/dti", data={"model": "dti-page-test", "sequence": f">T1\n{TARGETS[1]}",
                                       "text": "CCO ethanol\nC1CC broken\nC[Si](C)(C)C tms"})
    assert page.status_code == 200, page.text[:500]
    html = page.text
    assert "dti-table" in html and "in domain" in html and "outside" in html and "broken" in html
    assert "Tanimoto similarity to nearest training drug" in html and "Download CSV" in html
    import json
    import re

    spec = json.loads(re.search(r'<script type="application/json" id="dti-chart">(.*?)</script>', html, re.S).group(1))
    assert spec["y"] == {"title": "Predicted affinity", "unit": "pKd", "type": "linear"}  # a unit on the axis
    assert {t["name"] for t in spec["traces"]} <= {"in domain", "outside domain"} and spec["download"]
    assert "<script>" not in html  # the chart is drawn by theralab.js from the JSON block (CSP-safe)
    assert '<div class="table-wrap">' in html
    by_id = page_api.post("/dti", data={"model": "dti-page-test", "target_id": "T2", "text": "CCO e"})
    assert by_id.status_code == 200 and "<strong>T2</strong>" in by_id.text
    upload = page_api.post("/dti", data={"model": "dti-page-test", "target_id": "T0"},
                           files={"upload": ("lib.smi", b"CCO ethanol\nc1ccccc1O phenol\n", "text/plain")})
    assert upload.status_code == 200 and "phenol" in upload.text
    bad = page_api.post("/dti", data={"model": "dti-page-test", "sequence": "MKV1L", "text": "CCO"})
    assert bad.status_code == 422 and "non-amino-acid" in bad.text
    unknown = page_api.post("/dti", data={"model": "dti-page-test", "target_id": "EGFR", "text": "CCO"})
    assert unknown.status_code == 422 and "not a training target" in unknown.text
    login(page_api, "pat")
    assert page_api.get("/dti").status_code == 403
