"""Match a tumour's variants against a knowledge base and assign AMP/ASCO/CAP tiers.

Match levels, most to least specific: ``exact`` (gene and protein change), ``codon`` (an assertion
on a codon, ``p.V600``, matches any change there), ``class`` (an assertion on a variant class of
the gene, e.g. nonsense or 'truncating'), ``gene`` (an assertion on any variant of the gene).
Tier (Li et al. 2017): level A/B evidence in the patient's tumour type -> Tier I; level C/D, or A/B
evidence from another tumour type -> Tier II. Resistance assertions are listed separately so a
report never presents them as treatment options.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from theralab.precision.oncology.kb import Assertion, KnowledgeBase
from theralab.precision.oncology.variants import TRUNCATING, SomaticVariant, codon_of

LEVEL_ORDER = {"exact": 0, "codon": 1, "class": 2, "gene": 3}


@dataclass(frozen=True)
class Match:
    """One variant matched to one assertion."""

    variant: SomaticVariant
    assertion: Assertion
    match_level: str
    disease_match: bool
    tier: str

    def to_dict(self) -> dict[str, Any]:
        a = self.assertion
        return {"gene": self.variant.gene, "protein_change": self.variant.protein_change,
                "sample": self.variant.sample, "therapy": a.therapy, "effect": a.effect,
                "evidence_level": a.evidence_level, "tier": self.tier, "match_level": self.match_level,
                "disease": a.disease, "disease_name": a.disease_name, "disease_match": self.disease_match,
                "assertion_id": a.id, "citation": a.citation, "pmid": a.pmid, "url": a.url, "nct": a.nct,
                "variant": asdict(self.variant)}


def _variant_level(variant: SomaticVariant, a: Assertion) -> str | None:
    bm = a.biomarker
    if bm.type != "somatic_variant" or bm.gene != variant.gene:
        return None
    if bm.protein_change:
        if not variant.protein_change:
            return None
        if bm.protein_change == variant.protein_change:
            return "exact"
        codon_bm, codon_v = codon_of(bm.protein_change), codon_of(variant.protein_change)
        is_codon_only = bm.protein_change == f"p.{codon_bm[0]}{codon_bm[1]}" if codon_bm else False
        if is_codon_only and codon_v == codon_bm:
            return "codon"
        return None
    if bm.variant_class:
        wanted = TRUNCATING if bm.variant_class == "truncating" else {bm.variant_class}
        return "class" if variant.variant_class in wanted else None
    return "gene"


def _tier(level: str, disease_match: bool) -> str:
    if level in ("A", "B") and disease_match:
        return "I"
    return "II"


def disease_matches(assertion_code: str, tumour_code: str | None) -> bool:
    """True when the assertion applies to the tumour type (same OncoTree code, or a pan-cancer assertion)."""
    if not assertion_code:
        return True
    return bool(tumour_code) and assertion_code.upper() == str(tumour_code).upper()


def match_variants(variants: Iterable[SomaticVariant], kb: KnowledgeBase, *, oncotree_code: str | None = None,
                   min_level: str = "gene", signatures: Iterable[str] = ()) -> list[Match]:
    """All assertions that apply to the variants, best first (tier, evidence level, match level).

    Args:
        variants: the tumour's variants (normalised, e.g. from :func:`read_maf`).
        kb: the knowledge base.
        oncotree_code: the tumour's OncoTree code (e.g. ``MEL``, ``LUAD``); None -> every match is off-label.
        min_level: least specific match level to report (``exact``, ``codon``, ``class``, ``gene``).
        signatures: tumour-level markers present (``MSI-High``, ``TMB-High``).
    """
    limit = LEVEL_ORDER[min_level]
    matches: list[Match] = []
    for variant in variants:
        for a in kb.assertions:
            level = _variant_level(variant, a)
            if level is None or LEVEL_ORDER[level] > limit:
                continue
            dm = disease_matches(a.disease, oncotree_code)
            matches.append(Match(variant, a, level, dm, _tier(a.evidence_level, dm)))
    marks = {s.upper() for s in signatures}
    for a in kb.assertions:
        if a.biomarker.type == "signature" and a.biomarker.signature.upper() in marks:
            dm = disease_matches(a.disease, oncotree_code)
            matches.append(Match(SomaticVariant(gene="", protein_change=a.biomarker.signature), a, "exact", dm,
                                 _tier(a.evidence_level, dm)))
    matches.sort(key=lambda m: (m.tier, m.assertion.evidence_level, LEVEL_ORDER[m.match_level], not m.disease_match,
                                m.assertion.therapy))
    return matches


def therapy_report(matches: list[Match]) -> dict[str, Any]:
    """A tumour report: sensitivity options by tier, resistance warnings, and the trials cited."""
    sensitive = [m.to_dict() for m in matches if m.assertion.effect == "sensitive"]
    resistant = [m.to_dict() for m in matches if m.assertion.effect == "resistant"]
    trials = sorted({m.assertion.nct for m in matches if m.assertion.nct})
    return {"tier_I": [m for m in sensitive if m["tier"] == "I"],
            "tier_II": [m for m in sensitive if m["tier"] == "II"],
            "resistance": resistant, "trials": trials,
            "caveat": "Decision support for research; tiers follow AMP/ASCO/CAP 2017 from the knowledge base's "
                      "evidence levels and must be reviewed by a molecular tumour board."}
