"""Export one patient from the ``ehr_*`` tables back to a FHIR R4 Bundle, validated with R4B.

Why from the rows and not from stored JSON: the export then shows exactly what theralab
understood (normalised units, decoded notes re-encoded), and a round trip
(import -> export -> import) proves nothing was lost that the patient model claims to hold.
Resource ids are the original FHIR ids, so the receiving system can match them.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.ehr.fhir.mapping import DRUG_METABOLISM_LOINC, GENE_STUDIED_LOINC, GENOTYPE_LOINC
from theralab.ehr.patients import load_patient_head
from theralab.ehr.terminology import SYSTEMS
from theralab.errors import InputError

_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_AI_CLIN = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_AI_VER = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _cc(system: str | None, code: str | None, display: str | None, codings: list[dict[str, Any]] | None = None) -> dict:
    coding = [dict(c) for c in codings] if codings else []
    if not coding and code:
        coding = [{k: v for k, v in (("system", system), ("code", code), ("display", display)) if v}]
    out: dict[str, Any] = {}
    if coding:
        out["coding"] = coding
    if display:
        out["text"] = display
    return out or {"text": "unknown"}


def _status_cc(system: str, code: str | None) -> dict | None:
    return {"coding": [{"system": system, "code": code}]} if code else None


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], {}, "")}


def _patient(p: store.PatientRow) -> dict[str, Any]:
    name = _clean({"use": "official", "family": p.family, "given": p.given.split() if p.given else None})
    ext = []
    for url, text in (("us-core-race", p.race), ("us-core-ethnicity", p.ethnicity)):
        if text:
            ext.append(
                {
                    "url": f"http://hl7.org/fhir/us/core/StructureDefinition/{url}",
                    "extension": [{"url": "text", "valueString": text}],
                }
            )
    if p.birth_sex:
        ext.append(
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
                "valueCode": p.birth_sex,
            }
        )
    ident = None
    if p.mrn:
        ident = [
            {
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
                "value": p.mrn,
            }
        ]
    return _clean(
        {
            "resourceType": "Patient",
            "id": p.id,
            "extension": ext,
            "identifier": ident,
            "name": [name] if name.keys() - {"use"} else None,
            "gender": p.gender,
            "birthDate": p.birth_date.isoformat() if p.birth_date else None,
            "deceasedDateTime": _dt(p.deceased_at),
            "deceasedBoolean": True if p.deceased and not p.deceased_at else None,
            "address": [_clean({"city": p.city, "state": p.state, "country": p.country})]
            if (p.city or p.state)
            else None,
            "maritalStatus": _cc("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", p.marital_status, None)
            if p.marital_status
            else None,
        }
    )


def _quantity(o: store.ObservationRow) -> dict[str, Any] | None:
    if o.value is not None and o.unit_ok:
        q = {"value": o.value, "unit": o.unit, "comparator": o.comparator}
        if o.unit:
            q.update(system="http://unitsofmeasure.org", code=o.unit)
        return _clean(q)
    if o.value_orig is not None:  # unconvertible: give back what was received, unchanged
        return _clean({"value": o.value_orig, "unit": o.unit_orig, "comparator": o.comparator})
    return None


def _obs_value(o: store.ObservationRow) -> dict[str, Any]:
    if o.value_code or (o.value_text and o.value is None):
        if o.value_text in ("true", "false") and not o.value_code:
            return {"valueBoolean": o.value_text == "true"}
        if o.value_code:
            return {"valueCodeableConcept": _cc(o.value_system, o.value_code, o.value_text)}
        return {"valueString": o.value_text}
    q = _quantity(o)
    return {"valueQuantity": q} if q else {}


def _observation(o: store.ObservationRow, children: list[store.ObservationRow]) -> dict[str, Any]:
    res = {
        "resourceType": "Observation",
        "id": o.id,
        "status": o.status or "final",
        "category": [{"coding": [{"system": _OBS_CAT, "code": o.category}]}] if o.category else None,
        "code": _cc(o.system, o.code, o.display),
        "subject": {"reference": f"Patient/{o.patient_id}"},
        "encounter": {"reference": f"Encounter/{o.encounter_id}"} if o.encounter_id else None,
        "effectiveDateTime": _dt(o.effective),
        **_obs_value(o),
        "component": [_clean({"code": _cc(c.system, c.code, c.display), **_obs_value(c)}) for c in children] or None,
    }
    return _clean(res)


def _medication(m: store.MedicationRow) -> dict[str, Any]:
    concept = _cc(m.system, m.code, m.display, m.codings)
    if m.resource_type == "MedicationStatement":
        period = _clean({"start": _dt(m.start), "end": _dt(m.end)})
        return _clean(
            {
                "resourceType": "MedicationStatement",
                "id": m.id,
                "status": m.status or "unknown",
                "medicationCodeableConcept": concept,
                "subject": {"reference": f"Patient/{m.patient_id}"},
                "effectivePeriod": period or None,
                "dosage": [{"text": m.dosage}] if m.dosage else None,
            }
        )
    validity = _clean({"start": _dt(m.start), "end": _dt(m.end)}) if m.end else None
    return _clean(
        {
            "resourceType": "MedicationRequest",
            "id": m.id,
            "status": m.status or "unknown",
            "intent": m.intent or "order",
            "medicationCodeableConcept": concept,
            "subject": {"reference": f"Patient/{m.patient_id}"},
            "authoredOn": _dt(m.start),
            "dosageInstruction": [{"text": m.dosage}] if m.dosage else None,
            "dispenseRequest": {"validityPeriod": validity} if validity else None,
            "reasonCode": [{"coding": [{"system": SYSTEMS["snomed"], "code": m.reason_code}]}]
            if m.reason_code
            else None,
        }
    )


def _note_resource(kind: str, n: store.NoteRow, status: str, code_key: str, **fields: Any) -> dict[str, Any]:
    """What a DiagnosticReport and a DocumentReference both begin with (``status`` when the row has none;
    the code under ``code_key``), then ``fields``."""
    return _clean(
        {
            "resourceType": kind,
            "id": n.id,
            "status": n.status or status,
            code_key: _cc(n.system, n.code, n.display),
            "subject": {"reference": f"Patient/{n.patient_id}"},
            **fields,
        }
    )


def _note(n: store.NoteRow) -> dict[str, Any]:
    data = base64.b64encode(n.text.encode("utf-8")).decode("ascii") if n.text else None
    if n.resource_type == "DiagnosticReport":
        return _note_resource(
            "DiagnosticReport",
            n,
            "final",
            "code",
            effectiveDateTime=_dt(n.date),
            presentedForm=[{"contentType": n.content_type or "text/plain", "data": data}] if data else None,
            result=[{"reference": f"Observation/{r}"} for r in n.result_ids] or None,
        )
    att = _clean({"contentType": n.content_type or "text/plain", "data": data})
    return _note_resource("DocumentReference", n, "current", "type", date=_dt(n.date), content=[{"attachment": att}])


def _family(rows: list[store.FamilyHistoryRow]) -> dict[str, Any]:
    f = rows[0]
    conditions = [
        _clean(
            {
                "code": _cc(r.system, r.code, r.display),
                "onsetAge": {
                    "value": r.onset_age,
                    "unit": "a",
                    "system": "http://unitsofmeasure.org",
                    "code": "a",
                }
                if r.onset_age is not None
                else None,
            }
        )
        for r in rows
        if r.code or r.display
    ]
    return _clean(
        {
            "resourceType": "FamilyMemberHistory",
            "id": f.id,
            "status": f.status or "completed",
            "patient": {"reference": f"Patient/{f.patient_id}"},
            "date": _dt(f.recorded),
            "relationship": _cc(_ROLE, f.relationship, f.relationship_display),
            "condition": conditions or None,
        }
    )


def _genotype(g: store.GenotypeRow) -> dict[str, Any]:
    comps = [
        {
            "code": _cc(SYSTEMS["loinc"], GENE_STUDIED_LOINC, "Gene studied [ID]"),
            "valueCodeableConcept": {"text": g.gene},
        }
    ]
    if g.phenotype:
        comps.append(
            {
                "code": _cc(SYSTEMS["loinc"], DRUG_METABOLISM_LOINC, "Genetic variation's effect on drug metabolism"),
                "valueCodeableConcept": {"text": g.phenotype},
            }
        )
    return _clean(
        {
            "resourceType": "Observation",
            "id": g.id,
            "status": "final",
            "category": [{"coding": [{"system": _OBS_CAT, "code": "laboratory"}]}],
            "code": _cc(SYSTEMS["loinc"], GENOTYPE_LOINC, "Genotype display name"),
            "subject": {"reference": f"Patient/{g.patient_id}"},
            "effectiveDateTime": _dt(g.effective),
            "valueCodeableConcept": {"text": g.diplotype} if g.diplotype else None,
            "component": comps,
        }
    )


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    if _UUID.match(resource["id"]):
        return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
    return {"resource": resource}


def export_patient(session: Session, patient_id: str, *, validate: bool = True) -> dict[str, Any]:
    """Return a FHIR R4 ``collection`` Bundle with the patient and everything recorded about them.

    Raises:
        NotFoundError: when no patient has this id.
        InputError: when the bundle does not validate as FHIR R4 (a bug in the data or here).
    """
    p = load_patient_head(session, patient_id)
    res: list[dict[str, Any]] = [_patient(p)]

    def rows(model: Any) -> list[Any]:
        return list(session.scalars(select(model).where(model.patient_id == patient_id)))

    for e in rows(store.EncounterRow):
        res.append(
            _clean(
                {
                    "resourceType": "Encounter",
                    "id": e.id,
                    "status": e.status or "finished",
                    "class": {"system": _ACT, "code": e.class_code or "AMB"},
                    "type": [_cc(e.system, e.code, e.display)] if e.code else None,
                    "subject": {"reference": f"Patient/{e.patient_id}"},
                    "period": _clean({"start": _dt(e.start), "end": _dt(e.end)}) or None,
                    "reasonCode": [_cc(SYSTEMS["snomed"], e.reason_code, e.reason_display)] if e.reason_code else None,
                }
            )
        )
    for c in rows(store.ConditionRow):
        res.append(
            _clean(
                {
                    "resourceType": "Condition",
                    "id": c.id,
                    "clinicalStatus": _status_cc(_CLIN, c.clinical_status),
                    "verificationStatus": _status_cc(_VER, c.verification_status),
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                    "code": c.category,
                                }
                            ]
                        }
                    ]
                    if c.category
                    else None,
                    "code": _cc(c.system, c.code, c.display, c.codings),
                    "subject": {"reference": f"Patient/{c.patient_id}"},
                    "onsetDateTime": _dt(c.onset),
                    "abatementDateTime": _dt(c.abatement),
                    "recordedDate": _dt(c.recorded),
                }
            )
        )
    obs = rows(store.ObservationRow)
    genotype_ids = {g.id for g in rows(store.GenotypeRow)}
    children: dict[str, list[store.ObservationRow]] = {}
    for o in obs:
        if o.parent_id:
            children.setdefault(o.parent_id, []).append(o)
    for o in obs:
        if not o.parent_id and o.id not in genotype_ids:
            res.append(_observation(o, sorted(children.get(o.id, []), key=lambda c: c.id)))
    res.extend(_genotype(g) for g in rows(store.GenotypeRow))
    res.extend(_medication(m) for m in rows(store.MedicationRow))
    for pr in rows(store.ProcedureRow):
        period = _clean({"start": _dt(pr.start), "end": _dt(pr.end)})
        res.append(
            _clean(
                {
                    "resourceType": "Procedure",
                    "id": pr.id,
                    "status": pr.status or "completed",
                    "code": _cc(pr.system, pr.code, pr.display, pr.codings),
                    "subject": {"reference": f"Patient/{pr.patient_id}"},
                    "performedPeriod": period or None,
                }
            )
        )
    for a in rows(store.AllergyRow):
        reactions = [
            {
                "manifestation": [_cc(r.get("system"), r.get("code"), r.get("display"))],
                **({"severity": r["severity"]} if r.get("severity") else {}),
            }
            for r in a.reactions
        ]
        res.append(
            _clean(
                {
                    "resourceType": "AllergyIntolerance",
                    "id": a.id,
                    "clinicalStatus": _status_cc(_AI_CLIN, a.clinical_status),
                    "verificationStatus": _status_cc(_AI_VER, a.verification_status),
                    "type": a.type,
                    "category": [a.category] if a.category else None,
                    "criticality": a.criticality,
                    "code": _cc(a.system, a.code, a.display, a.codings),
                    "patient": {"reference": f"Patient/{a.patient_id}"},
                    "recordedDate": _dt(a.recorded),
                    "reaction": reactions or None,
                }
            )
        )
    res.extend(_note(n) for n in rows(store.NoteRow))
    fam: dict[str, list[store.FamilyHistoryRow]] = {}
    for f in rows(store.FamilyHistoryRow):
        fam.setdefault(f.id, []).append(f)
    res.extend(_family(sorted(v, key=lambda r: r.seq)) for v in fam.values())
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [_entry(r) for r in res]}
    if validate:
        from fhir.resources.R4B.bundle import Bundle
        from pydantic import ValidationError

        try:
            Bundle.model_validate(bundle)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(f"exported bundle does not validate: {err['msg']}", where=str(err["loc"])) from exc
    return bundle
