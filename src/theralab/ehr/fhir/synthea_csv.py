"""Synthea CSV export -> FHIR R4 resources, so CSV data take the same validated path as FHIR.

Why convert instead of writing rows directly: one ingestion path means one set of checks
(validation, code formats, future dates, unit normalisation) and one error report, with the CSV
file and line in place of the ndjson line. Synthea CSV rows other than patients and encounters
have no id; a deterministic UUID (uuid5 of the row's identifying fields) makes re-import
idempotent.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from theralab.ehr.fhir.read import Origin
from theralab.ehr.terminology import SYSTEMS

_NS = uuid.UUID("6f1c3a52-8f0e-4a57-9c1b-2f4e1b7d9a10")
_GENDER = {"M": "male", "F": "female"}
_SYSTEM_BY_NAME = {"SNOMED-CT": SYSTEMS["snomed"], "RxNorm": SYSTEMS["rxnorm"], "LOINC": SYSTEMS["loinc"]}
_SYNTHEA = "http://synthetichealth.github.io/synthea"


def _rid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "|".join(parts)))


def _date(value: str) -> str | None:
    return value or None


def _cc(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _patient(r: dict[str, str]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": r["Id"],
        "gender": _GENDER.get(r["GENDER"], "unknown"),
        "birthDate": r["BIRTHDATE"],
        "name": [{"use": "official", "family": r["LAST"], "given": [r["FIRST"]]}],
        "address": [{"city": r["CITY"], "state": r["STATE"], "country": "US"}],
        "extension": [
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                "extension": [{"url": "text", "valueString": r["RACE"]}],
            },
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
                "extension": [{"url": "text", "valueString": r["ETHNICITY"]}],
            },
        ],
    }
    if r.get("DEATHDATE"):
        res["deceasedDateTime"] = r["DEATHDATE"]
    return res


def _condition(r: dict[str, str]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": _rid("Condition", r["PATIENT"], r["ENCOUNTER"], r["CODE"], r["START"]),
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "resolved" if r["STOP"] else "active",
                }
            ]
        },
        "code": _cc(SYSTEMS["snomed"], r["CODE"], r["DESCRIPTION"]),
        "subject": {"reference": f"Patient/{r['PATIENT']}"},
        "onsetDateTime": r["START"],
    }
    if r["STOP"]:
        res["abatementDateTime"] = r["STOP"]
    return res


def _observation(r: dict[str, str]) -> dict[str, Any]:
    code = r["CODE"]
    system = SYSTEMS["loinc"] if code[:1].isdigit() and "-" in code else _SYNTHEA
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _rid("Observation", r["PATIENT"], r["ENCOUNTER"], code, r["DATE"], r["VALUE"]),
        "status": "final",
        "code": _cc(system, code, r["DESCRIPTION"]),
        "subject": {"reference": f"Patient/{r['PATIENT']}"},
        "effectiveDateTime": r["DATE"],
    }
    if r["CATEGORY"]:
        res["category"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": r["CATEGORY"],
                    }
                ]
            }
        ]
    if r["ENCOUNTER"]:
        res["encounter"] = {"reference": f"Encounter/{r['ENCOUNTER']}"}
    if r["TYPE"] == "numeric":
        try:
            value = float(r["VALUE"])
        except ValueError:
            res["valueString"] = r["VALUE"]  # the validator will accept it; the text is kept
        else:
            q: dict[str, Any] = {"value": value}
            if r["UNITS"]:
                q.update(unit=r["UNITS"], system="http://unitsofmeasure.org", code=r["UNITS"])
            res["valueQuantity"] = q
    elif r["VALUE"]:
        res["valueString"] = r["VALUE"]
    return res


def _medication(r: dict[str, str]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": _rid("MedicationRequest", r["PATIENT"], r["ENCOUNTER"], r["CODE"], r["START"]),
        "status": "stopped" if r["STOP"] else "active",
        "intent": "order",
        "medicationCodeableConcept": _cc(SYSTEMS["rxnorm"], r["CODE"], r["DESCRIPTION"]),
        "subject": {"reference": f"Patient/{r['PATIENT']}"},
        "authoredOn": r["START"],
        "dispenseRequest": {"validityPeriod": {"start": r["START"], **({"end": r["STOP"]} if r["STOP"] else {})}},
    }
    if r.get("REASONCODE"):
        res["reasonCode"] = [_cc(SYSTEMS["snomed"], r["REASONCODE"], r["REASONDESCRIPTION"])]
    return res


def _procedure(r: dict[str, str]) -> dict[str, Any]:
    period = {"start": r["START"], **({"end": r["STOP"]} if r["STOP"] else {})}
    return {
        "resourceType": "Procedure",
        "id": _rid("Procedure", r["PATIENT"], r["ENCOUNTER"], r["CODE"], r["START"]),
        "status": "completed",
        "code": _cc(SYSTEMS["snomed"], r["CODE"], r["DESCRIPTION"]),
        "subject": {"reference": f"Patient/{r['PATIENT']}"},
        "performedPeriod": period,
    }


def _allergy(r: dict[str, str]) -> dict[str, Any]:
    reactions = []
    for k in ("1", "2"):
        if r.get(f"REACTION{k}"):
            reaction: dict[str, Any] = {
                "manifestation": [_cc(SYSTEMS["snomed"], r[f"REACTION{k}"], r[f"DESCRIPTION{k}"])]
            }
            if r.get(f"SEVERITY{k}"):
                reaction["severity"] = r[f"SEVERITY{k}"].lower()
            reactions.append(reaction)
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": _rid("AllergyIntolerance", r["PATIENT"], r["CODE"], r["START"]),
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                    "code": "inactive" if r["STOP"] else "active",
                }
            ]
        },
        "code": _cc(_SYSTEM_BY_NAME.get(r["SYSTEM"], SYSTEMS["snomed"]), r["CODE"], r["DESCRIPTION"]),
        "patient": {"reference": f"Patient/{r['PATIENT']}"},
        "recordedDate": r["START"],
    }
    if r.get("TYPE"):
        res["type"] = r["TYPE"]
    if r.get("CATEGORY"):
        res["category"] = [r["CATEGORY"]]
    if reactions:
        res["reaction"] = reactions
    return res


def _encounter(r: dict[str, str]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": r["Id"],
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": r["ENCOUNTERCLASS"]},
        "type": [_cc(SYSTEMS["snomed"], r["CODE"], r["DESCRIPTION"])],
        "subject": {"reference": f"Patient/{r['PATIENT']}"},
        "period": {"start": r["START"], **({"end": r["STOP"]} if r["STOP"] else {})},
    }
    if r.get("REASONCODE"):
        res["reasonCode"] = [_cc(SYSTEMS["snomed"], r["REASONCODE"], r["REASONDESCRIPTION"])]
    return res


# file -> converter, patients first so children find their patient
CONVERTERS = [
    ("patients.csv", _patient),
    ("encounters.csv", _encounter),
    ("conditions.csv", _condition),
    ("observations.csv", _observation),
    ("medications.csv", _medication),
    ("procedures.csv", _procedure),
    ("allergies.csv", _allergy),
]


def iter_synthea_csv(folder: str | Path) -> Iterator[tuple[Any, Origin]]:
    """FHIR resources converted from a Synthea CSV export folder, with their CSV file and line."""
    folder = Path(folder)
    for name, convert in CONVERTERS:
        path = folder / name
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            for lineno, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    yield convert(row), Origin(str(path), lineno, "")
                except (KeyError, ValueError) as exc:
                    yield ValueError(f"unreadable Synthea CSV row ({exc})"), Origin(str(path), lineno, "")
