"""Match criteria against a free-text patient description (no coded record), as in TREC Clinical Trials.

Why a separate, simpler path: a TREC topic is a paragraph ("A 45-year-old man with a history of
anaplastic astrocytoma ... s/p radiation"), not a FHIR record, so there is no closed world: a
condition not mentioned is *unknown*, never "absent". Age and sex are read from the text; every
coded or uncoded entity is looked for by its words and code synonyms and read with ConText
(:mod:`theralab.trials.matching.notes`); lab thresholds stay unknown. The same plans and Kleene logic
as the database path decide each criterion, and a patient is predicted *excluded* when any criterion
fails, *eligible* otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from theralab.trials.criteria.schemas import Criteria
from theralab.trials.matching.atoms import Atom, age_bounds
from theralab.trials.matching.engine import criterion_outcome, plan
from theralab.trials.matching.evaluate import State, kleene
from theralab.trials.matching.notes import find_mentions, judge, search_terms

_AGE = re.compile(r"\b(\d{1,3})[- ](?:year|yr)s?[- ]old\b|\bage[d]?\s*(\d{1,3})\b|\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)\b",
                  re.I)
_FEMALE = re.compile(r"\b(woman|female|girl|lady|she|her|mother|pregnant|mrs|ms)\b", re.I)
_MALE = re.compile(r"\b(man|male|boy|gentleman|he|his|him|mr)\b", re.I)
_INFANT = re.compile(r"\b(\d{1,2})[- ](?:month|week|day)s?[- ]old\b", re.I)
PID = "text-patient"


@dataclass
class TextPatient:
    """What is read from a description: age (years), sex, and the text itself."""

    text: str
    age: float | None = None
    sex: str | None = None
    notes: list[tuple[str, Any, str]] = field(default_factory=list)


def read_description(text: str) -> TextPatient:
    """Age and sex from the first mention ("A 58-year-old woman ..."); the text kept for mention search."""
    age = None
    m = _AGE.search(text)
    if m:
        age = float(next(g for g in m.groups() if g))
    elif _INFANT.search(text):
        age = 0.0
    f, ma = len(_FEMALE.findall(text)), len(_MALE.findall(text))
    sex = "female" if f > ma else "male" if ma > f else None
    return TextPatient(text, age, sex, [("description", None, text)])


def _atom_state(atom: Atom, p: TextPatient) -> tuple[State, str]:
    one = {PID}
    none = State(set(), set(), set(one))
    if atom.kind == "age":
        if p.age is None:
            return none, "age not stated"
        lo, hi = age_bounds(atom.age)  # type: ignore[arg-type]
        ok = (lo is None or p.age >= lo) and (hi is None or p.age <= hi)
        st = State(one if ok else set(), set() if ok else one, set())
        return st, f"{p.age:g} years"
    if atom.kind == "sex":
        if p.sex is None:
            return none, "sex not stated"
        ok = p.sex == atom.sex
        return State(one if ok else set(), set() if ok else one, set()), p.sex
    if atom.kind == "measurement" or not atom.terms:
        return none, atom.reason or "values are not read from text"
    mentions = find_mentions(p.notes, search_terms(atom.terms, atom.codes if atom.synonyms else ()))
    verdict, used = judge(mentions, family=atom.family or atom.kind == "family", qualifiers=atom.qualifiers)
    if verdict is None:
        st = none
    else:
        st = State(one if verdict else set(), set() if verdict else one, set())
    if atom.negate:
        st = st.negated()
    return st, (used[0].sentence if used else "not mentioned")


def match_text(criteria: Criteria, text: str) -> dict[str, Any]:
    """Each criterion's status and outcome for a described patient, and the prediction (eligible or excluded).

    Returns:
        ``{"prediction": "eligible"|"excluded", "age", "sex", "criteria": [{id, kind, status, outcome, why}]}``.
    """
    p = read_description(text)
    out = []
    for pl in plan(criteria):
        if pl.skipped:
            continue
        states, why = {}, []
        for aid, atom in pl.atoms.items():
            states[aid], w = _atom_state(atom, p)
            why.append(f"{atom.label}: {w}")
        st = kleene(pl.expr, states, {PID})
        status = "met" if PID in st.t else "not_met" if PID in st.f else "unknown"
        out.append({"id": pl.criterion.id, "kind": pl.criterion.kind, "status": status,
                    "outcome": criterion_outcome(pl.criterion.kind, status), "why": "; ".join(why)})
    failed = [c for c in out if c["outcome"] == "fail"]
    return {"prediction": "excluded" if failed else "eligible", "age": p.age, "sex": p.sex, "criteria": out,
            "failed": [c["id"] for c in failed]}
