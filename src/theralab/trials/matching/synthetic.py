"""A 15-criterion structured trial and an independent truth oracle over raw FHIR, for tests and benchmarks.

Why an oracle on FHIR rather than on the database: the matching engine reads normalised rows with
SQL; the oracle reads the FHIR resources the generator produced (or the Synthea CSV converter
produced) with plain Python, converting units itself from published molar masses. Agreement on every
patient and criterion is then evidence that ingestion, normalisation, hierarchy expansion,
ingredient mapping, time windows and the SQL are all right, not that one code path agrees with itself.

The trial exercises: an age range; a parent SNOMED CT concept (diabetes mellitus, matched by its
type 2 child); an ICD-10-CM-only code (I10, mapped to SNOMED CT); an IFCC HbA1c range (mmol/mol, the
record is in %); eGFR named by another LOINC code than the record's; creatinine in umol/L (record in
mg/dL or umol/L); ingredient-level drugs (metformin, warfarin; the record has clinical drugs);
negated historical drug use; time windows ("within 5 years", "at least 1 year ago"); a CKD parent
concept (stages 3-5); OR logic; family history; blood-pressure components; any malignancy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from theralab.trials.criteria.schemas import (
    AgeRule,
    Code,
    Criteria,
    Criterion,
    CriterionEntity,
    Logic,
    NumericConstraint,
    TemporalWindow,
)

REFERENCE_AT = date(2025, 1, 1)
SCT = "http://snomed.info/sct"
CREATININE_UMOL_PER_MGDL = 10_000 / 113.118  # 1 mg/dL creatinine in umol/L (molar mass 113.118 g/mol)


def _ent(eid: str, etype: str, text: str, codes: list[tuple[str, str]], **kw: Any) -> CriterionEntity:
    return CriterionEntity(id=eid, type=etype, text=text, start=0, end=len(text), normalized=text.lower(),
                           codes=[Code(system=s, code=c, display=text, match=m) for s, c, m in
                                  ((s, c, "manual" if s == "icd10cm" else "exact") for s, c in codes)], **kw)


def _crit(cid: str, kind: str, text: str, ents: list[CriterionEntity], op: str = "AND", **kw: Any) -> Criterion:
    logic = Logic(op=op, args=[e.id for e in ents]) if ents else None
    return Criterion(id=cid, kind=kind, text=text, entities=ents, logic=logic, **kw)


def _num(comparator: str, value: float, unit: str, high: float | None = None) -> NumericConstraint:
    return NumericConstraint(comparator=comparator, value=value, value_high=high, unit=unit)


def benchmark_trial(trial_id: str = "SYN-T2D-15") -> Criteria:
    """The 15-criterion type 2 diabetes trial used by the matching tests and benchmark."""
    five_years = TemporalWindow(relation="within", amount=5, unit="year", text="within the last 5 years")
    one_year_ago = TemporalWindow(relation="at_least", amount=1, unit="year", text="at least 1 year ago")
    c = [
        _crit("inc-1", "inclusion", "Age 40 to 80 years", [], age=AgeRule(min_years=40, max_years=80)),
        _crit("inc-2", "inclusion", "Diabetes mellitus",
              [_ent("inc-2-e1", "condition", "diabetes mellitus", [("snomed", "73211009")])]),
        _crit("inc-3", "inclusion", "HbA1c between 53 and 86 mmol/mol",
              [_ent("inc-3-e1", "measurement", "HbA1c", [("loinc", "59261-8")],
                    constraint=_num("between", 53, "mmol/mol", 86))]),
        _crit("inc-4", "inclusion", "Hypertension (I10) diagnosed at least 1 year ago",
              [_ent("inc-4-e1", "condition", "hypertension", [("icd10cm", "I10")], temporal=one_year_ago)]),
        _crit("inc-5", "inclusion", "Currently taking metformin",
              [_ent("inc-5-e1", "drug", "metformin", [("rxnorm", "6809")])]),
        _crit("inc-6", "inclusion", "No prior clopidogrel",
              [_ent("inc-6-e1", "drug", "clopidogrel", [("rxnorm", "32968")], negated=True, historical=True)]),
        _crit("exc-1", "exclusion", "eGFR < 30 mL/min/1.73 m2",
              [_ent("exc-1-e1", "measurement", "eGFR", [("loinc", "62238-1")],
                    constraint=_num("<", 30, "mL/min/1.73m2"))]),
        _crit("exc-2", "exclusion", "Serum creatinine > 150 umol/L",
              [_ent("exc-2-e1", "measurement", "serum creatinine", [("loinc", "2160-0")],
                    constraint=_num(">", 150, "umol/L"))]),
        _crit("exc-3", "exclusion", "Current warfarin",
              [_ent("exc-3-e1", "drug", "warfarin", [("rxnorm", "11289")])]),
        _crit("exc-4", "exclusion", "Atrial fibrillation diagnosed within the last 5 years",
              [_ent("exc-4-e1", "condition", "atrial fibrillation", [("snomed", "49436004")], temporal=five_years)]),
        _crit("exc-5", "exclusion", "Chronic kidney disease",
              [_ent("exc-5-e1", "condition", "chronic kidney disease", [("snomed", "709044004")])]),
        _crit("exc-6", "exclusion", "Asthma or heart failure",
              [_ent("exc-6-e1", "condition", "asthma", [("snomed", "195967001")]),
               _ent("exc-6-e2", "condition", "heart failure", [("snomed", "84114007")])], op="OR"),
        _crit("exc-7", "exclusion", "Family history of breast cancer",
              [_ent("exc-7-e1", "condition", "breast cancer", [("snomed", "254837009")], family=True)]),
        _crit("exc-8", "exclusion", "Systolic blood pressure > 160 mmHg",
              [_ent("exc-8-e1", "measurement", "systolic blood pressure", [("loinc", "8480-6")],
                    constraint=_num(">", 160, "mmHg"))]),
        _crit("exc-9", "exclusion", "Any malignancy",
              [_ent("exc-9-e1", "condition", "malignancy", [("snomed", "363346000")])]),
    ]
    return Criteria(trial_id=trial_id, source_text="\n".join(x.text for x in c), criteria=c,
                    parser={"source": "theralab.trials.matching.synthetic.benchmark_trial"})


# --- the oracle --------------------------------------------------------------------------------


def _dt(s: str | None) -> datetime | None:
    if not s:
        return None
    d = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _codes(cc: dict[str, Any] | None) -> set[str]:
    return {c.get("code", "") for c in (cc or {}).get("coding", [])}


class FhirPatient:
    """One patient's FHIR resources, read the plain way (no theralab code), for the oracle."""

    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.patient = next(r for r in resources if r["resourceType"] == "Patient")
        self.id = self.patient["id"]
        self.by_type: dict[str, list[dict[str, Any]]] = {}
        for r in resources:
            self.by_type.setdefault(r["resourceType"], []).append(r)

    def conditions(self, codes: set[str], at: datetime) -> list[tuple[datetime | None, bool]]:
        """(onset, active at ``at``) of conditions with these codes, onset not after ``at``."""
        out = []
        for r in self.by_type.get("Condition", []):
            if not (_codes(r.get("code")) & codes):
                continue
            if _codes(r.get("verificationStatus")) & {"refuted", "entered-in-error"}:
                continue
            onset, abate = _dt(r.get("onsetDateTime")), _dt(r.get("abatementDateTime"))
            if onset and onset > at:
                continue
            status = _codes(r.get("clinicalStatus"))
            active = abate > at if abate else not (status & {"resolved", "inactive", "remission"})
            out.append((onset, active))
        return out

    def latest(self, codes: set[str], at: datetime) -> tuple[str, float, str] | None:
        """(code, value, unit) of the latest observation (or component) with one of ``codes``."""
        found = []
        for r in self.by_type.get("Observation", []):
            t = _dt(r.get("effectiveDateTime"))
            if t is None or t > at:
                continue
            parts = [(r.get("code"), r.get("valueQuantity"))] + [(c.get("code"), c.get("valueQuantity"))
                                                                  for c in r.get("component", [])]
            for cc, q in parts:
                hit = _codes(cc) & codes
                if hit and q and "value" in q:
                    found.append((t, hit.pop(), float(q["value"]), q.get("code") or q.get("unit", "")))
        if not found:
            return None
        found.sort(key=lambda x: x[0])
        return found[-1][1:]

    def medications(self, ingredient_words: set[str], at: datetime) -> list[bool]:
        """For each order whose drug name contains the ingredient: active at ``at``."""
        out = []
        for r in self.by_type.get("MedicationRequest", []):
            name = (r.get("medicationCodeableConcept") or {}).get("text", "").lower()
            if not any(w in name.split() for w in ingredient_words):
                continue
            start = _dt(r.get("authoredOn"))
            end = _dt(((r.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("end"))
            if start and start > at:
                continue
            active = end >= at if end else r.get("status") in ("active", "on-hold")
            out.append(active)
        return out

    def family(self, codes: set[str]) -> bool | None:
        rows = self.by_type.get("FamilyMemberHistory", [])
        if not rows:
            return None
        return any(_codes(c.get("code")) & codes for r in rows for c in r.get("condition", []))

    def age(self, at: date) -> int:
        b = date.fromisoformat(self.patient["birthDate"])
        return at.year - b.year - ((at.month, at.day) < (b.month, b.day))


DIABETES = {"73211009", "44054006", "46635009"}
HYPERTENSION = {"38341003", "59621000"}
CKD = {"709044004", "431855005", "431856006", "433144002", "431857002", "433146000", "46177005"}
MALIGNANT = {"363346000", "254837009", "363358000", "254637007", "424132000", "363406005", "399068003"}
EGFR = {"33914-3", "62238-1", "98979-8"}


def _lab(p: FhirPatient, codes: set[str], at: datetime, test: Callable[[str, float, str], bool]) -> bool | None:
    hit = p.latest(codes, at)
    return None if hit is None else test(*hit)


def _creatinine_umol(code: str, value: float, unit: str) -> float:
    return value if unit in ("umol/L", "µmol/L") else value * CREATININE_UMOL_PER_MGDL


def oracle(p: FhirPatient, at: date = REFERENCE_AT) -> dict[str, bool | None]:
    """criterion id -> True (statement holds) / False / None (not enough information), by construction."""
    t = datetime(at.year, at.month, at.day, 23, 59, 59, tzinfo=UTC)
    a1c_pct = {"lo": (53 * 0.09148 + 2.152), "hi": (86 * 0.09148 + 2.152)}  # IFCC -> NGSP master equation
    return {
        "inc-1": 40 <= p.age(at) <= 80,
        "inc-2": any(active for _, active in p.conditions(DIABETES, t)),
        "inc-3": _lab(p, {"4548-4", "17856-6", "59261-8"}, t,
                      lambda c, v, u: a1c_pct["lo"] <= v <= a1c_pct["hi"] if u == "%" else 53 <= v <= 86),
        "inc-4": any(o is not None and o <= t - timedelta(days=365.25) for o, _ in p.conditions(HYPERTENSION, t)),
        "inc-5": any(p.medications({"metformin"}, t)),
        "inc-6": not p.medications({"clopidogrel"}, t),
        "exc-1": _lab(p, EGFR, t, lambda c, v, u: v < 30),
        "exc-2": _lab(p, {"2160-0", "38483-4", "14682-9"}, t, lambda c, v, u: _creatinine_umol(c, v, u) > 150),
        "exc-3": any(p.medications({"warfarin"}, t)),
        "exc-4": any(o is not None and t - timedelta(days=5 * 365.25) <= o <= t
                     for o, _ in p.conditions({"49436004"}, t)),
        "exc-5": any(active for _, active in p.conditions(CKD, t)),
        "exc-6": any(active for _, active in p.conditions({"195967001", "233678006", "84114007", "88805009"}, t)),
        "exc-7": p.family({"254837009"}),
        "exc-8": _lab(p, {"8480-6"}, t, lambda c, v, u: v > 160),
        "exc-9": any(active for _, active in p.conditions(MALIGNANT, t)),
    }


def group_by_patient(resources: list[dict[str, Any]]) -> list[FhirPatient]:
    """Split a flat resource list (e.g. a Synthea export) into :class:`FhirPatient` objects."""
    owner: dict[str, list[dict[str, Any]]] = {}
    for r in resources:
        if r["resourceType"] == "Patient":
            owner.setdefault(r["id"], []).append(r)
    for r in resources:
        ref = (r.get("subject") or r.get("patient") or {}).get("reference", "")
        pid = ref.split("/")[-1].replace("urn:uuid:", "")
        if r["resourceType"] != "Patient" and pid in owner:
            owner[pid].append(r)
    return [FhirPatient(v) for v in owner.values()]


def criterion_accuracy(session: Any, patients: list[FhirPatient], *, at: date = REFERENCE_AT,
                       criteria: Criteria | None = None) -> dict[str, Any]:
    """Compare the engine's status with the oracle for every (patient, criterion) pair.

    Deceased patients are left out (the engine removes them before any criterion). Returns the pair
    count, the agreeing count, per-criterion agreement, and up to 20 disagreements to debug.
    """
    from theralab.trials.matching.engine import evaluate_cohort

    crit = criteria or benchmark_trial()
    cohort = evaluate_cohort(session, crit, at=at, patient_ids=[p.id for p in patients])
    name = {True: "met", False: "not_met", None: "unknown"}
    total = agree = 0
    per: dict[str, list[int]] = {}
    wrong: list[dict[str, Any]] = []
    for p in patients:
        if p.id not in cohort.universe:
            continue
        got = cohort.status_of(p.id)
        for cid, truth in oracle(p, at).items():
            total += 1
            ok = got[cid] == name[truth]
            agree += ok
            per.setdefault(cid, [0, 0])[0] += ok
            per[cid][1] += 1
            if not ok and len(wrong) < 20:
                wrong.append({"patient_id": p.id, "criterion_id": cid, "engine": got[cid], "truth": name[truth]})
    return {"pairs": total, "agree": agree, "accuracy": agree / total if total else float("nan"),
            "patients": len(cohort.universe), "per_criterion": {k: v[0] / v[1] for k, v in per.items()},
            "disagreements": wrong, "status_counts": cohort.counts()}
