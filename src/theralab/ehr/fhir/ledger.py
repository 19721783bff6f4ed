"""Bookkeeping of a FHIR import: new / updated / unchanged, dangling references, reject files.

Why: a re-import that says "imported 13 patients" again tells the user nothing; comparing each
resource's row with the stored one before the upsert says what changed, and tells the ingester
which observations already exist, so component rows are deleted only for observations that really
changed (a first load deletes nothing, which is what kept PostgreSQL's bulk load slow). References
other than the patient (encounters, report results) are checked against the import and the database
so none dangles silently.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import String, any_, bindparam, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from theralab.ehr import tables as store

#: columns that change on every write and say nothing about the resource
VOLATILE = ("updated_at", "source")
#: (column, referenced table, FHIR type) of the references checked besides the patient
REFERENCES: tuple[tuple[str, Any, str], ...] = (
    ("encounter_id", store.EncounterRow, "Encounter"),
    ("result_ids", store.ObservationRow, "Observation"),
)


@dataclass
class Main:
    """The main row of one buffered resource (its identity for new/updated/unchanged)."""

    rtype: str
    model: Any
    row: dict[str, Any]


@dataclass
class Changes:
    """Per resource type: how many resources were new, updated or unchanged."""

    new: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _same(old: dict[str, Any], new: dict[str, Any], table: Any) -> bool:
    for col in table.columns:
        if col.name in VOLATILE or col.name not in new:
            continue
        a, b = old.get(col.name), new.get(col.name)
        if hasattr(a, "tzinfo") and hasattr(b, "tzinfo") and a is not None and b is not None:
            if (a.tzinfo is None) != (b.tzinfo is None):
                a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
        if a != b and not (a in (None, [], {}) and b in (None, [], {})):
            return False
    return True


def classify(session: Session, mains: list[Main], changes: Changes) -> set[str]:
    """Count new/updated/unchanged for ``mains`` and return the ids of observations that changed.

    One primary-key ``IN`` query per table and chunk (the primary key index is always used).
    """
    by_model: dict[Any, list[Main]] = defaultdict(list)
    for m in mains:
        by_model[m.model].append(m)
    changed_obs: set[str] = set()
    for model, items in by_model.items():
        table = model.__table__
        ids = list({m.row["id"] for m in items})
        # ids first (index only): a first load stops here; full rows only for those already stored
        stored = existing_ids(session, table.name, ids)
        existing: dict[str, dict[str, Any]] = {}
        for i in range(0, len(stored), 5000):
            for r in session.execute(select(table).where(in_ids(session, table.c.id, stored[i : i + 5000]))):
                existing[r._mapping["id"]] = dict(r._mapping)
        for m in items:
            old = existing.get(m.row["id"])
            if old is None:
                changes.new[m.rtype] += 1
            elif _same(old, m.row, table):
                changes.unchanged[m.rtype] += 1
            else:
                changes.updated[m.rtype] += 1
                if model is store.ObservationRow:
                    changed_obs.add(m.row["id"])
    return changed_obs


def in_ids(session: Session, column: Any, ids: list[str]) -> ColumnElement[bool]:
    """``column IN ids`` as one bound parameter: a PostgreSQL array (``= ANY``) or a SQLite JSON array.

    Why not ``IN (:p1, ..., :p1000)``: rendering a thousand parameters per statement costs more than
    the index lookup itself (about 10 % of a bulk load), and the statement text changes with the
    number of ids, so it is never reused. ``= ANY(:ids)`` and ``IN (SELECT value FROM json_each(:ids))``
    are one parameter, one cached statement, and use the column's index (PostgreSQL once the table has
    statistics: :func:`ensure_planner_stats`).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(ids), type_=ARRAY(String())))
    if dialect == "sqlite":
        each = select(literal_column("value")).select_from(func.json_each(bindparam(None, json.dumps(list(ids)))))
        return column.in_(each)
    raise NotImplementedError(dialect)  # pragma: no cover - other back ends are not supported by the ingester


def existing_ids(session: Session, table: str, ids: list[str], chunk: int = 5000) -> list[str]:
    """Which of ``ids`` are stored in ``table`` (one primary-key probe statement per ``chunk`` ids)."""
    t = store.Base.metadata.tables[table]
    out: list[str] = []
    for i in range(0, len(ids), chunk):
        out += session.scalars(select(t.c.id).where(in_ids(session, t.c.id, ids[i : i + chunk]))).all()
    return out


def dangling(
    session: Session, refs: list[tuple[str, str, str, Any]], loaded: dict[str, set[str]]
) -> list[tuple[str, Any, str]]:
    """References whose target is neither in this import nor in the database.

    Args:
        refs: (FHIR type of the target, target id, path in the source resource, payload to return).
        loaded: FHIR type -> ids written by this import.

    Returns:
        (message, payload, path) per dangling reference.
    """
    tables = {t: model for _, model, t in REFERENCES}
    want: dict[str, set[str]] = defaultdict(set)
    for ttype, tid, _, _ in refs:
        if tid not in loaded.get(ttype, set()):
            want[ttype].add(tid)
    found: dict[str, set[str]] = defaultdict(set)
    for ttype, ids in want.items():
        table = tables[ttype].__table__
        found[ttype] = set(existing_ids(session, table.name, list(ids)))
    out = []
    for ttype, tid, path, payload in refs:
        if tid in want.get(ttype, set()) and tid not in found[ttype]:
            out.append((f"dangling reference: {ttype}/{tid} is neither in this import nor in the database", payload,
                        path))
    return out


def refs_of(rows: list[tuple[Any, dict[str, Any]]]) -> list[tuple[str, str, str]]:
    """(target type, target id, FHIR path) of the non-patient references in a resource's rows."""
    out = []
    main = rows[0][1]
    enc = main.get("encounter_id")
    if enc:
        out.append(("Encounter", enc, "encounter"))
    for k, rid in enumerate(main.get("result_ids") or []):
        out.append(("Observation", rid, f"result[{k}]"))
    return out


def write_rejects(path: str | Path, issues: list[Any]) -> int:
    """Write the ndjson lines that were rejected, one JSON object a line: file, line, error, the line.

    Returns:
        How many lines were written (one per rejected line, all its errors joined).
    """
    by_line: dict[tuple[str, int], list[str]] = defaultdict(list)
    for i in issues:
        if i.file and i.line is not None and str(i.file).endswith(".ndjson"):
            by_line[(i.file, i.line)].append(i.message + (f" at {i.path}" if i.path else ""))
    if not by_line:
        return 0
    wanted: dict[str, set[int]] = defaultdict(set)
    for f, n in by_line:
        wanted[f].add(n)
    text: dict[tuple[str, int], str] = {}
    for f, lines in wanted.items():
        with open(f, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if n in lines:
                    text[(f, n)] = line.rstrip("\n")
    with open(path, "w", encoding="utf-8") as out:
        for (f, n), errs in sorted(by_line.items()):
            out.write(json.dumps({"file": f, "line": n, "errors": errs, "text": text.get((f, n), "")}) + "\n")
    return len(by_line)


def ensure_planner_stats(session: Session, table: str = "ehr_observations") -> bool:
    """On PostgreSQL, ANALYZE ``table`` when its statistics are missing or stale; True when it ran.

    Why: without statistics the planner guesses 0.5 % of rows per ``IN``/``= ANY`` item, so the
    per-batch primary-key probes of :func:`existing_ids` and a 500-id ``DELETE ... WHERE parent_id
    IN (...)`` on a freshly loaded table become sequential scans (a generic plan even compares every
    row with every id), and every batch of a bulk load gets slower than the last. With statistics
    they use their index. Nothing else analyses a table while it is being loaded: autovacuum may be
    off, and it never sees rows the import has not committed yet (this ANALYZE, in the import's own
    transaction, does). ``SKIP_LOCKED``: an import never waits for (or deadlocks with) another
    import or autovacuum analysing the same table; it just goes on with the statistics there are.
    """
    if session.get_bind().dialect.name != "postgresql":
        return False
    from sqlalchemy import text

    row = session.execute(
        text(
            "SELECT c.reltuples, coalesce(s.n_mod_since_analyze, 0), s.last_analyze, s.last_autoanalyze, "
            "EXISTS (SELECT 1 FROM pg_statistic WHERE starelid = c.oid) "
            "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.oid = to_regclass(:t)"
        ),
        {"t": table},
    ).first()
    if row is None:
        return False
    reltuples, modified, last, last_auto, has_stats = row
    if not has_stats or last is None and last_auto is None or reltuples < 0 or modified > 0.2 * max(reltuples, 1000):
        session.execute(text(f"ANALYZE (SKIP_LOCKED) {table}"))
        return True
    return False
