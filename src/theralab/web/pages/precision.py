"""Precision page: a tumour report, a polygenic risk panel and an image viewer with its Grad-CAM heatmap.

All three take patient data: clinician or researcher role, and an audit record with identifiers only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from theralab.errors import InputError
from theralab.privacy.auth import require_role
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("precision")
ROLES = ("clinician", "researcher")


def _page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "precision.html", context, status_code=status_code)


@router.get("/precision", response_class=HTMLResponse)
def precision_page(request: Request, user: WebUser) -> HTMLResponse:
    require_role(set(user.roles), *ROLES)
    return _page(request)


@router.post("/precision/tumour", response_class=HTMLResponse)
def tumour_report(request: Request, user: WebUser, variants: str = Form(""), oncotree: str = Form(""),
                  msi_high: bool = Form(False)) -> HTMLResponse:
    """One variant per line: 'GENE protein_change' (e.g. 'BRAF p.V600E' or 'EGFR Leu858Arg')."""
    from theralab.precision.oncology import load_kb, make_variant, match_variants, therapy_report

    require_role(set(user.roles), *ROLES)
    try:
        parsed = []
        for n, line in enumerate(variants.splitlines(), start=1):
            parts = line.replace(",", " ").split()
            if not parts:
                continue
            if len(parts) > 2:
                raise InputError(f"line {n}: expected 'GENE change', got {line.strip()!r}", where="variants")
            parsed.append(make_variant(parts[0], parts[1] if len(parts) > 1 else ""))
        if not parsed:
            raise InputError("give at least one variant, e.g. 'BRAF p.V600E'", where="variants")
        kb = load_kb()
        report = therapy_report(match_variants(parsed, kb, oncotree_code=oncotree.strip() or None,
                                               signatures=["MSI-High"] if msi_high else []))
    except InputError as exc:
        return _page(request, 422, problem=str(exc), tab="tumour")
    user.audit("precision.oncology.match", "tumour", f"{len(parsed)} variants; {oncotree or 'unknown'}")
    return _page(request, tumour=report, kb={"name": kb.name, "version": kb.version, "license": kb.license},
                 n_variants=len(parsed), oncotree=oncotree, tab="tumour")


@router.post("/precision/prs", response_class=HTMLResponse)
async def risk_panel(request: Request, user: WebUser, scorefile: UploadFile | None = File(None),
                     vcf: UploadFile | None = File(None), sample: str = Form(""), incidence: str = Form(""),
                     or_per_sd: str = Form("")) -> HTMLResponse:
    import numpy as np

    from theralab.precision.risk import ReferencePanel, absolute_risk, score_uploads

    require_role(set(user.roles), *ROLES)
    try:
        if scorefile is None or not scorefile.filename or vcf is None or not vcf.filename:
            raise InputError("upload a scoring file and a VCF", where="scorefile")
        sf_bytes, vcf_bytes = await scorefile.read(), await vcf.read()
        if not sf_bytes or not vcf_bytes:
            raise InputError("an upload is empty", where="scorefile")
        result = score_uploads(sf_bytes, vcf_bytes, score_name=Path(scorefile.filename).name.split(".")[0])
        col = result.score_columns[0]
        sums = result.scores[f"{col}_SUM"].to_numpy()
        ids = result.scores["IID"].tolist()
        pick = ids.index(sample) if sample in ids else 0
        panel = ReferencePanel.fit(sums) if len(sums) > 1 else None
        z = panel.standardise(sums[pick])[0] if panel else 0.0
        person = {"iid": ids[pick], "score": float(sums[pick]), "z": z,
                  "percentile": panel.percentile(sums[pick]) if panel else 50.0}
        if incidence.strip():
            inc, orr = float(incidence), float(or_per_sd or "nan")
            if not np.isfinite(orr):
                raise InputError("absolute risk needs the odds ratio per SD", where="or_per_sd")
            person["absolute_risk"] = float(absolute_risk(z, inc, orr))
            person["incidence"] = inc
    except (InputError, ValueError) as exc:
        return _page(request, 422, problem=str(exc), tab="risk")
    user.audit("precision.prs", "genotypes", f"{len(sums)} samples; score {col}")
    from theralab.web.charts import chart_spec

    x_axis = ("Polygenic score (sum of weight × effect-allele dosage)", None)
    chart = chart_spec(f"{col}: uploaded samples", x_axis, ("Samples", "count"),
                       [{"type": "histogram", "x": sums.round(6).tolist(), "name": "uploaded samples"}],
                       shapes=[{"type": "line", "x0": float(sums[pick]), "x1": float(sums[pick]), "yref": "paper",
                                "y0": 0, "y1": 1, "line": {"color": "#b42318", "width": 3}}],
                       download=f"{col}_scores.csv")
    return _page(request, prs_chart=chart, tab="risk",
                 prs={"name": col, "counts": result.match.counts, "match_rate": result.match.match_rate,
                      "notes": result.notes, "person": person, "scores": sums.round(6).tolist()})


@router.post("/precision/image", response_class=HTMLResponse)
async def image_viewer(request: Request, user: WebUser, image: UploadFile | None = File(None)) -> HTMLResponse:
    from theralab.precision.imaging import load_image_model

    require_role(set(user.roles), *ROLES)
    try:
        if image is None or not image.filename:
            raise InputError("upload a PNG, JPEG or DICOM image", where="image")
        data = await image.read()
        if not data:
            raise InputError("the image is empty", where="image")
        model = load_image_model()
        result = model.classify(data, where=image.filename)
    except InputError as exc:
        return _page(request, 422, problem=str(exc), tab="image")
    user.audit("precision.imaging.classify", "image", Path(image.filename).name[:80])
    return _page(request, image={**result, "model": model.card.name, "auc": model.card.metrics.get("val_auc")},
                 tab="image")
