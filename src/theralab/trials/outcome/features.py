"""Assemble a trial's features from its four blocks, with the notes that say what was missing.

The feature table has one row per trial and fixed columns (drug, optional ADMET, disease,
eligibility, design); :data:`MODALITIES` groups them for the neural model and for explanations.
Parsing criteria is the slow step (~0.25 s per trial with the shipped NER), so eligibility
features can be cached on disk, keyed by the sha256 of the text and the parser version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from theralab.trials.outcome.admet import admet_columns, admet_features
from theralab.trials.outcome.features_molecular import disease_columns, disease_features, drug_columns, drug_features
from theralab.trials.outcome.features_protocol import (
    design_columns,
    design_features,
    eligibility_columns,
    eligibility_features,
    normalize_headers,
    parse_eligibility,
    text_hash_columns,
    text_hash_features,
)
from theralab.trials.outcome.schemas import TrialRecord

FEATURE_VERSION = "1"
MODALITIES = ("drug", "disease", "protocol")


def columns(admet: bool = False, text_hash: bool = False) -> list[str]:
    """All feature columns in model order."""
    return (drug_columns() + (admet_columns() if admet else []) + disease_columns() + eligibility_columns()
            + (text_hash_columns() if text_hash else []) + design_columns())


def modality_of(column: str) -> str:
    """Which of :data:`MODALITIES` a column belongs to."""
    if column.startswith(("drug_", "admet_")):
        return "drug"
    if column.startswith("dis_"):
        return "disease"
    return "protocol"


@dataclass
class FeatureSet:
    """Features of a batch of trials: the table (index = trial id), notes per trial, parsed criteria."""

    frame: pd.DataFrame
    notes: dict[str, list[str]] = field(default_factory=dict)
    criteria: dict[str, Any] = field(default_factory=dict)


class EligibilityCache:
    """Eligibility features on disk (JSON), keyed by sha256 of the criteria text + feature version."""

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path else None
        self.data: dict[str, Any] = {}
        if self.path and self.path.exists():
            self.data = json.loads(self.path.read_text())

    @staticmethod
    def key(text: str) -> str:
        """sha256 of the feature version and the text as the parser sees it (headers normalised)."""
        return hashlib.sha256(f"{FEATURE_VERSION}\0{normalize_headers(text)}".encode()).hexdigest()

    def get(self, text: str) -> tuple[dict[str, float], list[str]] | None:
        got = self.data.get(self.key(text))
        return (got["features"], got["notes"]) if got else None

    def put(self, text: str, feats: dict[str, float], notes: list[str]) -> None:
        self.data[self.key(text)] = {"features": feats, "notes": notes}

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data))


def featurize(records: Sequence[TrialRecord], *, admet: bool = False, text_hash: bool = False,
              cache_dir: Path | None = None, keep_criteria: bool = False,
              progress: Callable[[int], None] | None = None) -> FeatureSet:
    """Features of every record.

    Args:
        records: trials (historical or drafts).
        admet: add the ADMET block (slow the first time; cached in ``cache_dir``).
        text_hash: add the hashed criteria-words block (256 binary columns).
        cache_dir: where eligibility and ADMET caches live (None: no cache).
        keep_criteria: keep each trial's parsed criteria (what-if edits need them).
        progress: called with 1 after each trial.
    """
    cache = EligibilityCache(Path(cache_dir) / "eligibility.json" if cache_dir else None)
    rows, notes, parsed = [], {}, {}
    for rec in records:
        drug, n1 = drug_features(rec)
        dis, n2 = disease_features(rec)
        des, n4 = design_features(rec)
        got = None if keep_criteria else cache.get(rec.criteria)
        if got is None:
            crit, why = parse_eligibility(rec.criteria, rec.nct_id)
            elig, n3 = eligibility_features(crit, rec.criteria, why)
            cache.put(rec.criteria, elig, n3)
            if keep_criteria:
                parsed[rec.nct_id] = crit
        else:
            elig, n3 = got
        rows.append({**drug, **dis, **elig, **des})
        notes[rec.nct_id] = n1 + n2 + n3 + n4
        if progress:
            progress(1)
    cache.save()
    frame = pd.DataFrame(rows, index=pd.Index([r.nct_id for r in records], name="nct_id"))
    if admet:
        adm, _ = admet_features(list(records), Path(cache_dir) / "admet.json" if cache_dir else None)
        frame = pd.concat([frame, pd.DataFrame(adm, index=frame.index)], axis=1)
    if text_hash:
        words = text_hash_features([r.criteria for r in records])
        frame = pd.concat([frame, pd.DataFrame(words, index=frame.index, columns=text_hash_columns())], axis=1)
    return FeatureSet(frame[columns(admet, text_hash)].astype(float), notes, parsed)
