"""Warfarin dose inputs read from a PGx report: VKORC1 -1639, CYP2C9 and CYP4F2*3 carrier status.

Why separate: :mod:`warfarin` is the published algorithm on plain genotypes; this module maps a
report's star-allele calls onto it, so an uncalled gene becomes the algorithm's "unknown" term (and a
caution), never a silent reference genotype.
"""

from __future__ import annotations

from typing import Any

from theralab.precision.pgx.definitions import load_definitions
from theralab.precision.pgx.warfarin import AFRICAN_CYP2C9, WarfarinDose, cpic_warfarin_dose, vkorc1_genotype

CYP4F2_STAR3_RSID = "rs2108622"


def cyp4f2_star3_carrier(diplotype: str | None) -> bool | None:
    """Whether a CYP4F2 diplotype carries rs2108622 T (the *3 variant, also in *4); None if uncalled."""
    if not diplotype:
        return None
    d = load_definitions()["CYP4F2"]
    pos = next(p for p in d.positions if p.rsid == CYP4F2_STAR3_RSID)
    carriers = {a.name for a in d.alleles if pos.index in a.variant_cells(d.positions)}
    return any(a in carriers for a in diplotype.split("/"))


def _diplotype(body: dict[str, Any], gene: str) -> str | None:
    g = body.get("genes", {}).get(gene)
    if not g:
        return None
    return g["phenotype"].get("diplotype")


def warfarin_from_report(body: dict[str, Any], **clinical: Any) -> WarfarinDose:
    """CPIC 2017 warfarin dose for a saved ``<sample>.json`` report plus clinical factors.

    Args:
        body: the parsed report.
        clinical: age, height_cm, weight_kg, race, african_ancestry, amiodarone, enzyme_inducer.
    """
    vk = _diplotype(body, "VKORC1")
    c9 = _diplotype(body, "CYP2C9")
    c9 = c9 if c9 and "[" not in c9 and " or " not in c9 else None
    african = bool(clinical.get("african_ancestry"))
    not_excluded = (body.get("genes", {}).get("CYP2C9") or {}).get("call", {}).get("not_excluded", [])
    return cpic_warfarin_dose(
        vkorc1=vkorc1_genotype(vk),
        cyp2c9=c9,
        cyp4f2_star3_carrier=cyp4f2_star3_carrier(_diplotype(body, "CYP4F2")),
        african_variants_tested=african and c9 is not None and not (set(AFRICAN_CYP2C9) & set(not_excluded)),
        **clinical,
    )
