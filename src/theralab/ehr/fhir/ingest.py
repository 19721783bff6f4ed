"""FHIR R4 ingestion: bundles (JSON) and bulk-export ndjson into the patient model.

Why it is built this way:

* **Validated**: every resource goes through ``fhir.resources.R4B`` (its R4B models accept R4
  Synthea data; the package's default R5 models do not), so wrong types and malformed dates are
  caught by the reference model, with the JSON path of the problem.
* **Forgiving per resource**: a bad resource is reported with its id, file, line (ndjson) or
  bundle entry, and the FHIR path; the rest of the file still loads.
* **Idempotent**: rows are keyed by the FHIR resource id and written with
  ``INSERT .. ON CONFLICT DO UPDATE`` (SQLite and PostgreSQL), so importing the same export twice
  updates rows and never duplicates them.
* **Fast**: rows are buffered and written in batches (one multi-row statement per table).
* **Order-independent**: bulk exports list files alphabetically (AllergyIntolerance before
  Patient); resources whose patient is not loaded yet are held back and resolved at the end.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, computed_field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.ehr.fhir.export import export_patient
from theralab.ehr.fhir.ledger import (
    Changes,
    Main,
    classify,
    dangling,
    ensure_planner_stats,
    refs_of,
    write_rejects,
)
from theralab.ehr.fhir.mapping import CHECK_CODES, MAPPERS, CodeError, MapError
from theralab.ehr.fhir.read import Origin, bundle_entries, fhir_files, iter_file, iter_json_text
from theralab.errors import InputError
from theralab.runtime.db import utcnow

SUPPORTED = tuple(MAPPERS)
__all__ = [
    "ImportIssue",
    "ImportReport",
    "Ingester",
    "export_patient",
    "import_path",
    "import_resources",
    "import_text",
    "upsert",
]
_TABLE_ORDER = [t for t in store.ALL_TABLES]


class ImportIssue(BaseModel):
    """One problem with one resource: which, where, and what."""

    resource_type: str | None = None
    resource_id: str | None = None
    file: str | None = None
    line: int | None = None
    path: str | None = None
    message: str

    def where(self) -> str:
        """``file:line entry path`` as one string, for messages."""
        loc = self.file or "<input>"
        if self.line is not None:
            loc += f":{self.line}"
        res = f"{self.resource_type or '?'}/{self.resource_id or '?'}"
        return f"{loc} {res}" + (f" at {self.path}" if self.path else "")


class ImportReport(BaseModel):
    """What an import did: resources loaded per type, unsupported types skipped, errors, warnings."""

    files: list[str] = Field(default_factory=list)
    loaded: dict[str, int] = Field(default_factory=dict)
    skipped: dict[str, int] = Field(default_factory=dict)
    errors: list[ImportIssue] = Field(default_factory=list)
    warnings: list[ImportIssue] = Field(default_factory=list)
    patients: int = 0
    new: dict[str, int] = Field(default_factory=dict)
    updated: dict[str, int] = Field(default_factory=dict)
    unchanged: dict[str, int] = Field(default_factory=dict)
    rejected_lines: int = 0
    reject_file: str | None = None

    def patient_summary(self) -> str:
        """``13 patients: 0 new, 2 updated, 11 unchanged``: what a re-import really did."""
        return (
            f"{self.patients} patients: {self.new.get('Patient', 0)} new, {self.updated.get('Patient', 0)} updated, "
            f"{self.unchanged.get('Patient', 0)} unchanged"
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when no resource was rejected."""
        return not self.errors

    @property
    def total_loaded(self) -> int:
        return sum(self.loaded.values())


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_MODEL_CACHE: dict[str, Any] = {}


def _model(resource_type: str) -> Any:
    cls = _MODEL_CACHE.get(resource_type)
    if cls is None:
        from fhir.resources.R4B import get_fhir_model_class

        cls = _MODEL_CACHE[resource_type] = get_fhir_model_class(resource_type)
    return cls


def _defaults(table: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name in ("updated_at",):
            continue
        arg = col.default.arg if col.default is not None else None
        if callable(arg):
            out[col.name] = [] if col.name in ("codings", "reactions", "result_ids") else None
        else:
            out[col.name] = arg
    return out


def upsert(session: Session, model: type[store.Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` or update those whose primary key exists (SQLite and PostgreSQL)."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other back ends are not supported
        raise InputError(
            f"database dialect {dialect!r} is not supported for EHR import", hint="use SQLite or PostgreSQL"
        )
    pk = [c.name for c in table.primary_key.columns]
    defaults = _defaults(table)
    now = utcnow()
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        full = {**defaults, **row, "updated_at": now}
        unique[tuple(full[k] for k in pk)] = full  # the last version of a resource in a batch wins
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=pk, set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in pk}
    )
    session.execute(stmt, list(unique.values()))


def _issue(origin: Origin, rtype: str | None, rid: str | None, path: str | None, msg: str) -> ImportIssue:
    full_path = (origin.prefix + path) if path else (origin.prefix.rstrip(".") or None)
    # a malformed resource may carry a non-string type or id (``"id": 1``): report it as text
    return ImportIssue(
        resource_type=None if rtype is None else str(rtype)[:80], resource_id=None if rid is None else str(rid)[:200],
        file=origin.file, line=origin.line, path=full_path, message=msg,
    )


@dataclass
class Prepared:
    """A resource after validation and mapping: its rows (None when rejected) and its problems."""

    rtype: str
    rid: str
    origin: Origin
    rows: list[tuple[type[store.Base], dict[str, Any]]] | None
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    skipped: bool = False


def prepare(
    resource: Any, origin: Origin, validate: bool = True, strict_codes: bool = True, source: str | None = None
) -> Prepared:
    """Validate one resource and map it to rows; pure, so it can run in worker processes."""
    if not isinstance(resource, dict):
        return Prepared("", "", origin, None, [_issue(origin, None, None, None, "not a JSON object")])
    rtype, rid = resource.get("resourceType") or "", resource.get("id") or ""
    if not rtype:
        return Prepared("", rid, origin, None, [_issue(origin, None, rid, "resourceType", "missing resourceType")])
    if rtype not in MAPPERS:
        return Prepared(rtype, rid, origin, None, skipped=True)
    if not rid:
        msg = "missing resource id; ids are needed to update the same resource on re-import"
        return Prepared(rtype, rid, origin, None, [_issue(origin, rtype, None, "id", msg)])
    if validate:
        try:
            _model(rtype).model_validate(resource)
        except ValidationError as exc:
            errs = exc.errors()
            more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
            issue = _issue(origin, rtype, rid, _loc_to_path(errs[0]["loc"]), f"{errs[0]['msg']}{more}")
            return Prepared(rtype, rid, origin, None, [issue])
    out = Prepared(rtype, rid, origin, None)
    notes: list[tuple[str, str]] = []
    mapper = MAPPERS[rtype]
    try:
        try:
            rows = mapper(resource, notes) if rtype == "Observation" else mapper(resource)
        except CodeError as exc:
            if strict_codes:
                raise
            # lenient: keep the resource, report the code as a warning
            out.warnings.append(_issue(origin, rtype, rid, exc.path, exc.message))
            token = CHECK_CODES.set(False)
            try:
                notes.clear()
                rows = mapper(resource, notes) if rtype == "Observation" else mapper(resource)
            finally:
                CHECK_CODES.reset(token)
    except MapError as exc:
        out.errors.append(_issue(origin, rtype, rid, exc.path, exc.message))
        return out
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a shape the validator let through
        out.errors.append(_issue(origin, rtype, rid, None, f"cannot read resource: {exc!r}"))
        return out
    if source is not None:  # set now: a held-back resource is written after later files
        for _, row in rows:
            row["source"] = source
    out.warnings.extend(_issue(origin, rtype, rid, path, msg) for path, msg in notes)
    out.rows = rows
    return out


class Ingester:
    """Validate, map and write FHIR resources in batches; collect an :class:`ImportReport`.

    Args:
        session: the database session (the caller commits).
        validate: check each resource with ``fhir.resources.R4B`` (turn off only for trusted,
            project-generated data in benchmarks).
        batch_size: resources buffered before a write.
        source: recorded on every row (e.g. the file name).
        strict_codes: reject a resource whose code fails its system's format or check digit
            (default); when False the resource loads and the code problem becomes a warning
            (for sources known to carry local codes under a standard system URI).
    """

    def __init__(
        self,
        session: Session,
        *,
        validate: bool = True,
        batch_size: int = 2000,
        source: str | None = None,
        strict_codes: bool = True,
    ):
        self.session = session
        self.strict_codes = strict_codes
        self.validate = validate
        self.batch_size = batch_size
        self.source = source
        self.report = ImportReport()
        self._rows: dict[type[store.Base], list[dict[str, Any]]] = defaultdict(list)
        self._pending = 0
        self._known: set[str] | None = None
        self._new_patients: set[str] = set()
        self._orphans: list[tuple[str, str, Origin, list[tuple[type[store.Base], dict[str, Any]]]]] = []
        self._mains: list[Main] = []
        self._refs: list[tuple[str, str, str, Any]] = []
        self._loaded_ids: dict[str, set[str]] = defaultdict(set)
        self._changes = Changes()
        #: dangling non-patient references are errors inside an all-or-nothing bundle, warnings elsewhere
        self._refs_are_errors = False
        self._analyzed = False

    def _known_patients(self) -> set[str]:
        if self._known is None:
            self._known = set(self.session.scalars(select(store.PatientRow.id)))
        return self._known

    def add(self, resource: Any, origin: Origin) -> None:
        """Validate, map and buffer one resource; problems go to the report, never raise."""
        self.accept(prepare(resource, origin, self.validate, self.strict_codes, self.source))

    def accept(self, prep: Prepared) -> None:
        """Book a prepared resource: count, report its problems, hold it back or buffer its rows."""
        self.report.errors.extend(prep.errors)
        self.report.warnings.extend(prep.warnings)
        if prep.skipped:
            self.report.skipped[prep.rtype] = self.report.skipped.get(prep.rtype, 0) + 1
        if prep.rows is None:
            return
        if prep.rtype == "Patient":
            self._known_patients().add(prep.rid)
            self._new_patients.add(prep.rid)
        else:
            pid = prep.rows[0][1]["patient_id"]
            if pid not in self._known_patients():
                self._orphans.append((prep.rtype, pid, prep.origin, prep.rows))
                return
        self._buffer(prep.rtype, prep.rows, prep.origin)

    def _buffer(
        self, rtype: str, rows: list[tuple[type[store.Base], dict[str, Any]]], origin: Origin | None = None
    ) -> None:
        for model, row in rows:
            self._rows[model].append(row)
        self._mains.append(Main(rtype, rows[0][0], rows[0][1]))
        if rtype in ("Encounter", "Observation"):
            self._loaded_ids[rtype].add(rows[0][1]["id"])
        if origin is not None:
            for ttype, tid, path in refs_of(rows):
                self._refs.append((ttype, tid, path, (origin, rtype, rows[0][1]["id"])))
        self.report.loaded[rtype] = self.report.loaded.get(rtype, 0) + 1
        self._pending += 1
        if self._pending >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Write buffered rows: patients first, then the child tables."""
        # set-based: components are deleted only for stored observations that changed (a first load
        # deletes nothing), found by primary key; their old components go in one statement per chunk
        changed = sorted(classify(self.session, self._mains, self._changes))
        self._mains.clear()
        if changed and not self._analyzed:
            self._analyzed = ensure_planner_stats(self.session) or True
        for i in range(0, len(changed), 500):
            self.session.execute(
                delete(store.ObservationRow).where(store.ObservationRow.parent_id.in_(changed[i : i + 500]))
            )
        for model in _TABLE_ORDER:
            upsert(self.session, model, self._rows.pop(model, []))
        self._pending = 0

    def finish(self) -> ImportReport:
        """Resolve held-back resources, write everything and return the report."""
        known = self._known_patients()
        for rtype, pid, origin, rows in self._orphans:
            if pid in known:
                self._buffer(rtype, rows, origin)
            else:
                rid = rows[0][1]["id"]
                path = "patient" if rtype in ("AllergyIntolerance", "FamilyMemberHistory") else "subject"
                msg = f"Patient/{pid} is neither in this import nor in the database"
                self.report.errors.append(_issue(origin, rtype, rid, path, msg))
        self._orphans.clear()
        self.flush()
        self.session.flush()
        self._check_refs()
        self.report.patients = len(self._new_patients)
        for name in ("new", "updated", "unchanged"):
            setattr(self.report, name, dict(getattr(self._changes, name)))
        return self.report

    def _check_refs(self) -> None:
        for msg, (origin, rtype, rid), path in dangling(self.session, self._refs, self._loaded_ids):
            issue = _issue(origin, rtype, rid, path, msg)
            (self.report.errors if self._refs_are_errors else self.report.warnings).append(issue)
        self._refs.clear()

    def feed_atomic(self, items: Iterable[tuple[Any, Origin]], label: str) -> bool:
        """Import one Bundle all or nothing (a savepoint): any rejected entry rolls the whole bundle back.

        Returns:
            True when the bundle was imported; otherwise its errors are in the report, led by one that
            names the bundle and its first failing entry, and nothing of it is written.
        """
        self.flush()
        snap = (
            dict(self.report.loaded), len(self.report.errors), len(self.report.warnings), set(self._known_patients()),
            set(self._new_patients), {k: dict(getattr(self._changes, k)) for k in ("new", "updated", "unchanged")},
            {k: set(v) for k, v in self._loaded_ids.items()},
        )
        orphans_before = len(self._orphans)
        sp = self.session.begin_nested()
        self._refs_are_errors = True
        try:
            _feed(self, items)
            # the bundle's references resolve now: against itself and the database
            mine, self._orphans = self._orphans[orphans_before:], self._orphans[:orphans_before]
            for rtype, pid, origin, rows in mine:
                if pid in self._known_patients():
                    self._buffer(rtype, rows, origin)
                else:
                    path = "patient" if rtype in ("AllergyIntolerance", "FamilyMemberHistory") else "subject"
                    msg = f"Patient/{pid} is neither in this import nor in the database"
                    self.report.errors.append(_issue(origin, rtype, rows[0][1]["id"], path, msg))
            self.flush()
            self.session.flush()
            self._check_refs()
        finally:
            self._refs_are_errors = False
        bad = self.report.errors[snap[1] :]
        if not bad:
            sp.commit()
            return True
        sp.rollback()
        loaded, _, nwarn, known, newp, changes, ids = snap
        n_ok = sum(self.report.loaded.values()) - sum(loaded.values())
        self.report.loaded = loaded
        del self.report.warnings[nwarn:]
        self._known, self._new_patients, self._loaded_ids = known, newp, defaultdict(set, ids)
        for k, v in changes.items():
            setattr(self._changes, k, defaultdict(int, v))
        first = bad[0]
        self.report.errors.insert(
            snap[1],
            ImportIssue(
                file=first.file, line=first.line, path=first.path, resource_type="Bundle",
                message=f"bundle {label} not imported (all or nothing): {len(bad)} rejected entr"
                f"{'y' if len(bad) == 1 else 'ies'}, first {first.path or '?'} "
                f"({first.resource_type}/{first.resource_id}): {first.message}; its {n_ok} valid resources "
                "were not written either",
            ),
        )
        return False


def _prepare_chunk(args: tuple[list[tuple[Any, Origin]], bool, bool, str | None]) -> list[Prepared]:
    items, validate, strict_codes, source = args
    return [prepare(res, origin, validate, strict_codes, source) for res, origin in items]


def _feed(ing: Ingester, items: Iterable[tuple[Any, Origin]], workers: int = 1) -> None:
    """Prepare resources (in ``workers`` processes when > 1) and hand them to the ingester in order.

    Validation and mapping are about 80 % of the work and independent per resource, so they
    spread over processes; the database writes stay in this process, in input order. Workers are
    started with "spawn" (no inherited database connections), so a script that passes
    ``workers > 1`` needs the usual ``if __name__ == "__main__":`` guard.
    """

    def good_items() -> Iterator[tuple[Any, Origin]]:
        for res, origin in items:
            if isinstance(res, Exception):
                msg = f"invalid JSON: {res}" if isinstance(res, json.JSONDecodeError) else str(res)
                ing.report.errors.append(ImportIssue(file=origin.file, line=origin.line, message=msg))
            else:
                yield res, origin

    if workers <= 1:
        for res, origin in good_items():
            ing.add(res, origin)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    def chunks() -> Iterator[list[tuple[Any, Origin]]]:
        buf: list[tuple[Any, Origin]] = []
        for item in good_items():
            buf.append(item)
            if len(buf) >= 500:
                yield buf
                buf = []
        if buf:
            yield buf

    pending: deque[Future[list[Prepared]]] = deque()
    ctx = multiprocessing.get_context("spawn")  # no forked database connections in the workers
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        for chunk in chunks():
            pending.append(pool.submit(_prepare_chunk, (chunk, ing.validate, ing.strict_codes, ing.source)))
            while len(pending) >= 2 * workers:  # bounded: a huge file never sits in memory at once
                for prep in pending.popleft().result():
                    ing.accept(prep)
        while pending:
            for prep in pending.popleft().result():
                ing.accept(prep)


def import_path(
    path: str | Path,
    session: Session,
    *,
    validate: bool = True,
    strict_codes: bool = True,
    workers: int = 1,
    progress: Callable[[str, int], None] | None = None,
    rejects: str | Path | None = None,
) -> ImportReport:
    """Import a FHIR file (Bundle JSON, ndjson) or a folder of them, or a Synthea CSV folder.

    Args:
        path: a ``.json``/``.ndjson`` file, or a folder (bulk export, or Synthea CSV with
            ``patients.csv``).
        session: database session; the caller's transaction commits the rows.
        validate: validate each resource with ``fhir.resources.R4B``.
        strict_codes: reject resources with malformed codes (False: load them, warn).
        workers: processes that validate and map resources (writes stay in this process).
        progress: called as ``progress(file_name, resources_seen)`` after each file.
        rejects: where to write the rejected ndjson lines (file, line number, errors, the line itself);
            written only when some line was rejected (``report.reject_file``).

    A Bundle file imports all or nothing; ndjson keeps its good lines.

    Raises:
        InputError: when ``path`` does not exist or holds no FHIR or Synthea CSV files.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"no such file or folder: {p}", where=str(p))
    if p.is_dir() and (p / "patients.csv").exists():
        from theralab.ehr.fhir.synthea_csv import iter_synthea_csv

        ing = Ingester(session, validate=validate, source=p.name, strict_codes=strict_codes)
        _feed(ing, iter_synthea_csv(p), workers)
        report = ing.finish()
        report.files = [str(p)]
        return report
    files = fhir_files(p)
    if not files:
        raise InputError(
            f"no .json or .ndjson files in {p}",
            where=str(p),
            hint="point to a FHIR Bundle, a bulk-export ndjson file or folder, or a Synthea CSV folder",
        )
    ing = Ingester(session, validate=validate, strict_codes=strict_codes)
    for f in files:
        ing.source = f.name
        before = sum(ing.report.loaded.values()) + len(ing.report.errors)
        if f.suffix == ".json" and _is_bundle(f):
            ing.feed_atomic(iter_file(f), f.name)
        else:
            _feed(ing, iter_file(f), workers)
        ing.report.files.append(str(f))
        if progress is not None:
            progress(f.name, sum(ing.report.loaded.values()) + len(ing.report.errors) - before)
    report = ing.finish()
    if rejects is not None:
        report.rejected_lines = write_rejects(rejects, report.errors)
        report.reject_file = str(rejects) if report.rejected_lines else None
    return report


def _is_bundle(path: Path) -> bool:
    """Whether a .json file is one Bundle (read the head only: a bundle's resourceType comes early)."""
    with path.open(encoding="utf-8") as fh:
        head = fh.read(4096)
    return '"Bundle"' in head and '"resourceType"' in head


def import_text(
    text: str, session: Session, *, source: str = "upload", validate: bool = True, strict_codes: bool = True
) -> ImportReport:
    """Import a FHIR Bundle, a single resource or ndjson given as text (API uploads)."""
    ing = Ingester(session, validate=validate, source=source, strict_codes=strict_codes)
    head = text.lstrip()[:4096]
    if head.startswith("{") and '"Bundle"' in head and "\n{" not in text.strip():
        ing.feed_atomic(iter_json_text(text, source), source)
    else:
        _feed(ing, iter_json_text(text, source))
    report = ing.finish()
    report.files = [source]
    return report


def import_resources(
    resources: Iterable[dict[str, Any]],
    session: Session,
    *,
    source: str = "memory",
    validate: bool = True,
    batch_size: int = 2000,
    strict_codes: bool = True,
    workers: int = 1,
) -> ImportReport:
    """Import resources or Bundles given as dicts (e.g. from ``synthetic.generate_cohort``).

    The ``line`` of an issue is the 1-based position of the resource or Bundle in ``resources``.
    """
    ing = Ingester(session, validate=validate, source=source, batch_size=batch_size, strict_codes=strict_codes)

    def items() -> Iterator[tuple[Any, Origin]]:
        for n, res in enumerate(resources):
            if isinstance(res, dict) and res.get("resourceType") == "Bundle":
                for item, origin in bundle_entries(res, source):
                    yield item, Origin(source, n + 1, origin.prefix)
            else:
                yield res, Origin(source, n + 1, "")

    _feed(ing, items(), workers)
    report = ing.finish()
    report.files = [source]
    return report
