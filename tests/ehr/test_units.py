"""Unit normalisation against hand-computed reference values (tolerances stated per test)."""

from __future__ import annotations

import pytest

from theralab.ehr.units import canonical_unit_text, convert, normalise
from theralab.errors import InputError


@pytest.mark.parametrize(
    ("value", "src", "dst", "analyte", "expected"),
    [
        (5.5, "mmol/L", "mg/dL", "glucose", 99.0858),  # 5.5 * 180.156 / 10
        (100.0, "mg/dL", "mmol/L", "glucose", 5.5507),
        (5.0, "mmol/L", "mg/dL", "cholesterol", 193.327),  # 386.654 g/mol
        (88.42, "umol/L", "mg/dL", "creatinine", 1.00020),  # 113.118 g/mol: 1 mg/dL = 88.40 umol/L
        (1.0, "mg/dL", "umol/L", "bilirubin", 17.1039),
        (2.5, "mmol/L", "mg/dL", "calcium", 10.0195),
        (140.0, "meq/L", "mmol/L", "sodium", 140.0),
        (53.0, "mmol/mol", "%", "hba1c", 7.00044),  # IFCC-NGSP master equation
        (98.6, "[degF]", "Cel", None, 37.0),
        (154.0, "lb", "kg", None, 69.85322),
        (70.0, "[in_i]", "cm", None, 177.8),
        (16.0, "kPa", "mm[Hg]", None, 120.0099),
        (1.0, "ukat/L", "U/L", None, 60.0),
        (7.2, "10*9/L", "10*3/uL", None, 7.2),
    ],
)
def test_convert_reference_values(value, src, dst, analyte, expected) -> None:
    assert convert(value, src, dst, analyte) == pytest.approx(expected, rel=1e-4)


def test_aliases_spell_ucum() -> None:
    assert canonical_unit_text("mg/dl") == "mg/dL"
    assert canonical_unit_text(" bpm ") == "/min"
    assert canonical_unit_text("°F") == "[degF]"
    assert canonical_unit_text("") is None


def test_normalise_by_loinc_code() -> None:
    n = normalise("2345-7", 5.5, "mmol/L")  # glucose canonical unit is mg/dL
    assert n.unit == "mg/dL" and n.value == pytest.approx(99.0858, rel=1e-4) and n.unit_ok
    t = normalise("8310-5", 100.4, "[degF]")
    assert t.unit == "Cel" and t.value == pytest.approx(38.0, abs=1e-9)
    egfr = normalise("33914-3", 72.0, "mL/min")  # Synthea's label for a per-1.73 m2 quantity
    assert egfr.unit == "mL/min/{1.73_m2}" and egfr.value == 72.0
    other = normalise("QALY", 12.0, "a")  # unknown code: value kept as it came
    assert (other.value, other.unit) == (12.0, "a")


def test_unconvertible_units_are_flagged_never_guessed() -> None:
    n = normalise("2345-7", 5.5, "kg")
    assert n.value is None and not n.unit_ok and "2345-7" in (n.problem or "")
    missing = normalise("2345-7", 99.0, None)
    assert missing.value is None and not missing.unit_ok
    with pytest.raises(InputError, match="name the analyte"):
        convert(5.0, "mmol/L", "mg/dL")
    with pytest.raises(InputError, match="not a unit"):
        convert(1.0, "furlong", "m")
    with pytest.raises(InputError, match="not an ion"):
        convert(1.0, "meq/L", "mmol/L", "glucose")
