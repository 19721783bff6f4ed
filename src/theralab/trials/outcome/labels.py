"""Readable names of feature columns, for explanations a sponsor can read."""

from __future__ import annotations

_FIXED = {
    "drug_structure": "drug structure (Morgan fingerprint bits, summed)",
    "disease_categories": "disease ICD-10 categories (hashed, summed)",
    "drug_n": "number of drugs", "drug_n_smiles": "drugs with a structure", "drug_n_bad_smiles": "unreadable SMILES",
    "drug_placebo": "placebo / sham arm", "drug_missing": "no drug structure known",
    "dis_n_diseases": "number of diseases", "dis_n_codes": "number of ICD-10 codes",
    "dis_n_categories": "distinct ICD-10 categories", "dis_n_unknown_codes": "unknown ICD-10 codes",
    "dis_missing": "no ICD-10 code known",
    "elig_parsed": "criteria parsed", "elig_chars": "criteria length (characters)",
    "elig_words": "criteria length (words)", "elig_lines": "criteria lines", "elig_numbers": "numbers in the criteria",
    "elig_n_inclusion": "number of inclusion criteria", "elig_n_exclusion": "number of exclusion criteria",
    "elig_n_criteria": "number of criteria", "elig_mean_len": "mean criterion length",
    "elig_max_level": "nesting depth of criteria", "elig_n_or": "criteria with OR-logic",
    "elig_n_lab_thresholds": "lab thresholds", "elig_n_relative_uln": "thresholds relative to ULN/LLN",
    "elig_n_temporal": "time windows in criteria", "elig_n_negated": "negated entities",
    "elig_n_unmapped": "entities without a code", "elig_age_min": "lower age limit (years)",
    "elig_age_max": "upper age limit (years)", "elig_age_span": "age range width (years)",
    "elig_age_missing": "no age limit stated", "elig_sex_female": "women only", "elig_sex_male": "men only",
    "elig_n_no_entity": "criteria with nothing recognised",
    "design_phase": "phase", "design_arms": "number of arms", "design_log_enrollment": "log enrolment",
    "design_duration_months": "duration (months)",
}
_CHAPTERS = {1: "infections", 2: "neoplasms", 3: "blood/immune", 4: "endocrine/metabolic", 5: "mental",
             6: "nervous system", 7: "eye", 8: "ear", 9: "circulatory", 10: "respiratory", 11: "digestive",
             12: "skin", 13: "musculoskeletal", 14: "genitourinary", 15: "pregnancy", 16: "perinatal",
             17: "congenital", 18: "symptoms/signs", 19: "injury/poisoning", 20: "external causes",
             21: "health-status factors", 22: "special purposes"}


def feature_label(col: str) -> str:
    """A short human name for a feature column (the column name itself when none is known)."""
    if col in _FIXED:
        return _FIXED[col]
    if col.startswith("dis_chapter_"):
        n = int(col.rsplit("_", 1)[1])
        return f"share of codes in ICD-10 chapter {n} ({_CHAPTERS.get(n, '?')})"
    for prefix, word in (("drug_mean_", "mean "), ("drug_max_", "max "), ("admet_mean_", "mean predicted "),
                         ("admet_max_", "max predicted ")):
        if col.startswith(prefix):
            return f"drugs' {word}{col[len(prefix):]}"
    for prefix, word in (("elig_inc_", "inclusion"), ("elig_exc_", "exclusion")):
        if col.startswith(prefix):
            return f"{col[len(prefix):]} entities in {word} criteria"
    if col.startswith("design_phase_"):
        return "phase is " + col[len("design_phase_"):].replace("_", " ")
    return col
