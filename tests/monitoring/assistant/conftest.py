"""Assistant fixtures: migrated SQLite databases copied from per-session templates (fast).

``assistant_db``: empty schema at head. ``world``: two patients (pa-1 linked to user 'ann', pa-2 to
'bob') and free slots. Migrating once per session and copying the file keeps each test under a
second instead of re-running every Alembic revision.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

RESOURCES = [
    {"resourceType": "Patient", "id": "pa-1", "gender": "female", "birthDate": "1970-03-01"},
    {"resourceType": "MedicationRequest", "id": "mr-1", "status": "active", "intent": "order",
     "subject": {"reference": "Patient/pa-1"}, "authoredOn": "2026-01-01",
     "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                               "code": "309362", "display": "clopidogrel 75 MG Oral Tablet"}]}},
    {"resourceType": "Observation", "id": "ob-1", "status": "final", "subject": {"reference": "Patient/pa-1"},
     "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
     "effectiveDateTime": "2026-11-01T10:00:00Z",
     "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}},
    {"resourceType": "Patient", "id": "pa-2", "gender": "male", "birthDate": "1960-03-01"},
    {"resourceType": "MedicationRequest", "id": "mr-2", "status": "active", "intent": "order",
     "subject": {"reference": "Patient/pa-2"}, "authoredOn": "2026-01-01",
     "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                               "code": "197361", "display": "amlodipine 5 MG Oral Tablet"}]}},
]


def _populate(url: str) -> None:
    """Patients pa-1 (linked to 'ann', on clopidogrel, CYP2C19 poor metabolizer) and pa-2; free slots."""
    from sqlalchemy import create_engine

    from theralab.ehr.fhir import import_resources
    from theralab.ehr.patients import save_genotype
    from theralab.monitoring.assistant import conversations, scheduling
    from theralab.runtime.db import session_scope

    engine = create_engine(url)
    with session_scope(engine) as s:
        assert import_resources(RESOURCES, s).ok
    with session_scope(engine) as s:
        save_genotype(s, "pa-1", "CYP2C19", "*2/*2", phenotype="Poor Metabolizer")
        conversations.link_patient(s, "ann", "pa-1", by="doc")
        conversations.link_patient(s, "bob", "pa-2", by="doc")
        start = (datetime.now(UTC) + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
        scheduling.add_slots(s, "dr-who", start, start + timedelta(hours=1), minutes=20)
        scheduling.add_slots(s, "lab", start, start + timedelta(minutes=30), minutes=15, kind="lab")
    engine.dispose()


@pytest.fixture(scope="session")
def _templates(tmp_path_factory) -> dict[str, Path]:
    from theralab.runtime import migrate

    root = tmp_path_factory.mktemp("assistant_templates")
    empty, world = root / "empty.db", root / "world.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THERALAB_DATA_DIR", str(root / "tl"))
        from theralab.settings import reset_settings

        reset_settings()
        migrate.upgrade(f"sqlite:///{empty}")
        shutil.copy(empty, world)
        _populate(f"sqlite:///{world}")
    reset_settings()
    return {"empty": empty, "world": world}


def _use_copy(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from theralab.settings import get_settings, reset_settings

    (tmp_path / "tl").mkdir(exist_ok=True)
    db = tmp_path / "tl" / "assistant.db"
    shutil.copy(template, db)
    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path / "tl"))
    monkeypatch.setenv("THERALAB_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("THERALAB_EXECUTOR", "local")
    reset_settings()
    return get_settings()


@pytest.fixture
def assistant_db(_templates, tmp_path, monkeypatch):
    """An empty migrated database (a copy of the session template)."""
    from theralab.settings import reset_settings

    yield _use_copy(_templates["empty"], tmp_path, monkeypatch)
    reset_settings()


@pytest.fixture
def world(_templates, tmp_path, monkeypatch):
    """The populated database (see ``_populate``)."""
    from theralab.settings import reset_settings

    yield _use_copy(_templates["world"], tmp_path, monkeypatch)
    reset_settings()


class Chat:
    """Drive one conversation turn by turn, each turn in its own transaction (as the API does)."""

    def __init__(self, username: str, **kwargs):
        self.username, self.cid, self.kwargs = username, None, kwargs

    def say(self, text):
        from theralab.monitoring.assistant import Assistant
        from theralab.runtime.db import session_scope

        with session_scope() as s:
            reply = Assistant(s, **self.kwargs).handle(self.username, text, self.cid)
        self.cid = reply.conversation_id
        return reply


@pytest.fixture
def chat():
    return Chat
