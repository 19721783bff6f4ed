"""Crash consistency (issue 18 part 9): the server is killed with SIGKILL in the middle of a stream of
vital-sign writes and audited consent writes, restarted on the same database, and the database is
consistent: every acknowledged write is there, no batch is half-stored, no row is partial, SQLite's
integrity check passes and the audit hash chain verifies."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

BATCH = 5


@pytest.mark.slow
def test_sigkill_mid_write_leaves_a_consistent_database(tl_env, live_server):
    import httpx
    from sqlalchemy import select, text

    from theralab.ehr.fhir import import_text
    from theralab.ehr.tables import ObservationRow as VitalReading
    from theralab.monitoring.streams import register_device
    from theralab.privacy import audit, careteam
    from theralab.privacy.auth import create_user
    from theralab.privacy.tables import AuditEvent, ConsentRecord
    from theralab.runtime.db import reset_engine, session_scope

    with session_scope() as session:
        import_text(json.dumps({"resourceType": "Patient", "id": "p-crash", "gender": "female"}), session)
        create_user(session, "nurse", "password-nurse-crash", ["clinician"])
        careteam.add_member(session, "crash-ward", "nurse")
        careteam.add_patients(session, "crash-ward", ["p-crash"])
    with session_scope() as session:
        token = register_device(session, "dev-crash", "p-crash")
    server = live_server()
    bearer = {"Authorization": "Bearer " + httpx.post(server.base + "/v1/auth/token", data={
        "username": "nurse", "password": "password-nurse-crash"}).json()["access_token"]}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    acked_batches: list[int] = []
    acked_consents: list[int] = []
    sent_batches: list[int] = []
    stop = threading.Event()

    def vitals() -> None:
        headers = {"X-Device-Id": "dev-crash", "X-Device-Token": token}
        with httpx.Client(base_url=server.base, headers=headers, timeout=10) as client:
            n = 0
            while not stop.is_set():
                readings = [{"code": "8867-4", "value": 60 + k, "unit": "/min",
                             "at": (start + timedelta(seconds=n * BATCH + k)).isoformat()} for k in range(BATCH)]
                sent_batches.append(n)
                try:
                    resp = client.post("/v1/observations", json={"device_id": "dev-crash", "readings": readings})
                except httpx.HTTPError:
                    return  # the server died under us: this batch is unacknowledged
                if resp.status_code == 200 and resp.json().get("accepted") == BATCH:
                    acked_batches.append(n)
                n += 1

    def consents() -> None:
        with httpx.Client(base_url=server.base, headers=bearer, timeout=10) as client:
            n = 0
            while not stop.is_set():
                try:
                    resp = client.post("/v1/privacy/consent/p-crash", json={
                        "purpose": "research", "granted": n % 2 == 0, "note": f"crash-{n}"})
                except httpx.HTTPError:
                    return
                if resp.status_code == 201:
                    acked_consents.append(n)
                n += 1

    threads = [threading.Thread(target=vitals), threading.Thread(target=consents)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while (len(acked_batches) < 20 or len(acked_consents) < 5) and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # SIGKILL while both writers are mid-stream
    stop.set()
    for t in threads:
        t.join(15)
    assert len(acked_batches) >= 20 and len(acked_consents) >= 5

    restarted = live_server()  # recovery: a new process opens the same database
    assert httpx.get(restarted.base + "/v1/health").status_code == 200
    reset_engine()
    with session_scope() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        rows = list(session.scalars(select(VitalReading).where(VitalReading.device_id == "dev-crash")))  # the one store
        notes = [c.note for c in session.scalars(select(ConsentRecord).where(ConsentRecord.patient_id == "p-crash"))]
        events = int(session.query(AuditEvent).count())
    by_batch: dict[int, list[VitalReading]] = {}
    for row in rows:  # no partial rows: every field there and one of the values sent
        assert row.patient_id == "p-crash" and row.code == "8867-4" and row.unit == "/min"
        assert row.effective is not None and row.received_at is not None
        offset = int((row.effective - start).total_seconds())
        assert row.value == 60 + offset % BATCH
        by_batch.setdefault(offset // BATCH, []).append(row)
    assert set(acked_batches) <= set(by_batch)  # every acknowledged write survived
    assert all(len(v) == BATCH for v in by_batch.values())  # no batch half-stored
    assert set(by_batch) <= set(sent_batches)
    assert {f"crash-{n}" for n in acked_consents} <= set(notes)
    result = audit.verify()  # seals what the killed process left unsealed, then checks the chain
    assert result.ok, result.reason
    assert events >= len(acked_consents)
    print(f"crash: {len(acked_batches)} batches and {len(acked_consents)} consents acknowledged before SIGKILL; "
          f"{len(sent_batches) - len(acked_batches)} in flight at the kill; {len(by_batch)} batches stored, "
          f"none partial; chain of {result.checked} events verifies")
