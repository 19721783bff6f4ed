"""Precision oncology: tumour variants -> therapies from a versioned knowledge base, with tiers.

    >>> from theralab.precision.oncology import load_kb, make_variant, match_variants
    >>> matches = match_variants([make_variant("BRAF", "p.Val600Glu")], load_kb(), oncotree_code="MEL")
    >>> matches[0].assertion.therapy, matches[0].tier
"""

from __future__ import annotations

from theralab.precision.oncology.kb import (
    EXAMPLE_KB,
    Assertion,
    Biomarker,
    KnowledgeBase,
    from_moalmanac,
    load_kb,
)
from theralab.precision.oncology.matcher import Match, disease_matches, match_variants, therapy_report
from theralab.precision.oncology.variants import (
    SomaticVariant,
    codon_of,
    make_variant,
    normalise_protein_change,
    read_annotated_vcf,
    read_maf,
)

__all__ = ["EXAMPLE_KB", "Assertion", "Biomarker", "KnowledgeBase", "Match", "SomaticVariant", "codon_of",
           "disease_matches", "from_moalmanac", "load_kb", "make_variant", "match_variants",
           "normalise_protein_change", "read_annotated_vcf", "read_maf", "therapy_report"]
