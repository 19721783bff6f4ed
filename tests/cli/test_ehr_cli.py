"""``theralab ehr`` through the real CLI app, on an isolated data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from theralab.settings import reset_settings

    monkeypatch.setenv("THERALAB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("THERALAB_DATABASE_URL", raising=False)
    reset_settings()
    import theralab.privacy.tables  # noqa: F401
    from theralab.ehr import tables as store
    from theralab.privacy.tables import AuditEvent
    from theralab.runtime.db import Base, get_engine

    # CLI reads of patient data are audited (issue 18), so the audit table is needed too: no audit, no read
    Base.metadata.create_all(get_engine(), tables=[*store.ehr_tables(), AuditEvent.__table__])
    yield tmp_path
    reset_settings()


def test_synth_import_list_export(db: Path) -> None:
    out = db / "cohort.ndjson"
    r = runner.invoke(app, ["ehr", "synth", "-n", "5", "--seed", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert sum(json.loads(x)["resourceType"] == "Patient" for x in lines) == 5
    r = runner.invoke(app, ["ehr", "import", str(out)])
    assert r.exit_code == 0, r.output
    assert "errors: 0" in r.stdout and "5 patients: 5 new, 0 updated, 0 unchanged" in r.stdout
    r = runner.invoke(app, ["ehr", "patients"])
    assert r.exit_code == 0 and "5 patients" in r.stdout
    pid = json.loads(lines[0])["id"]
    bundle_path = db / "p.json"
    r = runner.invoke(app, ["ehr", "export", pid, "-o", str(bundle_path)])
    assert r.exit_code == 0, r.output
    bundle = json.loads(bundle_path.read_text())
    assert bundle["entry"][0]["resource"]["id"] == pid
    r = runner.invoke(app, ["ehr", "show", pid, "--at", "2025-01-01"])
    assert r.exit_code == 0, r.output
    assert "CYP2C19" in r.stdout and "4548-4" in r.stdout
    r = runner.invoke(app, ["ehr", "show", pid, "--at", "tomorrow"])
    assert r.exit_code == 2 and "not a date" in r.output


def test_import_reports_bad_resource(db: Path) -> None:
    good = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}
    bad = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
        "onsetDateTime": 19700101,
    }
    f = db / "in.ndjson"
    f.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    r = runner.invoke(app, ["ehr", "import", str(f)])
    assert r.exit_code == 1
    flat = "".join(r.output.split())  # rich wraps long lines at the terminal width
    assert "in.ndjson:2Condition/c1atonsetDateTime" in flat
    # the bad line goes to the reject file with its line number; summary and exit code say so
    rej = [json.loads(x) for x in (db / "in.ndjson.rejects.jsonl").read_text().splitlines()]
    assert [(x["line"], json.loads(x["text"])["id"]) for x in rej] == [(2, "c1")]
    assert "1 ndjson line(s) rejected" in r.output and "exit code 1" in r.output


def test_errors_are_friendly(db: Path) -> None:
    r = runner.invoke(app, ["ehr", "export", "nobody", "-o", str(db / "x.json")])
    assert r.exit_code == 2 and "no patient with id 'nobody'" in r.output
    r = runner.invoke(app, ["ehr", "import", str(db / "missing")])
    assert r.exit_code == 2 and "no such file" in r.output


def test_reimport_counts_and_full_ids_json(db: Path) -> None:
    long_id = "patient-" + "x" * 60
    p = {"resourceType": "Patient", "id": long_id, "gender": "female", "birthDate": "1970-01-01"}
    f = db / "p.ndjson"
    f.write_text(json.dumps(p) + "\n")
    assert runner.invoke(app, ["ehr", "import", str(f)]).exit_code == 0
    r = runner.invoke(app, ["ehr", "import", str(f)])
    assert "1 patients: 0 new, 0 updated, 1 unchanged" in r.stdout
    f.write_text(json.dumps(p | {"gender": "male"}) + "\n")
    r = runner.invoke(app, ["ehr", "import", str(f)])
    assert "1 patients: 0 new, 1 updated, 0 unchanged" in r.stdout
    r = runner.invoke(app, ["ehr", "patients", "--json"])
    body = json.loads(r.stdout)
    assert body["total"] == 1 and body["patients"][0]["id"] == long_id
    r = runner.invoke(app, ["ehr", "patients"])
    assert long_id in "".join(r.stdout.split())  # never cut with an ellipsis
    assert "…" not in r.stdout.split("\n")[3]
