"""Early-warning scores: NEWS2, qSOFA and MEWS.

Why: deterioration on a ward is recognised by aggregate track-and-trigger scores, and the one
UK hospitals use is the Royal College of Physicians' NEWS2 (2017). A monitoring platform must
reproduce the chart exactly, boundary by boundary, because clinicians act on its bands. The
tables below are transcribed from the RCP chart ("National Early Warning Score (NEWS) 2:
Standardising the assessment of acute-illness severity in the NHS", RCP 2017, chart 1) and are
checked against 21 boundary cases in the test suite.

Inputs are a :class:`VitalSigns` pydantic model. Values that cannot come from a living patient
(heart rate 0 or 400, SpO2 120 %) raise :class:`~theralab.errors.InputError` naming the field,
never a silent score, because a score computed from a sensor glitch would page a doctor.

Integer-valued vital signs (respiration rate, SpO2, systolic pressure, pulse) are rounded half
up to whole numbers before scoring, as a nurse records them on the paper chart; temperature is
rounded to one decimal place.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from theralab.errors import InputError

Consciousness = Literal["A", "C", "V", "P", "U"]

# Plausible ranges: outside these a value is a sensor or typing error, not a patient.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "respiration_rate": (1, 80),
    "spo2": (40, 100),
    "systolic_bp": (30, 300),
    "pulse": (20, 300),
    "temperature": (25.0, 45.0),
}


class VitalSigns(BaseModel):
    """One set of observations as recorded on an observation chart.

    Attributes:
        respiration_rate: breaths per minute.
        spo2: peripheral oxygen saturation, percent.
        on_oxygen: True when the patient breathes supplemental oxygen (any device).
        systolic_bp: systolic blood pressure, mmHg.
        pulse: heart rate, beats per minute.
        consciousness: ACVPU: Alert, new Confusion, responds to Voice, to Pain, Unresponsive.
        temperature: degrees Celsius.
        spo2_scale: NEWS2 SpO2 scale 1 (default) or 2 (hypercapnic respiratory failure with a
            prescribed target of 88-92 %; chosen by a clinician, never by software).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    respiration_rate: float = Field(ge=PLAUSIBLE["respiration_rate"][0], le=PLAUSIBLE["respiration_rate"][1])
    spo2: float = Field(ge=PLAUSIBLE["spo2"][0], le=PLAUSIBLE["spo2"][1])
    on_oxygen: bool = False
    systolic_bp: float = Field(ge=PLAUSIBLE["systolic_bp"][0], le=PLAUSIBLE["systolic_bp"][1])
    pulse: float = Field(ge=PLAUSIBLE["pulse"][0], le=PLAUSIBLE["pulse"][1])
    consciousness: Consciousness = "A"
    temperature: float = Field(ge=PLAUSIBLE["temperature"][0], le=PLAUSIBLE["temperature"][1])
    spo2_scale: Literal[1, 2] = 1

    @classmethod
    def parse(cls, data: Mapping[str, Any] | VitalSigns, *, where: str = "") -> VitalSigns:
        """Validate a mapping into VitalSigns, turning pydantic errors into an InputError.

        Why: callers (CLI rows, API bodies, stream messages) need one error that names the field
        and the plausible range, not a pydantic traceback.

        Args:
            data: field name to value; ``consciousness`` may be lower case.
            where: prefix for the error location (e.g. ``"row 7"``).

        Raises:
            InputError: a missing, non-numeric or implausible value; ``where`` names the field.
        """
        if isinstance(data, VitalSigns):
            return data
        values = dict(data)
        if isinstance(values.get("consciousness"), str):
            values["consciousness"] = values["consciousness"].strip().upper()
        try:
            return cls(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err.get("loc", ())) or "?"
            loc = f"{where}.{name}" if where else name
            rng = PLAUSIBLE.get(name)
            hint = (
                f"a living patient's {name} lies in {rng[0]:g}..{rng[1]:g}; check the sensor and units"
                if rng
                else "see the VitalSigns fields: respiration_rate, spo2, on_oxygen, systolic_bp, "
                "pulse, consciousness (A/C/V/P/U), temperature, spo2_scale (1 or 2)"
            )
            raise InputError(
                f"invalid vital sign {name}={err.get('input')!r}: {err.get('msg')}", where=loc, hint=hint
            ) from None


def _round_half_up(x: float, ndigits: int = 0) -> float:
    f = 10.0**ndigits
    return math.floor(x * f + 0.5) / f


def _band(x: float, table: list[tuple[float, int]], last: int) -> int:
    """Score from an ordered table of (upper bound inclusive, score); ``last`` above the top."""
    for upper, score in table:
        if x <= upper:
            return score
    return last


def _rr_news2(rr: float) -> int:
    return _band(rr, [(8, 3), (11, 1), (20, 0), (24, 2)], 3)


def _spo2_scale1(s: float) -> int:
    return _band(s, [(91, 3), (93, 2), (95, 1)], 0)


def _spo2_scale2(s: float, on_oxygen: bool) -> int:
    if s <= 83:
        return 3
    if s <= 85:
        return 2
    if s <= 87:
        return 1
    if s <= 92 or not on_oxygen:
        return 0  # 88-92, or >= 93 on air: the target range of scale 2
    return _band(s, [(94, 1), (96, 2)], 3)  # >= 93 on oxygen: over-oxygenation is scored


def _sbp_news2(sbp: float) -> int:
    return _band(sbp, [(90, 3), (100, 2), (110, 1), (219, 0)], 3)


def _pulse_news2(hr: float) -> int:
    return _band(hr, [(40, 3), (50, 1), (90, 0), (110, 1), (130, 2)], 3)


def _temp_news2(t: float) -> int:
    return _band(t, [(35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1)], 2)


NEWS2_PARAMETERS = ("respiration_rate", "spo2", "air_or_oxygen", "systolic_bp", "pulse", "consciousness", "temperature")

BAND_RESPONSE = {
    "low": ("minimum 4-12 hourly observations", "assessment by a competent registered nurse"),
    "low-medium": (
        "minimum 1-hourly observations",
        "urgent ward-based response: registered nurse informs the medical team",
    ),
    "medium": (
        "minimum 1-hourly observations",
        "key threshold for urgent response: urgent review by a clinician competent in acute illness",
    ),
    "high": (
        "continuous monitoring of vital signs",
        "emergency response: team with critical-care competencies, consider transfer to a higher level",
    ),
}


@dataclass(frozen=True)
class ScoreResult:
    """A computed early-warning score.

    Attributes:
        name: ``"NEWS2"``, ``"qSOFA"`` or ``"MEWS"``.
        total: aggregate score.
        parameters: per-parameter sub-scores, in chart order.
        band: clinical risk band (NEWS2: low, low-medium, medium, high; qSOFA: negative/positive;
            MEWS: low/high).
        response: the chart's recommended frequency of monitoring and clinical response.
        vitals: the validated inputs, kept so an alert can show what triggered it.
    """

    name: str
    total: int
    parameters: dict[str, int]
    band: str
    response: dict[str, str] = field(default_factory=dict)
    vitals: VitalSigns | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (API and CLI output)."""
        return {
            "name": self.name,
            "total": self.total,
            "parameters": dict(self.parameters),
            "band": self.band,
            "response": dict(self.response),
            "vitals": self.vitals.model_dump() if self.vitals is not None else None,
        }

    def to_fhir_observation(
        self, *, patient_ref: str | None = None, effective: datetime | None = None
    ) -> dict[str, Any]:
        """This score as a FHIR R4 Observation resource (a plain dict).

        Why: results are written back to the patient record next to the vital signs they came
        from, so any FHIR client (EHR, ward dashboard) can read them.

        NEWS2 is coded with SNOMED CT 1104051000000101 (UK edition, "Royal College of Physicians
        National Early Warning Score 2 (NEWS2) total score"); qSOFA and MEWS have no code we could
        verify, so they carry a theralab CodeSystem code and a text. Sub-scores are components.

        Args:
            patient_ref: e.g. ``"Patient/123"``; omitted when None.
            effective: when the vital signs were taken (UTC); defaults to now.
        """
        eff = (effective or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z")
        local = "https://theralab.dev/fhir/CodeSystem/early-warning"
        if self.name == "NEWS2":
            code = {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "1104051000000101",
                        "display": "Royal College of Physicians National Early Warning Score 2 (NEWS2) total score",
                    }
                ],
                "text": "NEWS2 total score",
            }
        else:
            code = {
                "coding": [{"system": local, "code": self.name.lower(), "display": f"{self.name} score"}],
                "text": f"{self.name} score",
            }
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "survey",
                            "display": "Survey",
                        }
                    ]
                }
            ],
            "code": code,
            "effectiveDateTime": eff,
            "valueInteger": int(self.total),
            "interpretation": [{"coding": [{"system": local, "code": self.band}], "text": self.band}],
            "component": [
                {
                    "code": {
                        "coding": [{"system": local, "code": f"{self.name.lower()}-{p}"}],
                        "text": f"{self.name} {p.replace('_', ' ')} score",
                    },
                    "valueInteger": int(s),
                }
                for p, s in self.parameters.items()
            ],
        }
        if self.response:
            obs["note"] = [{"text": f"{self.response.get('monitoring', '')}; {self.response.get('clinical', '')}"}]
        if patient_ref:
            obs["subject"] = {"reference": patient_ref}
        return obs


def news2(vitals: VitalSigns | Mapping[str, Any]) -> ScoreResult:
    """NEWS2 aggregate score, per-parameter scores and response band (RCP 2017 chart).

    Band rules: total >= 7 high; 5-6 medium; a score of 3 in any single parameter (and total
    below 5) low-medium; otherwise low (total 0-4).

    Args:
        vitals: a VitalSigns or a mapping of its fields.

    Raises:
        InputError: an implausible or missing value (``where`` names the field).
    """
    v = VitalSigns.parse(vitals)
    rr = _round_half_up(v.respiration_rate)
    spo2 = _round_half_up(v.spo2)
    sbp = _round_half_up(v.systolic_bp)
    hr = _round_half_up(v.pulse)
    temp = _round_half_up(v.temperature, 1)
    scores = {
        "respiration_rate": _rr_news2(rr),
        "spo2": _spo2_scale1(spo2) if v.spo2_scale == 1 else _spo2_scale2(spo2, v.on_oxygen),
        "air_or_oxygen": 2 if v.on_oxygen else 0,
        "systolic_bp": _sbp_news2(sbp),
        "pulse": _pulse_news2(hr),
        "consciousness": 0 if v.consciousness == "A" else 3,
        "temperature": _temp_news2(temp),
    }
    total = sum(scores.values())
    if total >= 7:
        band = "high"
    elif total >= 5:
        band = "medium"
    elif max(scores.values()) >= 3:
        band = "low-medium"
    else:
        band = "low"
    monitoring, clinical = BAND_RESPONSE[band]
    if total == 0:
        monitoring = "minimum 12-hourly observations"
    elif band == "low":
        monitoring = "minimum 4-6 hourly observations"
    return ScoreResult("NEWS2", total, scores, band, {"monitoring": monitoring, "clinical": clinical}, v)


def qsofa(respiration_rate: float, systolic_bp: float, altered_mentation: bool) -> ScoreResult:
    """quick SOFA (Seymour et al., JAMA 2016; Sepsis-3): one point each for RR >= 22/min,
    systolic BP <= 100 mmHg and altered mentation (GCS < 15). A score >= 2 flags sepsis risk.

    Raises:
        InputError: implausible respiration rate or blood pressure.
    """
    for name, value in (("respiration_rate", respiration_rate), ("systolic_bp", systolic_bp)):
        lo, hi = PLAUSIBLE[name]
        if not (isinstance(value, int | float) and lo <= value <= hi):
            raise InputError(
                f"invalid vital sign {name}={value!r}",
                where=name,
                hint=f"a living patient's {name} lies in {lo:g}..{hi:g}",
            )
    scores = {
        "respiration_rate": int(respiration_rate >= 22),
        "systolic_bp": int(systolic_bp <= 100),
        "altered_mentation": int(bool(altered_mentation)),
    }
    total = sum(scores.values())
    band = "positive" if total >= 2 else "negative"
    clinical = (
        "assess for organ dysfunction and sepsis; escalate"
        if total >= 2
        else "qSOFA negative: does not rule out sepsis; keep monitoring"
    )
    return ScoreResult("qSOFA", total, scores, band, {"clinical": clinical})


def mews(vitals: VitalSigns | Mapping[str, Any]) -> ScoreResult:
    """Modified Early Warning Score (Subbe et al., QJM 2001), trigger at >= 5.

    Tables: SBP <=70:3, 71-80:2, 81-100:1, 101-199:0, >=200:2; heart rate <=40:2, 41-50:1,
    51-100:0, 101-110:1, 111-129:2, >=130:3; respiration <9:2, 9-14:0, 15-20:1, 21-29:2, >=30:3;
    temperature <35:2, 35-38.4:0, >=38.5:2; AVPU A:0, V:1, P:2, U:3. MEWS predates NEWS2's "new
    confusion"; we score C like V (1), as later adaptations do.
    """
    v = VitalSigns.parse(vitals)
    sbp, hr, rr = _round_half_up(v.systolic_bp), _round_half_up(v.pulse), _round_half_up(v.respiration_rate)
    temp = _round_half_up(v.temperature, 1)
    scores = {
        "systolic_bp": _band(sbp, [(70, 3), (80, 2), (100, 1), (199, 0)], 2),
        "pulse": _band(hr, [(40, 2), (50, 1), (100, 0), (110, 1), (129, 2)], 3),
        "respiration_rate": _band(rr, [(8, 2), (14, 0), (20, 1), (29, 2)], 3),
        "temperature": 2 if temp < 35.0 else (0 if temp <= 38.4 else 2),
        "consciousness": {"A": 0, "C": 1, "V": 1, "P": 2, "U": 3}[v.consciousness],
    }
    total = sum(scores.values())
    band = "high" if total >= 5 else "low"
    clinical = "urgent medical review (MEWS >= 5)" if total >= 5 else "routine observations"
    return ScoreResult("MEWS", total, scores, band, {"clinical": clinical}, v)
