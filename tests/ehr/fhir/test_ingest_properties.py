"""Property tests of FHIR ingest (issue 18 part 9): any Bundle, resource or ndjson text gives an import
report (bad resources listed as errors, good ones kept) or the project's InputError, never another
exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.ehr.fhir import import_text
from theralab.errors import InputError
from theralab.runtime.db import Base

BOUNDED = settings(max_examples=100, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
TYPES = ["Patient", "Observation", "Condition", "MedicationRequest", "Encounter", "Bundle", "Procedure", "Unknown", ""]
scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
reference = st.sampled_from(["Patient/p1", "Patient/", "p1", "urn:uuid:x", "Patient/../../x"]) | st.text(max_size=15)
resource = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(TYPES)},
    optional={
        "id": st.text(max_size=70) | st.integers(),
        "subject": st.fixed_dictionaries({"reference": reference}) | json_values,
        "gender": st.sampled_from(["male", "female", "other", "x"]) | json_values,
        "birthDate": st.sampled_from(["1980-01-01", "1980", "1980-13-45", "", "2999-01-01"]) | json_values,
        "code": st.fixed_dictionaries({"coding": st.lists(st.fixed_dictionaries(
            {"system": st.sampled_from(["http://loinc.org", "http://snomed.info/sct", ""]),
             "code": st.sampled_from(["8867-4", "718-7", "44054006", ""]) | st.text(max_size=8)}), max_size=2)})
        | json_values,
        "valueQuantity": st.fixed_dictionaries({"value": scalars, "unit": st.sampled_from(["/min", "g/dL", "kg", ""])})
        | json_values,
        "effectiveDateTime": st.sampled_from(["2020-01-01T00:00:00Z", "2020-01-01", "yesterday"]) | json_values,
        "name": json_values,
    })
bundle = st.fixed_dictionaries({"resourceType": st.just("Bundle"), "type": st.sampled_from(["collection", "x"]),
                                "entry": st.lists(st.fixed_dictionaries({"resource": resource}) | json_values,
                                                  max_size=4)})
texts = (bundle.map(json.dumps) | resource.map(json.dumps)
         | st.lists(resource.map(json.dumps) | st.text(max_size=20), max_size=4).map("\n".join)
         | st.text(max_size=80))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    eng = create_engine(f"sqlite:///{tmp_path_factory.mktemp('fhirfuzz') / 'ehr.db'}")
    Base.metadata.create_all(eng, tables=store.ehr_tables())
    yield eng
    eng.dispose()


@BOUNDED
@given(texts)
def test_any_fhir_text_gives_a_report_or_input_error(engine, text):
    with Session(engine) as session:
        try:
            report = import_text(text, session, source="fuzz")
        except InputError as exc:
            assert exc.message
            return
        finally:
            session.rollback()
        assert report.patients >= 0
        assert all(issue.message for issue in report.errors)


def test_deeply_nested_json_is_reported_not_raised(engine):
    """Found while hardening the import's pre-scan: ``json`` recurses per nesting level, so 100,000
    open brackets raised RecursionError (a 500 on POST /v1/ehr/import)."""
    with Session(engine) as session:
        for text in ("[" * 100_000, '{"a":' * 50_000, "{}\n" + "[" * 100_000):
            report = import_text(text, session, source="deep")
            assert report.errors and "nested too deeply" in report.errors[-1].message
        session.rollback()
