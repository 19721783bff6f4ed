"""Ward view, patient timeline and alert actions in the web UI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _login(api, name):
    api.post("/login", data={"username": name, "password": f"password-{name}", "next": "/"}, follow_redirects=False)


def test_ward_timeline_and_acknowledge(api):
    doc = api.login("doc")
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
    assert ">14<" in page and "Acknowledge" in page
    timeline = api.get("/monitoring/patients/p-sick").text
    assert "/static-vendor/plotly.min.js" in timeline and '"heart_rate"' in timeline and '"news2"' in timeline
    alert_id = api.get("/v1/alerts", headers=doc).json()["items"][0]["id"]
    done = api.post(f"/monitoring/alerts/{alert_id}/acknowledge", data={"next": "/monitoring"}, follow_redirects=False)
    assert done.status_code == 303
    assert api.get("/v1/alerts", headers=doc).json()["items"][0]["status"] == "acknowledged"

    api.cookies.clear()
    _login(api, "pat")
    assert api.get("/monitoring").status_code == 403
