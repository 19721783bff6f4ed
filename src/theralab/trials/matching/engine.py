"""Explainable patient-trial matching: each criterion met / not met / not enough information, with evidence.

Why three values: a silent "eligible" for a patient whose record lacks the lab a trial asks for is
the error recruitment cannot afford, so every check answers True, False or None (not enough
information), and criteria combine them with Kleene logic (``None AND False`` is False,
``None OR True`` is True). Inclusion criteria must be met; an exclusion criterion that is met
excludes. A patient is *eligible* when no criterion fails and none is unknown, *ineligible* when one
fails, and *not enough information* otherwise.

How: :func:`plan` turns a :class:`~theralab.trials.criteria.schemas.Criteria` into atoms (one SQL
query each, :mod:`theralab.trials.matching.atoms`). :func:`evaluate_cohort` runs every atom once for
the whole cohort (sets of patient ids), which gives the funnel and the ranked list;
:func:`explain_patient` runs the same queries for one patient and keeps the rows as evidence, then
reads the notes (ConText) and, if configured, asks an LLM about what is still unknown.

Example::

    with session_scope() as s:
        cohort = evaluate_cohort(s, criteria, at=date(2025, 1, 1))
        cohort.funnel()            # how many each criterion removes, in order
        cohort.ranked(limit=20)    # eligible first, then by criteria passed
        explain_patient(s, criteria, "patient-id", at=date(2025, 1, 1)).criteria[0].reason
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.ehr.patients import as_datetime
from theralab.trials.criteria.schemas import CORE_TYPES, Criteria, Criterion, Logic
from theralab.trials.matching.atoms import Atom, entity_atom
from theralab.trials.matching.evaluate import AtomContext, State, eval_atom, kleene
from theralab.trials.matching.schemas import (
    CheckResult,
    CriterionResult,
    Eligibility,
    Evidence,
    Outcome,
    PatientMatch,
    Status,
)

_GROUP_RE = re.compile(r"\b(any|one|either|at least one)\b[^.]*\bof\b", re.I)


@dataclass
class CriterionPlan:
    """A criterion ready to evaluate: its atoms and the AND/OR expression over their ids."""

    criterion: Criterion
    atoms: dict[str, Atom]
    expr: Any  # atom id, or ("AND"|"OR", [expr, ...]); None: nothing structured to check
    grouped: list[str] = field(default_factory=list)  # child criteria OR-ed into this one
    skipped: str = ""  # a header whose children are evaluated on their own


def _logic_expr(logic: Logic | None) -> Any:
    if logic is None:
        return None
    return (logic.op, [a if isinstance(a, str) else _logic_expr(a) for a in logic.args])


#: Words a parser sometimes tags as an entity that name no concept ("History of asthma" -> "History").
CONTEXT_WORDS = frozenset({"history", "past history", "medical history", "past medical history", "prior", "previous",
                           "current", "known", "documented", "diagnosis", "diagnosed", "evidence", "presence"})


def _is_context_word(e: Any) -> bool:
    return not e.codes and " ".join(e.text.lower().split()).strip(" .,:;") in CONTEXT_WORDS


def _criterion_expr(c: Criterion) -> tuple[dict[str, Atom], Any]:
    atoms: dict[str, Atom] = {}
    parts: list[Any] = []
    core = [e for e in c.entities if e.type in CORE_TYPES and not _is_context_word(e)]
    for e in core:
        atoms[e.id] = entity_atom(e)
    expr = _logic_expr(c.logic)
    mentioned = set(c.logic.entity_ids()) if c.logic else set()
    expr = _prune(expr, set(atoms))
    extra = [e.id for e in core if e.id not in mentioned]
    if extra:  # entities added by a correction without logic: the parser's default list conjunction
        op = "OR" if c.kind == "exclusion" else "AND"
        expr = (op, ([expr] if expr is not None else []) + extra)
    if expr is not None:
        parts.append(expr)
    if c.age is not None and (c.age.min_years is not None or c.age.max_years is not None):
        atoms[f"{c.id}:age"] = Atom(f"{c.id}:age", "age", "age", age=c.age)
        parts.append(f"{c.id}:age")
    if c.sex in ("female", "male"):
        atoms[f"{c.id}:sex"] = Atom(f"{c.id}:sex", "sex", "sex", sex=c.sex)
        parts.append(f"{c.id}:sex")
    if not parts:
        return atoms, None
    return atoms, parts[0] if len(parts) == 1 else ("AND", parts)


def _prune(expr: Any, known: set[str]) -> Any:
    """Drop ids that are not core entities (a stale logic after an edit) and empty groups."""
    if expr is None or isinstance(expr, str):
        return expr if expr is None or expr in known else None
    args = [a for a in (_prune(x, known) for x in expr[1]) if a is not None]
    if not args:
        return None
    return args[0] if len(args) == 1 else (expr[0], args)


def plan(criteria: Criteria) -> list[CriterionPlan]:
    """Criteria -> plans, in order (inclusion and exclusion as listed).

    A criterion with nothing structured to check but with sub-criteria is a header: when it says
    "any of / one of the following", its children are OR-ed into it; otherwise it is skipped and each
    child counts on its own. Overall age and sex rules that no criterion carries become criteria.
    """
    children: dict[str, list[Criterion]] = {}
    for c in criteria.criteria:
        if c.parent:
            children.setdefault(c.parent, []).append(c)
    plans: list[CriterionPlan] = []
    grouped_ids: set[str] = set()
    for c in criteria.criteria:
        if c.id in grouped_ids:
            continue
        atoms, expr = _criterion_expr(c)
        p = CriterionPlan(c, atoms, expr)
        kids = children.get(c.id, [])
        if expr is None and kids:
            if _GROUP_RE.search(c.text):
                sub = []
                for k in kids:
                    k_atoms, k_expr = _criterion_expr(k)
                    p.atoms.update(k_atoms)
                    sub.append(k_expr)
                    grouped_ids.add(k.id)
                    p.grouped.append(k.id)
                p.expr = None if any(s is None for s in sub) else ("OR", sub)
            else:
                p.skipped = "header: its sub-criteria are evaluated one by one"
        plans.append(p)
    has_age = any(a.kind == "age" for p in plans for a in p.atoms.values())
    has_sex = any(a.kind == "sex" for p in plans for a in p.atoms.values())
    if criteria.age and not has_age and (criteria.age.min_years is not None or criteria.age.max_years is not None):
        crit = Criterion(id="age", kind="inclusion", text=f"Age {criteria.age.text or ''}".strip(), age=criteria.age)
        plans.insert(0, CriterionPlan(crit, {"age": Atom("age", "age", "age", age=criteria.age)}, "age"))
    if criteria.sex in ("female", "male") and not has_sex:
        crit = Criterion(id="sex", kind="inclusion", text=f"Sex: {criteria.sex}", sex=criteria.sex)
        plans.insert(0, CriterionPlan(crit, {"sex": Atom("sex", "sex", "sex", sex=criteria.sex)}, "sex"))
    return plans


def criterion_outcome(kind: str, status: Status) -> Outcome:
    if status == "unknown":
        return "unknown"
    return "pass" if (status == "met") == (kind == "inclusion") else "fail"


def _status(pid: str, st: State) -> Status:
    return "met" if pid in st.t else "not_met" if pid in st.f else "unknown"


def _alive(session: Session, at: datetime, ids: list[str] | None) -> tuple[set[str], set[str], set[str]]:
    """(alive, deceased, not yet born) at ``at``: a cohort is the patients alive *and born* at its index date.

    A patient born after the date is in neither the cohort nor the deceased count (a funnel at a past
    date must not count people who did not exist yet).
    """
    p = store.PatientRow
    q = select(p.id, p.deceased, p.deceased_at, p.birth_date)
    if ids is not None:
        q = q.where(p.id.in_(ids))
    alive, dead, unborn = set(), set(), set()
    for pid, deceased, when, born in session.execute(q):
        if born is not None and born > at.date():
            unborn.add(pid)
            continue
        gone = (when is not None and when <= at) or (deceased and when is None)
        (dead if gone else alive).add(pid)
    return alive, dead, unborn


def _with_data(session: Session, universe: set[str], ids: list[str] | None) -> tuple[set[str], set[str]]:
    """Patients with any clinical row, and patients with any family-history row (closed-world scopes).

    One ``EXISTS`` probe per patient and table on the ``patient_id`` indexes: far cheaper than a
    ``DISTINCT`` over millions of observation rows.
    """
    from sqlalchemy import exists

    p = store.PatientRow
    clinical = [exists().where(t.patient_id == p.id) for t in (
        store.ObservationRow, store.ConditionRow, store.EncounterRow, store.MedicationRow, store.ProcedureRow)]
    q = select(p.id).where(or_(*clinical))
    fam = select(p.id).where(exists().where(store.FamilyHistoryRow.patient_id == p.id))
    if ids is not None:
        q, fam = q.where(p.id.in_(ids)), fam.where(p.id.in_(ids))
    return set(session.scalars(q)) & universe, set(session.scalars(fam)) & universe


@dataclass
class CohortEvaluation:
    """Every criterion evaluated on a cohort (sets of patient ids), the basis of the funnel and the ranking."""

    trial_id: str | None
    version: int | None
    at: date
    plans: list[CriterionPlan]
    universe: set[str]
    deceased: set[str]
    states: dict[str, State]
    not_yet_born: set[str] = field(default_factory=set)

    def active_plans(self) -> list[CriterionPlan]:
        """Plans that count (headers skipped)."""
        return [p for p in self.plans if not p.skipped]

    def outcome_sets(self, p: CriterionPlan) -> tuple[set[str], set[str], set[str]]:
        """(pass, fail, unknown) patient sets for one criterion."""
        st = self.states[p.criterion.id]
        if p.criterion.kind == "inclusion":
            return st.t, st.f, st.u
        return st.f, st.t, st.u

    def counts(self) -> list[dict[str, Any]]:
        """Per criterion, on the whole cohort: met / not met / unknown and pass / fail counts."""
        out = []
        for p in self.active_plans():
            st = self.states[p.criterion.id]
            ok, bad, unk = self.outcome_sets(p)
            out.append({"criterion_id": p.criterion.id, "kind": p.criterion.kind, "text": p.criterion.text,
                        "met": len(st.t), "not_met": len(st.f), "unknown": len(st.u),
                        "pass": len(ok), "fail": len(bad)})
        return out

    def funnel(self) -> dict[str, Any]:
        """How many patients each criterion removes, applied in order, and what is left at the end."""
        remaining = set(self.universe)
        steps = []
        unknown_any: set[str] = set()
        for p in self.active_plans():
            ok, bad, unk = self.outcome_sets(p)
            removed = remaining & bad
            remaining -= removed
            unknown_any |= unk
            steps.append({"criterion_id": p.criterion.id, "kind": p.criterion.kind, "text": p.criterion.text,
                          "removed": len(removed), "remaining": len(remaining),
                          "unknown_among_remaining": len(remaining & unk)})
        eligible = remaining - unknown_any
        return {"trial_id": self.trial_id, "version": self.version, "at": self.at.isoformat(),
                "patients": len(self.universe) + len(self.deceased), "deceased": len(self.deceased),
                "not_yet_born": len(self.not_yet_born),
                "start": len(self.universe), "steps": steps, "eligible": len(eligible),
                "not_enough_information": len(remaining - eligible),
                "ineligible": len(self.universe) - len(remaining)}

    def tallies(self) -> dict[str, tuple[int, int, int]]:
        """patient id -> (passed, failed, unknown) criteria."""
        n = {pid: [0, 0, 0] for pid in self.universe}
        for p in self.active_plans():
            for k, s in enumerate(self.outcome_sets(p)):
                for pid in s:
                    n[pid][k] += 1
        return {pid: (a, b, c) for pid, (a, b, c) in n.items()}

    def ranked(self, limit: int | None = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Patients ranked: eligible, then not enough information, then ineligible; within each by share passed."""
        total = max(1, len(self.active_plans()))
        rows = []
        for pid, (a, b, c) in self.tallies().items():
            elig = "ineligible" if b else "unknown" if c else "eligible"
            rows.append({"patient_id": pid, "eligibility": elig, "score": round(a / total, 4),
                         "passed": a, "failed": b, "unknown": c})
        order = {"eligible": 0, "unknown": 1, "ineligible": 2}
        rows.sort(key=lambda r: (order[r["eligibility"]], -r["score"], r["failed"], r["patient_id"]))
        return rows[offset:offset + limit] if limit is not None else rows[offset:]

    def status_of(self, pid: str) -> dict[str, Status]:
        """criterion id -> status for one patient of the cohort."""
        return {p.criterion.id: _status(pid, self.states[p.criterion.id]) for p in self.active_plans()}


def evaluate_cohort(session: Session, criteria: Criteria, *, at: date | datetime | None = None,
                    patient_ids: list[str] | None = None, trial_id: str | None = None,
                    version: int | None = None) -> CohortEvaluation:
    """Evaluate every criterion on every patient (or on ``patient_ids``) with one query per atom.

    Args:
        session: a database session with the ``ehr_*`` tables.
        criteria: the structured criteria (a parse, possibly corrected).
        at: the evaluation date (default: now); ages, active conditions and drugs, windows count from it.
        patient_ids: restrict to these patients.
        trial_id, version: carried into results.
    """
    when = as_datetime(at)
    plans = plan(criteria)
    universe, dead, unborn = _alive(session, when, patient_ids)
    has_data, has_family = _with_data(session, universe, patient_ids)
    ctx = AtomContext(session, when, universe, has_data, has_family)
    states: dict[str, State] = {}
    for p in plans:
        atom_states = {aid: eval_atom(a, ctx) for aid, a in p.atoms.items()}
        states[p.criterion.id] = kleene(p.expr, atom_states, universe)
    return CohortEvaluation(trial_id or criteria.trial_id, version, when.date(), plans, universe, dead, states,
                            not_yet_born=unborn)


def explain_patient(session: Session, criteria: Criteria, patient_id: str, *, at: date | datetime | None = None,
                    notes: bool = True, judge: Any = None, trial_id: str | None = None,
                    version: int | None = None) -> PatientMatch:
    """Criterion-by-criterion explanation for one patient, with the evidence rows and note sentences.

    Args:
        notes: read the patient's notes (ConText) for what the coded record leaves unknown, and flag
            a coded absence that a note contradicts as unknown.
        judge: an optional LLM judge (:class:`theralab.trials.matching.llm.LLMJudge`) asked about criteria that
            remain unknown; off unless given.

    Raises:
        NotFoundError: when the patient is not in the record.
    """
    from theralab.errors import NotFoundError
    from theralab.trials.matching.evaluate import explain_states

    if session.get(store.PatientRow, patient_id) is None:
        raise NotFoundError(f"no patient {patient_id!r}", where="patient_id",
                            hint="import FHIR with 'theralab ehr import' or list patients with 'theralab ehr patients'")
    when = as_datetime(at)
    plans = plan(criteria)
    universe, dead, unborn = _alive(session, when, [patient_id])
    if dead or unborn:
        universe = {patient_id}  # explain anyway; eligibility says deceased / not yet born below
    has_data, has_family = _with_data(session, universe, [patient_id])
    ctx = AtomContext(session, when, universe, has_data, has_family, patient_id=patient_id, use_notes=notes)
    results: list[CriterionResult] = []
    for p in plans:
        if p.skipped:
            continue
        atom_states, checks = explain_states(p, ctx)
        st = kleene(p.expr, atom_states, universe)
        status = _status(patient_id, st)
        reason = "; ".join(f"{c.question}: {c.status.replace('_', ' ')}" for c in checks) if checks else \
            "nothing in this criterion maps to coded data (free text)"
        crit = CriterionResult(criterion_id=p.criterion.id, kind=p.criterion.kind, text=p.criterion.text,
                               status=status, outcome=criterion_outcome(p.criterion.kind, status), reason=reason,
                               checks=checks, grouped=p.grouped)
        if status == "unknown" and judge is not None:
            crit = judge.refine(session, patient_id, crit, when)
        results.append(crit)
    a = sum(r.outcome == "pass" for r in results)
    b = sum(r.outcome == "fail" for r in results)
    c = sum(r.outcome == "unknown" for r in results)
    elig: Eligibility = "ineligible" if b or dead or unborn else "unknown" if c else "eligible"
    if unborn:
        results.insert(0, CriterionResult(criterion_id="born", kind="inclusion", text="Born at the evaluation date",
                                          status="not_met", outcome="fail",
                                          reason=f"the record says the patient was born after {when.date()}"))
    if dead:
        results.insert(0, CriterionResult(criterion_id="alive", kind="inclusion", text="Alive at the evaluation date",
                                          status="not_met", outcome="fail", reason="the record says the patient died"))
    return PatientMatch(patient_id=patient_id, trial_id=trial_id or criteria.trial_id, version=version,
                        at=when.date(), eligibility=elig, score=round(a / max(1, len(results)), 4),
                        passed=a, failed=b, unknown=c, criteria=results)


def rank_trials(session: Session, patient_id: str, *, at: date | datetime | None = None,
                notes: bool = False) -> list[PatientMatch]:
    """Every stored trial for one patient, best first (eligible, then not enough information, then ineligible)."""
    from theralab.trials.tables import TrialRow, current_criteria

    out = []
    for tid in session.scalars(select(TrialRow.id).order_by(TrialRow.id)):
        crit, version = current_criteria(session, tid)
        out.append(explain_patient(session, crit, patient_id, at=at, notes=notes, trial_id=tid, version=version))
    order = {"eligible": 0, "unknown": 1, "ineligible": 2}
    out.sort(key=lambda m: (order[m.eligibility], -m.score, m.failed, m.trial_id or ""))
    return out


def refine_ranked(session: Session, criteria: Criteria, rows: list[dict[str, Any]], *,
                  at: date | datetime | None = None) -> list[dict[str, Any]]:
    """Re-judge listed patients with their notes (the cohort pass is coded data only) and re-sort them."""
    out = []
    for r in rows:
        m = explain_patient(session, criteria, r["patient_id"], at=at, notes=True)
        out.append({**r, "eligibility": m.eligibility, "score": m.score, "passed": m.passed, "failed": m.failed,
                    "unknown": m.unknown, "notes_used": True})
    order = {"eligible": 0, "unknown": 1, "ineligible": 2}
    out.sort(key=lambda r: (order[r["eligibility"]], -r["score"], r["failed"], r["patient_id"]))
    return out


__all__ = ["CheckResult", "CohortEvaluation", "CriterionPlan", "CriterionResult", "Evidence", "PatientMatch",
           "evaluate_cohort", "explain_patient", "plan", "rank_trials", "refine_ranked"]
