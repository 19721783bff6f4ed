"""``/v1/chem``: profile up to 1,000 molecules inline, and draw a molecule as SVG.

Larger sets go through the job system (``POST /v1/jobs`` with kind ``chem.profile``), so a request
never holds a worker for minutes. Invalid SMILES are returned in ``invalid`` with the reason, never
as a 500; a request in which no molecule is valid still answers 200 with an empty ``rows``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from theralab.api.encoding import json_safe
from theralab.api.schemas import RequestModel, exactly_one
from theralab.errors import InputError
from theralab.privacy.deps import CurrentUser

router = APIRouter(prefix="/chem", tags=["chem"])

MAX_INLINE = 1000


class PayloadTooLarge(InputError):
    """More molecules than the inline limit: submit a job instead."""

    status_code = 413


class MoleculeIn(RequestModel):
    """One molecule: an optional identifier and its SMILES."""

    id: str | None = Field(default=None, max_length=200)
    smiles: str = Field(max_length=10_000)


class ProfileRequest(RequestModel):
    """Either ``smiles`` (a list of SMILES) or ``molecules`` (``[{id, smiles}]``), not both."""

    smiles: list[Annotated[str, Field(max_length=10_000)]] | None = None
    molecules: list[MoleculeIn] | None = None
    standardize: bool = True
    tautomer: bool = False
    depict: bool = Field(default=False, description="also return an SVG drawing per valid molecule")

    _one_of = exactly_one(
        "smiles", "molecules", "send exactly one of 'smiles' (a list of SMILES) or 'molecules' ([{id, smiles}])"
    )


class AlertOut(BaseModel):
    """A structural alert: catalogue (PAINS_A, PAINS_B, PAINS_C, BRENK, NIH) and alert name."""

    catalog: str
    description: str


class InvalidRow(BaseModel):
    """An input that could not be profiled, with its 1-based position and the reason."""

    row: int
    id: str
    input: str
    reason: str


class ProfileResponse(BaseModel):
    """Profile rows (one per valid molecule; columns as in ``theralab chem profile``) and invalid rows."""

    count: int
    valid: int
    invalid_count: int
    rows: list[dict[str, Any]]
    invalid: list[InvalidRow]


@router.post("/profile", response_model=ProfileResponse)
def profile(body: ProfileRequest, user: CurrentUser) -> ProfileResponse:
    """Profile molecules: standardised SMILES, InChIKey, descriptors, rule sets, structural alerts."""
    from theralab.chem.depict import mol_to_svg
    from theralab.chem.filters import parse_alerts_text
    from theralab.chem.profile import profile_smiles

    if body.molecules is not None:
        smiles = [m.smiles for m in body.molecules]
        ids = [m.id or str(i + 1) for i, m in enumerate(body.molecules)]
    else:
        smiles = list(body.smiles or [])
        ids = None
    if len(smiles) > MAX_INLINE:
        raise PayloadTooLarge(
            f"{len(smiles)} molecules is more than the {MAX_INLINE} profiled inline",
            where="body.molecules" if body.molecules is not None else "body.smiles",
            hint="submit a job of kind 'chem.profile' via POST /v1/jobs and follow its progress",
        )
    if not smiles:
        raise InputError("no molecules in the request", where="body", hint="send at least one SMILES")
    df, err = profile_smiles(smiles, ids, standardize=body.standardize, tautomer=body.tautomer)
    rows = []
    for rec in df.to_dict(orient="records"):
        row = {k: json_safe(v) for k, v in rec.items()}
        row["alerts"] = [
            AlertOut(catalog=a.catalog, description=a.description).model_dump()
            for a in parse_alerts_text(rec["alerts"])
        ]
        row["changes"] = [c for c in str(rec["changes"]).split("; ") if c]
        if body.depict:
            row["svg"] = mol_to_svg(rec["smiles"])
        rows.append(row)
    invalid = [
        InvalidRow(row=int(r["row"]), id=str(r["id"]), input=str(r["input"]), reason=str(r["reason"]))
        for r in err.to_dict(orient="records")
    ]
    return ProfileResponse(count=len(smiles), valid=len(rows), invalid_count=len(invalid), rows=rows, invalid=invalid)


@router.get(
    "/depict",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the drawing"}},
)
def depict(
    user: CurrentUser,
    smiles: str = Query(..., max_length=10_000, description="the molecule as SMILES"),
    width: int = Query(300, ge=16, le=2000),
    height: int = Query(220, ge=16, le=2000),
    legend: str = Query("", max_length=200),
) -> Response:
    """Draw a molecule as SVG (422 with the reason for a malformed SMILES)."""
    from theralab.chem.depict import mol_to_svg

    svg = mol_to_svg(smiles, width=width, height=height, legend=legend)
    return Response(content=svg, media_type="image/svg+xml")
