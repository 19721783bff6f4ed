"""Readers: the TOP benchmark CSV and ClinicalTrials.gov API v2 JSON records, into :class:`TrialRecord`.

TOP (Fu et al., Patterns 2022) stores lists as Python literals inside CSV cells: ``diseases`` and
``drugs`` are lists of names, ``smiless`` a list of SMILES aligned with ``drugs``, and ``icdcodes``
a list with, per disease, a *string* holding that disease's list of ICD-10 codes. We parse them
with :func:`ast.literal_eval` (literals only, never code). A batch keeps its good rows and lists
the bad ones with row number and reason.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from datetime import date
from itertools import zip_longest
from pathlib import Path
from typing import Any

from theralab.errors import InputError
from theralab.trials.outcome.schemas import Drug, TrialRecord, normalize_phase, parse_protocol

TOP_COLUMNS = ("nctid", "status", "why_stop", "label", "phase", "diseases", "icdcodes", "drugs", "smiless", "criteria")
CTGOV_TOP_KEYS = {"protocolSection", "resultsSection", "annotationSection", "documentSection", "derivedSection",
                  "hasResults"}


@dataclass
class ReadResult:
    """Records read, and the rows that could not be read with where and why."""

    records: list[TrialRecord] = field(default_factory=list)
    bad: list[dict[str, str]] = field(default_factory=list)


def _literal_list(cell: Any, where: str) -> list[Any]:
    if cell is None or (isinstance(cell, float) and cell != cell) or (isinstance(cell, str) and not cell.strip()):
        return []
    try:
        value = ast.literal_eval(cell) if isinstance(cell, str) else cell
    except (ValueError, SyntaxError) as exc:
        raise InputError(f"cannot read the list {str(cell)[:60]!r}", where=where,
                         hint="TOP cells hold Python list literals such as ['a', 'b']") from exc
    if not isinstance(value, list | tuple):
        raise InputError(f"expected a list, got {type(value).__name__}", where=where)
    return list(value)


def _icd_codes(cell: Any, where: str) -> list[str]:
    codes: list[str] = []
    for item in _literal_list(cell, where):
        inner = _literal_list(item, where) if isinstance(item, str) and item.strip().startswith("[") else [item]
        codes.extend(str(c) for c in inner if str(c).strip())
    return list(dict.fromkeys(codes))


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def top_row(row: dict[str, Any], where: str = "row") -> TrialRecord:
    """One TOP CSV row as a record.

    Raises:
        InputError: a cell that is not a list literal, an unknown phase, a label other than 0/1.
    """
    names = [str(x) for x in _literal_list(row.get("drugs"), f"{where}.drugs")]
    smiles = [str(x) for x in _literal_list(row.get("smiless"), f"{where}.smiless")]
    drugs = [Drug(name=n or f"drug {k + 1}", smiles=s or None)
             for k, (n, s) in enumerate(zip_longest(names, smiles, fillvalue=None)) if n or s]
    label = row.get("label")
    try:
        label_int = None if _text(label) is None else int(float(label))
    except (TypeError, ValueError) as exc:
        raise InputError(f"label {label!r} is not 0 or 1", where=f"{where}.label") from exc
    data = {"nct_id": _text(row.get("nctid")) or "", "phase": _text(row.get("phase")) or "",
            "diseases": [str(x) for x in _literal_list(row.get("diseases"), f"{where}.diseases")],
            "icd_codes": _icd_codes(row.get("icdcodes"), f"{where}.icdcodes"), "drugs": drugs,
            "criteria": _text(row.get("criteria")) or "", "status": _text(row.get("status")),
            "why_stop": _text(row.get("why_stop")), "label": label_int}
    return parse_protocol({**data, "drugs": [d.model_dump() for d in drugs]}, where=where)


def read_top_csv(path: str | Path, *, limit: int | None = None) -> ReadResult:
    """Read a TOP benchmark CSV (``phase_I_train.csv`` and kin): good rows as records, bad rows listed.

    Raises:
        InputError: the file is missing or lacks TOP's columns.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file {path}", where="path")
    try:
        frame = pd.read_csv(path, dtype={"label": "string"}, keep_default_na=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read {path.name} as CSV: {exc}", where=str(path)) from exc
    missing = [c for c in ("nctid", "phase", "criteria") if c not in frame.columns]
    if missing:
        raise InputError(f"{path.name} lacks the TOP column(s) {', '.join(missing)}", where=str(path),
                         hint="expected columns: " + ", ".join(TOP_COLUMNS))
    out = ReadResult()
    rows = frame.to_dict("records")
    for i, row in enumerate(rows[:limit] if limit else rows):
        where = f"{path.name}:row {i + 2}"
        try:
            out.records.append(top_row(row, where))
        except InputError as exc:
            out.bad.append({"where": exc.where or where, "why": exc.message})
    return out


def _phase_of(phases: list[str], where: str) -> str:
    norm = [p for p in (str(x).upper() for x in phases) if p != "NA"]
    if not norm:
        raise InputError("the record has no drug-trial phase (phases empty or 'NA')", where=where,
                         hint="outcome models cover phase 1-4 drug trials")
    nums = sorted({normalize_phase(p) for p in norm}, key=lambda p: ("early" not in p, p))
    if len(nums) == 1:
        return nums[0]
    return normalize_phase("/".join(n.replace("early ", "") for n in nums[:2]))


def _months_between(start: str | None, end: str | None) -> float | None:
    def parse(s: str | None) -> date | None:
        if not s:
            return None
        parts = [int(x) for x in str(s).split("-")[:3]]
        return date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)

    try:
        a, b = parse(start), parse(end)
    except (ValueError, TypeError):
        return None
    if not a or not b or b <= a:
        return None
    return round((b - a).days / 30.4375, 2)


def ctgov_record(data: dict[str, Any], *, smiles: dict[str, str] | None = None,
                 icd_codes: list[str] | None = None, where: str = "record") -> TrialRecord:
    """A ClinicalTrials.gov API v2 study (``/api/v2/studies/NCT...`` JSON) as a record.

    The registry has no structures or ICD-10 codes: pass ``smiles`` (drug name -> SMILES, matched
    case-insensitively on intervention names and other names) and ``icd_codes`` when you have them;
    without them the drug and disease features are reported missing. Drug interventions
    (``DRUG``, ``BIOLOGICAL``, ``COMBINATION_PRODUCT``) become drugs.

    Raises:
        InputError: not a v2 study object (unknown top-level keys, no protocolSection or nctId), or no phase.
    """
    if not isinstance(data, dict):
        raise InputError("a ClinicalTrials.gov record must be a JSON object", where=where)
    unknown = sorted(set(data) - CTGOV_TOP_KEYS)
    if unknown:
        raise InputError(f"unknown top-level field(s) {', '.join(unknown)} in a ClinicalTrials.gov v2 record",
                         where=f"{where}.{unknown[0]}", hint="expected: " + ", ".join(sorted(CTGOV_TOP_KEYS)))
    proto = data.get("protocolSection")
    if not isinstance(proto, dict):
        raise InputError("no protocolSection: not a ClinicalTrials.gov API v2 study", where=where)
    ident = proto.get("identificationModule") or {}
    nct = ident.get("nctId")
    if not nct:
        raise InputError("no identificationModule.nctId", where=f"{where}.protocolSection")
    status = proto.get("statusModule") or {}
    design = proto.get("designModule") or {}
    arms = proto.get("armsInterventionsModule") or {}
    elig = proto.get("eligibilityModule") or {}
    lookup = {k.strip().lower(): v for k, v in (smiles or {}).items()}
    drugs = []
    for iv in arms.get("interventions") or []:
        if str(iv.get("type", "")).upper() not in ("DRUG", "BIOLOGICAL", "COMBINATION_PRODUCT"):
            continue
        names = [iv.get("name") or ""] + list(iv.get("otherNames") or [])
        found = next((lookup[n.strip().lower()] for n in names if n and n.strip().lower() in lookup), None)
        drugs.append({"name": names[0] or "unnamed drug", "smiles": found})
    n_arms = len(arms.get("armGroups") or []) or None
    enroll = (design.get("enrollmentInfo") or {}).get("count")
    start = (status.get("startDateStruct") or {}).get("date")
    end = ((status.get("primaryCompletionDateStruct") or {}).get("date")
           or (status.get("completionDateStruct") or {}).get("date"))
    record = {"nct_id": nct, "phase": _phase_of(list(design.get("phases") or []), f"{where}.designModule.phases"),
              "diseases": list((proto.get("conditionsModule") or {}).get("conditions") or []),
              "icd_codes": list(icd_codes or []), "drugs": drugs,
              "criteria": elig.get("eligibilityCriteria") or "", "arms": n_arms,
              "enrollment": int(enroll) if enroll else None, "duration_months": _months_between(start, end),
              "status": (status.get("overallStatus") or "").lower().replace("_", " ") or None,
              "why_stop": status.get("whyStopped")}
    return parse_protocol(record, where=where)


def _json_items(path: Path) -> list[Any]:
    """The items of a JSON file: one object, a list, or an API page ``{"studies": [...]}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path} as JSON: {exc}", where=str(path)) from exc
    items = data.get("studies") if isinstance(data, dict) and "studies" in data else data
    return items if isinstance(items, list) else [items]


def _read_items(path: Path, items: list[Any], read: Any) -> ReadResult:
    """``read(item, where)`` for each item; an item that fails is listed with where and why."""
    out = ReadResult()
    for i, item in enumerate(items):
        try:
            out.records.append(read(item, f"{path.name}[{i}]"))
        except InputError as exc:
            out.bad.append({"where": exc.where or f"{path.name}[{i}]", "why": exc.message})
    return out


def read_ctgov_json(path: str | Path, **kwargs: Any) -> ReadResult:
    """Read one v2 study, a list of them, or ``{"studies": [...]}`` (an API page) from a JSON file."""
    path = Path(path)
    return _read_items(path, _json_items(path), lambda study, where: ctgov_record(study, where=where, **kwargs))


def read_trials(path: str | Path, smiles: dict[str, str] | None = None) -> ReadResult:
    """Trials from any file the outcome commands take: a TOP-format CSV, ClinicalTrials.gov v2 JSON
    (a study, a list or an API page) or protocol JSON (``parse_protocol`` fields).

    ``smiles`` maps drug names to SMILES for ClinicalTrials.gov studies, which name drugs only.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such file {path}", where="input")
    if path.suffix.lower() == ".csv":
        return read_top_csv(path)
    items = _json_items(path)
    if items and isinstance(items[0], dict) and "protocolSection" in items[0]:
        return _read_items(path, items, lambda study, where: ctgov_record(study, where=where, smiles=smiles))
    return _read_items(path, items, lambda item, where: parse_protocol(item, where=where))
