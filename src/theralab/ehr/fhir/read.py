"""Readers of FHIR input: Bundle JSON, single resources, ndjson (streamed), folders of them.

Kept apart from the ingester so every source (files, API uploads, Synthea CSV, generated
cohorts) yields the same ``(resource, origin)`` pairs, and the origin (file, line, bundle entry)
travels with each resource into the error report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Origin:
    file: str | None
    line: int | None
    prefix: str  # e.g. "entry[3].resource." inside a Bundle


def bundle_entries(bundle: dict[str, Any], file: str | None) -> Iterator[tuple[Any, Origin]]:
    """Entries of a Bundle, Patients first (a transaction bundle may list them anywhere)."""
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):  # malformed: reported downstream as one bad entry, never a crash
        entries = [entries]

    def rtype(entry: Any) -> Any:
        res = entry.get("resource") if isinstance(entry, dict) else None
        return res.get("resourceType") if isinstance(res, dict) else None

    order = sorted(range(len(entries)), key=lambda i: rtype(entries[i]) != "Patient")
    for i in order:
        entry = entries[i] if isinstance(entries[i], dict) else {"resource": entries[i]}
        res = entry.get("resource")
        if isinstance(res, dict) and not res.get("id"):
            full = entry.get("fullUrl") or ""
            if isinstance(full, str) and full.startswith("urn:uuid:"):
                res = {**res, "id": full[len("urn:uuid:") :]}
        yield res, Origin(file, None, f"entry[{i}].resource.")


def iter_json_text(text: str, file: str | None) -> Iterator[tuple[Any, Origin]]:
    """Resources in a JSON document (one resource or a Bundle) or ndjson text."""
    stripped = text.lstrip()
    if not stripped:
        return
    try:
        doc = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError):  # too deep a nesting is reported per line below
        doc = None
    if doc is not None:
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
            yield from bundle_entries(doc, file)
        else:
            yield doc, Origin(file, None, "")
        return
    yield from _iter_ndjson(text.splitlines(), file)


def _iter_ndjson(lines: Iterable[str], file: str | None) -> Iterator[tuple[Any, Origin]]:
    """One resource (or Bundle) per line; a line that is not JSON is yielded as its decode error."""
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as exc:
            yield exc, Origin(file, lineno, "")
            continue
        except RecursionError:  # json recurses per nesting level: refuse the line, never crash
            yield json.JSONDecodeError("JSON nested too deeply", line[:100], 0), Origin(file, lineno, "")
            continue
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
            for res, origin in bundle_entries(doc, file):
                yield res, Origin(file, lineno, origin.prefix)
        else:
            yield doc, Origin(file, lineno, "")


def iter_file(path: Path) -> Iterator[tuple[Any, Origin]]:
    """Resources in one ``.json`` or ``.ndjson`` file (streamed line by line for ndjson)."""
    name = str(path)
    if path.suffix == ".ndjson":
        with path.open(encoding="utf-8") as fh:
            yield from _iter_ndjson(fh, name)
    else:
        yield from iter_json_text(path.read_text(encoding="utf-8"), name)


def fhir_files(path: Path) -> list[Path]:
    """FHIR files under ``path``: Patient files first, then the rest alphabetically."""
    if path.is_file():
        return [path]
    files = [p for p in sorted(path.rglob("*")) if p.suffix in (".json", ".ndjson") and p.is_file()]
    files = [p for p in files if not p.name.startswith("log.")]  # bulk-export logs are not resources
    return sorted(files, key=lambda p: (not p.name.startswith("Patient"), str(p)))
