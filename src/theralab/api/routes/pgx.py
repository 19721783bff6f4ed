"""``/v1/pgx``: call star alleles from an uploaded VCF (clinician role, audited) and list CPIC drugs.

Genetic data are identifying, so ``POST /pgx/call`` needs the clinician role and writes an audit
record naming the sample only (never genotypes). The upload is written to a private temporary
directory, read, and deleted before the response is sent.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel

from theralab.errors import InputError
from theralab.privacy.deps import Principal, require_roles

router = APIRouter(prefix="/pgx", tags=["pgx"])

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
Clinician = Annotated[Principal, Depends(require_roles("clinician", scope="Observation.read"))]


class PgxCallOut(BaseModel):
    """One sample's result: per gene the call (with its explanation) and phenotype, the applicable
    CPIC recommendations, the medication review and file-level warnings."""

    sample: str
    knowledge_base: dict[str, dict[str, Any]]
    genes: dict[str, dict[str, Any]]
    recommendations: list[dict[str, Any]]
    medications: list[dict[str, Any]]
    warnings: list[str]


class DrugOut(BaseModel):
    """A drug with a shipped CPIC guideline."""

    drug: str
    genes: list[str]
    guideline: str
    url: str | None
    source: str


@router.post("/call", response_model=PgxCallOut)
async def call_vcf(
    user: Clinician,
    vcf: Annotated[UploadFile, File(description="VCF or bgzipped VCF (GRCh38)")],
    sample: Annotated[str | None, Form(description="sample ID for multi-sample VCFs")] = None,
    outside_calls: Annotated[str | None, Form(description="GENE<TAB>DIPLOTYPE lines, e.g. CYP2D6")] = None,
    medications: Annotated[str | None, Form(description="comma-separated current medications")] = None,
    build: Annotated[str, Form(description="auto (from the VCF header), GRCh38 or GRCh37")] = "auto",
) -> dict[str, Any]:
    """Diplotypes, phenotypes and CPIC recommendations for one sample of the uploaded VCF."""
    from theralab.precision.pgx.report import call_vcf as run

    if build not in ("auto", "GRCh38", "GRCh37"):
        raise InputError(f"unknown build {build!r}", where="build", hint="auto, GRCh38 or GRCh37")
    data = await vcf.read()
    if not data:
        raise InputError("the uploaded VCF is empty", where="vcf")
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"VCF upload over {MAX_UPLOAD_BYTES // 2**20} MiB",
            where="vcf",
            hint="restrict it to the PGx regions first (bcftools view -R)",
        )
    suffix = ".vcf.gz" if data[:2] == b"\x1f\x8b" else ".vcf"
    with tempfile.TemporaryDirectory(prefix="theralab-pgx-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        outside: dict[str, str] | None = None
        if outside_calls:
            oc = Path(tmp) / "outside.tsv"
            oc.write_text(outside_calls)
            from theralab.precision.pgx.report import read_outside_calls

            outside = read_outside_calls(oc)
        meds = [m for m in medications.split(",")] if medications else None
        try:
            results = run(path, sample=sample, outside_calls=outside, medications=meds, build=build)
        except InputError as exc:
            exc.where = "vcf" if exc.where and tmp in exc.where else exc.where
            raise
    result = results[0]
    user.audit("pgx.call", "vcf", result.sample)
    return result.to_dict()


@router.get("/drugs", response_model=list[DrugOut])
def drugs(gene: str | None = None) -> list[dict[str, Any]]:
    """Drugs with a shipped CPIC guideline, optionally only those involving ``gene``."""
    from theralab.precision.pgx.recommend import all_drugs

    return [d for d in all_drugs() if gene is None or gene in d["genes"]]
