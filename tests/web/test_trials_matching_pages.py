"""Trial matching pages: trial list and add form, criteria editing, funnel and ranking, one patient's explanation."""

from __future__ import annotations

from sqlalchemy import select

from theralab.privacy.tables import AuditEvent
from theralab.runtime.db import session_scope
from theralab.trials.matching.synthetic import benchmark_trial

from .helpers import login

AT = "2025-01-01"


def _setup():
    from theralab.ehr import tables as store
    from theralab.ehr.fhir import import_resources
    from theralab.ehr.synthetic import generate_cohort
    from theralab.privacy.tables import ConsentRecord
    from theralab.runtime.db import Base, get_engine
    from theralab.trials import tables as tstore

    # the ranked list honours trial-contact consent (issue 18), so the consent table is needed too
    tables = store.ehr_tables() + tstore.trial_tables() + [ConsentRecord.__table__]
    Base.metadata.create_all(get_engine(), tables=tables)
    with session_scope() as s:
        import_resources(list(generate_cohort(25, 8)), s, validate=False)
        tstore.add_trial(s, "SYN-WEB", benchmark_trial(), title="Synthetic web trial")


def test_trial_pages_and_editing(api):
    _setup()
    login(api, "res")
    listing = api.get("/trials/matching")
    assert listing.status_code == 200 and "SYN-WEB" in listing.text and "Parse and add" in listing.text
    page = api.get(f"/trials/matching/SYN-WEB?at={AT}")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Feasibility funnel" in html and '"orientation": "h"' in html and 'data-chart="funnel"' in html
    assert "model_dump" not in html and "<script>" not in html and "Logic: {" not in html  # issue 22: no reprs
    assert "25 patients" in html and "criteria version 1" in html
    first = html.split("/trials/matching/SYN-WEB/patients/")[1].split("?")[0]

    # correct the HbA1c entity: 53-86 mmol/mol -> 6.5-11 %
    r = api.post("/trials/matching/SYN-WEB/edit", data={
        "op": "update_entity", "criterion_id": "inc-3", "entity_id": "inc-3-e1", "text": "HbA1c",
        "codes": "loinc:4548-4", "comparator": "between", "value": "6.5", "value_high": "11", "unit": "%",
        "note": "site uses NGSP units"}, follow_redirects=False)
    assert r.status_code == 303 and "error" not in r.headers["location"]
    html = api.get(f"/trials/matching/SYN-WEB?at={AT}").text
    assert "criteria version 2" in html and "between 6.5-11.0 %" in html and "site uses NGSP units" in html
    bad = api.post("/trials/matching/SYN-WEB/edit", data={"op": "update_entity", "criterion_id": "nope",
                                                          "entity_id": "x"}, follow_redirects=False)
    assert "error=" in bad.headers["location"]

    exp = api.get(f"/trials/matching/SYN-WEB/patients/{first}?at={AT}")
    assert exp.status_code == 200
    assert f'href="/ehr/patients/{first}#Patient/{first}"' in exp.text and "years old" in exp.text
    assert "Observation</a>" in exp.text  # lab evidence links to the patient record
    with session_scope() as s:
        events = {(e.actor, e.action, e.resource_id) for e in s.scalars(select(AuditEvent))}
    assert ("res", "trials.match.patient", first) in events and ("res", "trials.criteria.correct", "SYN-WEB") in events

    login(api, "pat")
    assert api.get(f"/trials/matching/SYN-WEB?at={AT}").status_code == 403
    assert api.get(f"/trials/matching/SYN-WEB/patients/{first}").status_code == 403


def test_add_trial_form_reports_bad_text(api):
    _setup()
    login(api, "doc")
    r = api.post("/trials/matching", data={"trial_id": "EMPTY-1", "title": "", "text": "   "})
    assert r.status_code == 422 and "criteria text is empty" in r.text
