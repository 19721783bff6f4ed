"""The patient header: who is in view, in one line, wherever a patient's data is shown.

Why one function: a ward nurse, a pharmacist and a trial coordinator must see the same identity
(name, age, sex, MRN), the same allergies and the same pharmacogenomic phenotypes on every page
that shows a patient, so a wrong-patient or allergy error is caught at a glance. Pages build the
header from :func:`patient_header` only; nothing re-assembles it from the record by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.errors import NotFoundError

#: Phenotypes that need no change of drug or dose; the header lists them apart from the ones that do.
NORMAL_PHENOTYPES = frozenset({"normal metabolizer", "normal function", "normal", "normal activity"})


@dataclass(frozen=True)
class PgxPhenotype:
    """A gene's current result: the newest call for the gene, whatever its source (VCF, outside lab)."""

    gene: str
    diplotype: str | None
    phenotype: str | None
    source: str | None = None

    @property
    def actionable(self) -> bool:
        """True when the phenotype is known and not normal (a drug of this gene may need a change)."""
        return bool(self.phenotype) and self.phenotype.strip().lower() not in NORMAL_PHENOTYPES


@dataclass(frozen=True)
class Allergy:
    """An active allergy or intolerance as the header shows it."""

    substance: str
    criticality: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class PatientHeader:
    """Identity, allergies and PGx phenotypes of one patient (what every patient page shows first)."""

    id: str
    name: str
    sex: str | None
    birth_date: date | None
    age: int | None
    mrn: str | None
    deceased: bool = False
    allergies: tuple[Allergy, ...] = ()
    allergies_recorded: bool = False
    pgx: tuple[PgxPhenotype, ...] = field(default_factory=tuple)

    @property
    def pgx_actionable(self) -> tuple[PgxPhenotype, ...]:
        return tuple(p for p in self.pgx if p.actionable)


def _age(birth: date | None, deceased_at: datetime | None, today: date) -> int | None:
    if birth is None:
        return None
    end = deceased_at.date() if deceased_at else today
    return end.year - birth.year - ((end.month, end.day) < (birth.month, birth.day))


def patient_headers(session: Session, patient_ids: list[str], today: date | None = None) -> dict[str, PatientHeader]:
    """Headers for several patients in four queries (ward boards, trial lists); unknown ids are left out."""
    if not patient_ids:
        return {}
    today = today or datetime.now(UTC).date()
    heads = list(session.scalars(select(store.PatientRow).where(store.PatientRow.id.in_(patient_ids))))
    allergies: dict[str, list[Allergy]] = {}
    recorded: set[str] = set()
    for row in session.scalars(select(store.AllergyRow).where(store.AllergyRow.patient_id.in_(patient_ids))
                               .order_by(store.AllergyRow.id)):
        recorded.add(row.patient_id)
        if (row.clinical_status or "active") not in ("active", "recurrence", "relapse"):
            continue
        if (row.verification_status or "") in ("refuted", "entered-in-error"):
            continue
        allergies.setdefault(row.patient_id, []).append(
            Allergy(row.display or row.code or "unnamed substance", row.criticality, row.category))
    newest: dict[tuple[str, str], store.GenotypeRow] = {}
    floor = datetime.min.replace(tzinfo=UTC)
    for row in session.scalars(select(store.GenotypeRow).where(store.GenotypeRow.patient_id.in_(patient_ids))):
        key = (row.patient_id, row.gene.upper())
        cur = newest.get(key)
        if cur is None or (row.effective or floor, row.id) >= (cur.effective or floor, cur.id):
            newest[key] = row
    pgx: dict[str, list[PgxPhenotype]] = {}
    for (pid, gene), row in sorted(newest.items()):
        pgx.setdefault(pid, []).append(PgxPhenotype(gene, row.diplotype, row.phenotype, row.source))
    out = {}
    for p in heads:
        name = " ".join(x for x in (p.given, p.family) if x) or f"Patient {p.id[:8]}"
        out[p.id] = PatientHeader(
            id=p.id, name=name, sex=p.gender, birth_date=p.birth_date,
            age=_age(p.birth_date, p.deceased_at, today), mrn=p.mrn, deceased=bool(p.deceased),
            allergies=tuple(allergies.get(p.id, [])), allergies_recorded=p.id in recorded,
            pgx=tuple(pgx.get(p.id, [])))
    return out


def patient_header(session: Session, patient_id: str, today: date | None = None) -> PatientHeader:
    """The header of one patient.

    Raises:
        NotFoundError: when no patient has this id.
    """
    found = patient_headers(session, [patient_id], today)
    if patient_id not in found:
        raise NotFoundError(f"no patient with id {patient_id!r}", where=f"Patient/{patient_id}",
                            hint="list patients on the Patients page or with 'theralab ehr patients'")
    return found[patient_id]


__all__ = ["Allergy", "PatientHeader", "PgxPhenotype", "patient_header", "patient_headers"]
