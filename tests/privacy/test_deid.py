"""De-identification (issue 18 part 6): Safe Harbor rules on FHIR and notes, keyed pseudonyms, recall."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

import pytest

from theralab.privacy.deid import DeidConfig, Deidentifier, deidentify_resources
from theralab.privacy.deid_eval import annotated_recall, synthea_recall

NOTES = Path(__file__).resolve().parents[1] / "data" / "privacy" / "annotated_notes.jsonl"


def _deid(key=b"k1", **kw):
    return Deidentifier(DeidConfig(key=key, reference_date=date(2026, 1, 1), **kw))


def test_pseudonyms_are_keyed_stable_and_irreversible():
    a, b = _deid(b"site-a"), _deid(b"site-b")
    assert a.pseudonym("Patient", "p1") == a.pseudonym("Patient", "p1")
    assert a.pseudonym("Patient", "p1") != a.pseudonym("Patient", "p2")
    assert a.pseudonym("Patient", "p1") != b.pseudonym("Patient", "p1")
    assert "p1" not in a.pseudonym("Patient", "p1") and len(a.pseudonym("Patient", "p1")) == 16


def test_dates_shift_consistently_per_patient():
    d = _deid()
    shift = d.shift_days("p1")
    assert 1 <= abs(shift) <= 365
    one, two = d.shift_date_text("2024-03-01", "p1"), d.shift_date_text("2024-03-04", "p1")
    assert (date.fromisoformat(two) - date.fromisoformat(one)).days == 3  # intervals kept
    assert (date.fromisoformat(one) - date(2024, 3, 1)).days == shift
    assert d.shift_date_text("2024-03-01T10:00:00Z", "p1").endswith("Z")
    assert _deid(keep_year_only=True).shift_date_text("2024-03-01", "p1") == "2024"


def _patient(birth="1930-05-01", zip_code="03601"):
    return {"resourceType": "Patient", "id": "p1", "birthDate": birth,
            "name": [{"given": ["Jane"], "family": "Roe"}],
            "telecom": [{"system": "phone", "value": "617-555-0100"}],
            "identifier": [{"system": "http://hospital/mrn", "value": "MRN-778899"}],
            "address": [{"line": ["1 Main St"], "city": "Boston", "state": "MA", "postalCode": zip_code}],
            "text": {"div": "<div>Jane Roe</div>"}}


def test_fhir_patient_safe_harbor():
    out = _deid().resource(_patient(), "p1")
    flat = json.dumps(out)
    for identifier in ("Jane", "Roe", "617-555-0100", "MRN-778899", "1 Main St", "Boston", "1930"):
        assert identifier not in flat
    assert out["address"] == [{"state": "MA", "postalCode": "000"}]  # 036 is a restricted ZIP3
    assert {"url": "urn:theralab:deid:age", "valueString": "90+"} in out["extension"]
    young = _deid().resource(_patient(birth="1980-05-01", zip_code="02139"), "p1")
    assert young["address"][0]["postalCode"] == "021" and young["birthDate"] != "1980-05-01"
    assert young["id"] == _deid().pseudonym("Patient", "p1")


def test_note_attachment_and_references():
    note = "Jane Roe seen 2024-01-02 by Dr. Kunze. Call 617-555-0100."
    doc = {"resourceType": "DocumentReference", "id": "d1", "subject": {"reference": "Patient/p1"},
           "date": "2024-01-02T10:00:00Z",
           "content": [{"attachment": {"contentType": "text/plain", "data": base64.b64encode(note.encode()).decode()}}]}
    out = deidentify_resources([doc, _patient(birth="1980-01-01")], DeidConfig(key=b"k1"))
    text = base64.b64decode(out[0]["content"][0]["attachment"]["data"]).decode()
    assert "Jane" not in text and "Roe" not in text and "Kunze" not in text and "617" not in text
    assert "2024-01-02" not in text and "[NAME]" in text and "[PHONE]" in text
    assert out[0]["subject"]["reference"] == "Patient/" + out[1]["id"]  # links survive pseudonymisation


def test_recall_on_project_annotated_notes():
    with_record = annotated_recall(NOTES)
    assert with_record["structured"]["n"] == 54 and with_record["structured"]["recall"] >= 0.99
    assert with_record["names"]["n"] == 33 and with_record["names"]["recall"] >= 0.95
    text_only = annotated_recall(NOTES, use_record_names=False)
    assert text_only["structured"]["recall"] >= 0.99
    assert text_only["names"]["recall"] < with_record["names"]["recall"]  # the record's names matter


def test_recall_on_synthea_notes(shared_data):
    folder = shared_data / "trials" / "synthea_bulk_10pt"
    if not (folder / "DocumentReference.000.ndjson").is_file():
        pytest.skip("synthea_bulk_10pt notes absent")
    result = synthea_recall(folder, limit=300)
    assert result["notes"] == 300
    assert result["structured"]["recall"] >= 0.99 and result["names"]["recall"] >= 0.95
