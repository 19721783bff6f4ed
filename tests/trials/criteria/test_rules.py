"""Comparators, values, units, time windows, age, sex, headers and bullets: the rule layer, exactly."""

from __future__ import annotations

import pytest

from theralab.trials.criteria.rules import parse_age, parse_constraints, parse_sex, parse_temporal, to_number
from theralab.trials.criteria.text import header_kind, split_items


def one(text: str) -> tuple:
    c = parse_constraints(text)[0]
    return c["comparator"], c["value"], c["value_high"], c["unit"], c["relative_to"]


@pytest.mark.parametrize(("text", "expected"), [
    ("total bilirubin <1.5 X ULN", ("<", 1.5, None, None, "ULN")),
    ("ALT<2.5X upper limit of normal", ("<", 2.5, None, None, "ULN")),
    ("HbA1c between 7.0% and 10.5%", ("between", 7.0, 10.5, "%", None)),
    ("ANC >= 1,500/mm3", (">=", 1500.0, None, "/mm3", None)),
    ("Platelets ≥ 100,000/µL", (">=", 100000.0, None, "/µl", None)),
    ("eGFR of at least 60 ml/min/1.73 m2", (">=", 60.0, None, "ml/min/1.73 m2", None)),
    ("BMI 18.5-35 kg/m2", ("between", 18.5, 35.0, "kg/m2", None)),
    ("creatinine no more than 1.5 mg/dL", ("<=", 1.5, None, "mg/dl", None)),
    ("life expectancy of greater than three (3) months", (">", 3.0, None, "months", None)),
    ("18 years of age or older", (">=", 18.0, None, "years", None)),
    ("QTc > 450 msec", (">", 450.0, None, "msec", None)),
])
def test_constraints(text, expected):
    assert one(text) == expected


def test_digits_inside_words_are_not_values():
    assert parse_constraints("HbA1c and CD4 counts are required") == []
    assert parse_constraints("one of the following") == []
    assert to_number("10,000") == 10000.0 and to_number("1,5") == 1.5 and to_number("six") == 6.0


@pytest.mark.parametrize(("text", "relation", "days"), [
    ("within 30 days prior to study entry", "within", 30.0),
    ("in the past 6 months", "within", 182.625),
    ("at least 4 weeks prior to randomization", "at_least", 28.0),
    ("for at least 3 months", "duration", 91.3125),
    ("2 years ago", "at_least", 730.5),
    ("within the last 12 hours", "within", 0.5),
])
def test_temporal_windows(text, relation, days):
    t = parse_temporal(text)
    assert (t["relation"], t["days"]) == (relation, pytest.approx(days))


def test_temporal_anchor_and_current():
    assert parse_temporal("within 30 days prior to study entry")["anchor"] == "study entry"
    assert parse_temporal("currently")["relation"] == "current"
    assert parse_temporal("severe") is None


@pytest.mark.parametrize(("text", "lo", "hi", "lo_inc", "hi_inc"), [
    ("Aged 18-65 years", 18.0, 65.0, True, True),
    ("Age ≥ 18 years", 18.0, None, True, True),
    ("18 years of age or older", 18.0, None, True, True),
    ("Men and women between 40 and 75 years of age", 40.0, 75.0, True, True),
    ("Age < 18", None, 18.0, True, False),
    ("Patients aged over 65", 65.0, None, False, True),
])
def test_age(text, lo, hi, lo_inc, hi_inc):
    a = parse_age(text)
    assert (a["min_years"], a["max_years"], a["min_inclusive"], a["max_inclusive"]) == (lo, hi, lo_inc, hi_inc)


def test_age_needs_an_age_context():
    assert parse_age("HbA1c between 7 and 10") is None


@pytest.mark.parametrize(("text", "sex"), [
    ("Male or female", "all"), ("Women only", "female"), ("Postmenopausal women", "female"),
    ("Healthy male volunteers", "male"),
    ("Female patients must have a negative serum pregnancy test", None),  # conditional, not a restriction
    ("Type 2 diabetes", None),
])
def test_sex(text, sex):
    assert parse_sex(text) == sex


def test_headers_tolerate_typos_and_ignore_lookalikes():
    assert header_kind("Inclusion Critera:") == "inclusion"
    assert header_kind("EXLUSION CRITERIA") == "exclusion"
    assert header_kind("Exclusion:") == "exclusion"
    assert header_kind("Patients with inclusion body myositis") is None
    assert header_kind("DISEASE CHARACTERISTICS:") == "other"


def test_split_items_bullets_wraps_and_nesting():
    text = ("Inclusion Criteria:\n\n  -  Age 18 years or older\n\n  -  Consenting patients if they:\n\n"
            "       -  have erosive esophagitis confirmed by\n          endoscopy\n\n"
            "Exclusion Critera:\n\n  -  Pregnancy\n")
    items = split_items(text)
    assert [(i.kind, i.level) for i in items] == [("inclusion", 0), ("inclusion", 0), ("inclusion", 1),
                                                   ("exclusion", 0)]
    assert items[2].parent == 1
    assert text[items[2].start:items[2].end].endswith("endoscopy")
    assert items[3].text == "Pregnancy"


def test_split_items_plain_lines():
    items = split_items("Diabetes\n\nHypertension\n", default_kind="exclusion")
    assert [(i.kind, i.text) for i in items] == [("exclusion", "Diabetes"), ("exclusion", "Hypertension")]
