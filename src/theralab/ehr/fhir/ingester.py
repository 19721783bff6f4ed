"""The :class:`Ingester`: books prepared resources, holds back those whose patient comes later,
writes in batches, checks references, and imports a Bundle all or nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from theralab.ehr import tables as store
from theralab.ehr.fhir.ledger import Changes, Main, classify, dangling, ensure_planner_stats, in_ids, refs_of
from theralab.ehr.fhir.prepare import Prepared, prepare
from theralab.ehr.fhir.read import Origin
from theralab.ehr.fhir.report import ImportIssue, ImportReport, issue_at
from theralab.ehr.fhir.upsert import upsert

_TABLE_ORDER = list(store.ALL_TABLES)
#: single-patient probes an import makes before it reads every patient id at once
_PROBES_BEFORE_SCAN = 1000


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
        #: patient ids of this import or found in the database; ``_absent``: looked up and not there
        self._known: set[str] = set()
        self._absent: set[str] = set()
        self._probes = 0
        self._all_known = False  # every stored patient id is in _known
        self._new_patients: set[str] = set()
        self._orphans: list[tuple[str, str, Origin, list[tuple[type[store.Base], dict[str, Any]]]]] = []
        self._mains: list[Main] = []
        self._refs: list[tuple[str, str, str, Any]] = []
        self._loaded_ids: dict[str, set[str]] = defaultdict(set)
        self._changes = Changes()
        #: dangling non-patient references are errors inside an all-or-nothing bundle, warnings elsewhere
        self._refs_are_errors = False
        #: tables whose planner statistics this import has checked (PostgreSQL; once each)
        self._stats_checked: set[str] = set()

    def _patient_known(self, pid: str) -> bool:
        """Whether patient ``pid`` is in this import or the database (a primary-key probe per new id).

        Why not read every patient id up front: that is a full scan per import, so each batch of a bulk
        load (and every one-resource upload to a large database) cost more than the last. An import
        that has probed ``_PROBES_BEFORE_SCAN`` stored patients (e.g. an Observation file for patients
        loaded earlier) reads all ids once instead: one scan is then cheaper than the round trips.
        """
        if pid in self._known:
            return True
        if pid in self._absent or self._all_known:
            return False
        if self._probes >= _PROBES_BEFORE_SCAN:
            self._known |= set(self.session.scalars(select(store.PatientRow.id)))
            self._all_known = True
            return pid in self._known
        self._probes += 1
        found = self.session.scalar(select(store.PatientRow.id).where(store.PatientRow.id == pid)) is not None
        (self._known if found else self._absent).add(pid)
        return found

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
            self._known.add(prep.rid)
            self._new_patients.add(prep.rid)
        else:
            pid = prep.rows[0][1]["patient_id"]
            if not self._patient_known(pid):
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
        if changed:
            self._check_stats([store.ObservationRow])
        for i in range(0, len(changed), 5000):  # old components of changed observations, by the parent_id index
            old = in_ids(self.session, store.ObservationRow.parent_id, changed[i : i + 5000])
            self.session.execute(delete(store.ObservationRow).where(old))
        written = []
        for model in _TABLE_ORDER:
            rows = self._rows.pop(model, [])
            upsert(self.session, model, rows)
            if rows:
                written.append(model)
        # after the first write to each table, so the next batches' lookups are planned on its real size
        self._check_stats(written)
        self._pending = 0

    def _check_stats(self, models: list[type[store.Base]]) -> None:
        for model in models:
            name = model.__tablename__
            if name not in self._stats_checked:
                self._stats_checked.add(name)
                ensure_planner_stats(self.session, name)

    def finish(self) -> ImportReport:
        """Resolve held-back resources, write everything and return the report."""
        for rtype, pid, origin, rows in self._orphans:
            self._resolve_orphan(rtype, pid, origin, rows, self._known)
        self._orphans.clear()
        self.flush()
        self.session.flush()
        self._check_refs()
        self.report.patients = len(self._new_patients)
        for name in ("new", "updated", "unchanged"):
            setattr(self.report, name, dict(getattr(self._changes, name)))
        return self.report

    def _resolve_orphan(self, rtype: str, pid: str, origin: Origin,
                        rows: list[tuple[type[store.Base], dict[str, Any]]], known: set[str]) -> None:
        """Write a held-back resource whose patient has arrived, or report that it never did."""
        if pid in known:
            self._buffer(rtype, rows, origin)
            return
        path = "patient" if rtype in ("AllergyIntolerance", "FamilyMemberHistory") else "subject"
        msg = f"Patient/{pid} is neither in this import nor in the database"
        self.report.errors.append(issue_at(origin, rtype, rows[0][1]["id"], path, msg))

    def _check_refs(self) -> None:
        for msg, (origin, rtype, rid), path in dangling(self.session, self._refs, self._loaded_ids):
            issue = issue_at(origin, rtype, rid, path, msg)
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
            dict(self.report.loaded), len(self.report.errors), len(self.report.warnings), set(self._known),
            set(self._new_patients), {k: dict(getattr(self._changes, k)) for k in ("new", "updated", "unchanged")},
            {k: set(v) for k, v in self._loaded_ids.items()},
        )
        orphans_before, all_known = len(self._orphans), self._all_known
        sp = self.session.begin_nested()
        self._refs_are_errors = True
        try:
            feed(self, items)
            # the bundle's references resolve now: against itself and the database
            mine, self._orphans = self._orphans[orphans_before:], self._orphans[:orphans_before]
            for rtype, pid, origin, rows in mine:
                self._resolve_orphan(rtype, pid, origin, rows, self._known)
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
        self._all_known = all_known  # the restored _known may lack ids a scan inside the bundle added
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


def feed(ing: Ingester, items: Iterable[tuple[Any, Origin]], workers: int = 1) -> None:
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


__all__ = ["Ingester", "feed"]
