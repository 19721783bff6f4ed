"""``/v1/monitoring``: early-warning scores and ECG analysis as stateless computations.

These routes compute and return; they store nothing and take no patient identifier, so they
need a logged-in user but no clinical role and write no audit record (ingestion and stored
observations live in ``routes/vitals.py``).
"""

from __future__ import annotations

import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from theralab.api.schemas import OpenResult, RequestModel
from theralab.errors import InputError
from theralab.monitoring.ews import VitalSigns, mews, news2
from theralab.privacy.deps import CurrentUser

#: Largest ECG upload (bytes).
MAX_UPLOAD = 50 * 1024 * 1024

router = APIRouter(prefix="/monitoring", tags=["monitoring"])

MAX_SAMPLES = 1_000_000  # ~55 min at 300 Hz; longer recordings belong in a job


class ScoreOut(BaseModel):
    """An early-warning score, its per-parameter scores and band, and the FHIR Observation."""

    name: str
    total: int
    band: str
    parameters: dict[str, int]
    response: dict[str, str]
    fhir: dict[str, Any] | None = None


@router.post("/ews/news2", response_model=ScoreOut)
def score_news2(
    vitals: VitalSigns,
    user: CurrentUser,
    fhir: Annotated[bool, Query(description="include a FHIR R4 Observation")] = True,
) -> ScoreOut:
    """NEWS2 (RCP 2017) for one set of observations; impossible values are rejected with 422."""
    res = news2(vitals)
    return ScoreOut(
        name=res.name,
        total=res.total,
        band=res.band,
        parameters=res.parameters,
        response=res.response,
        fhir=res.to_fhir_observation() if fhir else None,
    )


@router.post("/ews/mews", response_model=ScoreOut)
def score_mews(vitals: VitalSigns, user: CurrentUser) -> ScoreOut:
    """Modified Early Warning Score (Subbe 2001)."""
    res = mews(vitals)
    return ScoreOut(name=res.name, total=res.total, band=res.band, parameters=res.parameters, response=res.response)


class ECGSamples(RequestModel):
    """One ECG lead as JSON."""

    fs: float = Field(gt=0, description="sampling rate, Hz")
    samples: list[float] = Field(min_length=1, description="one lead, any unit (mV or ADC counts)")
    rhythm: bool = True


@router.post(
    "/ecg/analyze",
    response_model=OpenResult,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ECGSamples.model_json_schema()},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}, "fs": {"type": "number"}},
                        "required": ["file"],
                    }
                },
            }
        }
    },
)
async def analyze_ecg(
    request: Request,
    user: CurrentUser,
    peaks: Annotated[bool, Query(description="include R-peak sample indices")] = True,
) -> dict[str, Any]:
    """Beats, heart rate, HRV, signal quality and rhythm of one ECG lead.

    Send JSON ``{"fs": 360, "samples": [...]}`` or a multipart upload with a CSV ``file`` (a signal
    column, optionally ``time`` in seconds) and ``fs``.
    """
    import numpy as np

    from theralab.monitoring.ecg import ECGRecord, analyze, record_from_frame

    ctype = request.headers.get("content-type", "")
    rhythm = True
    if ctype.startswith("multipart/form-data"):
        import pandas as pd

        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InputError("multipart upload needs a 'file' field with the CSV", where="body.file")
        raw = await upload.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise InputError("the ECG upload is larger than 50 MB", where="body.file")
        if raw.startswith((b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8")) or b"\x00" in raw[:4096]:
            raise InputError("the ECG upload is not a CSV text file", where="body.file",
                             hint="export the lead as CSV: one signal column, optionally 'time' in seconds")
        fs_field = form.get("fs")
        try:
            fs = float(fs_field) if fs_field not in (None, "") else None  # type: ignore[arg-type]
        except ValueError:
            raise InputError(f"fs={fs_field!r} is not a number", where="body.fs") from None
        try:
            frame = pd.read_csv(io.BytesIO(raw))
        except Exception as exc:  # pandas raises many types for bad CSV
            raise InputError(f"could not read the CSV: {exc}", where="body.file") from None
        rec = record_from_frame(frame, fs, None, upload.filename or "upload.csv")
        rhythm = str(form.get("rhythm", "true")).strip().lower() not in ("false", "0", "no")
    else:
        try:
            body = ECGSamples.model_validate(json.loads(await request.body()))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"body is not JSON: {exc.msg}",
                where="body",
                hint='send {"fs": 360, "samples": [...]} or a multipart CSV upload',
            ) from None
        except ValueError as exc:  # pydantic.ValidationError
            err = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
            raise InputError(err["msg"], where="body." + ".".join(str(p) for p in err["loc"])) from None
        rec = ECGRecord(np.asarray(body.samples, dtype=float), body.fs, "samples")
        rhythm = body.rhythm
    if rec.signal.size > MAX_SAMPLES:
        raise InputError(
            f"{rec.signal.size} samples exceed the inline limit of {MAX_SAMPLES}",
            where="body",
            hint="split the recording or submit it as a job",
        )
    res = await run_in_threadpool(analyze, rec, rhythm=rhythm)
    return res.to_dict(with_peaks=peaks)
