"""Criteria entities -> "atoms": one checkable question each, answered by one SQL query over ``ehr_*``.

Why atoms: a criterion is AND/OR logic over entities (``Criterion.logic``) plus age and sex rules.
Each entity becomes an :class:`Atom` (what to look for, which codes after hierarchy expansion,
which time window, which numeric constraint in which unit). The same atom query serves the whole
cohort (``patient_id`` only, so 100,000 patients cost one indexed query per atom) and one patient
(the rows themselves, shown as evidence), so the ranked list and the explanation cannot disagree.

Semantics, chosen to be explicit rather than clever (see ``docs/trials-matching.md``):

* conditions default to *active at the evaluation date*; ``historical`` -> ever; temporal windows:
  ``within N`` -> onset in the last N days; ``at_least N`` -> onset at least N days ago;
  ``duration N`` -> active and onset at least N days ago;
* medications default to *active at the date* (the rule of ``MedicationItem.active_at``);
  ``within N`` -> taken at some time in the last N days; ``historical`` -> ever started;
* procedures: ever performed (or in the window);
* measurements: the *latest* value at or before the date (inside the window when one is given),
  compared after converting the criterion's number to the canonical UCUM unit of the lab's LOINC code;
* absence of a coded condition, drug or procedure means "not met" only when the patient has a
  clinical record at all; a patient with no data gets "not enough information". A missing lab is
  always "not enough information".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.ehr.terminology import SYSTEMS, icd10_to_snomed, rxnorm_ingredient, snomed_descendants
from theralab.trials.criteria.schemas import AgeRule, CriterionEntity, NumericConstraint, TemporalWindow

UNIT_DAYS = {"hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.4375, "year": 365.25}

#: LOINC codes that measure the same quantity (the criteria lexicon names one; records use another).
LAB_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"4548-4", "17856-6", "59261-8"}),  # HbA1c (%, % HPLC, IFCC mmol/mol)
    frozenset({"33914-3", "62238-1", "98979-8"}),  # eGFR per 1.73 m2 (MDRD, CKD-EPI, CKD-EPI 2021)
    frozenset({"2345-7", "2339-0", "15074-8"}),  # glucose serum/plasma and blood (mass and molar)
    frozenset({"2160-0", "38483-4", "14682-9"}),  # creatinine (mass and molar)
    frozenset({"6299-2", "3094-0"}),  # urea nitrogen
    frozenset({"18262-6", "13457-7"}),  # LDL cholesterol (direct, calculated)
    frozenset({"49765-1", "17861-6"}),  # calcium
    frozenset({"2947-0", "2951-2"}),  # sodium
    frozenset({"6298-4", "2823-3"}),  # potassium
    frozenset({"2069-3", "2075-0"}),  # chloride
    frozenset({"20565-8", "2028-9"}),  # total CO2
    frozenset({"2708-6", "59408-5"}),  # oxygen saturation
)
_ERROR_STATUSES = ("entered-in-error", "cancelled", "draft", "not-taken", "not-done")


@dataclass(frozen=True)
class Window:
    """When an event must have happened: ``mode`` in active|ever|within|before|duration, ``days`` for the last three."""

    mode: str = "active"
    days: float | None = None
    text: str = ""

    def lo(self, at: datetime) -> datetime | None:
        """The window start for within; None otherwise."""
        return at - timedelta(days=self.days) if self.mode == "within" and self.days is not None else None

    def cutoff(self, at: datetime) -> datetime:
        """``at - days`` for before/duration."""
        return at - timedelta(days=self.days or 0.0)

    def describe(self) -> str:
        """Human wording of the window."""
        d = f"{self.days:g} days" if self.days is not None else ""
        return {"active": "active at the date", "ever": "at any time before the date",
                "within": f"within the last {d}", "before": f"at least {d} before the date",
                "duration": f"active for at least {d}"}.get(self.mode, self.mode)


@dataclass(frozen=True)
class Atom:
    """One checkable question: ``kind`` in age|sex|condition|family|measurement|medication|procedure|unknown."""

    id: str
    kind: str
    label: str
    codes: frozenset[str] = frozenset()
    icd10_prefixes: tuple[str, ...] = ()
    window: Window = field(default_factory=Window)
    constraint: NumericConstraint | None = None
    negate: bool = False
    reason: str = ""
    age: AgeRule | None = None
    sex: str | None = None
    terms: tuple[str, ...] = ()
    family: bool = False
    qualifiers: tuple[str, ...] = ()
    synonyms: bool = True  # False when the codes are broader than the entity (partial/fuzzy lexicon match)

    def describe(self) -> str:
        """What the atom asks, in words (shown in explanations)."""
        if self.kind == "age" and self.age:
            return f"age {_age_text(self.age)}"
        if self.kind == "sex":
            return f"sex is {self.sex}"
        if self.kind == "measurement" and self.constraint:
            c = self.constraint
            rng = f"{c.value:g}-{c.value_high:g}" if c.comparator == "between" else f"{c.comparator} {c.value:g}"
            return f"{self.label}: latest value {rng} {c.unit or ''}".strip()
        neg = "no " if self.negate else ""
        where = "in family history" if self.kind == "family" else self.window.describe()
        return f"{neg}{self.label} ({self.kind}, {where})"


def _age_text(a: AgeRule) -> str:
    lo = f"{'>=' if a.min_inclusive else '>'} {a.min_years:g}" if a.min_years is not None else ""
    hi = f"{'<=' if a.max_inclusive else '<'} {a.max_years:g}" if a.max_years is not None else ""
    return " and ".join(x for x in (lo, hi) if x) or "any"


def window_for(ent: CriterionEntity, default: str) -> tuple[Window, str]:
    """The entity's time window and, when it cannot be read, the reason."""
    t: TemporalWindow | None = ent.temporal
    if t is None:
        return Window("ever" if ent.historical and default == "active" else default), ""
    days = t.days
    if days is None and t.amount is not None and t.unit:
        days = t.amount * UNIT_DAYS[t.unit]
    if t.relation == "current":
        return Window("active", None, t.text), ""
    if t.relation in ("during", "since"):
        return Window("ever", None, t.text), ""
    mode = {"within": "within", "at_least": "before", "duration": "duration"}[t.relation]
    if days is None:
        return Window(default), f"time window {t.text!r} has no length"
    return Window(mode, float(days), t.text), ""


def lab_codes(codes: set[str]) -> frozenset[str]:
    """LOINC codes plus the codes that measure the same quantity (:data:`LAB_GROUPS`)."""
    out = set(codes)
    for g in LAB_GROUPS:
        if out & g:
            out |= g
    return frozenset(out)


def entity_atom(ent: CriterionEntity) -> Atom:
    """Turn one core criterion entity into an :class:`Atom` (kind ``unknown``, with a reason, if uncheckable).

    The entity's qualifiers ("uncontrolled", "severe") travel with the atom: a note mention proves
    the qualified concept only when its sentence carries them too.
    """
    from dataclasses import replace

    atom = _entity_atom(ent)
    quals = tuple(q.lower() for q in ent.qualifiers if q and q.strip())
    broad = bool(ent.codes) and all(c.match in ("partial", "fuzzy") for c in ent.codes)
    return replace(atom, qualifiers=quals, synonyms=not broad)


def _entity_atom(ent: CriterionEntity) -> Atom:
    label = ent.text
    by_sys: dict[str, set[str]] = {}
    manual_icd = set()
    for c in ent.codes:
        by_sys.setdefault(c.system, set()).add(c.code)
        if c.system == "icd10cm" and c.match == "manual":
            manual_icd.add(c.code)
    # A code found for a sub-term ("tuberculosis" in "tuberculosis involving the CNS") names a broader
    # concept than the entity: text search then looks for the entity's own words only.
    broad = bool(ent.codes) and all(c.match in ("partial", "fuzzy") for c in ent.codes)
    shown = () if broad else tuple(c.display for c in ent.codes)
    terms = tuple(dict.fromkeys(t for t in (ent.text, ent.normalized, *shown) if t))

    def unknown(reason: str, searchable: bool = True) -> Atom:
        return Atom(ent.id, "unknown", label, reason=reason, negate=ent.negated, terms=terms if searchable else (),
                    family=ent.family)

    if ent.hypothetical:
        return unknown("the criterion states a possibility (hypothetical), not a fact the record can show", False)
    if not ent.codes:
        return unknown(f"{ent.type} {ent.text!r} has no code; code it in the criteria editor")
    etype = ent.type
    if etype == "observation" and "snomed" in by_sys:
        etype = "condition"
    if etype in ("measurement", "observation"):
        if "loinc" not in by_sys:
            return unknown(f"measurement {ent.text!r} has no LOINC code")
        if ent.constraint is None:
            return unknown(f"measurement {ent.text!r} has no value to compare (e.g. '< 7 %')")
        if ent.constraint.relative_to:
            return unknown(f"{ent.text!r} is relative to the {ent.constraint.relative_to}: the site's reference "
                           "range is not in the record")
        win, why = window_for(ent, "ever")
        if why:
            return unknown(why)
        return Atom(ent.id, "measurement", label, lab_codes(by_sys["loinc"]), window=win,
                    constraint=ent.constraint, negate=ent.negated, terms=terms)
    if etype == "condition":
        snomed: set[str] = set()
        for c in by_sys.get("snomed", ()):
            snomed |= snomed_descendants(c)
        icd = by_sys.get("icd10cm", set())
        prefixes = tuple(sorted({c if c in manual_icd else c[:3] for c in icd}))
        if not snomed:
            for c in icd:
                for s in icd10_to_snomed(c):
                    snomed |= snomed_descendants(s)
        if not snomed and not prefixes:
            return unknown(f"condition {ent.text!r} has no SNOMED CT or ICD-10-CM code")
        if ent.family:
            return Atom(ent.id, "family", label, frozenset(snomed), prefixes, Window("ever"), negate=ent.negated,
                        terms=terms)
        win, why = window_for(ent, "active")
        if why:
            return unknown(why)
        return Atom(ent.id, "condition", label, frozenset(snomed), prefixes, win, negate=ent.negated, terms=terms)
    if etype == "drug" or (etype == "procedure" and "snomed" not in by_sys and "rxnorm" in by_sys):
        # a procedure coded as a drug ("ACE inhibitor therapy") is asked of the medication list
        if "rxnorm" not in by_sys:
            return unknown(f"drug {ent.text!r} has no RxNorm code")
        win, why = window_for(ent, "active")
        if why:
            return unknown(why)
        return Atom(ent.id, "medication", label, frozenset(by_sys["rxnorm"]), window=win, negate=ent.negated,
                    terms=terms)
    if etype == "procedure":
        if "snomed" not in by_sys:
            return unknown(f"procedure {ent.text!r} has no SNOMED CT code")
        codes: set[str] = set()
        for c in by_sys["snomed"]:
            codes |= snomed_descendants(c)
        win, why = window_for(ent, "ever")
        if why:
            return unknown(why)
        if win.mode in ("active", "duration"):
            win = Window("ever", None, win.text)
        return Atom(ent.id, "procedure", label, frozenset(codes), window=win, negate=ent.negated, terms=terms)
    return unknown(f"{ent.type} entities are not in the structured record")


# --- numbers -----------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def constraint_in(code: str, comparator: str, value: float, value_high: float | None,
                  unit: str | None) -> tuple[float, float | None, str] | str:
    """The constraint's bounds in the canonical unit of LOINC ``code``, or the reason it cannot be converted."""
    from theralab.ehr.units import canonical_unit_text, convert, loinc_table
    from theralab.errors import InputError

    info = loinc_table().get(code)
    canonical = info.unit if info else None
    if not unit or canonical is None or canonical_unit_text(unit) == canonical:
        return value, value_high, canonical or (unit or "")
    try:
        lo = convert(value, unit, canonical, info.analyte if info else None)
        hi = convert(value_high, unit, canonical, info.analyte if info else None) if value_high is not None else None
    except InputError as exc:
        return f"criterion unit {unit!r} does not convert to {canonical} for LOINC {code}: {exc.message}"
    return lo, hi, canonical


def compare(value: float, comparator: str, lo: float, hi: float | None) -> bool:
    """``value comparator lo`` (``between`` is inclusive on both ends); equality within 1e-9 relative."""
    eq = math.isclose(value, lo, rel_tol=1e-9, abs_tol=1e-12)
    if comparator == "<":
        return value < lo and not eq
    if comparator == "<=":
        return value <= lo or eq
    if comparator == ">":
        return value > lo and not eq
    if comparator == ">=":
        return value >= lo or eq
    if comparator == "=":
        return eq
    return (value >= lo or eq) and (hi is None or value <= hi or math.isclose(value, hi, rel_tol=1e-9))


def measurement_status(atom: Atom, code: str | None, value: float | None) -> tuple[bool | None, str]:
    """Judge one latest value: (True/False/None, why)."""
    c = atom.constraint
    assert c is not None
    if value is None:
        return None, "the latest value has no usable number (unit could not be normalised)"
    bounds = constraint_in(code or "", c.comparator, c.value, c.value_high, c.unit)
    if isinstance(bounds, str):
        return None, bounds
    lo, hi, unit = bounds
    ok = compare(value, c.comparator, lo, hi)
    if c.comparator == "between" and hi is not None:
        rng = f"between {lo:.4g} and {hi:.4g}"
    else:
        rng = f"{c.comparator} {lo:.4g}"
    return ok, f"{value:.4g} {unit} {'is' if ok else 'is not'} {rng} {unit}".rstrip()


# --- age ---------------------------------------------------------------------------------------


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February -> 28 February
        return d.replace(year=d.year - years, day=28)


def age_bounds(rule: AgeRule) -> tuple[int | None, int | None]:
    """Integer bounds on completed years: ``(lowest allowed age, highest allowed age)``."""
    lo = hi = None
    if rule.min_years is not None:
        lo = math.ceil(rule.min_years) if rule.min_inclusive else math.floor(rule.min_years) + 1
    if rule.max_years is not None:
        hi = math.floor(rule.max_years) if rule.max_inclusive else math.ceil(rule.max_years) - 1
    return lo, hi


def birth_range(rule: AgeRule, at: date) -> tuple[date | None, date | None]:
    """Birth dates (earliest exclusive, latest inclusive) for an age in completed years within the rule."""
    lo, hi = age_bounds(rule)
    latest = _years_before(at, lo) if lo is not None else None  # born on or before: age >= lo
    earliest = _years_before(at, hi + 1) if hi is not None else None  # born after: age <= hi
    return earliest, latest


# --- SQL -------------------------------------------------------------------------------------------


def _condition_where(atom: Atom, at: datetime) -> Any:
    t = store.ConditionRow
    codes = [t.code.in_(sorted(atom.codes))] if atom.codes else []
    codes += [and_(t.system == SYSTEMS["icd10cm"], t.code.like(f"{p}%")) for p in atom.icd10_prefixes]
    valid = func.coalesce(t.verification_status, "").not_in(("refuted", "entered-in-error"))
    started = or_(t.onset.is_(None), t.onset <= at)
    active = or_(and_(t.abatement.is_not(None), t.abatement > at),
                 and_(t.abatement.is_(None), func.coalesce(t.clinical_status, "").not_in(
                     ("resolved", "inactive", "remission"))))
    w = atom.window
    if w.mode == "active":
        when = and_(started, active)
    elif w.mode == "within":
        when = and_(t.onset >= w.lo(at), t.onset <= at)
    elif w.mode == "before":
        when = t.onset <= w.cutoff(at)
    elif w.mode == "duration":
        when = and_(active, t.onset <= w.cutoff(at))
    else:
        when = started
    return and_(or_(*codes), valid, when)


def _med_where(atom: Atom, at: datetime, drug_codes: list[str]) -> Any:
    t = store.MedicationRow
    ok = func.coalesce(t.status, "").not_in(_ERROR_STATUSES)
    open_active = and_(t.end.is_(None), or_(t.status.is_(None), t.status.in_(("active", "on-hold", "intended"))))
    started = or_(t.start.is_(None), t.start <= at)
    w = atom.window
    if w.mode == "within":
        lo = w.lo(at)
        when = and_(started, or_(t.start >= lo, t.end >= lo, open_active))
    elif w.mode == "before":
        when = t.start <= w.cutoff(at)
    elif w.mode == "ever":
        when = started
    else:  # active / duration
        when = and_(started, or_(t.end >= at, open_active))
        if w.mode == "duration":
            when = and_(when, t.start <= w.cutoff(at))
    return and_(t.code.in_(drug_codes), ok, when)


def _proc_where(atom: Atom, at: datetime) -> Any:
    t = store.ProcedureRow
    ok = func.coalesce(t.status, "").not_in(_ERROR_STATUSES)
    w = atom.window
    if w.mode == "within":
        when = and_(t.start >= w.lo(at), t.start <= at)
    elif w.mode == "before":
        when = t.start <= w.cutoff(at)
    else:
        when = or_(t.start.is_(None), t.start <= at)
    return and_(t.code.in_(sorted(atom.codes)), ok, when)


def _family_where(atom: Atom) -> Any:
    t = store.FamilyHistoryRow
    codes = [t.code.in_(sorted(atom.codes))] if atom.codes else []
    codes += [and_(t.system == SYSTEMS["icd10cm"], t.code.like(f"{p}%")) for p in atom.icd10_prefixes]
    return and_(or_(*codes), func.coalesce(t.status, "") != "entered-in-error")


def drug_codes(session: Session, ingredients: frozenset[str], cache: dict[str, Any] | None = None) -> list[str]:
    """Every medication code in the record whose RxNorm ingredient is one of ``ingredients`` (plus those codes).

    Records carry clinical-drug codes (``860975`` "24 HR Metformin ... 500 MG"), criteria carry
    ingredients (``6809`` metformin): the distinct codes in ``ehr_medications`` are few, so they are
    mapped once in Python (kept in ``cache`` for one evaluation) and the patient query stays a plain
    ``code IN (...)``.
    """
    mapped = cache.get("drug_ingredients") if cache is not None else None
    if mapped is None:
        rows = session.execute(select(store.MedicationRow.code, store.MedicationRow.display).distinct()).all()
        mapped = [(code, (rxnorm_ingredient(display, code) or (None,))[0]) for code, display in rows if code]
        if cache is not None:
            cache["drug_ingredients"] = mapped
    out = set(ingredients)
    out |= {code for code, ing in mapped if ing and ing in ingredients}
    return sorted(out)


def atom_select(atom: Atom, at: datetime, session: Session, *, patient_id: str | None = None,
                cache: dict[str, Any] | None = None) -> Select[Any] | None:
    """The query for a coded atom: ``patient_id`` only (cohort) or whole rows for one patient.

    Measurements return one row per patient, the latest value (``ROW_NUMBER()`` window, which SQLite
    3.25+ and PostgreSQL both support), with its code and value, for :func:`measurement_status`.
    """
    if atom.kind == "condition":
        t, where = store.ConditionRow, _condition_where(atom, at)
    elif atom.kind == "family":
        t, where = store.FamilyHistoryRow, _family_where(atom)
    elif atom.kind == "medication":
        t, where = store.MedicationRow, _med_where(atom, at, drug_codes(session, atom.codes, cache))
    elif atom.kind == "procedure":
        t, where = store.ProcedureRow, _proc_where(atom, at)
    elif atom.kind == "measurement":
        o = store.ObservationRow
        conds = [o.code.in_(sorted(atom.codes)), o.effective.is_not(None), o.effective <= at]
        lo = atom.window.lo(at)
        if lo is not None:
            conds.append(o.effective >= lo)
        if patient_id is not None:
            conds.append(o.patient_id == patient_id)
        rn = func.row_number().over(partition_by=o.patient_id, order_by=(o.effective.desc(), o.id.desc()))
        cols = [o.patient_id, o.code, o.value] if patient_id is None else [
            o.patient_id, o.code, o.value, o.id, o.unit, o.value_orig, o.unit_orig, o.effective, o.display]
        sub = select(*cols, rn.label("rn")).where(*conds).subquery()
        return select(*(sub.c[c.name] for c in cols)).where(sub.c.rn == 1)
    else:
        return None
    if patient_id is None:
        return select(t.patient_id).where(where).distinct()
    return select(t).where(where, t.patient_id == patient_id)


def clean_display(text: str | None) -> str:
    """A display without its SNOMED CT semantic tag: ``Asthma (disorder)`` -> ``Asthma``."""
    return re.sub(r"\s*\((disorder|finding|procedure|situation|substance)\)$", "", text or "").strip()
