"""The import's per-batch statements run on indexes (issue 19, PostgreSQL load within 1.5x of SQLite).

Why: a bulk load into PostgreSQL got slower with every batch because its primary-key probes and
component deletes were planned without statistics (autovacuum off, or not yet run, and never able to
see the import's uncommitted rows): sequential scans that grow with the table. The import now
analyses each table after its first write, and passes ids as one array (PostgreSQL) or JSON
(SQLite) parameter. These tests read the plans the databases choose.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, text

from theralab.ehr import tables as store
from theralab.ehr.fhir import import_resources
from theralab.ehr.fhir.ledger import ensure_planner_stats, existing_ids, in_ids
from theralab.ehr.synthetic import generate_patient
from theralab.runtime.db import session_scope

Obs = store.ObservationRow


def _plan(s: Any, stmt: Any) -> str:
    """The plan the database picks for ``stmt`` (EXPLAIN on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    conn = s.connection()
    compiled = stmt.compile(conn)
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[k] for k in compiled.positiontup)
    prefix = "EXPLAIN " if conn.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    return "\n".join(str(r[-1]) for r in conn.exec_driver_sql(prefix + str(compiled), params))


def _bulk_rows(s: Any, n: int) -> None:
    """A patient and ``n`` observations (every fifth a component), written by SQL: no statistics yet."""
    s.execute(text("INSERT INTO ehr_patients (id, deceased, updated_at) VALUES ('bulk', false, CURRENT_TIMESTAMP)"))
    rows = ("SELECT 'g' || g, 'bulk', CASE WHEN g % 5 = 0 THEN 'g' || (g - 1) END, CURRENT_TIMESTAMP, true FROM {src}")
    if s.get_bind().dialect.name == "postgresql":
        src = f"generate_series(1, {n}) g"
    else:
        src = f"(WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < {n}) SELECT g FROM c)"
    s.execute(text("INSERT INTO ehr_observations (id, patient_id, parent_id, updated_at, unit_ok) "
                   + rows.format(src=src)))


def test_probes_and_deletes_use_their_index_once_the_import_has_written(engine) -> None:  # noqa: ANN001
    pg = engine.dialect.name == "postgresql"
    with session_scope(engine) as s:
        _bulk_rows(s, 100_000)
    ids = [f"g{i}" for i in range(1, 201)]  # a few ids against a big table, as in a batch of a long load
    with session_scope(engine) as s:
        stmts = [delete(Obs).where(in_ids(s, Obs.parent_id, ids)), select(Obs.id).where(in_ids(s, Obs.id, ids))]
        if pg:  # the cause: no statistics, so both are sequential scans that grow with the table
            assert all("Seq Scan on ehr_observations" in _plan(s, st) for st in stmts)
    with session_scope(engine) as s:  # a first load (nothing changes, nothing deleted) ...
        report = import_resources([generate_patient(seed=7, index=0)], s, validate=False)
    assert report.new["Observation"] > 0 and not report.updated
    with session_scope(engine) as s:  # ... leaves statistics, so the next batch's statements use indexes
        for st in stmts:
            plan = _plan(s, st)
            if pg:
                assert "Index" in plan and "Seq Scan" not in plan, plan
            else:
                assert "SEARCH ehr_observations USING" in plan and "SCAN ehr_observations" not in plan, plan
        assert sorted(existing_ids(s, "ehr_observations", ["g1", "g2", "nope"])) == ["g1", "g2"]


def test_first_load_leaves_planner_statistics_on_postgres(engine) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        import_resources([generate_patient(seed=8, index=i) for i in range(2)], s, validate=False)
    if engine.dialect.name != "postgresql":
        with session_scope(engine) as s:
            assert ensure_planner_stats(s) is False  # nothing to do on SQLite
        return
    with session_scope(engine) as s:
        analysed = set(s.scalars(text(
            "SELECT DISTINCT c.relname FROM pg_statistic st JOIN pg_class c ON c.oid = st.starelid "
            "WHERE c.relname LIKE 'ehr_%' AND c.relnamespace = to_regnamespace(current_schema())")))
        assert {"ehr_patients", "ehr_observations", "ehr_encounters", "ehr_conditions"} <= analysed
        assert ensure_planner_stats(s, "ehr_observations") is False  # fresh: not analysed again
