"""Import integrity (issue 19): bundles all or nothing, dangling references, new/updated/unchanged,
set-based deletes that PostgreSQL runs on an index."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from theralab.ehr import tables as store
from theralab.ehr.fhir import import_path, import_resources, import_text
from theralab.ehr.synthetic import generate_patient
from theralab.runtime.db import session_scope


def _count(s, model) -> int:  # noqa: ANN001
    return int(s.scalar(select(func.count()).select_from(model)))


def _cond(cid: str, pid: str, **extra) -> dict:  # noqa: ANN003
    return {
        "resourceType": "Condition", "id": cid, "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]}, **extra,
    }


def _bundle(entries: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries]}


def test_bundle_imports_all_or_nothing(engine, tmp_path: Path) -> None:  # noqa: ANN001
    p = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}
    broken = _bundle([p, _cond("c1", "p1"), _cond("c2", "nobody")])
    f = tmp_path / "b.json"
    f.write_text(json.dumps(broken))
    with session_scope(engine) as s:
        report = import_path(f, s)
        assert not report.ok and report.loaded == {}
        first = report.errors[0]
        assert "not imported (all or nothing)" in first.message and "entry[2]" in first.message
        assert "Condition/c2" in first.message and "Patient/nobody" in first.message
        assert _count(s, store.PatientRow) == 0 and _count(s, store.ConditionRow) == 0
        # the same through the API text path, and a good bundle afterwards still loads
        assert not import_text(json.dumps(broken), s).ok and _count(s, store.ConditionRow) == 0
        good = import_text(json.dumps(_bundle([p, _cond("c1", "p1")])), s)
        assert good.ok and _count(s, store.ConditionRow) == 1


def test_dangling_references_are_reported(engine, tmp_path: Path) -> None:  # noqa: ANN001
    p = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-01-01"}
    c = _cond("c1", "p1", encounter={"reference": "Encounter/ghost"})
    f = tmp_path / "x.ndjson"
    f.write_text(json.dumps(p) + "\n" + json.dumps(c) + "\n")
    with session_scope(engine) as s:
        report = import_path(f, s)
        assert report.loaded == {"Patient": 1, "Condition": 1}  # ndjson keeps the resource, says why
        w = [i for i in report.warnings if "dangling" in i.message]
        assert len(w) == 1 and "Encounter/ghost" in w[0].message and w[0].line == 2 and w[0].path == "encounter"
    # inside a bundle a dangling encounter rejects the whole bundle
    b = tmp_path / "y.json"
    b.write_text(json.dumps(_bundle([p | {"id": "p2"}, _cond("c9", "p2", encounter={"reference": "Encounter/ghost"})])))
    with session_scope(engine) as s:
        report = import_path(b, s)
        assert not report.ok and "Encounter/ghost" in report.errors[0].message
        assert s.get(store.PatientRow, "p2") is None


def test_reimport_reports_new_updated_unchanged(engine) -> None:  # noqa: ANN001
    bundle = generate_patient(seed=3, index=1)
    with session_scope(engine) as s:
        first = import_resources([bundle], s, validate=False)
        n = sum(first.loaded.values())
        assert sum(first.new.values()) == n and first.new["Patient"] == 1
        again = import_resources([bundle], s, validate=False)
        assert sum(again.unchanged.values()) == n and not again.new and not again.updated
        obs = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
        changed = json.loads(json.dumps(obs))
        changed["status"] = "amended"
        third = import_resources([changed], s, validate=False)
        assert third.updated == {"Observation": 1} and third.patient_summary().startswith("0 patients")


def test_first_load_deletes_nothing_and_a_changed_observation_deletes_its_components(engine) -> None:  # noqa: ANN001
    statements: list[str] = []
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def spy(conn, cursor, stmt, params, context, many):  # noqa: ANN001, ANN202
        statements.append(stmt)

    with session_scope(engine) as s:
        import_resources([generate_patient(seed=5, index=i) for i in range(3)], s, validate=False)
    assert not [x for x in statements if x.lstrip().upper().startswith("DELETE")]
    event.remove(engine, "before_cursor_execute", spy)
    # a re-import with a changed observation deletes its old components (the plan: tests/ehr/fhir/test_ledger.py)
    statements.clear()
    event.listen(engine, "before_cursor_execute", spy)
    bundle = generate_patient(seed=5, index=0)
    obs = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")
    with session_scope(engine) as s:
        import_resources([obs | {"status": "amended"}], s, validate=False)
    event.remove(engine, "before_cursor_execute", spy)
    assert [x for x in statements if x.lstrip().upper().startswith("DELETE")]


def test_import_probes_only_the_patients_it_references(engine) -> None:  # noqa: ANN001
    """No import reads every patient id (a full scan per batch of a bulk load, per one-resource upload)."""
    from sqlalchemy import event

    with session_scope(engine) as s:
        import_resources([generate_patient(seed=9, index=i) for i in range(4)], s, validate=False)
        pid = s.scalars(select(store.PatientRow.id).order_by(store.PatientRow.id)).first()
    statements: list[str] = []

    def spy(conn, cursor, stmt, params, context, many):  # noqa: ANN001, ANN202
        statements.append(" ".join(stmt.split()))

    event.listen(engine, "before_cursor_execute", spy)
    try:
        with session_scope(engine) as s:
            report = import_resources([_cond("c-known", pid), _cond("c-unknown", "nobody")], s, validate=False)
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert report.loaded == {"Condition": 1}
    assert [e.resource_id for e in report.errors] == ["c-unknown"]
    patient_reads = [x for x in statements if "FROM ehr_patients" in x]
    assert patient_reads and all("WHERE ehr_patients.id =" in x for x in patient_reads), patient_reads


def test_many_stored_patients_are_read_in_one_scan(engine, monkeypatch) -> None:  # noqa: ANN001
    """Past a few probes an import reads every patient id once; held-back and unknown patients still work."""
    from theralab.ehr.fhir import ingester

    monkeypatch.setattr(ingester, "_PROBES_BEFORE_SCAN", 2)
    with session_scope(engine) as s:
        import_resources([generate_patient(seed=11, index=i) for i in range(4)], s, validate=False)
        pids = list(s.scalars(select(store.PatientRow.id).order_by(store.PatientRow.id)))
    new = {"resourceType": "Patient", "id": "late", "gender": "male", "birthDate": "1980-01-01"}
    conds = [_cond(f"c{i}", pid) for i, pid in enumerate(pids)] + [_cond("c-late", "late"), _cond("c-x", "nobody")]
    with session_scope(engine) as s:
        report = import_resources([*conds, new], s, validate=False)
    assert report.loaded == {"Condition": 5, "Patient": 1}
    assert [e.resource_id for e in report.errors] == ["c-x"]
