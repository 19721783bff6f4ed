"""``/v1/trials/outcome``: a draft protocol's probability of success, drivers, similar trials and what-ifs.

Protocols come inline as JSON (``TrialRecord``, unknown fields refused); models are named by their
registered name only, never by a server path. Feasibility counts read stored patients, so asking
for them writes an audit record (identifiers only). Training is a CLI task
(``theralab trials outcome train``): it parses thousands of criteria texts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from theralab.api.schemas import RequestModel
from theralab.errors import InputError
from theralab.privacy.deps import Principal, SessionDep, require_roles
from theralab.trials.outcome.insight import WhatIfEdit
from theralab.trials.outcome.predictor import load_registered_model as load_named_model  # noqa: E402
from theralab.trials.outcome.schemas import TrialRecord

router = APIRouter(prefix="/trials/outcome", tags=["trials"])
Trialist = Annotated[Principal, Depends(require_roles("clinician", "researcher"))]


class ModelInfo(BaseModel):
    name: str
    version: str
    created: str
    metrics: dict[str, Any]


class PredictRequest(RequestModel):

    model: str = Field(..., description="registered model name")
    protocols: list[TrialRecord] = Field(..., min_length=1, max_length=200)


class Prediction(BaseModel):
    nct_id: str
    probability: float
    probability_neural: float | None = None
    predicted_success: bool
    notes: list[str]


class PredictResponse(BaseModel):
    model: str
    threshold: float
    predictions: list[Prediction]


class ExplainRequest(RequestModel):

    model: str = Field(..., description="registered model name")
    protocol: TrialRecord
    edits: list[WhatIfEdit] | None = Field(None, description="what-ifs to evaluate (default: proposed ones)")
    similar: int = Field(5, ge=1, le=50)
    feasibility: bool = Field(False, description="count eligible stored patients before/after each edit")


class Driver(BaseModel):
    feature: str
    label: str
    value: float | None
    contribution: float


class Drivers(BaseModel):
    lowering: list[Driver]
    raising: list[Driver]
    expected_log_odds: list[float]


class SimilarTrial(BaseModel):
    nct_id: str
    similarity: float
    drug_similarity: float | None
    disease_similarity: float | None
    protocol_similarity: float
    phase: str
    diseases: str
    label: int | None
    status: str | None
    why_stop: str | None


class WhatIf(BaseModel):
    edit: WhatIfEdit
    description: str
    probability: float
    change: float
    eligible: int | None
    eligible_change: int | None


class ExplainResponse(BaseModel):
    nct_id: str
    probability: float
    probability_neural: float | None
    threshold: float
    predicted_success: bool
    drivers: Drivers
    similar: list[SimilarTrial]
    whatifs: list[WhatIf]
    feasibility: dict[str, int] | None
    notes: list[str]


@router.get("/models", response_model=list[ModelInfo])
def models(user: Trialist) -> list[ModelInfo]:
    """Registered trial-outcome models."""
    from theralab.models.registry import list_models
    from theralab.trials.outcome.predictor import TASK

    return [ModelInfo(name=m["name"], version=str(m["version"]), created=m["created"], metrics=m["metrics"])
            for m in list_models() if m.get("task") == TASK]


@router.post("/predict", response_model=PredictResponse)
def predict(body: PredictRequest, user: Trialist) -> PredictResponse:
    """Calibrated probabilities of success for up to 200 protocols."""
    model = load_named_model(body.model)
    ids = [p.nct_id for p in body.protocols]
    if len(set(ids)) != len(ids):
        raise InputError("protocol ids (nct_id) must be unique in one request", where="protocols")
    fs = model.features(body.protocols)
    pred = model.predict_frame(fs.frame)
    rows = []
    for p in body.protocols:
        r = pred.loc[p.nct_id]
        rows.append(Prediction(nct_id=p.nct_id, probability=round(float(r["prob"]), 4),
                               probability_neural=round(float(r["prob_neural"]), 4) if "prob_neural" in r else None,
                               predicted_success=bool(r["predicted"]), notes=fs.notes[p.nct_id]))
    return PredictResponse(model=body.model, threshold=model.threshold, predictions=rows)


@router.post("/explain", response_model=ExplainResponse)
def explain(body: ExplainRequest, user: Trialist, session: SessionDep) -> ExplainResponse:
    """Risk, the features lowering it, similar historical trials and what-if edits of one draft protocol."""
    from theralab.trials.outcome.insight import explain_protocol

    model = load_named_model(body.model)
    res = explain_protocol(model, body.protocol, edits=body.edits, k=body.similar,
                           session=session if body.feasibility else None)
    if body.feasibility:
        user.audit("trials.outcome.feasibility", "Protocol", body.protocol.nct_id, session=session)
    return ExplainResponse.model_validate(res)
