"""HTTP ingestion and the alert inbox through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def test_device_registration_ingest_read_and_alert_inbox(api):
    doc = api.login("doc")
    created = api.post("/v1/devices", json={"device_id": "w-9", "patient_id": "p-9"}, headers=doc)
    assert created.status_code == 201
    dev = {"X-Device-Id": "w-9", "X-Device-Token": created.json()["token"]}
    assert api.post("/v1/devices", json={"device_id": "w-9", "patient_id": "p-9"}, headers=doc).status_code == 422
    patient = api.login("pat")
    assert api.post("/v1/devices", json={"device_id": "x", "patient_id": "p"}, headers=patient).status_code == 403

    vitals = [("9279-1", 24, "/min"), ("2708-6", 94, "%"), ("8480-6", 105, "mm[Hg]"),
              ("8867-4", 112, "/min"), ("8310-5", 38.4, "Cel")]
    readings = [{"code": c, "value": v, "unit": u, "at": _at(-2)} for c, v, u in vitals]
    body = {"device_id": "w-9", "readings": readings}
    response = api.post("/v1/observations", json=body, headers=dev)
    assert response.status_code == 200, response.text
    report = response.json()
    # RR 24 (2) + SpO2 94 (1) + SBP 105 (1) + HR 112 (2) + T 38.4 (1) = 7 -> high
    assert report["accepted"] == 5 and report["scores"][0]["total"] == 7 and report["alerts"][0]["new"]

    bad_token = api.post("/v1/observations", json=body, headers={**dev, "X-Device-Token": "nope"})
    assert bad_token.status_code == 401
    no_headers = api.post("/v1/observations", json=body)
    # missing device credentials are an authentication failure (401, before the body is read), not a 422
    assert no_headers.status_code == 401 and "X-Device-Id" in no_headers.json()["message"]
    json_headers = {**dev, "content-type": "application/json"}
    garbage = api.post("/v1/observations", content=b"\x00\x01binary", headers=json_headers)
    assert 400 <= garbage.status_code < 500

    series = api.get("/v1/observations", params={"patient_id": "p-9", "code": "heart_rate"}, headers=doc).json()
    assert [r["value"] for r in series] == [112.0]
    assert api.get("/v1/observations", params={"patient_id": "p-9"}, headers=api.login("pat")).status_code == 403

    inbox = api.get("/v1/alerts", params={"subject": "p-9"}, headers=doc).json()
    assert len(inbox) == 1 and inbox[0]["severity"] == "high"
    alert_id = inbox[0]["id"]
    acked = api.post(f"/v1/alerts/{alert_id}/acknowledge", json={"note": "on my way"}, headers=doc).json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "doc"
    history = api.get(f"/v1/alerts/{alert_id}/history", headers=doc).json()
    assert [h["action"] for h in history] == ["raised", "acknowledged"]
    assert api.post("/v1/alerts/999/acknowledge", json={}, headers=doc).status_code == 404
