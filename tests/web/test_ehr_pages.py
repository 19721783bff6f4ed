"""Patient list and patient record pages (role-checked, audited)."""

from __future__ import annotations

from sqlalchemy import select

from theralab.privacy.tables import AuditEvent
from theralab.runtime.db import session_scope

from .helpers import login


def test_patient_pages(api):
    from theralab.ehr.synthetic.cohort import load_demo_patients

    with session_scope() as session:
        load_demo_patients(session, n=4, seed=11)
    login(api, "doc")
    listing = api.get("/ehr").text
    assert "4 in the record" in listing
    first = listing.split('href="/ehr/patients/')[1].split('"')[0]
    page = api.get(f"/ehr/patients/{first}")
    assert page.status_code == 200 and "Latest observations" in page.text and "Export as FHIR Bundle" in page.text
    with session_scope() as session:
        actions = [(e.actor, e.action, e.resource_id) for e in session.scalars(select(AuditEvent))]
    assert ("doc", "ehr.patient.read", first) in actions
    login(api, "pat")
    assert api.get("/ehr").status_code == 403
    login(api, "doc")
    assert api.get("/ehr/patients/nope").status_code == 404
