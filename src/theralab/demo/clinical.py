"""Demo clinical data beyond the cohort: allergies, PGx calls from a VCF, trials with criteria, AE reports.

Each part goes through the feature it demonstrates, so the pages show what a user would get:

* allergies are FHIR ``AllergyIntolerance`` resources imported by the EHR importer;
* PGx: the demo writes a small GRCh38 VCF that encodes each ward patient's CYP2C19, CYP2C9 and
  SLCO1B1 diplotypes (from the shipped allele definitions), calls it with the project's caller
  (:func:`theralab.precision.pgx.report.call_vcf`) and stores the calls with
  :func:`theralab.ehr.patients.save_genotype`, as a VCF upload for a patient does;
* trials: eligibility text parsed by the criteria parser and stored as version 1;
* adverse events: seeded spontaneous reports for a demo trial, screened by
  :func:`theralab.trials.safety.monitor.screen_reports`, which raises the signal alerts.

All of it is idempotent: fixed ids (uuid5), upserts, and a part that already ran is skipped.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

PGX_GENES = ("CYP2C19", "CYP2C9", "SLCO1B1")
CONTIGS = {"chr10": 133797422, "chr12": 133275309}
ALLERGIES = [  # ward bed index -> (SNOMED code, substance, criticality, category)
    (0, "764146007", "Penicillin", "high", "medication"),
    (2, "387207008", "Ibuprofen", "low", "medication"),
    (2, "91935009", "Peanut", "high", "food"),
    (5, "111088007", "Latex", "low", "environment"),
]
MEDICATIONS = [  # ward bed index -> (RxNorm, drug, dosage): drugs with a CPIC guideline, for the PGx review
    (0, "32968", "clopidogrel 75 MG Oral Tablet", "75 mg once daily"),
    (1, "2670", "codeine phosphate 30 MG Oral Tablet", "30 mg every 6 hours as needed for pain"),
]
TRIALS = [
    ("DEMO-T2D-01", "Add-on therapy in type 2 diabetes with suboptimal control", """Inclusion Criteria:
- Adults aged 40 to 80 years
- Type 2 diabetes mellitus
- HbA1c between 7% and 10%
- Taking metformin
Exclusion Criteria:
- eGFR < 30 mL/min/1.73m2
- Current use of warfarin
- History of heart failure
"""),
    ("DEMO-HTN-02", "Blood-pressure lowering in adults with hypertension", """Inclusion Criteria:
- Age 18 years or older
- Essential hypertension
Exclusion Criteria:
- Chronic kidney disease stage 4 or 5
- Pregnancy
"""),
    ("DEMO-AF-03", "Anticoagulation strategy in atrial fibrillation", """Inclusion Criteria:
- Adults aged 50 years or older
- Atrial fibrillation
Exclusion Criteria:
- Current use of warfarin
- eGFR < 15 mL/min/1.73m2
"""),
]
SAFETY_TRIAL = "DEMO-SAFETY-01"
AE_DRUGS = ["theralumab", "demoxetine", "placebo", "metformin", "lisinopril", "atorvastatin"]
AE_EVENTS = ["Headache", "Nausea", "Fatigue", "Dizziness", "Rash", "Diarrhoea", "Cough", "Insomnia",
             "Arthralgia", "Back pain", "Drug-induced liver injury", "Electrocardiogram QT prolonged"]
#: (drug, event, extra reports): the signals the screen should find
AE_EXCESS = [("theralumab", "Drug-induced liver injury", 14), ("demoxetine", "Electrocardiogram QT prolonged", 9)]


def add_allergies(session: Any, ward: list[str]) -> int:
    """Active allergies for a few ward patients, imported as FHIR AllergyIntolerance resources."""
    from theralab.ehr.fhir.ingest import import_resources

    resources = []
    for bed, code, name, criticality, category in ALLERGIES:
        if bed >= len(ward):
            continue
        resources.append({
            "resourceType": "AllergyIntolerance",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"theralab:demo:allergy:{ward[bed]}:{code}")),
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                           "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                "code": "confirmed"}]},
            "category": [category], "criticality": criticality,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": name}], "text": name},
            "patient": {"reference": f"Patient/{ward[bed]}"},
        })
    if resources:
        import_resources(resources, session, source="demo:allergies")
    return len(resources)


def add_medications(session: Any, ward: list[str], when: str = "2026-01-01T09:00:00Z") -> int:
    """Active prescriptions with a pharmacogenomic guideline (FHIR MedicationRequest), for the PGx review.

    Codeine goes to a patient without a CYP2D6 result on purpose: the PGx page must say "no result -
    cannot advise", never "no change needed".
    """
    from theralab.ehr.fhir.ingest import import_resources

    resources = []
    for bed, rxcui, name, dosage in MEDICATIONS:
        if bed >= len(ward):
            continue
        resources.append({
            "resourceType": "MedicationRequest",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"theralab:demo:medication:{ward[bed]}:{rxcui}")),
            "status": "active", "intent": "order", "authoredOn": when,
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": rxcui, "display": name}], "text": name},
            "subject": {"reference": f"Patient/{ward[bed]}"},
            "dosageInstruction": [{"text": dosage}],
        })
    if resources:
        import_resources(resources, session, source="demo:medications")
    return len(resources)


def _gt_index(base: str, ref: str, alts: tuple[str, ...]) -> int:
    from theralab.precision.pgx.definitions import IUPAC

    if base == ref:
        return 0
    if base in alts:
        return 1 + alts.index(base)
    allowed = IUPAC.get(base, frozenset())
    return next((1 + k for k, alt in enumerate(alts) if alt in allowed), 0)


def write_pgx_vcf(path: Path, diplotypes: dict[str, dict[str, tuple[str, str]]]) -> Path:
    """A phased GRCh38 VCF with every defined position of ``PGX_GENES`` for each sample.

    ``diplotypes``: sample -> gene -> (allele 1, allele 2), star-allele names of the shipped definitions.
    """
    from theralab.precision.pgx.definitions import get_gene

    samples = list(diplotypes)
    records = []
    for gene in PGX_GENES:
        d = get_gene(gene)
        cells = {}
        for sample in samples:
            a1, a2 = diplotypes[sample].get(gene, ("*1", "*1"))
            cells[sample] = [d.allele(a).variant_cells(d.positions) for a in (a1, a2)]
        for p in d.positions:
            gts = []
            for sample in samples:
                idx = [_gt_index(strand.get(p.index, p.ref), p.ref, p.alts) for strand in cells[sample]]
                gts.append(f"{idx[0]}|{idx[1]}:1")
            records.append((p.chrom, p.pos, "\t".join([p.chrom, str(p.pos), p.rsid or ".", p.ref, ",".join(p.alts),
                                                       ".", "PASS", ".", "GT:PS", *gts])))
    header = ["##fileformat=VCFv4.2", "##reference=GRCh38",
              *(f"##contig=<ID={c},length={n}>" for c, n in CONTIGS.items()),
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">',
              "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples])]
    order = {c: k for k, c in enumerate(CONTIGS)}
    body = [line for _, _, line in sorted(records, key=lambda r: (order.get(r[0], 99), r[1]))]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header + body) + "\n")
    return path


def add_pgx_results(session: Any, ward: list[str], folder: Path) -> dict[str, Any]:
    """Call a VCF of the ward patients' diplotypes and store each gene call with the patient."""
    from theralab.ehr.patients import load_patients, save_genotype
    from theralab.precision.pgx.report import call_vcf

    diplotypes: dict[str, dict[str, tuple[str, str]]] = {}
    for record in load_patients(session, ward):
        genes = {}
        for g in record.genotypes:
            if g.gene in PGX_GENES and g.diplotype and "/" in g.diplotype:
                a1, a2 = g.diplotype.split("/", 1)
                genes[g.gene] = (a1, a2)
        diplotypes[record.id] = genes
    if not diplotypes:
        return {"samples": 0}
    vcf = write_pgx_vcf(folder / "demo_ward_pgx.vcf", diplotypes)
    stored = 0
    for result in call_vcf(vcf, all_samples=True, genes=PGX_GENES, build="GRCh38"):
        for gene, call in result.calls.items():
            pheno = result.phenotypes.get(gene)
            diplotype = call.diplotypes[0].name if call.called and call.diplotypes else None
            save_genotype(session, result.sample, gene, diplotype,
                          phenotype=pheno.phenotype if pheno else None,
                          activity_score=pheno.activity_score if pheno else None,
                          source="vcf", method=f"theralab pgx caller ({vcf.name})")
            stored += 1
    return {"samples": len(diplotypes), "calls": stored, "vcf": str(vcf)}


def add_trials(session: Any) -> list[str]:
    """Parse and store the demo trials' eligibility criteria (skipping trials already stored)."""
    from theralab.trials.criteria.parse import parse_criteria
    from theralab.trials.tables import TrialRow, add_trial

    added = []
    for trial_id, title, text in TRIALS:
        if session.get(TrialRow, trial_id) is not None:
            continue
        add_trial(session, trial_id, parse_criteria(text, trial_id=trial_id), title=title, author="demo")
        added.append(trial_id)
    return added


def ae_reports(seed: int = 7, n: int = 900) -> list[dict[str, str]]:
    """Seeded spontaneous adverse-event reports (one row per report x drug x event) with two planted signals."""
    rng = random.Random(seed)
    rows = []
    weights = [18, 14, 12, 10, 6, 8, 7, 6, 5, 5, 1, 1]
    for i in range(n):
        drug = rng.choice(AE_DRUGS)
        for event in set(rng.choices(AE_EVENTS, weights=weights, k=rng.randint(1, 2))):
            rows.append({"id": f"AE-{i:05d}", "drug": drug, "event": event})
    for drug, event, extra in AE_EXCESS:
        for k in range(extra):
            rows.append({"id": f"AE-X-{drug[:4]}-{k:03d}", "drug": drug, "event": event})
    return rows


def add_safety_signals(session: Any, folder: Path, seed: int = 7) -> dict[str, Any]:
    """Write the AE reports as CSV (to upload on the safety page) and screen them once for the demo trial."""
    import pandas as pd

    from theralab.runtime.alerts import Alert
    from theralab.trials.safety.monitor import screen_reports

    frame = pd.DataFrame(ae_reports(seed))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo_ae_reports.csv"
    frame.to_csv(path, index=False)
    if session.scalar(select(Alert.id).where(Alert.domain == "trials", Alert.subject == SAFETY_TRIAL).limit(1)):
        return {"reports": int(frame["id"].nunique()), "csv": str(path), "signals": "already screened"}
    table = screen_reports(session, frame, SAFETY_TRIAL)
    return {"reports": int(frame["id"].nunique()), "csv": str(path), "signals": int(table["evans_signal"].sum())}
