"""``/v1/admet``: ADMET predictions (panel or trained models), model list, atom explanations.

Up to 1,000 molecules are answered inline; more become an ``admet.predict`` job (202 with the job,
follow it under ``/v1/jobs``), so a request never holds a worker for minutes. Rows that cannot be
scored come back with their ``error``, never as a 500 or a silent null.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from theralab.api.encoding import json_safe
from theralab.api.schemas import OpenResult, RequestModel
from theralab.errors import InputError
from theralab.privacy.deps import CurrentUser

router = APIRouter(prefix="/admet", tags=["admet"])

MAX_INLINE = 1000


class PredictRequest(RequestModel):
    """SMILES to score and the model: ``panel`` (41 ADMET-AI endpoints + physchem) or a trained model."""

    smiles: list[Annotated[str, Field(max_length=10_000)]] = Field(min_length=1)
    model: str = Field(default="panel", max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                       description="'panel' or a registered model name (never a server path)")


class ExplainRequest(RequestModel):
    """One molecule, a trained model, and optionally which target to explain."""

    smiles: str = Field(max_length=10_000)
    model: str = Field(max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                       description="a registered model name (never a server path)")
    target: str | None = Field(None, max_length=200)


class PredictOut(BaseModel):
    """Inline predictions: one row per molecule (its endpoints, or its error)."""

    model: str
    count: int
    scored: int
    columns: list[str]
    rows: list[dict[str, Any]]


@router.post("/predict", response_model=PredictOut,
             responses={202: {"description": "more than 1,000 molecules: a job was submitted ({'job': ...})"}})
def predict(body: PredictRequest, user: CurrentUser) -> Any:
    """Score molecules inline (<= 1,000) or submit a job for more."""
    from theralab.chem.io import records_from_smiles
    from theralab.discovery.admet.jobs import score_records

    if len(body.smiles) > MAX_INLINE:
        from theralab.privacy.confine import check_kind_allowed
        from theralab.runtime import jobs as runtime_jobs
        from theralab.settings import get_settings

        check_kind_allowed("admet.predict", user.roles)
        uploads = Path(get_settings().data_dir) / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        path = uploads / f"admet-{uuid.uuid4()}.smi"
        path.write_text("".join(s.replace("\n", " ").strip() + "\n" for s in body.smiles))
        job_id = runtime_jobs.create_job("admet.predict", {"input": str(path), "model": body.model},
                                         owner=user.username)
        user.audit("job.submit", "Job", job_id)
        runtime_jobs.start_in_background(job_id)
        from theralab.api.routes.jobs import public

        return JSONResponse(status_code=202, content={"job": public(runtime_jobs.get_job(job_id)).model_dump()})
    # through the reader, so each row carries its reason and RDKit's warnings (never printed)
    table = score_records(records_from_smiles(list(body.smiles)), body.model)
    rows = [{k: json_safe(v) for k, v in rec.items()} for rec in table.to_dict(orient="records")]
    errors = sum(1 for r in rows if r.get("error"))
    return {"model": body.model, "count": len(rows), "scored": len(rows) - errors, "columns": list(table.columns),
            "rows": rows}


@router.get("/models", response_model=list[OpenResult])
def models(user: CurrentUser) -> list[dict[str, Any]]:
    """The pretrained panel and every registered ADMET model with its card summary."""
    from theralab.models.registry import list_models

    return [m for m in list_models() if str(m.get("task", "")).startswith("admet.")]  # the panel has a card


@router.get("/endpoints", response_model=list[OpenResult])
def endpoints(user: CurrentUser) -> list[dict[str, Any]]:
    """Name, category, units and task type of every panel endpoint (from ADMET-AI's table)."""
    from theralab.discovery.admet.panel import endpoint_info

    frame = endpoint_info()
    return [{k: json_safe(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")]


@router.post("/explain", response_model=OpenResult)
def explain(body: ExplainRequest, user: CurrentUser) -> dict[str, Any]:
    """Per-atom contributions and an SVG heatmap (value, colour scale) for one molecule: a trained model,
    or ``model: "panel"`` with ``target`` an endpoint (default hERG), explained by integrated gradients."""
    from theralab.chem.io import parse_smiles
    from theralab.discovery.admet.explain import explain as do_explain
    from theralab.discovery.admet.train import resolve_model
    from theralab.discovery.admet.user_models import AdmetModel

    mol, err = parse_smiles(body.smiles)
    if mol is None:
        raise InputError(f"cannot read the molecule: {err}", where="body.smiles")
    if body.model == "panel":
        from theralab.discovery.admet.panel import get_panel
        from theralab.discovery.admet.panel_explain import explain_endpoint

        return explain_endpoint(get_panel(), mol, body.target or "hERG")
    return do_explain(AdmetModel.load(resolve_model(body.model)), mol, body.target)
