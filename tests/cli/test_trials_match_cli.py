"""``theralab trials add|list|match|funnel`` through the real CLI app, on an isolated data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.trials.matching.synthetic import benchmark_trial

runner = CliRunner()
AT = "2025-01-01"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from theralab.settings import reset_settings

    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("THERALAB_DATABASE_URL", raising=False)
    reset_settings()
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.synthetic.cohort import generate_cohort
    from theralab.runtime import migrate
    from theralab.runtime.db import session_scope

    migrate.upgrade()
    with session_scope() as s:
        import_resources(list(generate_cohort(30, 6)), s, validate=False)
    yield tmp_path
    reset_settings()


def test_add_list_funnel_match(db: Path) -> None:
    trial = db / "trial.json"
    trial.write_text(json.dumps({"id": "SYN-CLI", "title": "Synthetic",
                                 "criteria": benchmark_trial().model_dump(mode="json")}))
    r = runner.invoke(app, ["trials", "add", str(trial)])
    assert r.exit_code == 0, r.output
    assert "15/15 entities coded" in " ".join(r.stdout.split())
    r = runner.invoke(app, ["trials", "add", str(trial)])
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(app, ["trials", "list"])
    assert r.exit_code == 0 and "SYN-CLI" in r.stdout

    r = runner.invoke(app, ["trials", "funnel", "SYN-CLI", "--at", AT, "--json"])
    assert r.exit_code == 0, r.output
    f = json.loads(r.stdout)
    assert f["start"] == 30 and [s["criterion_id"] for s in f["steps"]][:2] == ["inc-1", "inc-2"]

    out = db / "ranked.json"
    r = runner.invoke(app, ["trials", "match", "SYN-CLI", "--at", AT, "-n", "5", "-o", str(out)])
    assert r.exit_code == 0, r.output
    ranked = json.loads(out.read_text())["ranked"]
    assert len(ranked) == 5 and all(x["notes_used"] for x in ranked)
    pid = ranked[0]["patient_id"]
    r = runner.invoke(app, ["trials", "match", "SYN-CLI", "--patient", pid, "--at", AT, "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.stdout)
    assert m["patient_id"] == pid and len(m["criteria"]) == 15
    r = runner.invoke(app, ["trials", "match", "SYN-CLI", "--patient", pid, "--at", AT])
    assert r.exit_code == 0 and "inc-3" in r.stdout
    r = runner.invoke(app, ["trials", "match", "SYN-CLI", "--patient", pid, "--llm"])  # off unless configured
    assert r.exit_code == 2 and "no LLM endpoint configured" in r.output

    from sqlalchemy import select

    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        actions = {(e.action, e.resource_id) for e in s.scalars(select(AuditEvent))}
    assert ("trials.match.patient", pid) in actions and ("trials.funnel", "SYN-CLI") in actions


def test_bad_input_is_a_clear_error(db: Path) -> None:
    r = runner.invoke(app, ["trials", "match", "NOPE"])
    assert r.exit_code == 2 and "no trial 'NOPE'" in r.output
    empty = db / "empty.json"
    empty.write_text(json.dumps({"id": "E1"}))
    r = runner.invoke(app, ["trials", "add", str(empty)])
    assert r.exit_code == 2 and "no criteria" in r.output
    r = runner.invoke(app, ["trials", "add"])
    assert r.exit_code == 2 and "either TRIAL.json or --criteria-file" in r.output
    r = runner.invoke(app, ["trials", "funnel", "X", "--at", "yesterday"])
    assert r.exit_code == 2 and "not a date" in r.output


def test_add_from_criteria_file(db: Path) -> None:
    from theralab.errors import ModelError
    from theralab.nlp.ner import load_ner

    try:
        load_ner()
    except ModelError as exc:
        pytest.skip(f"criteria NER not available: {exc}")
    text = db / "NCT99999999.txt"
    text.write_text("Inclusion Criteria:\n- Age 40 to 80 years\n- Type 2 diabetes\nExclusion Criteria:\n"
                    "- eGFR < 30 mL/min/1.73m2\n")
    r = runner.invoke(app, ["trials", "add", "--criteria-file", str(text)])
    assert r.exit_code == 0, r.output
    assert "NCT99999999" in r.stdout and "2 inclusion, 1 exclusion" in r.stdout
    r = runner.invoke(app, ["trials", "funnel", "NCT99999999", "--at", AT])
    assert r.exit_code == 0 and "eligible:" in r.stdout
