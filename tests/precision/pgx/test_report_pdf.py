"""The PDF report: a real PDF with the summary page and one page per actionable gene-drug pair."""

from __future__ import annotations

from theralab.precision.pgx.report import call_vcf, write_report


def test_pdf_has_one_page_per_actionable_pair(test_data, tmp_path):
    results = call_vcf(test_data / "pgx" / "two_samples.vcf", all_samples=True)
    paths = write_report(results, tmp_path)
    pdfs = [p for p in paths if p.suffix == ".pdf"]
    assert len(pdfs) == len(results)
    for result, pdf in zip(results, pdfs, strict=True):
        data = pdf.read_bytes()
        assert data[:5] == b"%PDF-"
        pages = data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type /Page>")
        assert pages == 1 + len(result.actionable), (pages, len(result.actionable))
