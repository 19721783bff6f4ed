"""Pharmacogenomics page: a VCF upload gives genes, phenotypes and a medication review; clinicians only."""

from __future__ import annotations

from .helpers import login


def test_vcf_upload_and_medication_review(api, test_data):
    login(api, "doc")
    assert "Call" in api.get("/pgx").text
    vcf = (test_data / "pgx" / "two_samples.vcf").read_bytes()
    from theralab.precision.pgx.report import call_vcf

    expected = call_vcf(test_data / "pgx" / "two_samples.vcf", all_samples=True)[0]
    page = api.post("/pgx", data={"medications": "clopidogrel", "sample": expected.sample},
                    files={"vcf": ("s.vcf", vcf, "text/plain")})
    assert page.status_code == 200, page.text[:500]
    html = page.text
    cyp = expected.phenotypes["CYP2C19"]
    assert cyp.diplotype in html and cyp.phenotype in html
    assert "clopidogrel" in html and "Medication review" in html
    empty = api.post("/pgx", data={"medications": ""})
    assert empty.status_code == 422 and "upload a VCF" in empty.text
    login(api, "res")
    assert api.get("/pgx").status_code == 403
