"""ORM tables of the patient record (``ehr_*``), shared by trials, pharmacogenomics and monitoring.

Why this shape:

* Every row keeps the id of the FHIR resource it came from as its primary key, so re-importing the
  same resource updates the row instead of adding a duplicate, and a patient can be exported back
  to FHIR with the ids other systems already know.
* Codes are stored as (system, code, display) with every coding of the resource kept in a JSON
  list, so a criterion written in ICD-10-CM can match a condition coded in SNOMED CT when the
  source carried both.
* Observations hold the value as received *and* normalised to one UCUM unit per LOINC code
  (``theralab.ehr.units``), with ``unit_ok`` false when the unit could not be converted: queries
  compare ``value`` only, so a wrong unit never becomes a silent wrong number. Vital signs use the
  same table, indexed on (patient, code, time), so monitoring reads and writes the same rows:
  streamed readings are observations with ``source`` ``stream:<transport>``, a ``device_id`` and an
  id derived from (device, code, time) (``theralab.monitoring.streams.store``).
* Observation components (blood-pressure panels, genotype results) become child rows with
  ``parent_id`` set, so "systolic > 140" is one indexed query.

Table names carry the ``ehr_`` prefix because several domains share one database.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from theralab.privacy.crypto import EncryptedText
from theralab.runtime.db import Base, UTCDateTime, utcnow

#: ``source`` of observations that came from a device stream or the score engine ('stream:mqtt'...)
STREAM_PREFIX = "stream:"
#: "the row came from a stream", as SQL: the WHERE of the partial index ``ix_ehr_observations_streamed``.
#: A literal, not a bound parameter: SQLite and PostgreSQL use a partial index only for a query whose
#: condition is this same text (:func:`streamed`).
STREAMED_SQL = f"source LIKE '{STREAM_PREFIX}%'"

ID = String(128)
CODE = String(64)
SYSTEM = String(200)
DISPLAY = String(500)


def _patient_fk() -> Mapped[str]:
    return mapped_column(ID, ForeignKey("ehr_patients.id", ondelete="CASCADE"), index=True)


class _Tracked:
    """Columns every table carries: where the row came from and when it was last written."""

    source: Mapped[str | None] = mapped_column(String(300), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class _Coded:
    """The resource's code as (system, code, display), indexed on code, with every coding kept (JSON)."""

    system: Mapped[str | None] = mapped_column(SYSTEM, default=None)
    code: Mapped[str | None] = mapped_column(CODE, default=None, index=True)
    display: Mapped[str | None] = mapped_column(DISPLAY, default=None)
    codings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class PatientRow(_Tracked, Base):
    """One patient (FHIR Patient): demographics only; clinical data live in the child tables."""

    __tablename__ = "ehr_patients"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    # identifiers: encrypted at rest when THERALAB_ENCRYPTION_KEY is set (theralab.privacy.crypto)
    mrn: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    family: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    given: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    gender: Mapped[str | None] = mapped_column(String(20), default=None)
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    deceased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    deceased: Mapped[bool] = mapped_column(Boolean, default=False)
    race: Mapped[str | None] = mapped_column(String(100), default=None)
    ethnicity: Mapped[str | None] = mapped_column(String(100), default=None)
    birth_sex: Mapped[str | None] = mapped_column(String(10), default=None)
    city: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    state: Mapped[str | None] = mapped_column(String(100), default=None)
    country: Mapped[str | None] = mapped_column(String(100), default=None)
    marital_status: Mapped[str | None] = mapped_column(String(20), default=None)
    language: Mapped[str | None] = mapped_column(String(50), default=None)


class ConditionRow(_Coded, _Tracked, Base):
    """A problem or diagnosis (FHIR Condition) with onset and abatement."""

    __tablename__ = "ehr_conditions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    clinical_status: Mapped[str | None] = mapped_column(String(30), default=None)
    verification_status: Mapped[str | None] = mapped_column(String(30), default=None)
    category: Mapped[str | None] = mapped_column(String(60), default=None)
    onset: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    abatement: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    recorded: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    encounter_id: Mapped[str | None] = mapped_column(ID, default=None)


class ObservationRow(_Tracked, Base):
    """A lab result, vital sign, survey answer or genotype component (FHIR Observation).

    ``value``/``unit`` are normalised (canonical UCUM unit of the LOINC code); ``value_orig`` and
    ``unit_orig`` are as received. ``unit_ok`` is false when a numeric value arrived in a unit that
    cannot be converted to the canonical one: then ``value`` is NULL on purpose.
    """

    __tablename__ = "ehr_observations"
    __table_args__ = (
        Index("ix_ehr_observations_patient_code_time", "patient_id", "code", "effective"),
        # streamed rows only (imports have other sources): ingest statistics count them without a full
        # scan, and an import writes no entry in it
        Index("ix_ehr_observations_streamed", "source", sqlite_where=text(STREAMED_SQL),
              postgresql_where=text(STREAMED_SQL)),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ID, ForeignKey("ehr_patients.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    system: Mapped[str | None] = mapped_column(SYSTEM, default=None)
    code: Mapped[str | None] = mapped_column(CODE, default=None, index=True)
    display: Mapped[str | None] = mapped_column(DISPLAY, default=None)
    category: Mapped[str | None] = mapped_column(String(60), default=None)
    status: Mapped[str | None] = mapped_column(String(30), default=None)
    effective: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    value: Mapped[float | None] = mapped_column(Float, default=None)
    unit: Mapped[str | None] = mapped_column(String(60), default=None)
    value_orig: Mapped[float | None] = mapped_column(Float, default=None)
    unit_orig: Mapped[str | None] = mapped_column(String(60), default=None)
    unit_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    comparator: Mapped[str | None] = mapped_column(String(4), default=None)
    value_text: Mapped[str | None] = mapped_column(Text, default=None)
    value_system: Mapped[str | None] = mapped_column(SYSTEM, default=None)
    value_code: Mapped[str | None] = mapped_column(CODE, default=None)
    encounter_id: Mapped[str | None] = mapped_column(ID, default=None)
    device_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # streamed readings (source 'stream:<transport>'): when the server took the reading
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class MedicationRow(_Coded, _Tracked, Base):
    """A medication order or statement (FHIR MedicationRequest / MedicationStatement), RxNorm-coded."""

    __tablename__ = "ehr_medications"

    resource_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    status: Mapped[str | None] = mapped_column(String(30), default=None)
    intent: Mapped[str | None] = mapped_column(String(30), default=None)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    dosage: Mapped[str | None] = mapped_column(Text, default=None)
    reason_code: Mapped[str | None] = mapped_column(CODE, default=None)
    encounter_id: Mapped[str | None] = mapped_column(ID, default=None)


class ProcedureRow(_Coded, _Tracked, Base):
    """A procedure performed (FHIR Procedure)."""

    __tablename__ = "ehr_procedures"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    status: Mapped[str | None] = mapped_column(String(30), default=None)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reason_code: Mapped[str | None] = mapped_column(CODE, default=None)
    encounter_id: Mapped[str | None] = mapped_column(ID, default=None)


class AllergyRow(_Coded, _Tracked, Base):
    """An allergy or intolerance (FHIR AllergyIntolerance); reactions kept as display text."""

    __tablename__ = "ehr_allergies"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    clinical_status: Mapped[str | None] = mapped_column(String(30), default=None)
    verification_status: Mapped[str | None] = mapped_column(String(30), default=None)
    type: Mapped[str | None] = mapped_column(String(30), default=None)
    category: Mapped[str | None] = mapped_column(String(60), default=None)
    criticality: Mapped[str | None] = mapped_column(String(30), default=None)
    recorded: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reactions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class EncounterRow(_Tracked, Base):
    """A visit (FHIR Encounter)."""

    __tablename__ = "ehr_encounters"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    status: Mapped[str | None] = mapped_column(String(30), default=None)
    class_code: Mapped[str | None] = mapped_column(String(30), default=None)
    system: Mapped[str | None] = mapped_column(SYSTEM, default=None)
    code: Mapped[str | None] = mapped_column(CODE, default=None)
    display: Mapped[str | None] = mapped_column(DISPLAY, default=None)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    reason_code: Mapped[str | None] = mapped_column(CODE, default=None)
    reason_display: Mapped[str | None] = mapped_column(DISPLAY, default=None)


class NoteRow(_Tracked, Base):
    """A clinical document: DocumentReference text (base64 decoded) or a DiagnosticReport.

    A DiagnosticReport without narrative (a lab panel) is kept with empty text and the ids of its
    result Observations, so the panel can be exported again.
    """

    __tablename__ = "ehr_notes"

    resource_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = _patient_fk()
    system: Mapped[str | None] = mapped_column(SYSTEM, default=None)
    code: Mapped[str | None] = mapped_column(CODE, default=None)
    display: Mapped[str | None] = mapped_column(DISPLAY, default=None)
    status: Mapped[str | None] = mapped_column(String(30), default=None)
    date: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    content_type: Mapped[str | None] = mapped_column(String(100), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    result_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    encounter_id: Mapped[str | None] = mapped_column(ID, default=None)


class FamilyHistoryRow(_Tracked, Base):
    """One condition of one relative (FHIR FamilyMemberHistory, one row per ``condition[seq]``)."""

    __tablename__ = "ehr_family_history"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    patient_id: Mapped[str] = _patient_fk()
    status: Mapped[str | None] = mapped_column(String(30), default=None)
    relationship: Mapped[str | None] = mapped_column(String(30), default=None)
    relationship_display: Mapped[str | None] = mapped_column(String(100), default=None)
    system: Mapped[str | None] = mapped_column(SYSTEM, default=None)
    code: Mapped[str | None] = mapped_column(CODE, default=None, index=True)
    display: Mapped[str | None] = mapped_column(DISPLAY, default=None)
    onset_age: Mapped[float | None] = mapped_column(Float, default=None)
    recorded: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class GenotypeRow(_Tracked, Base):
    """A pharmacogene result: diplotype and phenotype (from FHIR genomics Observations or the PGx caller).

    ``source`` says where the call came from (``fhir``, ``vcf:<file>``, ``outside-call``); the id is
    the FHIR Observation id, or a deterministic id chosen by the caller that writes it.
    """

    __tablename__ = "ehr_genotypes"
    __table_args__ = (Index("ix_ehr_genotypes_patient_gene", "patient_id", "gene"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    patient_id: Mapped[str] = mapped_column(ID, ForeignKey("ehr_patients.id", ondelete="CASCADE"))
    gene: Mapped[str] = mapped_column(String(30))
    diplotype: Mapped[str | None] = mapped_column(EncryptedText(), default=None)  # genome: encrypted at rest
    phenotype: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    activity_score: Mapped[float | None] = mapped_column(Float, default=None)
    effective: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    method: Mapped[str | None] = mapped_column(String(200), default=None)


#: the child tables, in the order an export or a delete walks them.
CHILD_TABLES: tuple[type[Base], ...] = (
    ConditionRow,
    ObservationRow,
    MedicationRow,
    ProcedureRow,
    AllergyRow,
    EncounterRow,
    NoteRow,
    FamilyHistoryRow,
    GenotypeRow,
)
ALL_TABLES: tuple[type[Base], ...] = (PatientRow, *CHILD_TABLES)


def streamed() -> ColumnElement[bool]:
    """SQL condition: the observation came from a device stream or the score engine, not an import.

    Rendered as ``source LIKE 'stream:%'`` (:data:`STREAMED_SQL`), so ``ix_ehr_observations_streamed``
    serves it on both databases.
    """
    return ObservationRow.source.like(literal_column(f"'{STREAM_PREFIX}%'"))


def ehr_tables() -> list[Any]:
    """The ``Table`` objects of this module (for tests that create or drop only the EHR tables)."""
    return [t.__table__ for t in ALL_TABLES]  # type: ignore[attr-defined]
