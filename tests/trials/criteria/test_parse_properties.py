"""Property test of the eligibility-criteria parser (issue 18 part 9): any text gives structured
criteria or the project's InputError (empty, too long, no criteria), never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theralab.errors import InputError
from theralab.trials.criteria import parse_criteria

BOUNDED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FRAGMENTS = ["Inclusion Criteria:", "Exclusion Criteria:", "- ", "* ", "1. ", "Age >= 18 years", "HbA1c > 7%",
             "no history of", "diabetes mellitus type 2", "eGFR < 30 mL/min/1.73m2", "pregnant", "or", "and",
             "within 6 months", "metformin", "BMI 25-40 kg/m2", ">=", "<", "≥ 65", "\n", "\t", "(", ")", ";", ":",
             "ECOG 0-1", "not", "unless", "1e309", "-0", "%%", "10^9/L"]
criteria_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=25).map(" ".join) \
    | st.text(max_size=200)


@BOUNDED
@given(criteria_text, st.sampled_from(["inclusion", "exclusion"]))
def test_any_criteria_text_parses_or_gives_input_error(text, kind):
    try:
        crit = parse_criteria(text, default_kind=kind)
    except InputError as exc:
        assert exc.message
        return
    assert crit.criteria
    for c in crit.criteria:
        assert c.text is not None
