"""Ward view, patient timeline and alert actions in the web UI."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta


def _login(api, name):
    api.post("/login", data={"username": name, "password": f"password-{name}", "next": "/"}, follow_redirects=False)


def _patients(*ids: str) -> None:
    """Patients exist before devices attach to them."""
    from theralab.ehr.fhir import import_resources
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": i} for i in ids], session)


def test_ward_timeline_and_acknowledge(api):
    doc = api.login("doc")
    _patients("p-sick", "p-well")
    token = api.post("/v1/devices", json={"device_id": "w-1", "patient_id": "p-sick"}, headers=doc).json()["token"]
    api.post("/v1/devices", json={"device_id": "w-2", "patient_id": "p-well"}, headers=doc)
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    sick = [("9279-1", 26), ("2708-6", 90), ("8480-6", 88), ("8867-4", 135), ("8310-5", 39.4)]
    body = {"device_id": "w-1", "readings": [{"code": c, "value": v, "at": at} for c, v in sick]}
    assert api.post("/v1/observations", json=body, headers={"X-Device-Id": "w-1", "X-Device-Token": token}).json()[
        "accepted"] == 5

    _login(api, "doc")
    page = api.get("/monitoring").text
    assert page.index("p-sick") < page.index("p-well")  # sickest first
    assert 'title="NEWS2 14">14<' in page and "badge-high" in page and "Acknowledge" in page
    timeline = api.get("/monitoring/patients/p-sick").text
    assert 'id="timeline-figure"' in timeline and '"Heart rate (/min)"' in timeline and '"NEWS2 (points)"' in timeline
    assert "<script>" not in timeline and "/static/pages/monitoring_patient.js" in timeline
    alert_id = api.get("/v1/alerts", headers=doc).json()["items"][0]["id"]
    done = api.post(f"/monitoring/alerts/{alert_id}/acknowledge", data={"next": "/monitoring"}, follow_redirects=False)
    assert done.status_code == 303
    assert api.get("/v1/alerts", headers=doc).json()["items"][0]["status"] == "acknowledged"

    api.cookies.clear()
    _login(api, "pat")
    assert api.get("/monitoring").status_code == 403


def test_inbox_pages_and_filters_so_a_high_alert_is_never_out_of_sight(api):
    """Issue 20 finding 6: with 204 alerts an open high-severity one fell off the newest-200 list."""
    from theralab.runtime import alerts
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        for i in range(60):
            alerts.raise_alert(session, domain="monitoring", subject=f"p-{i}", rule="news2",
                               severity="high" if i == 0 else "low", title=f"alert {i}", evidence={})
    _login(api, "doc")
    first = api.get("/monitoring").text
    assert "25 of 60 matching" in first and first.count('action="/monitoring/alerts/') == 2 * 25
    assert "alert 0<" not in first and "Next page" in first
    high = api.get("/monitoring", params={"severity": ">=high", "status": "open"}).text
    assert "1 matching" in high and "alert 0<" in high
    link = re.search(r'href="(/monitoring\?[^"]+cursor=\d+)"', first).group(1).replace("&amp;", "&")
    second = api.get(link).text
    assert "alert 34<" in second and "alert 35<" not in second
    assert api.get("/monitoring", params={"severity": "dire"}).status_code == 422
