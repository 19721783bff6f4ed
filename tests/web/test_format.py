"""The one place numbers, quantities, intervals and times are formatted for a page."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from theralab.web.format import interval, level_of_news2, pct, qty, show, sig, when


@pytest.mark.parametrize(("value", "figures", "text"), [
    (105.57141600000001, 4, "105.6"),
    (105.57141600000001, 3, "106"),
    (12345.6, 3, "12,346"),       # integer digits are never rounded away
    (0.0012345, 3, "0.00123"),
    (2.50, 3, "2.5"),              # no trailing zeros
    (0, 3, "0"),
    (-3.14159, 2, "-3.1"),
    (1_234_567, 3, "1,234,567"),
    (2.5e-7, 3, "2.50e-07"),
    (None, 3, "—"),
    (math.nan, 3, "—"),
    ("", 3, "—"),
])
def test_sig_rounds_to_significant_figures_without_float_reprs(value, figures, text):
    assert sig(value, figures) == text


def test_qty_carries_the_unit_and_never_prints_none():
    assert qty(105.57141600000001, "mg/dL", 4) == "105.6 mg/dL"
    assert qty(98.04, "%") == "98%"
    assert qty(None, "mg/dL") == "—"
    assert qty(7, None) == "7"


def test_pct_reads_a_fraction():
    assert pct(0.1234) == "12.3%"
    assert pct(1) == "100.0%"
    assert pct(None) == "—"


def test_interval_reads_estimate_and_ci():
    assert interval(1.234, 0.91, 1.6, "mg/L") == "1.23 (95% CI 0.91–1.6) mg/L"
    assert interval(0.8, 0.7, 0.95, level=90) == "0.8 (90% CI 0.7–0.95)"
    assert interval(None, 1, 2) == "—"


def test_when_is_a_utc_time_element_the_script_localises():
    html = str(when("2026-12-06T16:05:09"))
    assert html == ('<time datetime="2026-12-06T16:05:09Z" title="2026-12-06 16:05 UTC">'
                    "2026-12-06 16:05 UTC</time>")
    assert 'datetime="2026-12-06T15:05:00Z"' in str(when(datetime(2026, 12, 6, 15, 5, tzinfo=UTC)))
    assert str(when(None)) == "—"
    assert str(when("<b>not a time</b>")) == "&lt;b&gt;not a time&lt;/b&gt;"


def test_show_never_prints_a_python_repr():
    assert show(["a", "b"]) == "a, b"
    assert show({"tau2": 0.0123456, "p": None}) == "tau2: 0.01235; p: —"
    assert show(None) == "—"
    assert show(True) == "yes"
    assert show(105.57141600000001) == "105.6"
    for text in (show([1.5, {"x": [2]}]), show((None,))):
        assert "[" not in text and "{" not in text and "None" not in text


@pytest.mark.parametrize(("score", "level"), [(0, "ok"), (1, "low"), (4, "low"), (5, "medium"), (6, "medium"),
                                               (7, "high"), (12, "high"), (None, "muted")])
def test_news2_bands_map_to_badges(score, level):
    assert level_of_news2(score) == level
