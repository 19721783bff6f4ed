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


def _pdf_fragments(pdf) -> list[tuple[str, float, float, str, float]]:  # noqa: ANN001
    """(text, x, y, font, size) for every text run on every page, read back with pypdf."""
    import pytest

    pypdf = pytest.importorskip("pypdf")
    out = []
    for k, page in enumerate(pypdf.PdfReader(str(pdf)).pages):
        def visit(text, cm, tm, font, size, k=k):  # noqa: ANN001, ANN202 - pypdf visitor signature
            if text.strip():
                out.append((text, tm[4] * cm[0] + cm[4], k, (font or {}).get("/BaseFont", ""), size))

        page.extract_text(visitor_text=visit)
    return out


def test_pdf_reads_cleanly_no_entities_no_overprint(test_data, tmp_path):
    from reportlab.lib.units import mm
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from theralab.precision.pgx.report import build_result
    from theralab.precision.pgx.report_pdf import write_pdf

    long_dip = "*2x2+*13+*68/*36x2+*10+*4"
    res = build_result(
        "S<1>", {}, outside={"CYP2D6": long_dip, "MT-RNR1": "1555A>G"}, medications=["codeine", "amikacin"]
    )
    pdf = write_pdf(res, tmp_path / "r.pdf")
    frags = _pdf_fragments(pdf)
    text = " ".join(f[0] for f in frags)
    assert "&gt;" not in text and "&lt;" not in text and "&amp;" not in text
    assert "1555A>G" in text and "S<1>" in text
    assert "gene not determined" in text or "action needed" in text
    # the diplotype column starts 15 mm + 24 mm from the left and is 70 mm wide: no run may cross it
    left, right = (15 + 24) * mm, (15 + 24 + 70) * mm
    dip_runs = [f for f in frags if f[2] == 0 and ("*36x2" in f[0] or "*13+" in f[0] or "*2x2" in f[0])]
    assert dip_runs
    for t, x, _page, _font, size in dip_runs:
        width = stringWidth(t.rstrip(), "Helvetica", size or 8)
        assert left - 1 <= x and x + width <= right + 1, (t, x, width)
