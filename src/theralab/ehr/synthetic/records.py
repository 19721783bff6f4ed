"""Builders of one synthetic patient's FHIR resources (conditions, medications, labs, notes, genotypes)."""

from __future__ import annotations

import base64
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from theralab.ehr.synthetic.vocab import (
    ALLELES,
    CONDITIONS,
    FAMILY_CONDITIONS,
    HGNC,
    LNC,
    NOTE_NAMES,
    RELATIVES,
    RXN,
    SCT,
    UCUM,
    egfr_ckd_epi_2021,
    phenotype,
)

OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


class SyntheticPatient:
    """Builds one patient's resources with its own random stream."""

    def __init__(self, seed: int, index: int) -> None:
        self.rng = random.Random(f"theralab-synthetic-{seed}-{index}")
        self.id = self.uid()
        self.resources: list[dict[str, Any]] = []
        self.ref = {"reference": f"Patient/{self.id}"}

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def when(self, start: datetime, end: datetime) -> datetime:
        span = max((end - start).total_seconds(), 1.0)
        return (start + timedelta(seconds=self.rng.uniform(0, span))).replace(microsecond=0)

    def add(self, resource: dict[str, Any]) -> dict[str, Any]:
        self.resources.append(resource)
        return resource

    def observation(self, code: dict[str, Any], category: str, t: datetime, enc: str | None = None,
                    **rest: Any) -> dict[str, Any]:
        """Add an Observation: the head every one shares (id, category, code, subject, time), then ``rest``."""
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": self.uid(),
            "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
            "code": code,
            "subject": self.ref,
        }
        if enc is not None:
            resource["encounter"] = {"reference": f"Encounter/{enc}"}
        resource["effectiveDateTime"] = t.isoformat()
        return self.add({**resource, **rest})

    def obs(self, code: str, display: str, t: datetime, value: float, unit: str, category: str, enc: str) -> dict:
        """Add a numeric Observation (a lab or a vital sign)."""
        return self.observation(
            {"coding": [{"system": LNC, "code": code, "display": display}], "text": display}, category, t, enc,
            valueQuantity={"value": round(value, 2), "unit": unit, "system": UCUM, "code": unit},
        )


def add_condition(p: SyntheticPatient, code: str, display: str, onset: datetime) -> None:
    p.add(
        {
            "resourceType": "Condition",
            "id": p.uid(),
            "clinicalStatus": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
            },
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                        "code": "confirmed",
                    }
                ]
            },
            "code": {"coding": [{"system": SCT, "code": code, "display": display}], "text": display},
            "subject": p.ref,
            "onsetDateTime": onset.isoformat(),
            "recordedDate": onset.isoformat(),
        }
    )


def add_medication(
    p: SyntheticPatient, code: str, display: str, start: datetime, status: str, end: datetime | None
) -> None:
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": p.uid(),
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXN, "code": code, "display": display}],
            "text": display,
        },
        "subject": p.ref,
        "authoredOn": start.isoformat(),
        "dosageInstruction": [{"text": "1 tablet daily" if "Tablet" in display else "as directed"}],
    }
    if end is not None:
        res["dispenseRequest"] = {"validityPeriod": {"start": start.isoformat(), "end": end.isoformat()}}
    p.add(res)


def add_labs_and_vitals(
    p: SyntheticPatient,
    sex: str,
    age: int,
    has: set[str],
    crea: float,
    egfr: float,
    visits: list[datetime],
    encounters: list[str],
) -> None:
    rng = p.rng
    for i, (t, enc) in enumerate(zip(visits, encounters, strict=True)):
        last = i == len(visits) - 1
        a1c = (
            rng.uniform(6.6, 10.0)
            if "diabetes" in has
            else rng.uniform(5.7, 6.4)
            if "prediabetes" in has
            else rng.uniform(4.6, 5.6)
        )
        p.obs("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", t, a1c, "%", "laboratory", enc)
        glucose = 28.7 * a1c - 46.7 + rng.gauss(0, 8)  # ADAG: eAG (mg/dL) = 28.7 * A1c - 46.7
        if rng.random() < 0.2:
            p.obs(
                "2345-7",
                "Glucose [Mass/volume] in Serum or Plasma",
                t,
                glucose / 18.016,
                "mmol/L",
                "laboratory",
                enc,
            )
        else:
            p.obs("2345-7", "Glucose [Mass/volume] in Serum or Plasma", t, glucose, "mg/dL", "laboratory", enc)
        c = crea * (1 + rng.gauss(0, 0.03)) if not last else crea
        if rng.random() < 0.2:
            p.obs(
                "2160-0",
                "Creatinine [Mass/volume] in Serum or Plasma",
                t,
                c * 88.42,
                "umol/L",
                "laboratory",
                enc,
            )
        else:
            p.obs("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", t, c, "mg/dL", "laboratory", enc)
        e = egfr if last else egfr_ckd_epi_2021(c, age, sex == "female")
        p.obs(
            "98979-8",
            "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI 2021)",
            t,
            e,
            "mL/min/{1.73_m2}",
            "laboratory",
            enc,
        )
        p.obs(
            "1742-6",
            "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
            t,
            rng.lognormvariate(3.1, 0.35),
            "U/L",
            "laboratory",
            enc,
        )
        p.obs(
            "1975-2",
            "Bilirubin.total [Mass/volume] in Serum or Plasma",
            t,
            rng.uniform(0.2, 1.2),
            "mg/dL",
            "laboratory",
            enc,
        )
        chol = rng.gauss(240 if "hyperlipidemia" in has else 185, 25)
        p.obs("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", t, chol, "mg/dL", "laboratory", enc)
        sbp = rng.gauss(150 if "hypertension" in has else 122, 12)
        dbp = rng.gauss(92 if "hypertension" in has else 78, 8)
        p.observation(
            {"coding": [{"system": LNC, "code": "85354-9", "display": "Blood pressure panel"}]}, "vital-signs", t, enc,
            component=[
                {
                    "code": {"coding": [{"system": LNC, "code": "8480-6", "display": "Systolic blood pressure"}]},
                    "valueQuantity": {
                        "value": round(sbp),
                        "unit": "mm[Hg]",
                        "system": UCUM,
                        "code": "mm[Hg]",
                    },
                },
                {
                    "code": {"coding": [{"system": LNC, "code": "8462-4", "display": "Diastolic blood pressure"}]},
                    "valueQuantity": {
                        "value": round(dbp),
                        "unit": "mm[Hg]",
                        "system": UCUM,
                        "code": "mm[Hg]",
                    },
                },
            ],
        )
        hr = rng.gauss(88 if "af" in has else 72, 10)
        p.obs("8867-4", "Heart rate", t, round(hr), "/min", "vital-signs", enc)
        p.obs("9279-1", "Respiratory rate", t, round(rng.gauss(15, 2)), "/min", "vital-signs", enc)
        p.obs(
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
            t,
            min(100, round(rng.gauss(93 if "heart_failure" in has else 97, 1.5))),
            "%",
            "vital-signs",
            enc,
        )
        temp = rng.gauss(36.8, 0.3)
        if rng.random() < 0.2:
            p.obs("8310-5", "Body temperature", t, temp * 9 / 5 + 32, "[degF]", "vital-signs", enc)
        else:
            p.obs("8310-5", "Body temperature", t, temp, "Cel", "vital-signs", enc)
        weight = rng.gauss(70 if sex == "female" else 84, 12) + (8 if "diabetes" in has else 0)
        if rng.random() < 0.2:
            p.obs("29463-7", "Body weight", t, weight / 0.45359237, "[lb_av]", "vital-signs", enc)
        else:
            p.obs("29463-7", "Body weight", t, weight, "kg", "vital-signs", enc)


def family_history(p: SyntheticPatient) -> list[tuple[str, str]]:
    out = []
    for rel_code, rel in RELATIVES:
        if p.rng.random() < 0.25:
            key = p.rng.choice(FAMILY_CONDITIONS)
            if key == "breast_cancer" and rel in ("father", "brother"):
                key = "colon_cancer"
            code, display = CONDITIONS[key][:2]
            p.add(
                {
                    "resourceType": "FamilyMemberHistory",
                    "id": p.uid(),
                    "status": "completed",
                    "patient": p.ref,
                    "relationship": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                                "code": rel_code,
                                "display": rel,
                            }
                        ]
                    },
                    "condition": [
                        {
                            "code": {"coding": [{"system": SCT, "code": code, "display": display}]},
                            "onsetAge": {
                                "value": p.rng.randint(40, 75),
                                "unit": "a",
                                "system": UCUM,
                                "code": "a",
                            },
                        }
                    ],
                }
            )
            out.append((rel, key))
    return out


def add_note(
    p: SyntheticPatient, has: set[str], family: list[tuple[str, str]], t: datetime, enc: str, age: int, sex: str
) -> None:
    rng = p.rng
    lines = [f"# History of Present Illness\n{age} year-old {sex} seen for a routine follow-up."]
    present = [NOTE_NAMES[k] for k in sorted(has) if k in NOTE_NAMES]
    if present:
        lines.append("Patient has a history of " + ", ".join(present) + ".")
    absent = [k for k in ("af", "diabetes", "heart_failure", "asthma") if k not in has]
    for k in rng.sample(absent, k=min(2, len(absent))):
        lines.append(rng.choice(["Patient denies {}.", "No history of {}.", "Negative for {}."]).format(NOTE_NAMES[k]))
    if family:
        lines.append("# Family History")
        lines.extend(
            f"Her {rel} had {NOTE_NAMES[k]}." if sex == "female" else f"His {rel} had {NOTE_NAMES[k]}."
            for rel, k in family
        )
    else:
        lines.append("# Family History\nNo family history of cancer.")
    # a hypothetical mention of a condition the patient does not have (context the NER must handle)
    future = [k for k in ("colon_cancer", "heart_failure", "af", "diabetes") if k not in has]
    if future and rng.random() < 0.5:
        k = rng.choice(future)
        lines.append("# Plan")
        lines.append(
            rng.choice(["Return if symptoms of {} develop.", "Screening for {} is planned.", "Rule out {}."]).format(
                NOTE_NAMES[k]
            )
        )
    text = "\n".join(lines) + "\n"
    p.add(
        {
            "resourceType": "DocumentReference",
            "id": p.uid(),
            "status": "current",
            "type": {"coding": [{"system": LNC, "code": "34117-2", "display": "History and physical note"}]},
            "subject": p.ref,
            "date": t.isoformat(),
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(text.encode()).decode(),
                    }
                }
            ],
            "context": {"encounter": [{"reference": f"Encounter/{enc}"}]},
        }
    )


def _draw_allele(rng: random.Random, gene: str) -> str:
    x, acc = rng.random(), 0.0
    for allele, freq, _ in ALLELES[gene]:
        acc += freq
        if x < acc:
            return allele
    return ALLELES[gene][0][0]


def add_genotypes(p: SyntheticPatient, t: datetime) -> None:
    for gene in ALLELES:
        a1, a2 = sorted((_draw_allele(p.rng, gene), _draw_allele(p.rng, gene)), key=lambda a: int(a[1:]))
        label, _ = phenotype(gene, a1, a2)
        p.observation(
            {"coding": [{"system": LNC, "code": "84413-4", "display": "Genotype display name"}]}, "laboratory", t,
            method={"text": "synthetic"},
            valueCodeableConcept={"text": f"{a1}/{a2}"},
            component=[
                {
                    "code": {"coding": [{"system": LNC, "code": "48018-6", "display": "Gene studied [ID]"}]},
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://www.genenames.org/geneId",
                                "code": HGNC[gene],
                                "display": gene,
                            }
                        ],
                        "text": gene,
                    },
                },
                {
                    "code": {
                        "coding": [
                            {
                                "system": LNC,
                                "code": "53040-2",
                                "display": "Genetic variation's effect on drug metabolism",
                            }
                        ]
                    },
                    "valueCodeableConcept": {"text": label},
                },
            ],
        )
