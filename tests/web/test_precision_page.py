"""Precision page: tumour report, PRS risk panel with its chart, image viewer; clinician/researcher only."""

from __future__ import annotations

import io

import numpy as np

from .helpers import login


def test_tumour_report_and_roles(api):
    login(api, "pat")
    assert api.get("/precision").status_code == 403
    login(api, "doc")
    assert "Match therapies" in api.get("/precision").text
    page = api.post("/precision/tumour", data={"variants": "BRAF p.V600E\nKRAS G12D", "oncotree": "MEL"})
    assert page.status_code == 200, page.text[:400]
    assert "Vemurafenib" in page.text and "PMID 21639808" in page.text
    bad = api.post("/precision/tumour", data={"variants": "", "oncotree": "MEL"})
    assert bad.status_code == 422 and "at least one variant" in bad.text


def test_risk_panel(api, shared_data):
    d = shared_data / "precision" / "prs_test"
    login(api, "res")
    page = api.post("/precision/prs", data={"sample": "HG00097_HG00097", "incidence": "0.1", "or_per_sd": "1.5"},
                    files={"scorefile": ("PGS001229_22.txt", (d / "PGS001229_22.txt").read_bytes()),
                           "vcf": ("g.vcf.gz", (d / "cineca_synthetic_subset.vcf.gz").read_bytes())})
    assert page.status_code == 200, page.text[:400]
    assert "HG00097_HG00097" in page.text and "0.6744" in page.text  # plink2's SUM for HG00097: 0.674401
    assert "matched 782" in page.text and '"title": "Polygenic score (sum of weight' in page.text
    assert "<script>" not in page.text  # the chart is a JSON spec drawn by theralab.js (CSP: no inline script)
    missing = api.post("/precision/prs", data={})
    assert missing.status_code == 422


def test_image_viewer(api):
    from PIL import Image

    login(api, "doc")
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (56, 56), dtype=np.uint8)).save(buf, format="PNG")
    page = api.post("/precision/image", files={"image": ("x.png", buf.getvalue(), "image/png")})
    assert page.status_code == 200, page.text[:400]
    assert "Grad-CAM heatmap" in page.text and "probability of pneumonia" in page.text
    colour = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (56, 56, 3), dtype=np.uint8)).save(colour, format="PNG")
    bad = api.post("/precision/image", files={"image": ("c.png", colour.getvalue(), "image/png")})
    assert bad.status_code == 422 and "colour" in bad.text
