"""Run atoms against the database (a cohort or one patient) and combine them with Kleene logic.

One function, :func:`run_atom`, answers an atom for a set of patients; with ``patient_id`` set it
also returns the rows as :class:`~theralab.trials.matching.schemas.Evidence`, and reads the notes.
The cohort pass and the explanation therefore share every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.trials.matching.atoms import (
    Atom,
    age_bounds,
    atom_select,
    clean_display,
    compare,
    constraint_in,
    measurement_status,
)
from theralab.trials.matching.schemas import CheckResult, Evidence

_TABLE = {"condition": store.ConditionRow, "medication": store.MedicationRow, "procedure": store.ProcedureRow,
          "family": store.FamilyHistoryRow, "measurement": store.ObservationRow}
_NOTE_KINDS = ("condition", "family", "medication", "procedure", "unknown")


@dataclass
class State:
    """A three-valued answer over patients: ``t`` true, ``f`` false, ``u`` not enough information."""

    t: set[str]
    f: set[str]
    u: set[str]

    def negated(self) -> State:
        """Swap true and false (unknown stays unknown)."""
        return State(self.f, self.t, self.u)


@dataclass
class AtomContext:
    """What every atom query needs: the session, the date, the patients and the closed-world scopes."""

    session: Session
    at: datetime
    universe: set[str]
    has_data: set[str]
    has_family: set[str]
    patient_id: str | None = None
    use_notes: bool = False
    cache: dict[str, Any] = field(default_factory=dict)
    _notes: list[tuple[str, datetime | None, str]] | None = None

    def notes(self) -> list[tuple[str, datetime | None, str]]:
        """The patient's notes with text, as ``(reference, date, text)`` (loaded once)."""
        if self._notes is None:
            n = store.NoteRow
            rows = self.session.execute(select(n.resource_type, n.id, n.date, n.text)
                                        .where(n.patient_id == self.patient_id, n.text != "")).all()
            self._notes = [(f"{rt}/{i}", d, t) for rt, i, d, t in rows if d is None or d <= self.at]
        return self._notes


def kleene(expr: Any, states: dict[str, State], universe: set[str]) -> State:
    """Combine atom states by an AND/OR expression with Kleene's three-valued logic."""
    if expr is None:
        return State(set(), set(), set(universe))
    if isinstance(expr, str):
        return states[expr]
    op, args = expr
    parts = [kleene(a, states, universe) for a in args]
    if op == "AND":
        t = set.intersection(*(p.t for p in parts))
        f = set().union(*(p.f for p in parts))
    else:
        t = set().union(*(p.t for p in parts))
        f = set.intersection(*(p.f for p in parts))
    return State(t, f, universe - t - f)


def _age_state(atom: Atom, ctx: AtomContext) -> tuple[State, list[Evidence]]:
    p = store.PatientRow
    q = select(p.id, p.birth_date)
    if ctx.patient_id is not None:
        q = q.where(p.id == ctx.patient_id)
    lo, hi = age_bounds(atom.age)  # type: ignore[arg-type]
    d = ctx.at.date()
    t, f, ev = set(), set(), []
    for pid, birth in ctx.session.execute(q):
        if pid not in ctx.universe or birth is None:
            continue
        if birth > d:  # not yet born at the evaluation date: no age satisfies the rule
            f.add(pid)
            ev.append(Evidence(resource=f"Patient/{pid}", text=f"born {birth.isoformat()}, after {d}",
                               source="demographics"))
            continue
        age = d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))
        ok = (lo is None or age >= lo) and (hi is None or age <= hi)
        (t if ok else f).add(pid)
        if ctx.patient_id is not None:
            ev.append(Evidence(resource=f"Patient/{pid}", text=f"born {birth.isoformat()}: {age} years old on {d}",
                               source="demographics"))
    if ctx.patient_id is not None and not ev:
        ev.append(Evidence(resource=f"Patient/{ctx.patient_id}", text="no birth date in the record", source="absence"))
    return State(t, f, ctx.universe - t - f), ev


def _sex_state(atom: Atom, ctx: AtomContext) -> tuple[State, list[Evidence]]:
    p = store.PatientRow
    q = select(p.id, p.gender)
    if ctx.patient_id is not None:
        q = q.where(p.id == ctx.patient_id)
    t, f, ev = set(), set(), []
    for pid, gender in ctx.session.execute(q):
        if pid not in ctx.universe:
            continue
        if gender in ("female", "male"):
            (t if gender == atom.sex else f).add(pid)
        if ctx.patient_id is not None:
            ev.append(Evidence(resource=f"Patient/{pid}", text=f"administrative gender: {gender or 'not recorded'}",
                               source="demographics"))
    return State(t, f, ctx.universe - t - f), ev


def _row_text(kind: str, r: Any) -> tuple[str, datetime | None]:
    def d(x: datetime | None) -> str:
        return x.date().isoformat() if x else "?"

    if kind == "condition":
        status = r.clinical_status or "status not recorded"
        text = f"{clean_display(r.display)} [{r.code}], onset {d(r.onset)}, {status}"
        if r.abatement:
            text += f", abated {d(r.abatement)}"
        return text, r.onset
    if kind == "medication":
        return f"{r.display} [{r.code}], {r.status or 'status not recorded'}, {d(r.start)} to " \
               f"{d(r.end) if r.end else 'open'}", r.start
    if kind == "procedure":
        return f"{clean_display(r.display)} [{r.code}] on {d(r.start)}", r.start
    if kind == "family":
        return f"{r.relationship_display or r.relationship or 'relative'}: {clean_display(r.display)} [{r.code}]", None
    return str(r), None


def _coded_state(atom: Atom, ctx: AtomContext) -> tuple[State, list[Evidence], str]:
    q = atom_select(atom, ctx.at, ctx.session, patient_id=ctx.patient_id, cache=ctx.cache)
    assert q is not None
    scope = ctx.has_family if atom.kind == "family" else ctx.has_data
    ev: list[Evidence] = []
    if ctx.patient_id is None:
        t = set(ctx.session.scalars(q)) & ctx.universe
    else:
        rows = list(ctx.session.scalars(q))
        t = {ctx.patient_id} if rows and ctx.patient_id in ctx.universe else set()
        tname = _TABLE[atom.kind].__name__.replace("Row", "").replace("FamilyHistory", "FamilyMemberHistory")
        for r in rows[:20]:
            text, when = _row_text(atom.kind, r)
            ev.append(Evidence(resource=f"{getattr(r, 'resource_type', tname)}/{r.id}", text=text, date=when))
    u = ctx.universe - scope - t
    f = ctx.universe - t - u
    why = ""
    if ctx.patient_id is not None and not t:
        if ctx.patient_id in u:
            why = ("no family history is recorded for this patient" if atom.kind == "family"
                   else "the patient has no clinical data in the record")
        else:
            table = _TABLE[atom.kind]
            n = ctx.session.scalar(select(func.count()).select_from(table).where(table.patient_id == ctx.patient_id))
            what = f"{len(atom.codes)} code(s)" + (f" and ICD-10-CM {', '.join(atom.icd10_prefixes)}*"
                                                   if atom.icd10_prefixes else "")
            why = f"none of the {n} {atom.kind} rows matches {what} {atom.window.describe()}"
            ev.append(Evidence(resource="", text=why, source="absence"))
    return State(t, f, u), ev, why


def _measurement_state(atom: Atom, ctx: AtomContext) -> tuple[State, list[Evidence], str]:
    q = atom_select(atom, ctx.at, ctx.session, patient_id=ctx.patient_id, cache=ctx.cache)
    t, f, ev, why = set(), set(), [], ""
    if ctx.patient_id is None:  # cohort: bounds once per code, no text
        c = atom.constraint
        assert c is not None and q is not None
        bounds = {code: constraint_in(code, c.comparator, c.value, c.value_high, c.unit) for code in atom.codes}
        for pid, code, value in ctx.session.execute(q):
            b = bounds.get(code)
            if value is None or b is None or isinstance(b, str) or pid not in ctx.universe:
                continue
            (t if compare(value, c.comparator, b[0], b[1]) else f).add(pid)
        return State(t, f, ctx.universe - t - f), ev, why
    for r in ctx.session.execute(q):  # type: ignore[arg-type]
        if r.patient_id not in ctx.universe:
            continue
        ok, why = measurement_status(atom, r.code, r.value)
        if ok is True:
            t.add(r.patient_id)
        elif ok is False:
            f.add(r.patient_id)
        orig = f" (recorded as {r.value_orig:g} {r.unit_orig})" if r.value_orig is not None and \
            r.unit_orig != r.unit else ""
        val = f"{r.value:.4g} {r.unit}" if r.value is not None else "no usable number"
        ev.append(Evidence(resource=f"Observation/{r.id}", date=r.effective,
                           text=f"{r.display or r.code} [{r.code}] = {val}{orig} on "
                                f"{r.effective.date().isoformat() if r.effective else '?'}: {why}"))
    if ctx.patient_id is not None and not ev:
        lo = atom.window.lo(ctx.at)
        why = f"no {atom.label} result ({', '.join(sorted(atom.codes))})" + (
            f" since {lo.date().isoformat()}" if lo else " on record")
        ev.append(Evidence(text=why, source="absence"))
    return State(t, f, ctx.universe - t - f), ev, why


def _note_window(atom: Atom, at: datetime) -> tuple[datetime | None, datetime]:
    if atom.window.mode == "within" and atom.window.days is not None:
        return at - timedelta(days=atom.window.days), at
    return None, at


def _with_notes(atom: Atom, ctx: AtomContext, st: State, ev: list[Evidence], why: str) -> tuple[State, str]:
    """Let the patient's notes settle an unknown, or flag a coded absence that a note contradicts."""
    from theralab.trials.matching.notes import find_mentions, judge, search_terms

    pid = ctx.patient_id
    if pid is None or not ctx.use_notes or atom.kind not in _NOTE_KINDS or not atom.terms or pid not in ctx.universe:
        return st, why
    mentions = find_mentions(ctx.notes(), search_terms(atom.terms, atom.codes if atom.synonyms else ()))
    since, until = _note_window(atom, ctx.at)
    verdict, used = judge(mentions, family=atom.family or atom.kind == "family", since=since, until=until,
                          qualifiers=atom.qualifiers)
    for m in used[:5]:
        ev.append(Evidence(resource=m.note, text=m.sentence, date=m.date, source="note",
                           context=[m.status, *m.triggers]))
    if verdict is None:
        return st, why
    if pid in st.u:
        st = State(st.t | ({pid} if verdict else set()), st.f | (set() if verdict else {pid}), st.u - {pid})
        return st, f"from the notes: {'mentioned' if verdict else 'denied'} ({used[0].sentence!r})"
    if pid in st.f and verdict:
        return State(st.t, st.f - {pid}, st.u | {pid}), "not coded in the record, but a note mentions it: check by hand"
    return st, why


def run_atom(atom: Atom, ctx: AtomContext) -> tuple[State, list[Evidence], str]:
    """Answer one atom: the (negation-applied) state, the evidence (one-patient mode) and the reason."""
    ev: list[Evidence] = []
    why = ""
    if atom.kind == "unknown":
        st, why = State(set(), set(), set(ctx.universe)), atom.reason
    elif atom.kind == "age":
        st, ev = _age_state(atom, ctx)
    elif atom.kind == "sex":
        st, ev = _sex_state(atom, ctx)
    elif atom.kind == "measurement":
        st, ev, why = _measurement_state(atom, ctx)
    else:
        st, ev, why = _coded_state(atom, ctx)
    st, why = _with_notes(atom, ctx, st, ev, why)
    return (st.negated() if atom.negate else st), ev, why


def eval_atom(atom: Atom, ctx: AtomContext) -> State:
    """The state of one atom over the context's patients."""
    return run_atom(atom, ctx)[0]


def explain_states(p: Any, ctx: AtomContext) -> tuple[dict[str, State], list[CheckResult]]:
    """Atom states of one criterion plan for one patient, with a :class:`CheckResult` per atom."""
    states: dict[str, State] = {}
    checks: list[CheckResult] = []
    pid = ctx.patient_id or ""
    for aid, atom in p.atoms.items():
        st, ev, why = run_atom(atom, ctx)
        states[aid] = st
        status = "met" if pid in st.t else "not_met" if pid in st.f else "unknown"
        checks.append(CheckResult(id=aid, kind=atom.kind, question=atom.describe(), status=status,
                                  reason=why or (ev[0].text if ev else ""), evidence=ev))
    return states, checks
