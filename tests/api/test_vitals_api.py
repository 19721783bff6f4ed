"""HTTP ingestion and the alert inbox through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def _patients(*ids: str) -> None:
    """Patients exist before devices attach to them."""
    from theralab.ehr.fhir import import_resources
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": i} for i in ids], session)


def test_device_registration_ingest_read_and_alert_inbox(api):
    doc = api.login("doc")
    missing = api.post("/v1/devices", json={"device_id": "w-9", "patient_id": "p-9"}, headers=doc)
    assert missing.status_code == 422 and missing.json()["where"] == "patient_id"  # no such patient yet
    _patients("p-9")
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

    inbox = api.get("/v1/alerts", params={"subject": "p-9"}, headers=doc).json()["items"]
    assert len(inbox) == 1 and inbox[0]["severity"] == "high"
    alert_id = inbox[0]["id"]
    acked = api.post(f"/v1/alerts/{alert_id}/acknowledge", json={"note": "on my way"}, headers=doc).json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_by"] == "doc"
    history = api.get(f"/v1/alerts/{alert_id}/history", headers=doc).json()
    assert [h["action"] for h in history] == ["raised", "acknowledged"]
    assert api.post("/v1/alerts/999/acknowledge", json={}, headers=doc).status_code == 404


def _device(api, device_id="w-1", patient_id="p-1"):
    _patients(patient_id)
    created = api.post("/v1/devices", json={"device_id": device_id, "patient_id": patient_id},
                       headers=api.login("doc"))
    assert created.status_code == 201, created.text
    return {"X-Device-Id": device_id, "X-Device-Token": created.json()["token"]}


def test_malformed_payloads_give_422_and_are_quarantined_never_500(api):
    from sqlalchemy import select

    from theralab.monitoring.streams.tables import QuarantinedReading
    from theralab.runtime.db import session_scope

    dev = _device(api)
    at = _at(-1)
    obs = {"resourceType": "Observation", "effectiveDateTime": at,
           "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
           "valueQuantity": {"value": 80, "code": "/min"}}
    poison = [{"readings": 5}, {**obs, "code": "8867-4"}, {"resourceType": "Bundle", "entry": [5]},
              {**obs, "valueQuantity": 80}, {"readings": [{"code": "8867-4", "value": True, "at": at}]},
              [5], 5, "text", {"resourceType": "Patient"}]
    for body in poison:
        response = api.post("/v1/observations", json=body, headers=dev)
        assert response.status_code == 422, (body, response.status_code, response.text)
        assert response.json()["where"]
    assert api.post("/v1/observations", json={**obs}, headers=dev).json()["accepted"] == 1
    with session_scope() as session:
        reasons = [q.reason for q in session.scalars(select(QuarantinedReading))]
    assert len(reasons) == len(poison) and all(r.startswith("malformed payload") for r in reasons)


def test_http_ingest_fuzzed_payloads_are_never_a_server_error(api):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    dev = _device(api)
    leaves = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
              | st.text(max_size=6))  # what a JSON client can send
    json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                               | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=10)
    near_miss = st.fixed_dictionaries({"readings": json_values | st.lists(
        st.fixed_dictionaries({"code": st.just("8867-4") | json_values, "value": json_values,
                               "at": st.just(_at(-1)) | json_values}), max_size=2)})
    fhir = st.fixed_dictionaries({"resourceType": st.sampled_from(["Observation", "Bundle"]),
                                  "code": json_values, "valueQuantity": json_values, "entry": json_values})

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(json_values | near_miss | fhir)
    def check(body):
        response = api.post("/v1/observations", json=body, headers=dev)
        assert response.status_code in (200, 422), response.text

    check()


def _vitals(at: str, rr, spo2, sbp, hr, temp) -> dict:
    rows = [("9279-1", rr, "/min"), ("2708-6", spo2, "%"), ("8480-6", sbp, "mm[Hg]"), ("8867-4", hr, "/min"),
            ("8310-5", temp, "Cel")]
    return {"readings": [{"code": c, "value": v, "unit": u, "at": at} for c, v, u in rows if v is not None]}


def test_a_resolved_alert_does_not_hide_a_later_emergency(api):
    doc = api.login("doc")
    dev = _device(api, "w-2", "p-2")
    low = api.post("/v1/observations", json=_vitals(_at(-30), 26, 97, 120, 80, 37.0), headers=dev).json()
    assert low["scores"][0]["total"] == 3 and low["alerts"][0]["severity"] == "low"
    low_id = low["alerts"][0]["id"]
    assert api.post(f"/v1/alerts/{low_id}/resolve", json={"note": "settled"}, headers=doc).status_code == 200
    # NEWS2 13 ten minutes later, inside the 60-minute suppression window
    worse = api.post("/v1/observations", json=_vitals(_at(-20), 26, 90, 88, 135, 38.5), headers=dev).json()
    assert worse["scores"][0]["total"] == 13
    assert worse["alerts"][0]["announced"] == "raised" and worse["alerts"][0]["id"] != low_id
    open_now = api.get("/v1/alerts", params={"subject": "p-2", "open_only": True}, headers=doc).json()
    assert [(a["severity"], a["status"]) for a in open_now["items"]] == [("high", "open")]
    old = [h["action"] for h in api.get(f"/v1/alerts/{low_id}/history", headers=doc).json()]
    assert old == ["raised", "resolved", "superseded"]


def test_acknowledged_then_worse_reopens_and_escalating_while_open_is_recorded(api):
    doc = api.login("doc")
    dev = _device(api, "w-3", "p-3")
    first = api.post("/v1/observations", json=_vitals(_at(-30), 26, 97, 120, 80, 37.0), headers=dev).json()
    alert_id = first["alerts"][0]["id"]
    api.post(f"/v1/alerts/{alert_id}/acknowledge", json={}, headers=doc)
    medium = api.post("/v1/observations", json=_vitals(_at(-25), 22, 95, 120, 95, 37.0), headers=dev).json()
    # RR 22 (2) + SpO2 95 (1) + HR 95 (1) = 4 with no single 3: below the acknowledged low -> folded
    assert medium["scores"][0]["total"] == 4 and medium["alerts"] == []
    worse = api.post("/v1/observations", json=_vitals(_at(-20), 22, 93, 120, 95, 37.0), headers=dev).json()
    assert worse["scores"][0]["total"] == 5  # medium band: worse than what was acknowledged
    assert worse["alerts"][0] == {**worse["alerts"][0], "id": alert_id, "announced": "reopened", "status": "open"}
    high = api.post("/v1/observations", json=_vitals(_at(-10), 26, 90, 88, 135, 38.5), headers=dev).json()
    assert high["alerts"][0]["announced"] == "severity_raised" and high["alerts"][0]["severity"] == "high"
    actions = [h["action"] for h in api.get(f"/v1/alerts/{alert_id}/history", headers=doc).json()]
    assert actions == ["raised", "acknowledged", "reopened", "severity_raised"]
    board = api.get("/v1/alerts", params={"status": "open", "severity": ">=high"}, headers=doc).json()
    assert board["total"] == 1 and board["items"][0]["id"] == alert_id


def test_news2_history_over_the_api_shows_the_partial_then_the_complete_score(api):
    doc = api.login("doc")
    dev = _device(api, "w-4", "p-4")
    at = _at(-40)
    api.post("/v1/observations", json=_vitals(_at(-50), 16, 97, 120, 70, 37.0), headers=dev)
    api.post("/v1/observations", json=_vitals(at, 26, None, None, None, None), headers=dev)
    api.post("/v1/observations", json=_vitals(at, None, 90, 88, 135, 38.5), headers=dev)
    series = api.get("/v1/observations", params={"patient_id": "p-4", "code": "1104051000000101"}, headers=doc)
    assert [r["value"] for r in series.json()] == [0.0, 13.0]
    history = api.get("/v1/observations/news2-history", params={"patient_id": "p-4"}, headers=doc).json()
    assert [(h["value"], h["previous"]) for h in history] == [(0.0, None), (3.0, None), (13.0, 3.0)]
    assert api.get("/v1/observations/news2-history", params={"patient_id": "p-4"},
                   headers=api.login("pat")).status_code == 403
