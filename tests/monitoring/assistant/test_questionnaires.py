"""Exhaustive scoring tests: every band edge, the item-9 rule for every item-9 value, bad answers."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from theralab.errors import InputError
from theralab.monitoring.assistant.questionnaires import INSTRUMENTS, band_for, from_fhir, score, to_fhir, trend


def _answers(n_items: int, total: int, item9: int | None = None) -> list[int]:
    """Answers summing to ``total``, filled left to right (item 9 forced when given)."""
    out = [0] * n_items
    rest = total
    if item9 is not None:
        out[8] = item9
        rest -= item9
    for i in range(n_items):
        if item9 is not None and i == 8:
            continue
        out[i] = min(3, rest)
        rest -= out[i]
    assert rest == 0
    return out


PHQ9_EXPECTED = {**{t: "minimal" for t in range(0, 5)}, **{t: "mild" for t in range(5, 10)},
                 **{t: "moderate" for t in range(10, 15)}, **{t: "moderately severe" for t in range(15, 20)},
                 **{t: "severe" for t in range(20, 28)}}
GAD7_EXPECTED = {**{t: "minimal" for t in range(0, 5)}, **{t: "mild" for t in range(5, 10)},
                 **{t: "moderate" for t in range(10, 15)}, **{t: "severe" for t in range(15, 22)}}


@pytest.mark.parametrize("total", range(28))
def test_phq9_every_total_band(total):
    result = score("phq9", _answers(9, total, item9=0) if total <= 24 else _answers(9, total))
    assert result.total == total
    assert result.band == PHQ9_EXPECTED[total]


@pytest.mark.parametrize("total", range(22))
def test_gad7_every_total_band(total):
    result = score("gad7", _answers(7, total))
    assert (result.total, result.band) == (total, GAD7_EXPECTED[total])
    assert result.protocol is None


@pytest.mark.parametrize("edge,below,above", [
    (5, "minimal", "mild"), (10, "mild", "moderate"),
    (15, "moderate", "moderately severe"), (20, "moderately severe", "severe")])
def test_phq9_band_edges(edge, below, above):
    assert band_for(INSTRUMENTS["phq9"], edge - 1) == below
    assert band_for(INSTRUMENTS["phq9"], edge) == above


@pytest.mark.parametrize("key", ["phq2", "gad2"])
def test_two_item_screens_every_combination(key):
    for a, b in itertools.product(range(4), repeat=2):
        result = score(key, [a, b])
        assert result.total == a + b
        assert result.positive is (a + b >= 3)
        assert result.band == ("positive screen" if a + b >= 3 else "negative screen")
        assert result.protocol is None


@pytest.mark.parametrize("item9", [1, 2, 3])
@pytest.mark.parametrize("others", [0, 1, 12, 24])
def test_item9_above_zero_always_triggers_protocol(item9, others):
    answers = _answers(9, others + item9, item9=item9)
    result = score("phq9", answers)
    assert result.protocol == "suicide-risk"
    assert result.total == others + item9


def test_item9_zero_never_triggers_even_at_max_other_items():
    result = score("phq9", [3] * 8 + [0])
    assert result.total == 24 and result.band == "severe" and result.protocol is None


def test_item9_rule_exhaustive_over_item9_values():
    # every item-9 value with every other item at every level (4 x 4 = 16 patterns)
    for level, item9 in itertools.product(range(4), range(4)):
        result = score("phq9", [level] * 8 + [item9])
        assert (result.protocol == "suicide-risk") is (item9 > 0)


def test_response_wording_and_digits_accepted():
    words = ["not at all", "Several days", " more than half the days ", "NEARLY EVERY DAY", "0", "1", 2, 3.0, "3"]
    result = score("phq9", words)
    assert result.answers == (0, 1, 2, 3, 0, 1, 2, 3, 3)
    assert result.total == 15


@pytest.mark.parametrize("bad", [4, -1, 1.5, "banana", "", None, True, "several", [1], "4"])
def test_nonsense_answers_rejected_with_item(bad):
    answers: list[object] = [0] * 9
    answers[3] = bad
    with pytest.raises(InputError) as err:
        score("phq9", answers)
    assert err.value.where == "item 4"
    assert "0, 1, 2 or 3" in (err.value.hint or "")


def test_wrong_count_and_unknown_instrument():
    with pytest.raises(InputError, match="9 items, got 8"):
        score("phq9", [0] * 8)
    with pytest.raises(InputError, match="unknown questionnaire"):
        score("bdi", [0] * 21)
    assert score("PHQ-9", [0] * 9).instrument == "phq9"


def test_fhir_round_trip_validates_and_rescores():
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    result = score("phq9", [1, 2, 0, 3, 1, 0, 2, 1, 1])
    resource = to_fhir(result, "p-1")
    QuestionnaireResponse.model_validate(resource)
    assert resource["subject"] == {"reference": "Patient/p-1"}
    assert resource["item"][-1]["answer"][0]["valueInteger"] == 11
    again = from_fhir(resource)
    assert (again.total, again.band, again.protocol) == (11, "moderate", "suicide-risk")


def test_trend_changes_and_meaningful_flag():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    scores = [score("phq9", _answers(9, t, item9=0), authored=t0 + timedelta(days=14 * i))
              for i, t in enumerate([18, 14, 8, 9])]
    rows = trend(list(reversed(scores)))
    assert [r["total"] for r in rows] == [18, 14, 8, 9]
    assert [r["change"] for r in rows] == [None, -4, -6, 1]
    assert [r["meaningful"] for r in rows] == [None, None, "better", None]
