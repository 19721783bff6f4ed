"""A seeded synthetic cohort, emitted as FHIR R4 Bundles that :mod:`theralab.ehr.fhir.ingest` loads.

Why our own generator next to Synthea: trial matching, pharmacogenomics and monitoring need
patients whose truth is known by construction (this patient has CKD stage 3 and eGFR 42; that
note *denies* atrial fibrillation; the mother had breast cancer; CYP2C19 *2/*2), in any number,
in seconds, without Java. Synthea is used beside it as the independent real-world-like check.

Realism, roughly: condition prevalence rises with age (hypertension, AF, CKD, cancers); labs
follow the conditions (HbA1c >= 6.5 % in diabetes, eGFR from creatinine by the CKD-EPI 2021
equation, so CKD stages agree with the eGFR); medications follow the conditions (RxNorm codes as
Synthea uses them); a fraction of labs and vitals is reported in other units (mmol/L, umol/L,
[degF], [lb_av]) so unit normalisation is exercised; genotypes are drawn from European allele
frequencies (CYP2C19 *2 0.15, *17 0.21; CYP2C9 *2 0.13, *3 0.07; SLCO1B1 *5 0.02, *15 0.15) with
CPIC phenotypes. Patient ``i`` of seed ``s`` is the same whatever ``n`` is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from theralab.ehr.synthetic.records import (
    SyntheticPatient,
    add_condition,
    add_genotypes,
    add_labs_and_vitals,
    add_medication,
    add_note,
    family_history,
)
from theralab.ehr.synthetic.vocab import (
    CKD_STAGES,
    CONDITIONS,
    FIRST,
    LAST,
    MEDICATIONS,
    REFERENCE_DATE,
    SCT,
    egfr_ckd_epi_2021,
)


def _prevalence(age: int, base: float, per_decade: float) -> float:
    return min(0.9, base + per_decade * max(0, age - 40) / 10)


def generate_patient(seed: int, index: int) -> dict[str, Any]:
    """Patient ``index`` of cohort ``seed`` as a FHIR R4 ``collection`` Bundle."""
    p = SyntheticPatient(seed, index)
    rng = p.rng
    sex = rng.choice(["female", "male"])
    age = rng.randint(18, 90)
    birth = (REFERENCE_DATE - timedelta(days=age * 365.25 + rng.randint(0, 364))).date()
    age = REFERENCE_DATE.year - birth.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (birth.month, birth.day))
    p.add(
        {
            "resourceType": "Patient",
            "id": p.id,
            "gender": sex,
            "birthDate": birth.isoformat(),
            "name": [{"use": "official", "family": rng.choice(LAST), "given": [rng.choice(FIRST[sex])]}],
            "identifier": [
                {
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                    "value": f"SYN-{seed}-{index:06d}",
                }
            ],
        }
    )
    has = {
        k
        for k, (_, _, base, inc, only) in CONDITIONS.items()
        if (only is None or only == sex) and rng.random() < _prevalence(age, base, inc)
    }
    if "diabetes" in has:
        has.discard("prediabetes")
    # kidney function follows diabetes, hypertension and age
    crea = rng.gauss(0.75 if sex == "female" else 0.95, 0.12)
    if ("diabetes" in has or "hypertension" in has) and rng.random() < 0.3:
        crea *= rng.uniform(1.4, 4.0)
    crea = max(0.4, crea)
    egfr = egfr_ckd_epi_2021(crea, age, sex == "female")
    stage = 5 if egfr < 15 else 4 if egfr < 30 else 3 if egfr < 60 else None
    adult_start = datetime(birth.year + 18, 1, 1, tzinfo=UTC)
    visits = sorted(
        p.when(REFERENCE_DATE - timedelta(days=3 * 365), REFERENCE_DATE - timedelta(days=1)) for _ in range(3)
    )
    encounters = []
    for t in visits:
        enc = p.uid()
        encounters.append(enc)
        p.add(
            {
                "resourceType": "Encounter",
                "id": enc,
                "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                "type": [
                    {
                        "coding": [
                            {
                                "system": SCT,
                                "code": "185349003",
                                "display": "Encounter for check up (procedure)",
                            }
                        ]
                    }
                ],
                "subject": p.ref,
                "period": {"start": t.isoformat(), "end": (t + timedelta(minutes=20)).isoformat()},
            }
        )
    onsets: dict[str, datetime] = {}
    for key in sorted(has):
        code, display = CONDITIONS[key][:2]
        onsets[key] = p.when(max(adult_start, REFERENCE_DATE - timedelta(days=15 * 365)), visits[0])
        add_condition(p, code, display, onsets[key])
    if stage:
        onsets["ckd"] = p.when(REFERENCE_DATE - timedelta(days=5 * 365), visits[0])
        add_condition(p, *CKD_STAGES[stage], onsets["ckd"])
    # medications: active (no end) from onset; a third of antihypertensives switched (stopped)
    for key in sorted(has):
        for code, display in MEDICATIONS.get(key, [])[: 1 + (rng.random() < 0.3)]:
            stopped = rng.random() < 0.15
            add_medication(
                p,
                code,
                display,
                onsets[key],
                "stopped" if stopped else "active",
                p.when(onsets[key], visits[-1]) if stopped else None,
            )
    if {"hypertension", "hyperlipidemia"} <= has and rng.random() < 0.3:
        add_medication(p, *MEDICATIONS["cad"][0], visits[0], "active", None)
    add_labs_and_vitals(p, sex, age, has, crea, egfr, visits, encounters)
    family = family_history(p)
    add_note(p, has, family, visits[-1], encounters[-1], age, sex)
    add_genotypes(p, visits[0])
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in p.resources],
    }


def generate_cohort(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield ``n`` patients as FHIR R4 Bundles (deterministic for a given ``seed``)."""
    if n < 0:
        from theralab.errors import InputError

        raise InputError(f"cohort size must be >= 0, got {n}", where="n")
    for i in range(n):
        yield generate_patient(seed, i)


def iter_ndjson_resources(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """The cohort as a flat stream of resources (one ndjson line each, each patient first)."""
    for bundle in generate_cohort(n, seed):
        for entry in bundle["entry"]:
            yield entry["resource"]


def load_demo_patients(
    session: Session, n: int = 200, seed: int = 7, *, validate: bool = True, workers: int = 1
) -> Any:
    """Generate ``n`` synthetic patients and load them (idempotent: same seed, same ids).

    Returns:
        the :class:`~theralab.ehr.fhir.ingest.ImportReport` of the load.
    """
    from theralab.ehr.fhir.ingest import import_resources

    return import_resources(
        generate_cohort(n, seed), session, source=f"synthetic:seed={seed}", validate=validate, workers=workers
    )


def reference_date() -> date:
    """The date the synthetic cohort is generated "as of" (all dates lie before it)."""
    return REFERENCE_DATE.date()
