"""``/v1/dti``: rank molecules against a protein sequence with a trained DTI model.

Sequences and molecules come inline (JSON) or as uploads (multipart); no server path is ever
accepted. Each row carries the predicted affinity, the ensemble spread and the applicability
domain (nearest training drug, target similarity, ``in_domain``); unusable molecules keep their
row with an ``error``. Bad sequences are 422 with the reason, never a 500.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from theralab.errors import InputError
from theralab.privacy.deps import Principal, require_roles

router = APIRouter(prefix="/dti", tags=["dti"])
Researcher = Annotated[Principal, Depends(require_roles("researcher", "clinician"))]
MAX_MOLECULES = 2000
MAX_UPLOAD = 20 * 1024 * 1024


class RankRequest(BaseModel):
    """A target (FASTA text or one-letter sequence), molecules, and the model to use."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field("dti-graph-davis", max_length=200, description="registered DTI model name")
    target_sequence: str = Field(..., min_length=1, max_length=20_000, description="FASTA or raw sequence")
    smiles: list[Annotated[str, Field(max_length=10_000)]] = Field(..., min_length=1, max_length=MAX_MOLECULES)
    ids: list[str] | None = Field(None, description="one identifier per SMILES (default 1..n)")


class RankRow(BaseModel):
    """One ranked molecule."""

    rank: int
    id: str
    smiles: str
    affinity: float | None
    affinity_std: float | None
    drug_similarity: float | None
    nearest_drug: str
    target_similarity: float | None
    nearest_target: str
    in_domain: bool
    error: str


class RankResponse(BaseModel):
    """The ranked table and what it was computed with."""

    model_config = ConfigDict(protected_namespaces=())

    model: str
    unit: str
    target_name: str
    target_length: int
    count: int
    scored: int
    rows: list[RankRow]


class DTIModelInfo(BaseModel):
    """A registered DTI model: its card summary and the target it is bound to, if any."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    version: str
    kind: str
    unit: str
    origin: str
    metrics: dict[str, Any]
    target_name: str | None = None


def _model(name: str) -> Any:
    from theralab.discovery.dti import load_dti
    from theralab.models.base import resolve_model_dir
    from theralab.models.registry import load_card

    if "/" in name or "\\" in name or name.startswith("."):
        raise InputError("give a registered model name, not a path", where="model",
                         hint="GET /v1/dti/models lists them")
    model_dir = resolve_model_dir(name)
    if (load_card(model_dir, verify=False).model_extra or {}).get("kind") is None:
        raise InputError(f"{name} is not a DTI model", where="model", hint="GET /v1/dti/models lists them")
    return load_dti(model_dir)


def _rank(model_name: str, target: str, smiles: list[str], ids: list[str] | None) -> RankResponse:
    from theralab.discovery.dti import read_fasta_or_sequence

    if ids is not None and len(ids) != len(smiles):
        raise InputError(f"{len(ids)} ids for {len(smiles)} SMILES", where="ids")
    target_name, sequence = read_fasta_or_sequence(target, where="target_sequence")
    model = _model(model_name)
    table = model.rank(sequence, smiles, ids)
    rows = []
    for rec in table.to_dict(orient="records"):
        rec = {k: (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
        rows.append(RankRow(**{k: rec[k] for k in RankRow.model_fields}))
    scored = sum(1 for r in rows if not r.error)
    return RankResponse(model=model.card.name, unit=model.unit, target_name=target_name, target_length=len(sequence),
                        count=len(rows), scored=scored, rows=rows)


@router.get("/models", response_model=list[DTIModelInfo])
def models(user: Researcher) -> list[DTIModelInfo]:
    """Every registered DTI model (shipped and user-trained)."""
    from theralab.models.registry import list_models, load_card

    out = []
    for m in list_models():
        if m.get("task") != "dti-regression":
            continue
        extra = load_card(Path(m["path"]), verify=False).model_extra or {}
        out.append(DTIModelInfo(name=m["name"], version=m["version"], kind=str(extra.get("kind", "")),
                                unit=str(extra.get("unit", "")), origin=m["origin"], metrics=m.get("metrics") or {},
                                target_name=(extra.get("target") or {}).get("name")))
    return out


@router.post("/rank", response_model=RankResponse)
def rank(body: RankRequest, user: Researcher) -> RankResponse:
    """Rank inline SMILES against an inline sequence, best predicted binder first."""
    return _rank(body.model, body.target_sequence, list(body.smiles), body.ids)


@router.post("/rank/upload", response_model=RankResponse)
async def rank_upload(
    user: Researcher,
    molecules: Annotated[UploadFile, File(description="SMILES, CSV/TSV, SDF or Parquet file of molecules")],
    target_sequence: Annotated[str | None, Form(max_length=20_000)] = None,
    target_fasta: Annotated[UploadFile | None, File(description="FASTA file (instead of target_sequence)")] = None,
    model: Annotated[str, Form(max_length=200)] = "dti-graph-davis",
) -> RankResponse:
    """Rank an uploaded molecule file against a pasted sequence or an uploaded FASTA."""
    from theralab.chem.io import MoleculeReader

    if target_fasta is not None:
        target_sequence = (await target_fasta.read(200_000)).decode("utf-8", errors="replace")
    if not target_sequence:
        raise InputError("give target_sequence or target_fasta", where="target_sequence")
    content = await molecules.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise InputError("the molecule file is over 20 MB", where="molecules", hint="use the CLI for large libraries")
    suffix = Path(molecules.filename or "upload.smi").suffix.lower() or ".smi"
    if suffix not in (".smi", ".txt", ".csv", ".tsv", ".sdf", ".parquet", ".ism"):
        suffix = ".smi"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"molecules{suffix}"
        path.write_bytes(content)
        records = list(MoleculeReader(path))
    if len(records) > MAX_MOLECULES:
        raise InputError(f"{len(records)} molecules; at most {MAX_MOLECULES} per request", where="molecules",
                         hint="use 'theralab dti predict' or a screening run for large libraries")
    return _rank(model, target_sequence, [r.smiles for r in records], [r.id for r in records])
