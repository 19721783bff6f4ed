"""Vocabulary of the synthetic cohort: codes, prevalences, allele frequencies, and two formulas.

Kept apart from the generator so tests and other domains (trial matching, PGx) can read the
truth tables - which SNOMED code means which condition, which RxNorm drug treats it, which
phenotype a diplotype has - without running the generator.
"""

from __future__ import annotations

from datetime import UTC, datetime

from theralab.ehr.terminology import SYSTEMS

SCT, LNC, RXN = SYSTEMS["snomed"], SYSTEMS["loinc"], SYSTEMS["rxnorm"]
UCUM = "http://unitsofmeasure.org"
REFERENCE_DATE = datetime(2025, 1, 1, tzinfo=UTC)

# key: (SNOMED code, display, base prevalence, per-decade increase over 40, sex or None)
CONDITIONS: dict[str, tuple[str, str, float, float, str | None]] = {
    "hypertension": ("59621000", "Essential hypertension (disorder)", 0.10, 0.08, None),
    "diabetes": ("44054006", "Diabetes mellitus type 2 (disorder)", 0.05, 0.03, None),
    "prediabetes": ("15777000", "Prediabetes (finding)", 0.10, 0.01, None),
    "af": ("49436004", "Atrial fibrillation (disorder)", 0.005, 0.025, None),
    "asthma": ("195967001", "Asthma (disorder)", 0.08, 0.0, None),
    "hyperlipidemia": ("55822004", "Hyperlipidemia (disorder)", 0.10, 0.04, None),
    "heart_failure": ("88805009", "Chronic congestive heart failure (disorder)", 0.005, 0.01, None),
    "breast_cancer": ("254837009", "Malignant neoplasm of breast (disorder)", 0.01, 0.01, "female"),
    "lung_cancer": ("254637007", "Non-small cell lung cancer (disorder)", 0.002, 0.004, None),
    "colon_cancer": ("363406005", "Malignant tumor of colon (disorder)", 0.002, 0.003, None),
    "prostate_cancer": ("399068003", "Malignant tumor of prostate (disorder)", 0.0, 0.015, "male"),
    "depression": ("370143000", "Major depressive disorder (disorder)", 0.07, 0.0, None),
}
CKD_STAGES = {  # eGFR lower bound -> (code, display)
    3: ("433144002", "Chronic kidney disease stage 3 (disorder)"),
    4: ("431857002", "Chronic kidney disease stage 4 (disorder)"),
    5: ("433146000", "Chronic kidney disease stage 5 (disorder)"),
}
MEDICATIONS: dict[str, list[tuple[str, str]]] = {
    "hypertension": [
        ("314076", "lisinopril 10 MG Oral Tablet"),
        ("197361", "Amlodipine 5 MG Oral Tablet"),
        ("310798", "Hydrochlorothiazide 25 MG Oral Tablet"),
    ],
    "diabetes": [("860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet")],
    "hyperlipidemia": [
        ("312961", "Simvastatin 20 MG Oral Tablet"),
        ("259255", "Atorvastatin 80 MG Oral Tablet"),
    ],
    "af": [("855332", "Warfarin Sodium 5 MG Oral Tablet")],
    "asthma": [
        ("895994", "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler"),
        ("2123111", "NDA020503 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"),
    ],
    "heart_failure": [("866412", "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet")],
    "cad": [("309362", "Clopidogrel 75 MG Oral Tablet")],
    "lung_cancer": [("1736854", "Cisplatin 50 MG Injection"), ("583214", "PACLitaxel 100 MG Injection")],
}
# gene -> [(allele, frequency, function value)], with the phenotype rule below
ALLELES: dict[str, list[tuple[str, float, float]]] = {
    "CYP2C19": [("*1", 0.64, 1.0), ("*2", 0.15, 0.0), ("*17", 0.21, 1.5)],
    "CYP2C9": [("*1", 0.80, 1.0), ("*2", 0.13, 0.5), ("*3", 0.07, 0.0)],
    "SLCO1B1": [("*1", 0.83, 1.0), ("*5", 0.02, 0.0), ("*15", 0.15, 0.0)],
}
HGNC = {"CYP2C19": "HGNC:2621", "CYP2C9": "HGNC:2623", "SLCO1B1": "HGNC:10959"}
FIRST = {
    "female": ["Anna", "Maria", "Sofia", "Emma", "Olivia", "Grace", "Chloe", "Ines"],
    "male": ["James", "Lucas", "Noah", "Omar", "Liam", "Mateo", "Ethan", "Hugo"],
}
LAST = ["Smith", "Garcia", "Nguyen", "Muller", "Rossi", "Kowalski", "Okafor", "Larsen", "Silva", "Tanaka"]
RELATIVES = [("MTH", "mother"), ("FTH", "father"), ("SIS", "sister"), ("BRO", "brother")]
FAMILY_CONDITIONS = ["breast_cancer", "diabetes", "colon_cancer", "af", "hypertension"]


def phenotype(gene: str, a1: str, a2: str) -> tuple[str, float | None]:
    """CPIC phenotype (and CYP2C9 activity score) of a diplotype of the three simulated genes."""
    f = {a: v for a, _, v in ALLELES[gene]}
    if gene == "CYP2C19":
        pair = sorted((a1, a2))
        if pair == ["*1", "*1"]:
            return "Normal Metabolizer", None
        if "*2" in pair:
            return ("Poor Metabolizer" if pair == ["*2", "*2"] else "Intermediate Metabolizer"), None
        return ("Ultrarapid Metabolizer" if pair == ["*17", "*17"] else "Rapid Metabolizer"), None
    if gene == "CYP2C9":
        score = f[a1] + f[a2]
        label = "Normal Metabolizer" if score == 2 else "Intermediate Metabolizer" if score >= 1 else "Poor Metabolizer"
        return label, score
    no_function = (f[a1] == 0) + (f[a2] == 0)
    return ["Normal Function", "Decreased Function", "Poor Function"][no_function], None


def egfr_ckd_epi_2021(creatinine_mg_dl: float, age: int, female: bool) -> float:
    """eGFR (mL/min/1.73 m2) by the race-free CKD-EPI 2021 creatinine equation (Inker et al., NEJM 2021)."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine_mg_dl / kappa
    return 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age * (1.012 if female else 1.0)


NOTE_NAMES = {
    "af": "atrial fibrillation",
    "diabetes": "type 2 diabetes",
    "hypertension": "hypertension",
    "breast_cancer": "breast cancer",
    "colon_cancer": "colon cancer",
    "asthma": "asthma",
    "heart_failure": "heart failure",
    "lung_cancer": "lung cancer",
    "depression": "depression",
    "hyperlipidemia": "hyperlipidemia",
    "prostate_cancer": "prostate cancer",
    "prediabetes": "prediabetes",
}
