"""Vital-sign codes, canonical units, unit conversions and plausible ranges for streamed readings.

Each LOINC code has one canonical UCUM unit; readings in another known unit are converted
(degF to Cel, lb to kg, mmol/L glucose to mg/dL, SpO2 as a fraction to %) by the one unit converter
of the patient record, :func:`theralab.ehr.units.convert`, so a streamed glucose and a lab glucose
agree to the last digit. A value outside the plausible range of a living patient is refused with the range in the
reason: heart rate 0 or 400 and SpO2 120 are sensor or unit errors, never data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from theralab.ehr.units import convert


@dataclass(frozen=True)
class VitalCode:
    """One vital sign: LOINC code, name, canonical unit, accepted units and plausible range."""

    code: str
    name: str
    unit: str
    low: float
    high: float
    converters: dict[str, Callable[[float], float]]


def _same(x: float) -> float:
    return x


def _via(src: str, dst: str, analyte: str | None = None) -> Callable[[float], float]:
    """A converter that defers to :func:`theralab.ehr.units.convert` (one converter for the platform)."""
    return lambda x: convert(x, src, dst, analyte)


VITALS: dict[str, VitalCode] = {
    v.code: v
    for v in [
        VitalCode("8867-4", "heart_rate", "/min", 20, 300, {"/min": _same, "bpm": _same, "{beats}/min": _same}),
        VitalCode("9279-1", "respiratory_rate", "/min", 2, 80, {"/min": _same, "{breaths}/min": _same}),
        VitalCode("2708-6", "spo2", "%", 50, 100, {"%": _same, "1": lambda x: x * 100}),
        VitalCode("59408-5", "spo2", "%", 50, 100, {"%": _same, "1": lambda x: x * 100}),
        VitalCode("8310-5", "temperature", "Cel", 25, 45,
                  {"Cel": _same, "C": _same, "[degF]": _via("[degF]", "Cel"), "degF": _via("[degF]", "Cel"),
                   "F": _via("[degF]", "Cel")}),
        VitalCode("8480-6", "systolic_bp", "mm[Hg]", 40, 300, {"mm[Hg]": _same, "mmHg": _same}),
        VitalCode("8462-4", "diastolic_bp", "mm[Hg]", 20, 200, {"mm[Hg]": _same, "mmHg": _same}),
        VitalCode("2339-0", "glucose", "mg/dL", 10, 1000,
                  {"mg/dL": _same, "mmol/L": _via("mmol/L", "mg/dL", "glucose")}),
        VitalCode("99504-3", "cgm_glucose", "mg/dL", 20, 600,
                  {"mg/dL": _same, "mmol/L": _via("mmol/L", "mg/dL", "glucose")}),
        VitalCode("55423-8", "steps", "{steps}", 0, 100_000, {"{steps}": _same, "steps": _same, "1": _same}),
        VitalCode("29463-7", "weight", "kg", 0.3, 500,
                  {"kg": _same, "[lb_av]": _via("[lb_av]", "kg"), "lb": _via("[lb_av]", "kg"), "g": _via("g", "kg")}),
    ]
}
NAME_TO_CODE = {v.name: v.code for v in VITALS.values() if v.code != "59408-5"}
BP_PANEL = "85354-9"
NEWS2_CODE = "1104051000000101"  # SNOMED CT (UK): NEWS2 total score


def normalise_reading(code: str, value: float, unit: str | None) -> tuple[float, str]:
    """Convert to the canonical unit and check plausibility; raise ValueError saying why not."""
    vital = VITALS.get(code)
    if vital is None:
        raise ValueError(f"LOINC {code} is not a supported vital sign ({', '.join(sorted(VITALS))})")
    unit = (unit or vital.unit).strip()
    convert = vital.converters.get(unit)
    if convert is None:
        raise ValueError(f"unit {unit!r} is not accepted for {vital.name} (LOINC {code}); "
                         f"use {', '.join(vital.converters)}")
    if isinstance(value, bool):  # JSON true is not 1
        raise ValueError(f"{vital.name} value {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{vital.name} value {value!r} is not a number") from None
    if number != number:  # NaN
        raise ValueError(f"{vital.name} value is NaN")
    canonical = convert(number)
    if not vital.low <= canonical <= vital.high:
        raise ValueError(f"impossible {vital.name} {canonical:g} {vital.unit} "
                         f"(plausible range {vital.low:g}-{vital.high:g})")
    return canonical, vital.unit
