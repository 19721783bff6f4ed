"""A seeded synthetic cohort emitted as FHIR bundles.

Modules: :mod:`.cohort`, :mod:`.records`, :mod:`.vocab`.
"""

from __future__ import annotations

from theralab.ehr.synthetic.cohort import (
    generate_cohort,
    generate_patient,
    iter_ndjson_resources,
    load_demo_patients,
    reference_date,
)
from theralab.ehr.synthetic.vocab import ALLELES, CONDITIONS, MEDICATIONS, egfr_ckd_epi_2021, phenotype

__all__ = [
    "ALLELES",
    "CONDITIONS",
    "MEDICATIONS",
    "egfr_ckd_epi_2021",
    "generate_cohort",
    "generate_patient",
    "iter_ndjson_resources",
    "load_demo_patients",
    "phenotype",
    "reference_date",
]
