"""``/v1/ehr``: import FHIR, list patients, read one patient, export one patient as FHIR.

Every route touches patient data, so each needs the clinician or researcher role (a patient account
reads its own record), the matching SMART scope (``Patient.read``/``Patient.write``), and writes an
audit record (identifiers only, never the payload). Staff see the patients of their care teams
only (:mod:`theralab.privacy.careteam`); an import may not touch an existing patient outside them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel

from theralab.api.schemas import FhirBundle
from theralab.ehr.fhir import ImportReport, export_patient, import_text
from theralab.ehr.patients import PatientRecord, PatientSummary, count_patients, list_patients, load_patient
from theralab.errors import ForbiddenError, InputError, NotFoundError
from theralab.privacy.deps import Principal, SessionDep, require_roles

router = APIRouter(prefix="/ehr", tags=["ehr"])
Importer = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Patient.write"))]
Lister = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Patient.read"))]
#: Staff, or a patient account reading its own record (object-level check in the route).
Reader = Annotated[Principal, Depends(require_roles("clinician", "researcher", "patient", scope="Patient.read"))]
PatientId = Annotated[str, PathParam(min_length=1, max_length=120)]


class PatientPage(BaseModel):
    """One page of the patient list and the total number of patients."""

    total: int
    items: list[PatientSummary]


T = TypeVar("T")
_PATIENT_REF = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})$|^urn:uuid:([A-Za-z0-9\-.]{1,64})$")


def _referenced_patients(text: str) -> set[str]:
    """Every patient id a FHIR Bundle or ndjson text could make the ingester write to.

    The text is parsed (so JSON escapes such as ``Patient\\/x`` cannot hide a reference) and walked
    without recursion: Patient resources' ids, ``urn:uuid:`` full URLs, and every string that is a
    relative or absolute ``Patient/<id>`` reference or a ``urn:uuid:`` reference.
    """
    try:
        docs: list[Any] = [json.loads(text)]
    except (ValueError, RecursionError):
        docs = []
        for line in text.splitlines():
            try:
                docs.append(json.loads(line))
            except (ValueError, RecursionError):
                continue
    found: set[str] = set()
    stack = docs
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("resourceType") == "Patient" and isinstance(node.get("id"), str):
                found.add(node["id"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and ("Patient/" in node or node.startswith("urn:uuid:")):
            m = _PATIENT_REF.search(node)
            if m:
                found.add(m.group(1) or m.group(2))
    return found


def _may_import(user: Principal, session: Any, text: str) -> None:
    """Refuse an import that would change an existing patient the caller may not see."""
    visible = user.visible_patients(session)
    if visible is None:
        return
    from sqlalchemy import select

    from theralab.ehr.tables import PatientRow

    named = _referenced_patients(text) - visible
    if named and session.scalar(select(PatientRow.id).where(PatientRow.id.in_(named)).limit(1)) is not None:
        raise ForbiddenError("the upload changes a patient who is not under your care", where="body",
                             hint="ask an administrator to add the patient to your care team first")


MAX_UPLOAD = 200 * 1024 * 1024


@router.post("/import", response_model=ImportReport)
async def import_fhir(
    request: Request,
    user: Importer,
    session: SessionDep,
    file: Annotated[UploadFile | None, File(description="a Bundle .json or an .ndjson file")] = None,
) -> ImportReport:
    """Import a FHIR Bundle or ndjson, sent as the request body or as a multipart file upload."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        # the form is parsed once; an empty 'file=' field arrives as an empty string, not a file
        if file is None or not hasattr(file, "read"):
            raise InputError("the multipart body has no 'file' upload", where="body.file",
                             hint="send a FHIR Bundle (JSON) or ndjson as the 'file' field")
        raw, source = await file.read(MAX_UPLOAD + 1), file.filename or "upload"
    else:
        raw, source = await request.body(), "request body"
    if len(raw) > MAX_UPLOAD:
        raise InputError("upload larger than 200 MB", where=source, hint="use 'theralab ehr import' for bulk files")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("upload is not UTF-8 text", where=source) from exc
    if not text.strip():
        raise InputError("empty upload", where=source, hint="send a FHIR Bundle (JSON) or ndjson")
    _may_import(user, session, text)
    report = import_text(text, session, source=source)
    # commit first: the audit record is written in its own transaction, and SQLite allows one writer
    session.commit()
    user.audit("ehr.import", "Patient", f"{report.patients} patients")
    return report


@router.get("/patients", response_model=PatientPage)
def patients(
    user: Lister,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    """Patients (id, name, sex, birth date, counts) under the caller's care, paged."""
    only = user.visible_patients(session)
    rows: list[PatientSummary] = list_patients(session, limit=limit, offset=offset, only=only)
    user.audit("ehr.list", "Patient", f"offset={offset},n={len(rows)}")
    return {"total": count_patients(session, only=only), "items": [r.model_dump(mode="json") for r in rows]}


def _read_own(user: Principal, session: Any, action: str, patient_id: str, read: Callable[[], T]) -> T:
    """Read one patient's data for ``user`` (care team or the patient themself), auditing found or not found."""
    user.require_patient(session, patient_id)
    try:
        out = read()
    except NotFoundError:
        user.audit(action, "Patient", patient_id, outcome="not-found")
        raise
    user.audit(action, "Patient", patient_id)
    return out


@router.get("/patients/{patient_id}", response_model=PatientRecord)
def patient(patient_id: PatientId, user: Reader, session: SessionDep) -> PatientRecord:
    """One patient's full record (conditions, observations, medications, notes, genotypes); a patient account
    may read its own record only."""
    return _read_own(user, session, "ehr.read", patient_id, lambda: load_patient(session, patient_id))


@router.get("/patients/{patient_id}/fhir", response_model=FhirBundle)
def patient_fhir(patient_id: PatientId, user: Reader, session: SessionDep) -> dict[str, Any]:
    """One patient as a FHIR R4 Bundle (validated); a patient account may export its own record only."""
    return _read_own(user, session, "ehr.export", patient_id, lambda: export_patient(session, patient_id))
