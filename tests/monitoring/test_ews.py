"""NEWS2, qSOFA and MEWS against the RCP chart's boundary cases and hand-checked values."""

from __future__ import annotations

import csv

import pytest

from theralab.errors import InputError
from theralab.monitoring.ews import VitalSigns, mews, news2, qsofa

SUB = {
    "rr_s": "respiration_rate",
    "spo2_s": "spo2",
    "o2_s": "air_or_oxygen",
    "sbp_s": "systolic_bp",
    "pulse_s": "pulse",
    "cons_s": "consciousness",
    "temp_s": "temperature",
}


def _vectors(reference_data):
    path = reference_data / "monitoring" / "early_warning" / "news2_test_vectors.csv"
    with path.open() as fh:
        return list(csv.DictReader(fh))


def _vitals(row: dict[str, str]) -> dict:
    return {
        "respiration_rate": float(row["rr"]),
        "spo2": float(row["spo2"]),
        "on_oxygen": row["on_oxygen"] == "True",
        "systolic_bp": float(row["sbp"]),
        "pulse": float(row["pulse"]),
        "consciousness": row["acvpu"],
        "temperature": float(row["temp_c"]),
        "spo2_scale": int(row["spo2_scale"]),
    }


def test_news2_all_21_reference_vectors(reference_data):
    rows = _vectors(reference_data)
    assert len(rows) == 21
    for row in rows:
        res = news2(_vitals(row))
        assert res.total == int(row["expected_total"]), row["case"]
        for col, name in SUB.items():
            assert res.parameters[name] == int(row[col]), (row["case"], name)
        assert res.band == row["band"], row["case"]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("respiration_rate", 11, 1),
        ("respiration_rate", 12, 0),
        ("respiration_rate", 20, 0),
        ("respiration_rate", 24, 2),
        ("spo2", 92, 2),
        ("spo2", 93, 2),
        ("spo2", 94, 1),
        ("spo2", 96, 0),
        ("systolic_bp", 91, 2),
        ("systolic_bp", 100, 2),
        ("systolic_bp", 101, 1),
        ("systolic_bp", 110, 1),
        ("systolic_bp", 111, 0),
        ("systolic_bp", 219, 0),
        ("pulse", 41, 1),
        ("pulse", 50, 1),
        ("pulse", 51, 0),
        ("pulse", 90, 0),
        ("pulse", 91, 1),
        ("pulse", 110, 1),
        ("pulse", 111, 2),
        ("pulse", 130, 2),
        ("temperature", 35.1, 1),
        ("temperature", 36.0, 1),
        ("temperature", 36.1, 0),
        ("temperature", 38.0, 0),
        ("temperature", 38.1, 1),
        ("temperature", 39.0, 1),
    ],
)
def test_news2_chart_boundaries(field, value, expected):
    base = {"respiration_rate": 16, "spo2": 98, "systolic_bp": 120, "pulse": 70, "temperature": 37.0}
    base[field] = value
    assert news2(base).parameters[field] == expected


def test_news2_scale2_air_and_oxygen():
    base = {"respiration_rate": 16, "systolic_bp": 120, "pulse": 70, "temperature": 37.0, "spo2_scale": 2}
    # 88-92 is the target: 0 on air and on oxygen; >= 93 on air is 0; on oxygen 93-94:1, 95-96:2, >=97:3
    assert [news2({**base, "spo2": s}).parameters["spo2"] for s in (84, 86, 88, 92, 99)] == [2, 1, 0, 0, 0]
    assert [news2({**base, "spo2": s, "on_oxygen": True}).parameters["spo2"] for s in (92, 93, 94, 95, 96, 97)] == [
        0,
        1,
        1,
        2,
        2,
        3,
    ]


def test_news2_band_precedence_and_response():
    # a single 3 with total 3 is low-medium; total 7 is high even with no single 3
    assert (
        news2(
            {
                "respiration_rate": 16,
                "spo2": 98,
                "systolic_bp": 120,
                "pulse": 70,
                "temperature": 37.0,
                "consciousness": "v",
            }
        ).band
        == "low-medium"
    )
    res = news2({"respiration_rate": 22, "spo2": 93, "systolic_bp": 105, "pulse": 115, "temperature": 38.5})
    assert res.total == 2 + 2 + 1 + 2 + 1 and res.band == "high"
    assert res.response["monitoring"] == "continuous monitoring of vital signs"


@pytest.mark.parametrize(
    ("field", "value"), [("pulse", 0), ("pulse", 400), ("spo2", 120), ("temperature", 55), ("respiration_rate", "fast")]
)
def test_impossible_values_raise_input_error_with_where(field, value):
    data = {"respiration_rate": 16, "spo2": 98, "systolic_bp": 120, "pulse": 70, "temperature": 37.0, field: value}
    with pytest.raises(InputError) as info:
        news2(data)
    assert info.value.where == field


def test_missing_and_unknown_fields():
    with pytest.raises(InputError) as info:
        VitalSigns.parse({"respiration_rate": 16, "spo2": 98, "systolic_bp": 120, "pulse": 70}, where="row 3")
    assert info.value.where == "row 3.temperature"
    with pytest.raises(InputError):
        VitalSigns.parse(
            {"respiration_rate": 16, "spo2": 98, "systolic_bp": 120, "pulse": 70, "temperature": 37, "heart_rate": 70}
        )


def test_fhir_observation():
    res = news2({"respiration_rate": 21, "spo2": 93, "systolic_bp": 120, "pulse": 95, "temperature": 37.5})
    obs = res.to_fhir_observation(patient_ref="Patient/p1")
    assert obs["resourceType"] == "Observation" and obs["status"] == "final"
    assert obs["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "1104051000000101",
        "display": obs["code"]["coding"][0]["display"],
    }
    assert obs["valueInteger"] == 5 and obs["interpretation"][0]["text"] == "medium"
    assert len(obs["component"]) == 7 and sum(c["valueInteger"] for c in obs["component"]) == 5
    assert obs["subject"] == {"reference": "Patient/p1"} and obs["effectiveDateTime"].endswith("Z")
    from fhir.resources.observation import Observation  # validates against the R4/R5 model

    Observation.model_validate(obs)


def test_qsofa():
    assert qsofa(22, 100, False).total == 2 and qsofa(22, 100, False).band == "positive"
    assert qsofa(21, 101, True).total == 1 and qsofa(21, 101, True).band == "negative"
    with pytest.raises(InputError):
        qsofa(0, 120, False)


def test_mews_subbe_tables():
    # SBP 75 (2), HR 135 (3), RR 31 (3), T 38.5 (2), V (1) = 11
    res = mews(
        {"respiration_rate": 31, "spo2": 95, "systolic_bp": 75, "pulse": 135, "temperature": 38.5, "consciousness": "V"}
    )
    assert res.parameters == {"systolic_bp": 2, "pulse": 3, "respiration_rate": 3, "temperature": 2, "consciousness": 1}
    assert res.total == 11 and res.band == "high"
    normal = mews({"respiration_rate": 14, "spo2": 98, "systolic_bp": 120, "pulse": 70, "temperature": 37.0})
    assert normal.total == 0 and normal.band == "low"
