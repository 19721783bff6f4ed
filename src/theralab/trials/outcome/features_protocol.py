"""Eligibility and design features: what the criteria ask of patients and how the trial is built.

Eligibility block, from the project's criteria parser (:func:`theralab.trials.criteria.parse_criteria`):
criteria per kind, entities per type and kind (conditions, drugs, procedures, measurements...),
lab thresholds (measurements with a numeric constraint, and how many are relative to ULN/LLN),
temporal windows, negated and unmapped entities, age limits (NaN when none is stated) and sex,
and complexity (characters, words, mean criterion length, nesting, OR-logic). When the text is
empty or does not parse, ``elig_parsed=0`` and only the text-level counts are filled, with a note.

Design block: phase (ordinal and one-hot), arms, log enrolment, duration in months, each NaN
when the record does not say (TOP records never do) with ``design_*_missing`` flags.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from theralab.errors import InputError
from theralab.trials.outcome.schemas import PHASES, TrialRecord

ENTITY_TYPES = ("condition", "drug", "procedure", "measurement", "device", "observation", "person", "value",
                "temporal", "qualifier")
_PHASE_NUM = {"early phase 1": 0.5, "phase 1": 1.0, "phase 1/phase 2": 1.5, "phase 2": 2.0,
              "phase 2/phase 3": 2.5, "phase 3": 3.0, "phase 4": 4.0}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# "Exclusion Criteria (patients meeting any of the following are ineligible ...):" is too long for the
# parser's header rule (at most five words), so its criteria would count as inclusion; shorten it first.
_LONG_HEADER = re.compile(r"(?i)\b(inclusion|exclusion)\s+criteria\s*\([^)]{0,300}\)\s*:")
# TOP often glues the first bullet to its header ("Exclusion Criteria:- DSM-IV-TR diagnosis ..."): the line is
# then too long to be a header, and every exclusion would count as inclusion. Break the line after the colon.
_GLUED = re.compile(r"(?i)\b((?:inclusion|exclusion)\s+criteria\s*:)[ \t]*(?=\S)")


def normalize_headers(text: str) -> str:
    """Shorten parenthesised section headers and put a header's glued first criterion on its own line."""
    text = _LONG_HEADER.sub(lambda m: f"{m.group(1).capitalize()} Criteria:", text)
    return _GLUED.sub(lambda m: m.group(1) + "\n", text)


def eligibility_columns() -> list[str]:
    """Names of the eligibility-block columns, in order."""
    cols = ["elig_parsed", "elig_chars", "elig_words", "elig_lines", "elig_numbers", "elig_n_inclusion",
            "elig_n_exclusion", "elig_n_criteria", "elig_mean_len", "elig_max_level", "elig_n_or",
            "elig_n_lab_thresholds", "elig_n_relative_uln", "elig_n_temporal", "elig_n_negated", "elig_n_unmapped",
            "elig_age_min", "elig_age_max", "elig_age_span", "elig_age_missing", "elig_sex_female",
            "elig_sex_male", "elig_n_no_entity"]
    for kind in ("inc", "exc"):
        cols += [f"elig_{kind}_{t}" for t in ENTITY_TYPES]
    return cols


def text_features(text: str) -> dict[str, float]:
    """The text-level counts every trial gets, parsed or not."""
    return {"elig_chars": float(len(text)), "elig_words": float(len(text.split())),
            "elig_lines": float(sum(1 for ln in text.splitlines() if ln.strip())),
            "elig_numbers": float(len(_NUMBER.findall(text)))}


def parse_eligibility(text: str, trial_id: str | None = None) -> tuple[Any | None, str | None]:
    """(parsed :class:`~theralab.trials.criteria.Criteria`, None) or (None, reason it did not parse)."""
    from theralab.trials.criteria import parse_criteria

    if not text or not text.strip():
        return None, "no eligibility criteria text"
    try:
        return parse_criteria(normalize_headers(text), trial_id=trial_id), None
    except InputError as exc:
        return None, exc.message


def eligibility_features(criteria: Any | None, text: str,
                         reason: str | None = None) -> tuple[dict[str, float], list[str]]:
    """The eligibility block from a parsed :class:`Criteria` (or text-only fallback when ``criteria`` is None)."""
    out = {c: math.nan for c in eligibility_columns()}
    out.update(text_features(text))
    if criteria is None:
        out["elig_parsed"] = 0.0
        return out, [f"criteria did not parse ({reason or 'unknown reason'}): text-level fallback features only"]
    crits = criteria.criteria
    out.update({"elig_parsed": 1.0, "elig_n_inclusion": float(len(criteria.inclusion())),
                "elig_n_exclusion": float(len(criteria.exclusion())), "elig_n_criteria": float(len(crits)),
                "elig_mean_len": float(np.mean([len(c.text) for c in crits])) if crits else 0.0,
                "elig_max_level": float(max((c.level for c in crits), default=0)),
                "elig_n_no_entity": float(sum(1 for c in crits if not c.entities))})
    counts = {f"elig_{k}_{t}": 0.0 for k in ("inc", "exc") for t in ENTITY_TYPES}
    n_or = n_lab = n_rel = n_temp = n_neg = 0
    for c in crits:
        kind = "inc" if c.kind == "inclusion" else "exc"
        n_or += int(bool(c.logic and (c.logic.op == "OR" or any(getattr(a, "op", "") == "OR" for a in c.logic.args))))
        for e in c.entities:
            key = f"elig_{kind}_{e.type}"
            if key in counts:
                counts[key] += 1
            if e.type == "measurement" and e.constraint is not None:
                n_lab += 1
                n_rel += int(e.constraint.relative_to is not None)
            n_temp += int(e.temporal is not None)
            n_neg += int(e.negated)
    out.update(counts)
    out.update({"elig_n_or": float(n_or), "elig_n_lab_thresholds": float(n_lab), "elig_n_relative_uln": float(n_rel),
                "elig_n_temporal": float(n_temp), "elig_n_negated": float(n_neg),
                "elig_n_unmapped": float(len(criteria.unmapped()))})
    age = criteria.age
    lo = age.min_years if age and age.min_years is not None else math.nan
    hi = age.max_years if age and age.max_years is not None else math.nan
    out.update({"elig_age_min": lo, "elig_age_max": hi,
                "elig_age_span": (hi if hi == hi else 100.0) - (lo if lo == lo else 0.0),
                "elig_age_missing": float(age is None), "elig_sex_female": float(criteria.sex == "female"),
                "elig_sex_male": float(criteria.sex == "male")})
    return out, []


TEXT_HASH_DIM = 256


def text_hash_columns() -> list[str]:
    """Names of the optional hashed criteria-words block."""
    return [f"elig_word_{i}" for i in range(TEXT_HASH_DIM)]


def text_hash_features(texts: list[str]) -> np.ndarray:
    """Which words and word pairs the criteria use, hashed into 256 binary columns (stateless, no vocabulary).

    Numbers are dropped (thresholds are in the parsed block) and English stop words removed; the
    hashing (scikit-learn's ``HashingVectorizer``, MurmurHash3) is the same on every machine, so a
    saved model needs no fitted vocabulary.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(n_features=TEXT_HASH_DIM, ngram_range=(1, 2), alternate_sign=False, norm=None,
                            binary=True, stop_words="english", token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    return vec.transform([t.lower() for t in texts]).toarray()


def design_columns() -> list[str]:
    """Names of the design-block columns, in order."""
    return (["design_phase", "design_arms", "design_log_enrollment", "design_duration_months",
             "design_arms_missing", "design_enrollment_missing", "design_duration_missing"]
            + [f"design_phase_{p.replace(' ', '_').replace('/', '_')}" for p in PHASES])


def design_features(record: TrialRecord) -> tuple[dict[str, float], list[str]]:
    """The design block and a note naming the design factors the record does not give."""
    out = {"design_phase": _PHASE_NUM[record.phase],
           "design_arms": float(record.arms) if record.arms else math.nan,
           "design_log_enrollment": math.log1p(record.enrollment) if record.enrollment else math.nan,
           "design_duration_months": float(record.duration_months) if record.duration_months else math.nan,
           "design_arms_missing": float(record.arms is None),
           "design_enrollment_missing": float(record.enrollment is None),
           "design_duration_missing": float(record.duration_months is None)}
    out.update({f"design_phase_{p.replace(' ', '_').replace('/', '_')}": float(record.phase == p) for p in PHASES})
    missing = [n for n, v in (("arms", record.arms), ("enrollment", record.enrollment),
                              ("duration", record.duration_months)) if v is None]
    notes = [f"design factors not given: {', '.join(missing)}"] if missing else []
    return out, notes
