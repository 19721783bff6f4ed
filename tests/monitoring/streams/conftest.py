"""Fixtures of the stream tests: a registered, authenticated device of a patient in the record."""

from __future__ import annotations

import pytest


def _patients(*ids: str) -> None:
    """Patients exist before devices attach to them."""
    from theralab.ehr.fhir import import_resources
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        import_resources([{"resourceType": "Patient", "id": i} for i in ids], session)


@pytest.fixture
def device(tl_env_any_db):
    """Device ``w-1`` of patient ``p-1``, registered and authenticated (on SQLite and PostgreSQL)."""
    from theralab.monitoring.streams.ingest import authenticate_device, register_device
    from theralab.runtime.db import session_scope

    _patients("p-1")
    with session_scope() as session:
        token = register_device(session, "w-1", "p-1")
    with session_scope() as session:
        dev = authenticate_device(session, "w-1", token)
        session.expunge(dev)
    return dev
