"""Pharmacogenomics page: upload a VCF (or pick a patient with genotypes on record) and see genes,
phenotypes, CPIC recommendations and a review of the current medications. Clinician role; audited."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from theralab.errors import InputError
from theralab.privacy.auth import require_role
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("pgx")


#: medication status -> (badge level, what the page says); "gene not determined" never reads as "no change"
STATUS = {
    "action needed": ("high", "Action needed"),
    "gene not determined": ("medium", "No result — cannot advise; test or use clinical judgement"),
    "no change needed": ("ok", "No change needed (genotype known)"),
    "no CPIC recommendation for this result": ("muted", "No CPIC recommendation for this result"),
    "no CPIC guideline": ("muted", "No CPIC guideline for this drug"),
}


def _on_record(limit: int = 12) -> list[Any]:
    """Patients whose genotypes were called from a VCF, newest first (links for the empty form)."""
    from sqlalchemy import func, select

    from theralab.ehr.header import patient_headers
    from theralab.ehr.tables import GenotypeRow

    with session_scope() as session:
        ids = [pid for (pid,) in session.execute(
            select(GenotypeRow.patient_id).where(GenotypeRow.source == "vcf").group_by(GenotypeRow.patient_id)
            .order_by(func.max(GenotypeRow.effective).desc()).limit(limit))]
        heads = patient_headers(session, ids)
    return sorted(heads.values(), key=lambda h: h.mrn or h.name)


def _record_result(patient_id: str, meds: list[str] | None, user: Any) -> tuple[Any, Any]:
    """The PGx result from the genotypes on record (newest call per gene) and the patient header."""
    from theralab.precision.pgx.report import build_result
    from theralab.web.pages.patient_view import header

    with session_scope() as session:
        head = header(session, patient_id, user)
        from theralab.ehr.patients import load_patient

        record = load_patient(session, patient_id)
    outside = {g.gene: g.diplotype for g in head.pgx if g.diplotype}
    if not outside:
        raise InputError(f"{head.name} has no genotypes on record", where="patient_id",
                         hint="upload the patient's VCF instead")
    meds = meds or sorted(record.active_ingredients().values())
    return build_result(patient_id, {}, outside, meds), head


def _view(request: Request, user: Any, result: Any, source: str, head: Any = None) -> HTMLResponse:
    user.audit("pgx.call", "Patient" if head else "vcf", head.id if head else result.sample)
    meds = []
    for m in result.medications:
        level, label = STATUS.get(m.get("status") or "", ("muted", m.get("status") or "—"))
        meds.append({**m, "level": level, "label": label})
    actionable = [r.to_dict() for r in result.actionable]
    return render(request, "pgx.html", {"result": result.to_dict(), "meds": meds, "actionable": actionable,
                                        "source": source, "patient": head})


@router.get("/pgx", response_class=HTMLResponse)
def pgx_page(request: Request, user: WebUser, patient: str = Query("", max_length=128)) -> HTMLResponse:
    """The upload form; with ``?patient=ID`` the patient's genotypes on record against their medications."""
    require_role(set(user.roles), "clinician")
    if not patient:
        return render(request, "pgx.html", {"result": None, "on_record": _on_record()})
    try:
        result, head = _record_result(patient, None, user)
    except InputError as exc:
        from theralab.web.pages.patient_view import header

        with session_scope() as session:
            head = header(session, patient, user)
        return render(request, "pgx.html", {"result": None, "problem": str(exc), "patient": head})
    return _view(request, user, result, "genotypes on record", head)


@router.post("/pgx", response_class=HTMLResponse)
async def pgx_call(request: Request, user: WebUser, vcf: UploadFile | None = File(None), sample: str = Form(""),
                   patient_id: str = Form(""), medications: str = Form("")) -> HTMLResponse:
    from theralab.precision.pgx.report import call_vcf

    require_role(set(user.roles), "clinician")
    meds = [m.strip() for m in medications.replace("\n", ",").split(",") if m.strip()] or None
    try:
        if vcf is not None and vcf.filename:
            data = await vcf.read()
            if not data:
                raise InputError("the uploaded VCF is empty", where="vcf")
            suffix = ".vcf.gz" if data[:2] == b"\x1f\x8b" else Path(vcf.filename).suffix or ".vcf"
            with tempfile.TemporaryDirectory(prefix="theralab-pgx-") as tmp:
                path = Path(tmp) / f"upload{suffix}"
                path.write_bytes(data)
                result = call_vcf(path, sample=sample or None, medications=meds)[0]
            source = f"VCF {vcf.filename}"
        elif patient_id:
            result, head = _record_result(patient_id.strip(), meds, user)
            return _view(request, user, result, "genotypes on record", head)
        else:
            raise InputError("upload a VCF or give a patient id", where="vcf")
    except InputError as exc:
        return render(request, "pgx.html", {"result": None, "problem": str(exc)}, status_code=422)
    return _view(request, user, result, source)
