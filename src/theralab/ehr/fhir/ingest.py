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

Modules: this one (``import_path``, ``import_text``, ``import_resources``: files, text, dicts),
:mod:`.ingester` (batches, held-back resources, all-or-nothing bundles), :mod:`.prepare`
(validate and map one resource), :mod:`.upsert` (write rows), :mod:`.report` (the import report).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from theralab.ehr.fhir.ingester import Ingester, feed
from theralab.ehr.fhir.ledger import write_rejects
from theralab.ehr.fhir.read import Origin, bundle_entries, fhir_files, iter_file, iter_json_text
from theralab.ehr.fhir.report import ImportReport
from theralab.errors import InputError


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
        feed(ing, iter_synthea_csv(p), workers)
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
            feed(ing, iter_file(f), workers)
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
        feed(ing, iter_json_text(text, source))
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

    feed(ing, items(), workers)
    report = ing.finish()
    report.files = [source]
    return report


__all__ = ["import_path", "import_resources", "import_text"]
