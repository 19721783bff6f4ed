"""Measure de-identification recall: the share of annotated identifiers that no longer appear.

Two corpora:

* ``tests/data/privacy/annotated_notes.jsonl``: 20 short notes written for this project, each
  with its identifiers annotated by hand (type and exact string);
* the Synthea notes (DocumentReference attachments) of ``synthea_bulk_10pt``: the identifiers are
  taken from the structured record (the patient's name parts, every ISO date in the note, ages over
  89), which is how Synthea writes them into the text.

An identifier counts as caught when its string is gone from the output (for an age: when the
number no longer precedes "year"). Recall is reported per type; "structured" pools every type but
names, the Safe Harbor goal being >= 0.99 for those and >= 0.95 for names.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from theralab.privacy.deid import DeidConfig, Deidentifier

EVAL_KEY = b"theralab-deid-evaluation-key"


def _caught(kind: str, value: str, output: str) -> bool:
    if kind == "AGE":
        return re.search(rf"\b{re.escape(value)}(?=[ -]?(?:year|yr|yo|y/o))", output) is None
    return value not in output


def _summary(hits: Counter, totals: Counter, misses: list[Any]) -> dict[str, Any]:
    per_type = {k: {"n": totals[k], "recall": hits[k] / totals[k]} for k in sorted(totals)}
    structured = [k for k in totals if k != "NAME"]
    s_n = sum(totals[k] for k in structured)
    return {
        "per_type": per_type,
        "names": {"n": totals["NAME"], "recall": hits["NAME"] / totals["NAME"] if totals["NAME"] else None},
        "structured": {"n": s_n, "recall": sum(hits[k] for k in structured) / s_n if s_n else None},
        "misses": misses[:20],
    }


def annotated_recall(path: Path, *, use_record_names: bool = True) -> dict[str, Any]:
    """Recall on hand-annotated notes (the note's patient name is given as the record would)."""
    deid = Deidentifier(DeidConfig(key=EVAL_KEY))
    hits, totals, misses = Counter(), Counter(), []
    for line in Path(path).read_text().splitlines():
        note = json.loads(line)
        out = deid.scrub_text(note["text"], note["id"], names=note["names"] if use_record_names else None)
        for kind, value in note["phi"]:
            totals[kind] += 1
            if _caught(kind, value, out):
                hits[kind] += 1
            else:
                misses.append((note["id"], kind, value))
    return _summary(hits, totals, misses)


def _ndjson(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def synthea_recall(folder: Path, *, use_record_names: bool = True, limit: int | None = None) -> dict[str, Any]:
    """Recall on Synthea DocumentReference notes, with identifiers from each patient's record."""
    patients = {p["id"]: p for p in _ndjson(Path(folder) / "Patient.000.ndjson")}
    deid = Deidentifier(DeidConfig(key=EVAL_KEY))
    hits, totals, misses = Counter(), Counter(), []
    docs = _ndjson(Path(folder) / "DocumentReference.000.ndjson")[:limit]
    for doc in docs:
        pid = doc.get("subject", {}).get("reference", "").split("/")[-1]
        patient = patients.get(pid, {})
        parts = [x for n in patient.get("name", []) for x in [*(n.get("given") or []), n.get("family", "")] if x]
        for content in doc.get("content", []):
            att = content.get("attachment", {})
            if not str(att.get("contentType", "")).startswith("text/") or "data" not in att:
                continue
            text = base64.b64decode(att["data"]).decode("utf-8")
            out = deid.scrub_text(text, pid, names=parts if use_record_names else None)
            phi = [("NAME", p) for p in parts if re.search(rf"\b{re.escape(p)}\b", text)]
            phi += [("DATE", m.group(0)) for m in re.finditer(r"\b\d{4}-\d{2}-\d{2}\b", text)]
            phi += [("AGE", m.group(1)) for m in re.finditer(r"\b(\d{2,3}) year-old", text) if int(m.group(1)) > 89]
            for kind, value in phi:
                totals[kind] += 1
                if _caught(kind, value, out):
                    hits[kind] += 1
                else:
                    misses.append((doc["id"][:8], kind, value))
    result = _summary(hits, totals, misses)
    result["notes"] = len(docs)
    return result
