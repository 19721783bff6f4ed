"""Pharmacogenomics page: upload a VCF (or pick a patient with genotypes on record) and see genes,
phenotypes, CPIC recommendations and a review of the current medications. Clinician role; audited."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from theralab.errors import InputError
from theralab.privacy.auth import require_role
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("pgx")


@router.get("/pgx", response_class=HTMLResponse)
def pgx_page(request: Request, user: WebUser) -> HTMLResponse:
    require_role(set(user.roles), "clinician")
    return render(request, "pgx.html", {"result": None})


@router.post("/pgx", response_class=HTMLResponse)
async def pgx_call(request: Request, user: WebUser, vcf: UploadFile | None = File(None), sample: str = Form(""),
                   patient_id: str = Form(""), medications: str = Form("")) -> HTMLResponse:
    from theralab.precision.pgx.report import build_result, call_vcf

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
            from theralab.ehr.patients import load_patient

            with session_scope() as session:
                user.require_patient(session, patient_id)
                record = load_patient(session, patient_id)
            outside = {g.gene: g.diplotype for g in record.genotypes if g.diplotype}
            if not outside:
                raise InputError(f"patient {patient_id} has no genotypes on record", where="patient_id",
                                 hint="upload the patient's VCF instead")
            meds = meds or sorted(record.active_ingredients().values())
            result = build_result(patient_id, {}, outside, meds)
            source = f"genotypes on record for patient {patient_id}"
        else:
            raise InputError("upload a VCF or give a patient id", where="vcf")
    except InputError as exc:
        return render(request, "pgx.html", {"result": None, "problem": str(exc)}, status_code=422)
    user.audit("pgx.call", "Patient" if patient_id else "vcf", patient_id or result.sample)
    actionable = [r.to_dict() for r in result.actionable]
    return render(request, "pgx.html", {"result": result.to_dict(), "actionable": actionable, "source": source})
