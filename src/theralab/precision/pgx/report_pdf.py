"""The pharmacogenomics report as PDF: a summary page, then one page per actionable gene-drug pair.

Clinicians file and fax reports; a PDF keeps the layout. Built with ReportLab (pure Python, no
browser), from the same :class:`~theralab.precision.pgx.report.PgxResult` as the HTML and JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from theralab.precision.pgx.recommend import html_to_text

if TYPE_CHECKING:
    from theralab.precision.pgx.result import PgxResult


def write_pdf(result: PgxResult, path: str | Path) -> Path:
    """Write the PDF report of one sample and return its path."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from theralab.precision.pgx.definitions import manifest

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Italic"]
    story = [
        Paragraph(f"Pharmacogenomic report: {_esc(result.sample)}", styles["Title"]),
        Paragraph("Star-allele calls, CPIC phenotypes and recommendations. Research software: confirm with an "
                  "accredited laboratory before changing therapy.", small),
        Spacer(1, 4 * mm),
    ]
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10, wordWrap="CJK")
    head = cell.clone("head", fontName="Helvetica-Bold")

    def par(text: str, style=cell) -> Paragraph:  # noqa: ANN001 - a ReportLab style
        # Paragraph parses markup, so the text is escaped exactly once here; plain strings in a Table
        # would print "&gt;" literally and never wrap (long diplotypes overprinted the next column)
        return Paragraph(_esc(text), style)

    rows = [[par(h, head) for h in ("Gene", "Diplotype", "Phenotype", "Activity")]]
    for gene in sorted(result.calls):
        pheno = result.phenotypes[gene]
        call = result.calls[gene]
        dip = " or ".join(d.name for d in call.diplotypes) or ("not called" if not call.called else "")
        extra = call.not_excluded_text()
        rows.append([par(gene), par(dip + (f" ({extra})" if extra else "")), par(pheno.phenotype or ""),
                     par("" if pheno.activity_score is None else str(pheno.activity_score))])
    table = Table(rows, colWidths=[24 * mm, 70 * mm, 60 * mm, 18 * mm], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f6")),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dee7")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 4 * mm)]
    actionable = result.actionable
    story.append(Paragraph(f"{len(actionable)} actionable recommendation(s) follow, one per page.", body))
    if result.medications:
        story.append(Paragraph("Current medications", styles["Heading2"]))
        mrows = [[par(h, head) for h in ("Drug", "Status", "What to do")]]
        for m in result.medications:
            todo = [r["text"].split("\n")[0] for r in m["recommendations"] if r["actionable"]] + list(m["advice"])
            mrows.append([par(m["drug"]), par(m["status"]), par(" ".join(todo))])
        mt = Table(mrows, colWidths=[30 * mm, 35 * mm, 107 * mm], repeatRows=1)
        mt.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d9dee7")),
                                ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story += [mt, Spacer(1, 3 * mm)]
    for warning in result.warnings:
        story.append(Paragraph(f"Note: {_esc(warning)}", small))
    for rec in actionable:
        story += [PageBreak(), Paragraph(f"{_esc(rec.drug)}: {_esc(', '.join(rec.genes))}", styles["Heading1"])]
        for gene in rec.genes:
            pheno = result.phenotypes.get(gene)
            if pheno is not None:
                story.append(Paragraph(f"<b>{gene}</b>: {_esc(pheno.diplotype or '')} "
                                       f"({_esc(pheno.phenotype or '')})", body))
        if rec.population:
            story.append(Paragraph(f"<b>Population:</b> {_esc(rec.population)}", body))
        story.append(Paragraph(f"<b>Recommendation</b> (strength: {_esc(rec.strength or 'n/a')}):", body))
        for line in html_to_text(rec.text).split("\n"):
            if line.strip():
                story.append(Paragraph(_esc(line), body))
        for implication in rec.implications:
            story.append(Paragraph(f"<b>Implication:</b> {_esc(implication)}", body))
        story.append(Spacer(1, 3 * mm))
        story.append(Paragraph(f"Source: {_esc(rec.source)}, {_esc(rec.guideline)} "
                               f"{_esc(rec.guideline_url or '')}; PMIDs {', '.join(rec.pmids) or 'n/a'}", small))
    kb = manifest()["files"]["alleles.json.gz"]["version"]
    out = Path(path)
    doc = SimpleDocTemplate(str(out), pagesize=A4, title=f"PGx report {result.sample}",
                            leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)

    def footer(canvas, doc_) -> None:  # noqa: ANN001 - ReportLab callback signature
        canvas.setFont("Helvetica", 7)
        canvas.drawString(15 * mm, 8 * mm, f"theralab · allele definitions {kb} · page {doc_.page}")

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
