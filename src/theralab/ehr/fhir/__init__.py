"""FHIR R4 in and out: read bundles/ndjson, map resources to the patient tables, export back.

Modules: :mod:`.read` (files), :mod:`.mapping` (resource <-> rows), :mod:`.ingest` (import; with
:mod:`.ingester`, :mod:`.prepare`, :mod:`.upsert`, :mod:`.report`),
:mod:`.export` (patient -> Bundle), :mod:`.synthea_csv` (Synthea CSV -> FHIR).
"""

from __future__ import annotations

from theralab.ehr.fhir.export import export_patient
from theralab.ehr.fhir.ingest import import_path, import_resources, import_text
from theralab.ehr.fhir.ingester import Ingester
from theralab.ehr.fhir.read import (
    Origin,
    bundle_entries,
    fhir_files,
    iter_file,
    iter_json_text,
)
from theralab.ehr.fhir.report import ImportIssue, ImportReport
from theralab.ehr.fhir.upsert import upsert

__all__ = [
    "ImportIssue",
    "ImportReport",
    "Ingester",
    "Origin",
    "bundle_entries",
    "export_patient",
    "fhir_files",
    "import_path",
    "import_resources",
    "import_text",
    "iter_file",
    "iter_json_text",
    "upsert",
]
