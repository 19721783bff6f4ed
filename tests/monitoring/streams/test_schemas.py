"""Whole-message validation: every payload either parses to readings or is refused with a reason.

Hypothesis generates arbitrary JSON and near-miss messages (the right keys holding the wrong
types); the parser must never raise anything but InputError, and the ingestor must account for
every reading it is given (stored, duplicate or quarantined), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theralab.errors import InputError
from theralab.monitoring.streams import Ingestor, parse_payload
from theralab.monitoring.streams.schemas import load_json, split_envelope

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
AT = (NOW - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)
codes = st.sampled_from(["8867-4", "2708-6", "8310-5", "heart_rate", "85354-9", "1234-5", ""]) | json_values
values = st.integers(-10, 500) | st.floats(allow_nan=True) | json_values
times = st.sampled_from([AT, "2026-11-27T07:00:00", "1-1-1", "9999-12-31T23:59:59-12:00"]) | json_values
reading = st.fixed_dictionaries({"code": codes, "value": values},
                                optional={"unit": st.sampled_from(["/min", "%", "Cel", "kg"]) | json_values,
                                          "at": times})
coding = st.fixed_dictionaries({"system": st.just("http://loinc.org") | json_values, "code": codes})
concept = st.fixed_dictionaries({"coding": st.lists(coding, max_size=2) | json_values}) | json_values
quantity = st.fixed_dictionaries({"value": values}, optional={"code": st.just("/min") | json_values}) | json_values
observation = st.fixed_dictionaries(
    {"resourceType": st.just("Observation"), "code": concept},
    optional={"valueQuantity": quantity, "effectiveDateTime": times, "device": json_values,
              "component": st.lists(st.fixed_dictionaries({"code": concept, "valueQuantity": quantity}),
                                    max_size=2) | json_values})
message = st.one_of(
    json_values,
    st.fixed_dictionaries({"readings": st.lists(reading, max_size=4) | json_values},
                          optional={"device_id": st.just("w-1") | json_values}),
    observation,
    st.fixed_dictionaries({"resourceType": st.just("Bundle"),
                           "entry": st.lists(st.fixed_dictionaries({"resource": observation}) | json_values,
                                             max_size=3) | json_values}),
)


@settings(max_examples=150, deadline=None)
@given(message)
def test_any_document_parses_or_is_refused_with_input_error(document):
    try:
        readings = parse_payload(document, "w-1")
    except InputError as exc:
        assert exc.message and exc.where
        return
    for r in readings:  # what passed the schema has the types ingestion relies on
        assert isinstance(r.code, str) and (r.unit is None or isinstance(r.unit, str))
        assert r.value is None or (isinstance(r.value, (int, float)) and not isinstance(r.value, bool))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_any_bytes_parse_or_are_refused(raw):
    try:
        split_envelope(load_json(raw))
    except InputError:
        pass


@pytest.mark.parametrize("document, where", [
    ({"readings": 5}, "readings"),
    ({"resourceType": "Observation", "code": "8867-4"}, "code"),
    ({"resourceType": "Bundle", "entry": [5]}, "entry.0"),
    ({"resourceType": "Observation", "code": {"coding": []}, "valueQuantity": 80}, "valueQuantity"),
    ({"readings": [{"code": "8867-4", "value": True, "at": AT}]}, "readings.0.value"),
    ({"readings": [{"code": "8867-4", "value": "72", "at": AT}]}, "readings.0.value"),
    ({"readings": [{"code": "8867-4", "value": 1e308 * 10, "at": AT}]}, "readings.0.value"),
    ([{"readings": []}, 5], "[1]"),
])
def test_the_issue_payloads_are_refused_naming_the_field(document, where):
    with pytest.raises(InputError) as info:
        parse_payload(document)
    assert info.value.where == where


def test_envelope_token_must_be_a_string():
    with pytest.raises(InputError, match="got int"):
        split_envelope({"token": 123, "readings": []})
    assert split_envelope({"token": "t", "payload": {"a": 1}}) == ("t", {"a": 1})
    assert split_envelope({"token": "t", "readings": []}) == ("t", {"readings": []})


def test_ingest_accounts_for_every_fuzzed_reading(device):
    """Whatever passes the schema, storing never raises, on SQLite and PostgreSQL alike."""
    ingestor = Ingestor(score=True)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(reading, min_size=1, max_size=4))
    def check(items):
        try:
            readings = parse_payload({"device_id": "w-1", "readings": items})
        except InputError:
            return
        report = ingestor.ingest(readings, device=device, now=NOW)
        assert report.accepted + report.duplicates + len(report.quarantined) == len(readings)

    check()


def test_a_json_true_is_never_stored_as_1():
    """Issue 20 finding 7: ``"value": true`` for steps was stored as 1.0."""
    from theralab.monitoring.streams.vitals import normalise_reading

    with pytest.raises(ValueError, match="not a number"):
        normalise_reading("55423-8", True, None)
    with pytest.raises(InputError, match="must be a JSON number"):
        parse_payload({"readings": [{"code": "steps", "value": True, "at": AT}]})
    assert normalise_reading("55423-8", 1, None) == (1.0, "{steps}")
