"""Map validated FHIR R4 resources (plain dicts) to rows of the ``ehr_*`` tables, and back.

Why dicts and not the ``fhir.resources`` objects: the resources are validated with
``fhir.resources.R4B`` first (``theralab.ehr.fhir.ingest``); reading the already-checked JSON here is
several times faster than walking pydantic objects, which matters for 100,000-patient cohorts.

Every problem found while mapping raises :class:`MapError` with the FHIR path of the element, so
the import report can say e.g. ``Observation/abc at effectiveDateTime: date in the future``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from typing import Any

from theralab.ehr import tables as store
from theralab.ehr.terminology import SYSTEMS, check_code
from theralab.ehr.units import normalise

Row = tuple[type[store.Base], dict[str, Any]]

GENOTYPE_LOINC = "84413-4"
GENE_STUDIED_LOINC = "48018-6"
DRUG_METABOLISM_LOINC = "53040-2"
BP_PANEL_LOINC = "85354-9"
_FUTURE_SLACK = timedelta(days=1)


class MapError(Exception):
    """A resource that validated as FHIR but cannot enter the patient model (``path``: where)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


class CodeError(MapError):
    """A malformed code (failed check digit, wrong pattern): an error, or a warning in lenient mode."""


#: whether :func:`codings_of` rejects malformed codes (the ingester turns it off in lenient mode)
CHECK_CODES: ContextVar[bool] = ContextVar("theralab_ehr_check_codes", default=True)


def parse_datetime(value: str | None, path: str, *, now: datetime | None = None) -> datetime | None:
    """Parse a FHIR date/dateTime/instant (partial dates allowed) to aware UTC; refuse future dates."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MapError(path, f"expected a FHIR date/time string, got {type(value).__name__} {value!r}")
    text = value.strip()
    try:
        if len(text) == 4:
            out = datetime(int(text), 1, 1, tzinfo=UTC)
        elif len(text) == 7:
            out = datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
        elif len(text) == 10:
            out = datetime.fromisoformat(text).replace(tzinfo=UTC)
        else:
            out = datetime.fromisoformat(text.replace("Z", "+00:00"))
            out = out.replace(tzinfo=UTC) if out.tzinfo is None else out.astimezone(UTC)
    except ValueError as exc:
        raise MapError(path, f"not a FHIR date/time: {value!r}") from exc
    if out > (now or datetime.now(UTC)) + _FUTURE_SLACK:
        raise MapError(path, f"date in the future: {value}")
    return out


def parse_date(value: str | None, path: str) -> date | None:
    """A FHIR ``date`` (e.g. birthDate) as a ``date``; partial dates take the first day."""
    dt = parse_datetime(value, path)
    return dt.date() if dt else None


def ref_id(ref: dict[str, Any] | None, expected: str, path: str, *, required: bool = True) -> str | None:
    """The id inside a reference such as ``Patient/123`` or ``urn:uuid:123``."""
    text = (ref or {}).get("reference") or ""
    if not text:
        if required:
            raise MapError(path, f"missing reference to the {expected}")
        return None
    if text.startswith("urn:uuid:"):
        return text[len("urn:uuid:") :]
    if "/" in text and "?" not in text:
        kind, _, rid = text.rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
        if kind != expected:
            raise MapError(path, f"reference {text!r} points to a {kind}, expected a {expected}")
        return rid
    if required:
        raise MapError(path, f"reference {text!r} cannot be resolved to a {expected} id")
    return None


def codings_of(concept: dict[str, Any] | None, path: str) -> list[dict[str, Any]]:
    """All codings of a CodeableConcept, each checked for a well-formed code of a known system."""
    out = []
    for i, c in enumerate((concept or {}).get("coding") or []):
        system, code = c.get("system"), c.get("code")
        if code is not None and system and CHECK_CODES.get():
            problem = check_code(system, str(code))
            if problem:
                raise CodeError(f"{path}.coding[{i}].code", problem)
        out.append({k: c[k] for k in ("system", "code", "display") if c.get(k) is not None})
    return out


def primary(codings: list[dict[str, Any]], concept: dict[str, Any] | None, prefer: tuple[str, ...]) -> dict[str, Any]:
    """The coding to index on: the first in a preferred system, else the first; ``text`` as display."""
    chosen: dict[str, Any] = {}
    for system in prefer:
        chosen = next((c for c in codings if c.get("system") == system), {})
        if chosen:
            break
    if not chosen and codings:
        chosen = codings[0]
    display = chosen.get("display") or (concept or {}).get("text")
    return {"system": chosen.get("system"), "code": chosen.get("code"), "display": display}


def _code(concept: dict[str, Any] | None) -> str | None:
    codings = (concept or {}).get("coding") or []
    return codings[0].get("code") if codings else None


def _first(items: list[Any] | None) -> Any:
    return items[0] if items else None


_SNOMED, _LOINC, _RXNORM, _ICD10 = SYSTEMS["snomed"], SYSTEMS["loinc"], SYSTEMS["rxnorm"], SYSTEMS["icd10cm"]


def map_patient(r: dict[str, Any]) -> list[Row]:
    names = r.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), _first(names)) or {}
    race = ethnicity = birth_sex = None
    for ext in r.get("extension") or []:
        url = ext.get("url", "")
        if url.endswith("us-core-race") or url.endswith("us-core-ethnicity"):
            text = next((e.get("valueString") for e in ext.get("extension") or [] if e.get("url") == "text"), None)
            if url.endswith("race"):
                race = text
            else:
                ethnicity = text
        elif url.endswith("us-core-birthsex"):
            birth_sex = ext.get("valueCode")
    mrn = None
    for ident in r.get("identifier") or []:
        if _code(ident.get("type")) == "MR":
            mrn = ident.get("value")
    address = _first(r.get("address")) or {}
    comm = _first(r.get("communication")) or {}
    deceased_at = parse_datetime(r.get("deceasedDateTime"), "deceasedDateTime")
    row = {
        "id": r["id"],
        "mrn": mrn,
        "family": name.get("family"),
        "given": " ".join(name.get("given") or []) or None,
        "gender": r.get("gender"),
        "birth_date": parse_date(r.get("birthDate"), "birthDate"),
        "deceased_at": deceased_at,
        "deceased": bool(deceased_at) or bool(r.get("deceasedBoolean")),
        "race": race,
        "ethnicity": ethnicity,
        "birth_sex": birth_sex,
        "city": address.get("city"),
        "state": address.get("state"),
        "country": address.get("country"),
        "marital_status": _code(r.get("maritalStatus")),
        "language": _code(comm.get("language")),
    }
    return [(store.PatientRow, row)]


def _clinical_head(r: dict[str, Any], codings: list[dict[str, Any]], patient: str, systems: Any) -> dict[str, Any]:
    """How a Condition and an AllergyIntolerance row begin: id, patient (the reference in field
    ``patient``), the primary code among ``systems``, every coding, clinical and verification status."""
    return {
        "id": r["id"],
        "patient_id": ref_id(r.get(patient), "Patient", patient),
        **primary(codings, r.get("code"), systems),
        "codings": codings,
        "clinical_status": _code(r.get("clinicalStatus")),
        "verification_status": _code(r.get("verificationStatus")),
    }


def map_condition(r: dict[str, Any]) -> list[Row]:
    codings = codings_of(r.get("code"), "code")
    onset = r.get("onsetDateTime") or (r.get("onsetPeriod") or {}).get("start")
    abatement = r.get("abatementDateTime") or (r.get("abatementPeriod") or {}).get("end")
    row = {
        **_clinical_head(r, codings, "subject", (_SNOMED, _ICD10)),
        "category": _code(_first(r.get("category"))),
        "onset": parse_datetime(onset, "onsetDateTime"),
        "abatement": parse_datetime(abatement, "abatementDateTime"),
        "recorded": parse_datetime(r.get("recordedDate"), "recordedDate"),
        "encounter_id": ref_id(r.get("encounter"), "Encounter", "encounter", required=False),
    }
    return [(store.ConditionRow, row)]


def _obs_value(holder: dict[str, Any], code: str | None, path: str) -> tuple[dict[str, Any], str | None]:
    """Value columns of an Observation or component, and a unit warning when not convertible."""
    out: dict[str, Any] = {}
    warning = None
    q = holder.get("valueQuantity")
    if q is not None:
        unit = q.get("code") or q.get("unit")
        norm = normalise(code, q.get("value"), unit)
        out.update(
            value=norm.value,
            unit=norm.unit,
            value_orig=q.get("value"),
            unit_orig=unit,
            unit_ok=norm.unit_ok,
            comparator=q.get("comparator"),
        )
        if not norm.unit_ok:
            warning = f"{path}valueQuantity: {norm.problem}"
    elif holder.get("valueCodeableConcept") is not None:
        cc = holder["valueCodeableConcept"]
        c = _first(cc.get("coding")) or {}
        out.update(
            value_text=cc.get("text") or c.get("display"),
            value_system=c.get("system"),
            value_code=c.get("code"),
        )
    elif holder.get("valueString") is not None:
        out["value_text"] = holder["valueString"]
    elif holder.get("valueBoolean") is not None:
        out.update(value=1.0 if holder["valueBoolean"] else 0.0, value_text=str(holder["valueBoolean"]).lower())
    elif holder.get("valueInteger") is not None:
        out.update(value=float(holder["valueInteger"]), value_orig=float(holder["valueInteger"]))
    return out, warning


def map_observation(r: dict[str, Any], warnings: list[tuple[str, str]]) -> list[Row]:
    codings = codings_of(r.get("code"), "code")
    head = primary(codings, r.get("code"), (_LOINC,))
    eff = r.get("effectiveDateTime") or r.get("effectiveInstant") or (r.get("effectivePeriod") or {}).get("start")
    path_eff = "effectiveDateTime" if r.get("effectiveDateTime") else "effective"
    effective = parse_datetime(eff or r.get("issued"), path_eff)
    base = {
        "patient_id": ref_id(r.get("subject"), "Patient", "subject"),
        "category": _code(_first(r.get("category"))),
        "status": r.get("status"),
        "effective": effective,
        "encounter_id": ref_id(r.get("encounter"), "Encounter", "encounter", required=False),
        "device_id": ref_id(r.get("device"), "Device", "device", required=False),
    }
    value, warn = _obs_value(r, head["code"], "")
    if warn:
        warnings.append(("valueQuantity", warn))
    rows: list[Row] = [(store.ObservationRow, {"id": r["id"], "parent_id": None, **head, **base, **value})]
    components: dict[str, dict[str, Any]] = {}
    for i, comp in enumerate(r.get("component") or []):
        ccodings = codings_of(comp.get("code"), f"component[{i}].code")
        chead = primary(ccodings, comp.get("code"), (_LOINC,))
        cvalue, warn = _obs_value(comp, chead["code"], f"component[{i}].")
        if warn:
            warnings.append((f"component[{i}].valueQuantity", warn))
        crow = {"id": f"{r['id']}.c{i}", "parent_id": r["id"], **chead, **base, **cvalue}
        rows.append((store.ObservationRow, crow))
        if chead["code"]:
            components[chead["code"]] = crow
    if head["code"] == GENOTYPE_LOINC:
        gene_row = components.get(GENE_STUDIED_LOINC)
        if gene_row is None or not gene_row.get("value_text"):
            raise MapError("component", f"genotype Observation without a gene-studied ({GENE_STUDIED_LOINC}) component")
        pheno = components.get(DRUG_METABOLISM_LOINC, {})
        rows.append(
            (
                store.GenotypeRow,
                {
                    "id": r["id"],
                    "patient_id": base["patient_id"],
                    "gene": gene_row["value_text"],
                    "diplotype": value.get("value_text"),
                    "phenotype": pheno.get("value_text"),
                    "effective": effective,
                    "method": (r.get("method") or {}).get("text"),
                    "activity_score": None,
                },
            )
        )
    return rows


def _medication(r: dict[str, Any], path: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    concept = r.get("medicationCodeableConcept")
    if concept is None and r.get("medicationReference"):
        concept = {"text": r["medicationReference"].get("display")}
    if concept is None:
        raise MapError(path, "medication has neither medicationCodeableConcept nor medicationReference")
    codings = codings_of(concept, "medicationCodeableConcept")
    return codings, primary(codings, concept, (_RXNORM,))


def _dosage_text(dosage: dict[str, Any] | None) -> str | None:
    if not dosage:
        return None
    if dosage.get("text"):
        return dosage["text"]
    rep = ((dosage.get("timing") or {}).get("repeat")) or {}
    if rep.get("frequency"):
        return f"{rep['frequency']} per {rep.get('period', 1)} {rep.get('periodUnit', '')}".strip()
    return None


def _medication_row(
    r: dict[str, Any],
    kind: str,
    *,
    intent: str | None,
    start: tuple[Any, str],
    end: tuple[Any, str],
    dosage: Any,
    encounter: tuple[Any, str],
) -> list[Row]:
    """The one row both medication resources map to.

    ``start`` and ``end`` are (raw value, where) pairs and ``encounter`` a (reference, where) pair; they
    are read here in the row's order, so the first problem reported is the same for either resource.
    """
    codings, head = _medication(r, "medication[x]")
    row = {
        "resource_type": kind,
        "id": r["id"],
        "patient_id": ref_id(r.get("subject"), "Patient", "subject"),
        **head,
        "codings": codings,
        "status": r.get("status"),
        "intent": intent,
        "start": parse_datetime(*start),
        "end": parse_datetime(*end),
        "dosage": _dosage_text(_first(dosage)),
        "reason_code": _code(_first(r.get("reasonCode"))),
        "encounter_id": ref_id(encounter[0], "Encounter", encounter[1], required=False),
    }
    return [(store.MedicationRow, row)]


def map_medication_request(r: dict[str, Any]) -> list[Row]:
    validity = ((r.get("dispenseRequest") or {}).get("validityPeriod")) or {}
    return _medication_row(
        r,
        "MedicationRequest",
        intent=r.get("intent"),
        start=(validity.get("start") or r.get("authoredOn"), "authoredOn"),
        end=(validity.get("end"), "dispenseRequest.validityPeriod.end"),
        dosage=r.get("dosageInstruction"),
        encounter=(r.get("encounter"), "encounter"),
    )


def map_medication_statement(r: dict[str, Any]) -> list[Row]:
    period = r.get("effectivePeriod") or {}
    return _medication_row(
        r,
        "MedicationStatement",
        intent=None,
        start=(r.get("effectiveDateTime") or period.get("start"), "effective"),
        end=(period.get("end"), "effectivePeriod.end"),
        dosage=r.get("dosage"),
        encounter=(r.get("context"), "context"),
    )


def map_procedure(r: dict[str, Any]) -> list[Row]:
    codings = codings_of(r.get("code"), "code")
    period = r.get("performedPeriod") or {}
    row = {
        "id": r["id"],
        "patient_id": ref_id(r.get("subject"), "Patient", "subject"),
        **primary(codings, r.get("code"), (_SNOMED,)),
        "codings": codings,
        "status": r.get("status"),
        "start": parse_datetime(r.get("performedDateTime") or period.get("start"), "performed"),
        "end": parse_datetime(period.get("end"), "performedPeriod.end"),
        "reason_code": _code(_first(r.get("reasonCode"))),
        "encounter_id": ref_id(r.get("encounter"), "Encounter", "encounter", required=False),
    }
    return [(store.ProcedureRow, row)]


def map_allergy(r: dict[str, Any]) -> list[Row]:
    codings = codings_of(r.get("code"), "code")
    reactions = []
    for i, reaction in enumerate(r.get("reaction") or []):
        for j, m in enumerate(reaction.get("manifestation") or []):
            c = _first(codings_of(m, f"reaction[{i}].manifestation[{j}]")) or {}
            reactions.append({**c, "severity": reaction.get("severity")})
    row = {
        **_clinical_head(r, codings, "patient", (_SNOMED, _RXNORM)),
        "type": r.get("type"),
        "category": _first(r.get("category")),
        "criticality": r.get("criticality"),
        "recorded": parse_datetime(r.get("recordedDate") or r.get("onsetDateTime"), "recordedDate"),
        "reactions": reactions,
    }
    return [(store.AllergyRow, row)]


def map_encounter(r: dict[str, Any]) -> list[Row]:
    type_cc = _first(r.get("type"))
    codings = codings_of(type_cc, "type[0]")
    reason = _first(r.get("reasonCode")) or {}
    reason_coding = _first(reason.get("coding")) or {}
    period = r.get("period") or {}
    row = {
        "id": r["id"],
        "patient_id": ref_id(r.get("subject"), "Patient", "subject"),
        "status": r.get("status"),
        "class_code": (r.get("class") or {}).get("code"),
        **primary(codings, type_cc, (_SNOMED,)),
        "start": parse_datetime(period.get("start"), "period.start"),
        "end": parse_datetime(period.get("end"), "period.end"),
        "reason_code": reason_coding.get("code"),
        "reason_display": reason_coding.get("display") or reason.get("text"),
    }
    return [(store.EncounterRow, row)]


def decode_attachment(att: dict[str, Any], path: str) -> str:
    """The text of an attachment: base64 ``data`` decoded as UTF-8 (``url`` attachments give '')."""
    data = att.get("data")
    if not data:
        return ""
    try:
        return base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise MapError(f"{path}.data", f"attachment is not base64-encoded UTF-8 text ({exc})") from exc


def map_document_reference(r: dict[str, Any]) -> list[Row]:
    codings = codings_of(r.get("type"), "type")
    texts, content_type = [], None
    for i, content in enumerate(r.get("content") or []):
        att = content.get("attachment") or {}
        content_type = content_type or att.get("contentType")
        texts.append(decode_attachment(att, f"content[{i}].attachment"))
    context = r.get("context") or {}
    row = {
        "resource_type": "DocumentReference",
        "id": r["id"],
        "patient_id": ref_id(r.get("subject"), "Patient", "subject"),
        **primary(codings, r.get("type"), (_LOINC,)),
        "status": r.get("status"),
        "date": parse_datetime(r.get("date"), "date"),
        "content_type": content_type,
        "text": "\n".join(t for t in texts if t),
        "result_ids": [],
        "encounter_id": ref_id(_first(context.get("encounter")), "Encounter", "context.encounter", required=False),
    }
    return [(store.NoteRow, row)]


def map_diagnostic_report(r: dict[str, Any]) -> list[Row]:
    codings = codings_of(r.get("code"), "code")
    texts = [decode_attachment(a, f"presentedForm[{i}]") for i, a in enumerate(r.get("presentedForm") or [])]
    if r.get("conclusion"):
        texts.append(r["conclusion"])
    results = [ref_id(x, "Observation", f"result[{i}]") for i, x in enumerate(r.get("result") or [])]
    eff = r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start") or r.get("issued")
    row = {
        "resource_type": "DiagnosticReport",
        "id": r["id"],
        "patient_id": ref_id(r.get("subject"), "Patient", "subject"),
        **primary(codings, r.get("code"), (_LOINC,)),
        "status": r.get("status"),
        "date": parse_datetime(eff, "effectiveDateTime"),
        "content_type": _first([a.get("contentType") for a in r.get("presentedForm") or []]),
        "text": "\n".join(t for t in texts if t),
        "result_ids": results,
        "encounter_id": ref_id(r.get("encounter"), "Encounter", "encounter", required=False),
    }
    return [(store.NoteRow, row)]


def map_family_history(r: dict[str, Any]) -> list[Row]:
    rel = _first((r.get("relationship") or {}).get("coding")) or {}
    base = {
        "id": r["id"],
        "patient_id": ref_id(r.get("patient"), "Patient", "patient"),
        "status": r.get("status"),
        "relationship": rel.get("code"),
        "relationship_display": rel.get("display") or r["relationship"].get("text"),
        "recorded": parse_datetime(r.get("date"), "date"),
    }
    conditions = r.get("condition") or [{}]
    rows: list[Row] = []
    for i, cond in enumerate(conditions):
        codings = codings_of(cond.get("code"), f"condition[{i}].code")
        age = (cond.get("onsetAge") or {}).get("value")
        rows.append(
            (
                store.FamilyHistoryRow,
                {
                    **base,
                    "seq": i,
                    **primary(codings, cond.get("code"), (_SNOMED, _ICD10)),
                    "onset_age": float(age) if age is not None else None,
                },
            )
        )
    return rows


MAPPERS: dict[str, Callable[..., list[Row]]] = {
    "Patient": map_patient,
    "Condition": map_condition,
    "Observation": map_observation,
    "MedicationRequest": map_medication_request,
    "MedicationStatement": map_medication_statement,
    "Procedure": map_procedure,
    "AllergyIntolerance": map_allergy,
    "Encounter": map_encounter,
    "DocumentReference": map_document_reference,
    "DiagnosticReport": map_diagnostic_report,
    "FamilyMemberHistory": map_family_history,
}
