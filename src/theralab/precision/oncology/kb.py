"""A versioned knowledge base of biomarker -> therapy assertions, its schema and loaders.

Format (JSON, validated with ``extra="forbid"`` so a typo is an error, not a silent default)::

    {"name": "theralab-example", "version": "2026.12", "format_version": "1",
     "source": "...", "license": "CC0-1.0",
     "assertions": [{"id": "EX1",
                     "biomarker": {"type": "somatic_variant", "gene": "BRAF", "protein_change": "p.V600E"},
                     "therapy": "Vemurafenib", "effect": "sensitive", "evidence_level": "A",
                     "disease": "MEL", "disease_name": "Melanoma", "citation": "...", "pmid": "21639808"}]}

``biomarker.type`` is ``somatic_variant`` (gene, optional protein_change or codon such as ``p.V600``,
optional variant_class such as ``nonsense`` or ``truncating``), ``copy_number`` (gene, direction),
``fusion`` (gene, partner) or ``signature`` (e.g. MSI-High, TMB-High). Evidence levels follow
AMP/ASCO/CAP (Li et al. 2017, J Mol Diagn 19:4-23): A = FDA-approved or professional guideline in
this tumour type, B = well-powered clinical studies with consensus, C = approved in another tumour
type / multiple small studies / trial inclusion criterion, D = preclinical or case reports. The
tier of a match is computed by the matcher from the level and whether the disease matches.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from theralab.errors import InputError
from theralab.precision.oncology.variants import normalise_protein_change

EXAMPLE_KB = Path(__file__).resolve().parent / "data" / "example_kb.json"
FORMAT_VERSION = "1"


class Biomarker(BaseModel):
    """What must be present in the tumour."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["somatic_variant", "copy_number", "fusion", "signature", "germline_variant"]
    gene: str = ""
    protein_change: str = ""  # p.V600E, or a codon p.V600 (any change at that codon)
    variant_class: str = ""  # missense, nonsense, frameshift, splice, inframe_indel, truncating
    exon: str = ""
    direction: str = ""  # copy_number: amplification | deletion
    partner: str = ""  # fusion partner gene
    signature: str = ""  # MSI-High, TMB-High, ...

    @field_validator("gene", "partner")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.strip().upper()

    @field_validator("protein_change")
    @classmethod
    def _hgvs(cls, v: str) -> str:
        return normalise_protein_change(v)


class Assertion(BaseModel):
    """One biomarker -> therapy statement with its evidence."""

    model_config = ConfigDict(extra="forbid")

    id: str
    biomarker: Biomarker
    therapy: str
    effect: Literal["sensitive", "resistant"]
    evidence_level: Literal["A", "B", "C", "D"]
    disease: str = Field("", description="OncoTree code; empty = any tumour type")
    disease_name: str = ""
    citation: str = ""
    pmid: str = ""
    url: str = ""
    nct: str = ""
    note: str = ""


class KnowledgeBase(BaseModel):
    """A named, versioned set of assertions with its source and licence."""

    model_config = ConfigDict(extra="forbid")

    name: str
    version: str
    format_version: str = FORMAT_VERSION
    source: str = ""
    license: str = ""
    assertions: list[Assertion]

    def genes(self) -> set[str]:
        return {a.biomarker.gene for a in self.assertions if a.biomarker.gene}


def load_kb(source: str | Path | dict[str, Any] | None = None) -> KnowledgeBase:
    """Load and validate a knowledge base (default: the small example shipped with theralab).

    Raises:
        InputError: not JSON, a schema error (with the JSON path of the first problem), or a
            ``format_version`` this code does not read.
    """
    if source is None:
        source = EXAMPLE_KB
    where = "inline" if isinstance(source, dict) else str(source)
    try:
        data = source if isinstance(source, dict) else json.loads(Path(source).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the knowledge base: {exc}", where=where) from exc
    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise InputError(f"knowledge base does not fit the format: {first['msg']}", where=f"{where}: {path}",
                         hint="see theralab.precision.oncology.kb for the format") from exc
    if kb.format_version != FORMAT_VERSION:
        raise InputError(f"knowledge base format {kb.format_version} is not supported (this reads {FORMAT_VERSION})",
                         where=where)
    ids = [a.id for a in kb.assertions]
    if len(ids) != len(set(ids)):
        raise InputError("assertion ids must be unique", where=where)
    return kb


#: MOAlmanac predictive_implication -> AMP/ASCO/CAP evidence level.
MOALMANAC_LEVELS = {"FDA-Approved": "A", "Guideline": "A", "Clinical trial": "B", "Clinical evidence": "C",
                    "Inferential": "D", "Preclinical": "D"}
_MOA_CLASS = {"Missense": "missense", "Nonsense": "nonsense", "Frameshift": "frameshift", "Splice Site": "splice",
              "Deletion": "inframe_indel", "Insertion": "inframe_indel"}


def from_moalmanac(records: list[dict[str, Any]], version: str = "moalmanac") -> KnowledgeBase:
    """Convert MOAlmanac's JSON export (a list of assertions) into this format.

    Somatic variants, copy number, rearrangements, microsatellite stability and mutational burden
    are converted; other feature types are skipped. MOAlmanac is GPL-2.0: use it as your own local
    knowledge base or to test, never ship the converted content with theralab.
    """
    out = []
    for rec in records:
        if rec.get("_deprecated"):
            continue
        ftype = rec.get("feature_type")
        if ftype == "Somatic Variant":
            bm = {"type": "somatic_variant", "gene": rec.get("gene") or "", "protein_change": rec.get("protein_change")
                  or "", "variant_class": _MOA_CLASS.get(rec.get("variant_annotation") or "", ""),
                  "exon": str(rec.get("exon") or "")}
        elif ftype == "Copy Number":
            bm = {"type": "copy_number", "gene": rec.get("gene") or "",
                  "direction": str(rec.get("direction") or "").lower()}
        elif ftype == "Rearrangement":
            bm = {"type": "fusion", "gene": rec.get("gene1") or "", "partner": rec.get("gene2") or ""}
        elif ftype == "Microsatellite Stability":
            bm = {"type": "signature", "signature": str(rec.get("status") or "MSI-High")}
        elif ftype == "Mutational Burden":
            bm = {"type": "signature", "signature": "TMB-High"}
        else:
            continue
        if bm.get("type") in ("somatic_variant", "copy_number", "fusion") and not bm.get("gene"):
            continue
        resistant = str(rec.get("therapy_resistance")) == "1"
        sensitive = str(rec.get("therapy_sensitivity")) == "1"
        if not (resistant or sensitive) or not rec.get("therapy_name"):
            continue
        out.append({"id": f"MOA{rec['assertion_id']}", "biomarker": bm, "therapy": rec["therapy_name"],
                    "effect": "resistant" if resistant else "sensitive",
                    "evidence_level": MOALMANAC_LEVELS.get(rec.get("predictive_implication"), "D"),
                    "disease": rec.get("oncotree_code") or "", "disease_name": rec.get("oncotree_term") or "",
                    "citation": rec.get("citation") or "", "pmid": str(rec.get("pmid") or ""),
                    "url": rec.get("url") or "", "nct": rec.get("nct") or ""})
    return load_kb({"name": "moalmanac", "version": version, "source": "Molecular Oncology Almanac",
                    "license": "GPL-2.0", "assertions": out})
