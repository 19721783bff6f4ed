"""The patient view: one pydantic object per patient, the input of every patient-level task.

Why one object: trial matching, pharmacogenomics and monitoring each take "one patient" (the
PyHealth task shape); giving them the same typed record, loaded once from the database, keeps
their logic free of SQL and lets tests build a patient by hand. Time-dependent questions take an
explicit date (``age_at``, ``active_medications(at)``, ``latest(code, before)``), because
eligibility is always judged at a date, not "now".

Loaders read in batches (``iter_patients``) so a 100,000-patient cohort streams in constant memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.errors import NotFoundError


def as_datetime(at: date | datetime | None) -> datetime:
    """The instant a question is asked at: a date means the end of that day (UTC); None means now."""
    if at is None:
        return datetime.now(UTC)
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime(at.year, at.month, at.day, 23, 59, 59, tzinfo=UTC)


def as_of(value: str | None, where: str = "at") -> date:
    """The date a question is asked at, from ``YYYY-MM-DD`` text (empty: today), for CLI and web forms.

    Raises:
        InputError: when the text is not an ISO date (``where`` names the field).
    """
    from theralab.errors import InputError

    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{value!r} is not a date", where=where, hint="YYYY-MM-DD") from exc


class Coded(BaseModel):
    """Common fields of a coded clinical item."""

    id: str
    system: str | None = None
    code: str | None = None
    display: str | None = None


class ConditionItem(Coded):
    codings: list[dict[str, Any]] = Field(default_factory=list)
    clinical_status: str | None = None
    verification_status: str | None = None
    onset: datetime | None = None
    abatement: datetime | None = None

    def active_at(self, at: date | datetime | None = None) -> bool:
        """Present at ``at``: started before it, not abated before it, not refuted or entered in error."""
        t = as_datetime(at)
        if self.verification_status in ("refuted", "entered-in-error"):
            return False
        if self.onset and self.onset > t:
            return False
        if self.abatement:
            return self.abatement > t
        return self.clinical_status not in ("resolved", "inactive", "remission")


class ObservationItem(Coded):
    category: str | None = None
    effective: datetime | None = None
    value: float | None = None
    unit: str | None = None
    unit_ok: bool = True
    value_orig: float | None = None
    unit_orig: str | None = None
    value_text: str | None = None
    parent_id: str | None = None
    device_id: str | None = None


class MedicationItem(Coded):
    resource_type: str = "MedicationRequest"
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    dosage: str | None = None

    def active_at(self, at: date | datetime | None = None) -> bool:
        """Taken at ``at``: started before it and either ended after it, or open-ended and still active.

        A stopped or completed order without an end date is not counted as active: the record does
        not say when it stopped, and "still taking it" would be a guess.
        """
        t = as_datetime(at)
        if self.start and self.start > t:
            return False
        if self.status in ("entered-in-error", "cancelled", "draft", "not-taken"):
            return False
        if self.end is not None:
            return self.end >= t
        return self.status in ("active", "on-hold", "intended", None)


class ProcedureItem(Coded):
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None


class AllergyItem(Coded):
    clinical_status: str | None = None
    category: str | None = None
    criticality: str | None = None


class NoteItem(Coded):
    resource_type: str = "DocumentReference"
    date: datetime | None = None
    text: str = ""


class FamilyHistoryItem(BaseModel):
    id: str
    relationship: str | None = None
    relationship_display: str | None = None
    system: str | None = None
    code: str | None = None
    display: str | None = None
    onset_age: float | None = None


class GenotypeItem(BaseModel):
    id: str
    gene: str
    diplotype: str | None = None
    phenotype: str | None = None
    activity_score: float | None = None
    method: str | None = None


class PatientRecord(BaseModel):
    """Everything theralab knows about one patient, in one object."""

    id: str
    gender: str | None = None
    birth_date: date | None = None
    deceased_at: datetime | None = None
    deceased: bool = False
    race: str | None = None
    ethnicity: str | None = None
    given: str | None = None
    family: str | None = None
    conditions: list[ConditionItem] = Field(default_factory=list)
    observations: list[ObservationItem] = Field(default_factory=list)
    medications: list[MedicationItem] = Field(default_factory=list)
    procedures: list[ProcedureItem] = Field(default_factory=list)
    allergies: list[AllergyItem] = Field(default_factory=list)
    notes: list[NoteItem] = Field(default_factory=list)
    family_history: list[FamilyHistoryItem] = Field(default_factory=list)
    genotypes: list[GenotypeItem] = Field(default_factory=list)

    def age_at(self, at: date | datetime | None = None) -> int | None:
        """Age in completed years at ``at`` (None when the birth date is unknown).

        Raises:
            InputError: when ``at`` is before the birth date.
        """
        if self.birth_date is None:
            return None
        d = as_datetime(at).date()
        if d < self.birth_date:
            from theralab.errors import InputError

            raise InputError(f"date {d} is before the birth date of Patient/{self.id}", where=f"Patient/{self.id}")
        return d.year - self.birth_date.year - ((d.month, d.day) < (self.birth_date.month, self.birth_date.day))

    def active_conditions(self, at: date | datetime | None = None) -> list[ConditionItem]:
        return [c for c in self.conditions if c.active_at(at)]

    def has_condition(self, codes: Iterable[str], at: date | datetime | None = None, *, active: bool = True) -> bool:
        """True when any condition (any of its codings) has one of ``codes`` (active at ``at`` if asked).

        For "any kind of diabetes" pass ``terminology.snomed_descendants("73211009")``.
        """
        wanted = set(codes)
        for c in self.conditions:
            if active and not c.active_at(at):
                continue
            if c.code in wanted or any(x.get("code") in wanted for x in c.codings):
                return True
        return False

    def observations_for(self, code: str, before: date | datetime | None = None) -> list[ObservationItem]:
        """Observations with LOINC ``code`` up to ``before``, oldest first."""
        t = as_datetime(before)
        out = [o for o in self.observations if o.code == code and (o.effective is None or o.effective <= t)]
        return sorted(out, key=lambda o: o.effective or datetime.min.replace(tzinfo=UTC))

    def latest(self, code: str, before: date | datetime | None = None) -> ObservationItem | None:
        """The most recent observation with LOINC ``code`` at or before ``before``."""
        series = self.observations_for(code, before)
        return series[-1] if series else None

    def latest_values(self, before: date | datetime | None = None) -> dict[str, ObservationItem]:
        """The latest observation per LOINC code (one line per lab or vital sign)."""
        out: dict[str, ObservationItem] = {}
        t = as_datetime(before)
        for o in self.observations:
            if o.code is None or (o.effective is not None and o.effective > t):
                continue
            cur = out.get(o.code)
            if cur is None or (o.effective or datetime.min.replace(tzinfo=UTC)) >= (
                cur.effective or datetime.min.replace(tzinfo=UTC)
            ):
                out[o.code] = o
        return out

    def active_medications(self, at: date | datetime | None = None) -> list[MedicationItem]:
        return [m for m in self.medications if m.active_at(at)]

    def active_ingredients(self, at: date | datetime | None = None) -> dict[str, str]:
        """Ingredients (RXCUI -> name) of the medications active at ``at``, for drug-gene checks.

        Uses :func:`theralab.ehr.terminology.rxnorm_ingredient`; drugs outside its curated list
        are left out (see ``docs/ehr.md`` for coverage).
        """
        from theralab.ehr.terminology import rxnorm_ingredient

        out: dict[str, str] = {}
        for m in self.active_medications(at):
            hit = rxnorm_ingredient(m.display, m.code)
            if hit:
                out[hit[0]] = hit[1]
        return out

    def genotype(self, gene: str) -> GenotypeItem | None:
        return next((g for g in self.genotypes if g.gene.upper() == gene.upper()), None)


class PatientSummary(BaseModel):
    """One line of the patient list."""

    id: str
    mrn: str | None = None
    given: str | None = None
    family: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    deceased: bool = False
    conditions: int = 0
    observations: int = 0
    medications: int = 0


_ITEMS: list[tuple[str, Any, type[BaseModel]]] = [
    ("conditions", store.ConditionRow, ConditionItem),
    ("observations", store.ObservationRow, ObservationItem),
    ("medications", store.MedicationRow, MedicationItem),
    ("procedures", store.ProcedureRow, ProcedureItem),
    ("allergies", store.AllergyRow, AllergyItem),
    ("notes", store.NoteRow, NoteItem),
    ("family_history", store.FamilyHistoryRow, FamilyHistoryItem),
    ("genotypes", store.GenotypeRow, GenotypeItem),
]


def _to_item(cls: type[BaseModel], row: Any) -> BaseModel:
    return cls.model_validate({name: getattr(row, name) for name in cls.model_fields if hasattr(row, name)})


def _newest_streamed(session: Session, ids: list[str]) -> Iterator[store.ObservationRow]:
    """The newest streamed observation of each code of each patient (one per (patient, code))."""
    obs = store.ObservationRow
    newest = (
        select(obs.patient_id, obs.code, func.max(obs.effective).label("at"))
        .where(obs.patient_id.in_(ids), store.streamed())
        .group_by(obs.patient_id, obs.code)
        .subquery()
    )
    seen: set[tuple[str, str | None]] = set()
    query = select(obs).join(
        newest, and_(obs.patient_id == newest.c.patient_id, obs.code == newest.c.code, obs.effective == newest.c.at)
    )
    for row in session.scalars(query.where(store.streamed()).order_by(obs.id)):
        if (row.patient_id, row.code) not in seen:
            seen.add((row.patient_id, row.code))
            yield row


def load_patients(session: Session, ids: list[str]) -> list[PatientRecord]:
    """Load full records for ``ids`` (one query per table, in the order given; unknown ids skipped).

    Streamed vitals (a reading a minute for months) are summarised by the newest reading of each
    code, so a monitored patient loads as fast as any other and ``latest_values`` still shows
    them; the full series is read by time range (``theralab.monitoring.streams.readings_frame``).
    """
    if not ids:
        return []
    heads = {p.id: p for p in session.scalars(select(store.PatientRow).where(store.PatientRow.id.in_(ids)))}
    parts: dict[str, dict[str, list[BaseModel]]] = defaultdict(lambda: defaultdict(list))
    for field, model, cls in _ITEMS:
        query = select(model).where(model.patient_id.in_(list(heads)))
        if model is store.ObservationRow:
            query = query.where(or_(model.source.is_(None), ~store.streamed()))
        for row in session.scalars(query):
            parts[row.patient_id][field].append(_to_item(cls, row))
    for row in _newest_streamed(session, list(heads)):
        parts[row.patient_id]["observations"].append(_to_item(ObservationItem, row))
    out = []
    for pid in ids:
        p = heads.get(pid)
        if p is None:
            continue
        out.append(
            PatientRecord(
                id=p.id,
                gender=p.gender,
                birth_date=p.birth_date,
                deceased_at=p.deceased_at,
                deceased=p.deceased,
                race=p.race,
                ethnicity=p.ethnicity,
                given=p.given,
                family=p.family,
                **parts.get(pid, {}),
            )
        )
    return out


def load_patient(session: Session, patient_id: str) -> PatientRecord:
    """Load one patient's full record.

    Raises:
        NotFoundError: when no patient has this id.
    """
    load_patient_head(session, patient_id)
    return load_patients(session, [patient_id])[0]


def latest_observations(
    session: Session, patient_id: str, before: date | datetime | None = None
) -> dict[str, ObservationItem]:
    """The newest observation of each code for one patient, streamed vital signs included.

    Why a query of its own: the patient page wants "latest heart rate" whether a nurse charted it or
    a wearable streamed it a minute ago, at any ``before`` date, without loading the whole record.
    Same answer as ``load_patient(...).latest_values(before)`` for charted data.

    Raises:
        NotFoundError: when no patient has this id.
    """
    load_patient_head(session, patient_id)
    obs = store.ObservationRow
    t = as_datetime(before)
    where = (obs.patient_id == patient_id, obs.code.is_not(None), or_(obs.effective.is_(None), obs.effective <= t))
    newest = select(obs.code, func.max(obs.effective).label("at")).where(*where).group_by(obs.code).subquery()
    on_time = or_(obs.effective == newest.c.at, and_(newest.c.at.is_(None), obs.effective.is_(None)))
    out: dict[str, ObservationItem] = {}
    for row in session.scalars(select(obs).join(newest, and_(obs.code == newest.c.code, on_time)).where(*where)
                               .order_by(obs.id)):
        out[row.code] = _to_item(ObservationItem, row)  # type: ignore[assignment]
    return out


def load_patient_head(session: Session, patient_id: str) -> store.PatientRow:
    """The patient's row (demographics only).

    Raises:
        NotFoundError: when no patient has this id.
    """
    row = session.get(store.PatientRow, patient_id)
    if row is None:
        raise NotFoundError(
            f"no patient with id {patient_id!r}",
            where=f"Patient/{patient_id}",
            hint="import FHIR data with 'theralab ehr import PATH' or list ids with 'theralab ehr patients'",
        )
    return row


def iter_patients(session: Session, *, batch: int = 500, ids: Iterable[str] | None = None) -> Iterator[PatientRecord]:
    """Stream every patient (or the given ids) as records, ``batch`` patients per round of queries."""
    all_ids = (
        list(ids)
        if ids is not None
        else list(session.scalars(select(store.PatientRow.id).order_by(store.PatientRow.id)))
    )
    for i in range(0, len(all_ids), batch):
        yield from load_patients(session, all_ids[i : i + batch])


def _only(query: Any, only: Collection[str] | None) -> Any:
    """Restrict a patient query to ``only`` (None: no restriction)."""
    return query if only is None else query.where(store.PatientRow.id.in_(list(only)))


def _search(query: Any, q: str | None) -> Any:
    """Patients whose name, MRN or id contains every word of ``q`` (case-insensitive)."""
    from sqlalchemy import or_

    for word in (q or "").split()[:5]:
        pattern = f"%{word.lower()[:100]}%"
        query = query.where(or_(func.lower(store.PatientRow.given).like(pattern),
                                func.lower(store.PatientRow.family).like(pattern),
                                func.lower(store.PatientRow.mrn).like(pattern),
                                func.lower(store.PatientRow.id).like(pattern)))
    return query


def list_patients(session: Session, *, limit: int = 100, offset: int = 0, q: str | None = None,
                  by_name: bool = False, only: Collection[str] | None = None) -> list[PatientSummary]:
    """Patients with counts of conditions, observations and medications (for lists and tables).

    ``q`` narrows the list to patients whose name, MRN or id contains each of its words; ``by_name``
    orders by family and given name (id order otherwise, stable for exports); ``only`` restricts
    the list to those ids (a caller's care teams), None lists everyone.
    """
    row = store.PatientRow
    order = (row.family, row.given, row.id) if by_name else (row.id,)
    query = _search(_only(select(store.PatientRow), only), q).order_by(*order)
    rows = list(session.scalars(query.limit(limit).offset(offset)))
    ids = [r.id for r in rows]
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for name, model in (
        ("conditions", store.ConditionRow),
        ("observations", store.ObservationRow),
        ("medications", store.MedicationRow),
    ):
        q = select(model.patient_id, func.count()).where(model.patient_id.in_(ids)).group_by(model.patient_id)
        for pid, n in session.execute(q):
            counts[pid][name] = n
    return [
        PatientSummary(
            id=r.id,
            mrn=r.mrn,
            given=r.given,
            family=r.family,
            gender=r.gender,
            birth_date=r.birth_date,
            deceased=r.deceased,
            **counts.get(r.id, {}),
        )
        for r in rows
    ]


def count_patients(session: Session, q: str | None = None, *, only: Collection[str] | None = None) -> int:
    """How many patients there are (of ``only`` when given, matching ``q`` as in :func:`list_patients`)."""
    query = _only(select(func.count()).select_from(store.PatientRow), only)
    return int(session.scalar(_search(query, q)) or 0)


def save_genotype(
    session: Session,
    patient_id: str,
    gene: str,
    diplotype: str | None,
    *,
    phenotype: str | None = None,
    activity_score: float | None = None,
    source: str = "vcf",
    method: str | None = None,
    effective: datetime | None = None,
) -> str:
    """Store (or replace) a gene result for a patient; what the PGx caller writes after a VCF call.

    The row id is derived from (source, patient, gene), so calling again with the same source
    updates the call instead of adding a second one, while calls from different sources (a VCF
    and an outside CYP2D6 call) are kept side by side.

    Returns:
        the genotype row id.

    Raises:
        NotFoundError: when the patient is not in the database.
        InputError: when ``gene`` is empty.
    """
    import uuid

    from theralab.ehr.fhir.upsert import upsert
    from theralab.errors import InputError

    if not gene or not gene.strip():
        raise InputError("gene name is empty", where=f"Patient/{patient_id}")
    if session.get(store.PatientRow, patient_id) is None:
        raise NotFoundError(f"no patient with id {patient_id!r}", where=f"Patient/{patient_id}")
    gid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"theralab:genotype:{source}:{patient_id}:{gene.upper()}"))
    upsert(
        session,
        store.GenotypeRow,
        [
            {
                "id": gid,
                "patient_id": patient_id,
                "gene": gene.upper(),
                "diplotype": diplotype,
                "phenotype": phenotype,
                "activity_score": activity_score,
                "effective": effective or datetime.now(UTC),
                "method": method,
                "source": source,
            }
        ],
    )
    return gid
