"""CPIC recommendations by lookup key: drug-centred and patient-centred (medication list) views.

Why: CPIC indexes every recommendation by a lookup key per gene (a phenotype, an activity score or
an HLA allele's positivity), so matching is an exact key comparison, not text search: a patient's
keys come from :mod:`theralab.precision.pgx.phenotype` and a gene without a result matches CPIC's
own ``No Result`` rows. DPWG recommendations are CC BY-SA 4.0 and are not shipped (see docs/pgx.md).
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from theralab.errors import NotFoundError
from theralab.precision.pgx.definitions import load_guidelines
from theralab.precision.pgx.phenotype import INDETERMINATE, NO_RESULT, Phenotype

#: drug status words shared by the CLI, the web page, the HTML and PDF reports
ACTION = "action needed"
NOT_DETERMINED = "gene not determined"
NO_CHANGE = "no change needed"
NO_GUIDANCE = "no CPIC recommendation for this result"


@dataclass
class Recommendation:
    """One CPIC recommendation that applies to the patient, with its evidence and source."""

    drug: str
    genes: list[str]
    lookup: dict[str, str]
    strength: str | None
    text: str
    implications: list[str]
    population: str | None
    actionable: bool
    guideline: str
    guideline_url: str | None
    source: str = "CPIC"
    pmids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def html_to_text(s: str | None) -> str:
    """CPIC texts are HTML fragments; reports and the CLI want plain sentences."""
    if not s:
        return ""
    s = re.sub(r"</(p|h\d|li)>", "\n", s)
    s = re.sub(r"<[^>]+>", "", s)
    return re.sub(r"\n\s*\n+", "\n", html.unescape(s)).strip()


def _hla_key(diplotype: str | None, key: str) -> bool:
    """Whether an HLA lookup key such as ``*57:01 positive`` holds for an outside-call diplotype."""
    allele, _, sign = key.rpartition(" ")
    if diplotype is None:
        return key == NO_RESULT
    present = allele in diplotype.split("/")
    return (sign == "positive" and present) or (sign == "negative" and not present)


def patient_keys(phenotypes: dict[str, Phenotype]) -> dict[str, Phenotype]:
    """Index phenotypes by gene symbol as CPIC writes it (``MT-RNR1``, ``HLA-B``)."""
    return {p.gene.replace("_", "-"): p for p in phenotypes.values()}


def _matches(lookup: dict[str, str], keys: dict[str, Phenotype]) -> bool:
    for gene, want in lookup.items():
        p = keys.get(gene)
        if gene.startswith("HLA-"):
            if not _hla_key(p.diplotype if p else None, want):
                return False
            continue
        have = p.lookup_key if p else NO_RESULT
        if str(have) != str(want):
            return False
    return True


def all_drugs() -> list[dict[str, Any]]:
    """Every drug with a shipped CPIC guideline: name, genes, guideline, URL."""
    out = []
    for g in load_guidelines():
        for d in g["drugs"]:
            out.append({"drug": d, "genes": g["genes"], "guideline": g["name"], "url": g["url"], "source": g["source"]})
    return sorted(out, key=lambda r: r["drug"])


def recommendations_for(phenotypes: dict[str, Phenotype], drugs: list[str] | None = None) -> list[Recommendation]:
    """All CPIC recommendations that apply to this patient (optionally for some drugs only).

    Args:
        phenotypes: gene -> phenotype (genes absent are treated as ``No Result``).
        drugs: restrict to these drug names (case-insensitive); unknown names raise NotFoundError.
    """
    keys = patient_keys(phenotypes)
    wanted = None
    if drugs is not None:
        known = {d["drug"].lower() for d in all_drugs()}
        wanted = {d.strip().lower() for d in drugs if d.strip()}
        unknown = sorted(wanted - known)
        if unknown:
            raise NotFoundError(
                "no CPIC guideline for: " + ", ".join(unknown),
                where="drug list",
                hint="`theralab pgx drugs` lists the drugs with guidelines",
            )
    out = []
    for g in load_guidelines():
        for r in g["recommendations"]:
            for drug in r["drugs"] or g["drugs"]:
                if wanted is not None and drug.lower() not in wanted:
                    continue
                if not r["lookup"] or not _matches(r["lookup"], keys):
                    continue
                actionable = bool(r["alternate_drug"] or r["dosing_information"]) and r["strength"] not in (
                    None,
                    "No recommendation",
                )
                out.append(
                    Recommendation(
                        drug=drug,
                        genes=list(r["lookup"]),
                        lookup=dict(r["lookup"]),
                        strength=r["strength"],
                        text=html_to_text(r["text_html"]),
                        implications=list(r["implications"]),
                        population=r["population"],
                        actionable=actionable,
                        guideline=g["name"],
                        guideline_url=g["url"],
                        source=g["source"] or "CPIC",
                        pmids=[str(c["pmid"]) for c in g["citations"] if c.get("pmid")],
                    )
                )
    return out


def undetermined_genes(genes: list[str], keys: dict[str, Phenotype]) -> dict[str, str]:
    """Genes among ``genes`` whose result is missing or indeterminate, with the reason.

    Why: CPIC's "No Result" rows carry no dosing change, so a lookup alone would read as reassurance;
    an undetermined gene must instead say that the patient's genotype is unknown.
    """
    out = {}
    for g in genes:
        p = keys.get(g)
        if p is None or p.lookup_key == NO_RESULT or p.phenotype == NO_RESULT:
            out[g] = "no result (not tested or not called)"
        elif (p.lookup_key == INDETERMINATE or p.phenotype == INDETERMINATE) and not (
            p.diplotype and (p.note or "").startswith("no CPIC diplotype-phenotype table")
        ):  # a called gene CPIC gives no phenotype table for (CYP4F2) is a genotype, not a gap
            out[g] = "indeterminate" + (f" ({p.note})" if p.note else "")
    return out


def undetermined_advice(drug: str, gene: str, reason: str) -> str:
    """What to do when a drug's gene was not determined (never "no change")."""
    return (
        f"{gene} was not determined for this patient ({reason}). Genotype {gene} before prescribing "
        f"{drug} if the result can arrive in time; otherwise prescribe {drug} with the standard caution "
        "for a patient of unknown genotype (label dosing, close monitoring of response and toxicity)."
    )


def drug_view(drug: str, phenotypes: dict[str, Phenotype]) -> dict[str, Any]:
    """Drug-centred view: "for clopidogrel, this patient: ..." with the genes and phenotypes used.

    ``status`` is one of ``action needed``, ``gene not determined``, ``no change needed`` or
    ``no CPIC recommendation for this result``; ``advice`` says what to do in the latter cases.
    """
    recs = recommendations_for(phenotypes, [drug])
    guideline_genes = sorted(
        {gene for d in all_drugs() if d["drug"].lower() == drug.lower() for gene in d["genes"]}
    )
    genes = sorted({gene for r in recs for gene in r.genes}) or guideline_genes
    keys = patient_keys(phenotypes)
    status = [
        f"{g}: {keys[g].diplotype} ({keys[g].phenotype})"
        if g in keys and keys[g].diplotype
        else f"{g}: {keys[g].phenotype}"
        if g in keys and keys[g].phenotype not in (NO_RESULT, INDETERMINATE)
        else f"{g}: no result"
        for g in genes
    ]
    actionable = any(r.actionable for r in recs)
    # HLA genes are keyed by positivity and CYP2C9/VKORC1 by optional context: judge only the genes
    # the guideline needs that have no result at all
    missing = undetermined_genes(guideline_genes, keys)
    advice: list[str] = []
    if actionable:
        state = ACTION
    elif missing:
        state = NOT_DETERMINED
        advice = [undetermined_advice(drug, g, why) for g, why in missing.items()]
    elif recs:
        state = NO_CHANGE
    else:
        state = NO_GUIDANCE
    if drug.lower() == "warfarin":
        advice.append(
            "CPIC 2017 doses warfarin with a pharmacogenetic algorithm (VKORC1, CYP2C9, CYP4F2 and clinical "
            "factors), not a lookup: run `theralab pgx warfarin` with the patient's age, height and weight."
        )
        if not actionable and not missing:
            state = ACTION
    return {
        "drug": drug,
        "genes": status,
        "recommendations": [r.to_dict() for r in recs],
        "actionable": actionable,
        "status": state,
        "undetermined": missing,
        "advice": advice,
    }


def medication_review(medications: list[str], phenotypes: dict[str, Phenotype]) -> list[dict[str, Any]]:
    """Patient-centred view: each current medication with a guideline, checked against the genotype.

    Medications without a CPIC guideline are listed with ``guideline: False`` rather than raising, since
    a medication list is mostly drugs without pharmacogenomic guidance.
    """
    known = {d["drug"].lower() for d in all_drugs()}
    out = []
    for med in medications:
        name = med.strip()
        if not name:
            continue
        if name.lower() not in known:
            out.append(
                {
                    "drug": name,
                    "guideline": False,
                    "actionable": False,
                    "recommendations": [],
                    "status": "no CPIC guideline",
                    "undetermined": {},
                    "advice": [],
                }
            )
            continue
        v = drug_view(name, phenotypes)
        v["guideline"] = True
        out.append(v)
    return out
