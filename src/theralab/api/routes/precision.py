"""``/v1/precision``: polygenic scores, clinical risk prediction, tumour therapy matching, image diagnosis.

Genotypes, tumour variants, patient rows and images are patient data: every route that takes them
needs the clinician or researcher role and writes an audit record naming only identifiers (the
uploaded file's name, sample count, tumour type), never the payload. Uploads are read in memory
or in a private temporary directory deleted before the response; no route accepts a server path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from theralab.api.schemas import RequestModel
from theralab.errors import InputError
from theralab.privacy.deps import CurrentUser, Principal, require_roles

router = APIRouter(prefix="/precision", tags=["precision"])

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_IMAGE_BYTES = 16 * 1024 * 1024
Clinical = Annotated[Principal, Depends(require_roles("clinician", "researcher", scope="Observation.read"))]


async def _read(upload: UploadFile, field: str, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    data = await upload.read()
    if not data:
        raise InputError("the upload is empty", where=field)
    if len(data) > limit:
        raise InputError(f"upload over {limit // 2**20} MiB", where=field)
    return data


# ------------------------------------------------------------------ polygenic scores

class PrsSampleOut(BaseModel):
    iid: str
    score: float
    average: float
    allele_ct: int
    z: float
    percentile: float
    absolute_risk: float | None = None


class PrsOut(BaseModel):
    score_name: str
    genome_build: str | None
    counts: dict[str, int]
    match_rate: float
    notes: list[str]
    samples: list[PrsSampleOut]


@router.post("/risk/prs", response_model=PrsOut)
async def prs(
    user: Clinical,
    scorefile: Annotated[UploadFile, File(description="PGS Catalog scoring file (.txt or .txt.gz)")],
    vcf: Annotated[UploadFile, File(description="genotypes as VCF or bgzipped VCF")],
    keep_ambiguous: Annotated[bool, Form()] = False,
    min_match_rate: Annotated[float, Form(ge=0, le=1)] = 0.0,
    genotype_build: Annotated[str | None, Form(description="GRCh37/GRCh38 if the VCF does not say")] = None,
    incidence: Annotated[float | None, Form(gt=0, lt=1)] = None,
    or_per_sd: Annotated[float | None, Form(gt=0)] = None,
) -> dict[str, Any]:
    """Score every sample of the uploaded VCF; percentiles within the uploaded samples."""
    import numpy as np

    from theralab.precision.risk import ReferencePanel, absolute_risk, score_uploads

    sf_bytes = await _read(scorefile, "scorefile")
    vcf_bytes = await _read(vcf, "vcf")
    if incidence is not None and or_per_sd is None:
        raise InputError("incidence needs or_per_sd", where="or_per_sd")
    result = score_uploads(sf_bytes, vcf_bytes, score_name=Path(scorefile.filename or "score").name.split(".")[0],
                           genotype_build=genotype_build, keep_ambiguous=keep_ambiguous,
                           min_match_rate=min_match_rate)
    col = result.score_columns[0]
    sums = result.scores[f"{col}_SUM"].to_numpy()
    panel = ReferencePanel.fit(sums) if len(sums) >= 2 else None
    z = np.array([panel.standardise(s)[0] for s in sums]) if panel else np.zeros(len(sums))
    pct = [panel.percentile(s) for s in sums] if panel else [50.0] * len(sums)
    risk = np.atleast_1d(absolute_risk(z, incidence, or_per_sd)) if incidence is not None else None
    user.audit("precision.prs", "genotypes", f"{len(sums)} samples; score {col}")
    return {"score_name": col, "genome_build": result.build, "counts": result.match.counts,
            "match_rate": result.match.match_rate, "notes": result.notes,
            "samples": [{"iid": iid, "score": float(s), "average": float(a), "allele_ct": int(c), "z": float(zz),
                         "percentile": float(p), "absolute_risk": None if risk is None else float(risk[i])}
                        for i, (iid, s, a, c, zz, p) in enumerate(zip(
                            result.scores["IID"], sums, result.scores[f"{col}_AVG"], result.scores["ALLELE_CT"], z,
                            pct, strict=True))]}


# ------------------------------------------------------------------ clinical risk prediction

class RiskPredictIn(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(..., description="registered model name (from 'theralab risk train' + registry)")
    rows: list[dict[str, Any]] = Field(..., min_length=1, max_length=10_000)
    explain: bool = False


class RiskPredictOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model: str
    predictions: list[dict[str, float]]
    explanations: list[dict[str, float]] | None = None


@router.post("/risk/predict", response_model=RiskPredictOut)
def risk_predict(body: RiskPredictIn, user: Clinical) -> dict[str, Any]:
    """Predict with a registered clinical risk or survival model; optional SHAP values."""
    import pandas as pd

    from theralab.models.base import load_predictor
    from theralab.models.registry import find_model

    predictor = load_predictor(str(find_model(body.model)))
    if (predictor.card.model_extra or {}).get("input") != "table":
        raise InputError(f"model {body.model} does not take patient rows", where="model")
    frame = pd.DataFrame(body.rows)
    out = predictor.predict(frame)
    explanations = None
    if body.explain and hasattr(predictor.model, "explain"):
        explanations = predictor.model.explain(frame).to_dict(orient="records")
    user.audit("precision.risk.predict", "model", f"{body.model}; {len(frame)} rows")
    return {"model": body.model, "predictions": out.to_dict(orient="records"), "explanations": explanations}


# ------------------------------------------------------------------ oncology

class VariantIn(RequestModel):

    gene: str = Field(..., min_length=1, max_length=30)
    protein_change: str = Field("", max_length=80)
    variant_class: str = Field("", max_length=40)


class OncologyMatchIn(RequestModel):

    variants: list[VariantIn] = Field(..., min_length=1, max_length=5000)
    oncotree_code: str | None = Field(None, max_length=20)
    signatures: list[str] = Field(default_factory=list)
    min_level: str = Field("gene", pattern="^(exact|codon|class|gene)$")


class OncologyReportOut(BaseModel):
    knowledge_base: dict[str, str]
    tier_I: list[dict[str, Any]]  # noqa: N815 - AMP tier names
    tier_II: list[dict[str, Any]]  # noqa: N815
    resistance: list[dict[str, Any]]
    trials: list[str]
    caveat: str


@router.post("/oncology/match", response_model=OncologyReportOut)
def oncology_match(body: OncologyMatchIn, user: Clinical) -> dict[str, Any]:
    """Match a tumour's variants against the shipped example knowledge base (tiers, resistance)."""
    from theralab.precision.oncology import load_kb, make_variant, match_variants, therapy_report

    kb = load_kb()
    variants = [make_variant(v.gene, v.protein_change, v.variant_class) for v in body.variants]
    report = therapy_report(match_variants(variants, kb, oncotree_code=body.oncotree_code, min_level=body.min_level,
                                           signatures=body.signatures))
    report["knowledge_base"] = {"name": kb.name, "version": kb.version, "license": kb.license}
    user.audit("precision.oncology.match", "tumour", f"{len(variants)} variants; {body.oncotree_code or 'unknown'}")
    return report


class KbOut(BaseModel):
    name: str
    version: str
    license: str
    source: str
    assertions: list[dict[str, Any]]


@router.get("/oncology/kb", response_model=KbOut)
def oncology_kb(user: CurrentUser) -> dict[str, Any]:
    """The shipped example knowledge base (cited, CC0)."""
    from theralab.precision.oncology import load_kb

    return load_kb().model_dump()


# ------------------------------------------------------------------ imaging

class ImageOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model: str
    probability: float
    label: str
    temperature: float
    heatmap: list[list[float]]
    image: list[list[float]]


@router.post("/imaging/classify", response_model=ImageOut)
async def imaging_classify(
    user: Clinical,
    image: Annotated[UploadFile, File(description="PNG, JPEG or DICOM chest radiograph")],
) -> dict[str, Any]:
    """Calibrated probability and Grad-CAM heatmap from the shipped pneumonia CNN."""
    from theralab.precision.imaging import load_image_model

    data = await _read(image, "image", MAX_IMAGE_BYTES)
    clf = load_image_model()
    result = clf.classify(data, where="image")
    user.audit("precision.imaging.classify", "image", Path(image.filename or "upload").name[:80])
    return {"model": clf.card.name, **result}
