"""Property test of the MQTT message path (issue 18 part 9): any bytes on the wire go through the same
steps as the MQTT worker (JSON, envelope, payload) and end as readings or the project's InputError.
The HTTP body parser is covered by ``test_schemas.py`` (any JSON document, any bytes)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from theralab.errors import InputError
from theralab.monitoring.streams import parse_payload
from theralab.monitoring.streams.schemas import load_json, split_envelope

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=10)
reading = st.fixed_dictionaries({"code": st.sampled_from(["8867-4", "2708-6", "x"]) | json_values,
                                 "value": st.floats(allow_nan=True) | st.integers() | json_values},
                                optional={"unit": st.sampled_from(["/min", "%"]) | json_values,
                                          "at": st.sampled_from(["2026-11-27T07:00:00Z", "nope"]) | json_values})
envelope = st.fixed_dictionaries(
    {"token": st.text(max_size=10) | json_values},
    optional={"payload": st.fixed_dictionaries({"readings": st.lists(reading, max_size=3)}) | json_values,
              "readings": st.lists(reading, max_size=3) | json_values})
wire = envelope.map(lambda d: json.dumps(d).encode()) | json_values.map(lambda d: json.dumps(d).encode()) \
    | st.binary(max_size=60) | st.just(b"[" * 5000)


@BOUNDED
@given(wire)
def test_any_mqtt_message_gives_readings_or_input_error(raw):
    try:
        token, content = split_envelope(load_json(raw))
        readings = parse_payload(content, "dev-1")
    except InputError as exc:
        assert exc.message and exc.where
        return
    assert isinstance(token, str) and token
    assert isinstance(readings, list)
