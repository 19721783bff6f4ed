"""Validate one FHIR resource (``fhir.resources.R4B``) and map it to rows: pure, so workers can run it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from theralab.ehr import tables as store
from theralab.ehr.fhir.mapping import CHECK_CODES, MAPPERS, CodeError, MapError
from theralab.ehr.fhir.read import Origin
from theralab.ehr.fhir.report import ImportIssue, issue_at


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
        return Prepared("", "", origin, None, [issue_at(origin, None, None, None, "not a JSON object")])
    rtype, rid = resource.get("resourceType") or "", resource.get("id") or ""
    if not rtype:
        return Prepared("", rid, origin, None, [issue_at(origin, None, rid, "resourceType", "missing resourceType")])
    if rtype not in MAPPERS:
        return Prepared(rtype, rid, origin, None, skipped=True)
    if not rid:
        msg = "missing resource id; ids are needed to update the same resource on re-import"
        return Prepared(rtype, rid, origin, None, [issue_at(origin, rtype, None, "id", msg)])
    if validate:
        try:
            _model(rtype).model_validate(resource)
        except ValidationError as exc:
            errs = exc.errors()
            more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
            issue = issue_at(origin, rtype, rid, _loc_to_path(errs[0]["loc"]), f"{errs[0]['msg']}{more}")
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
            out.warnings.append(issue_at(origin, rtype, rid, exc.path, exc.message))
            token = CHECK_CODES.set(False)
            try:
                notes.clear()
                rows = mapper(resource, notes) if rtype == "Observation" else mapper(resource)
            finally:
                CHECK_CODES.reset(token)
    except MapError as exc:
        out.errors.append(issue_at(origin, rtype, rid, exc.path, exc.message))
        return out
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a shape the validator let through
        out.errors.append(issue_at(origin, rtype, rid, None, f"cannot read resource: {exc!r}"))
        return out
    if source is not None:  # set now: a held-back resource is written after later files
        for _, row in rows:
            row["source"] = source
    out.warnings.extend(issue_at(origin, rtype, rid, path, msg) for path, msg in notes)
    out.rows = rows
    return out


__all__ = ["Prepared", "prepare"]
