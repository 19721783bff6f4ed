"""Nearest historical trials: which past trials resemble a draft, and how did they end?

Similarity of two trials is the mean of up to three parts, each in [0, 1]:

* drugs: Tanimoto of the OR-ed Morgan fingerprints (left out when either trial has no structure);
* disease: Jaccard of the sets of ICD-10-CM three-character categories (left out when either has none);
* protocol: cosine of the standardised eligibility + design features, mapped from [-1, 1] to [0, 1].

The reference set (the training trials: ids, outcomes, why-stopped text and those three
representations) is stored with a trained model as plain arrays (``numpy.load(allow_pickle=False)``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.trials.outcome.features_molecular import FP_BITS, icd_chapter
from theralab.trials.outcome.schemas import TrialRecord

_PROTO_PREFIX = ("elig_", "design_")


def categories(record: TrialRecord) -> str:
    """The trial's ICD-10-CM categories, sorted and joined with spaces (how the reference stores them)."""
    cats = {got[1] for c in record.icd_codes if (got := icd_chapter(c))}
    return " ".join(sorted(cats))


@dataclass
class Reference:
    """The historical trials a model compares drafts with."""

    ids: np.ndarray
    labels: np.ndarray
    status: np.ndarray
    why_stop: np.ndarray
    phase: np.ndarray
    diseases: np.ndarray
    cats: np.ndarray
    fps: np.ndarray  # (n, FP_BITS) uint8 0/1
    has_fp: np.ndarray
    proto: np.ndarray  # standardised protocol features
    proto_mean: np.ndarray
    proto_std: np.ndarray
    proto_cols: np.ndarray

    @classmethod
    def build(cls, records: list[TrialRecord], frame: pd.DataFrame) -> Reference:
        """From training records and their feature table (same order)."""
        cols = [c for c in frame.columns if c.startswith(_PROTO_PREFIX)]
        raw = frame[cols].to_numpy(dtype=float)
        with warnings.catch_warnings():  # all-missing columns give NaN -> 0
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(raw, axis=0))
            std = np.nan_to_num(np.nanstd(raw, axis=0))
        std = np.where(std > 1e-9, std, 1.0)
        fps = frame[[f"drug_fp_{i}" for i in range(FP_BITS)]].to_numpy(dtype=np.uint8)
        labels = np.array([-1 if r.label is None else r.label for r in records])
        ref = cls(np.array([r.nct_id for r in records]), labels,
                  np.array([r.status or "" for r in records]), np.array([r.why_stop or "" for r in records]),
                  np.array([r.phase for r in records]), np.array(["; ".join(r.diseases) for r in records]),
                  np.array([categories(r) for r in records]), fps, 1 - frame["drug_missing"].to_numpy(dtype=np.uint8),
                  np.zeros((len(records), len(cols))), mean, std, np.array(cols))
        ref.proto = ref.standardise(frame)
        return ref

    def standardise(self, frame: pd.DataFrame) -> np.ndarray:
        """Protocol features of ``frame`` on the reference scale (missing -> 0)."""
        z = (frame[list(self.proto_cols)].to_numpy(dtype=float) - self.proto_mean) / self.proto_std
        return np.clip(np.nan_to_num(z, nan=0.0), -10, 10)

    def save(self, path: Path) -> None:
        """Write as one ``.npz`` of plain arrays (packed fingerprints)."""
        arrays = {k: getattr(self, k) for k in self.__dataclass_fields__}
        arrays["fps"] = np.packbits(self.fps, axis=1)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> Reference:
        """Read what :meth:`save` wrote (no pickle)."""
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["fps"] = np.unpackbits(arrays["fps"], axis=1)[:, :FP_BITS]
        return cls(**arrays)

    def nearest(self, record: TrialRecord, frame_row: pd.DataFrame, k: int = 5,
                exclude_self: bool = True) -> list[dict[str, Any]]:
        """The ``k`` most similar reference trials to one trial (its one-row feature frame)."""
        fp = frame_row[[f"drug_fp_{i}" for i in range(FP_BITS)]].to_numpy(dtype=np.uint8)[0]
        q_has_fp = frame_row["drug_missing"].iloc[0] == 0
        parts, weights = [], []
        if q_has_fp:
            inter = (self.fps & fp).sum(axis=1)
            union = (self.fps | fp).sum(axis=1)
            parts.append(np.where((union > 0) & (self.has_fp == 1), inter / np.maximum(union, 1), 0.0))
            weights.append(self.has_fp.astype(float))
        qcats = set(categories(record).split())
        if qcats:
            jac = np.array([len(qcats & set(c.split())) / len(qcats | set(c.split())) if c else 0.0 for c in self.cats])
            parts.append(jac)
            weights.append(np.array([1.0 if c else 0.0 for c in self.cats]))
        q = self.standardise(frame_row)[0]
        denom = np.linalg.norm(self.proto, axis=1) * max(np.linalg.norm(q), 1e-12)
        cos = (self.proto @ q) / np.maximum(denom, 1e-12)
        parts.append((cos + 1) / 2)
        weights.append(np.ones(len(cos)))
        num = sum(p * w for p, w in zip(parts, weights, strict=True))
        sim = num / np.maximum(sum(weights), 1e-12)
        order = np.argsort(-sim, kind="stable")
        out = []
        for i in order:
            if exclude_self and self.ids[i] == record.nct_id:
                continue
            out.append({"nct_id": str(self.ids[i]), "similarity": round(float(sim[i]), 4),
                        "drug_similarity": round(float(parts[0][i]), 4) if q_has_fp else None,
                        "disease_similarity": round(float(parts[1 if q_has_fp else 0][i]), 4) if qcats else None,
                        "protocol_similarity": round(float(parts[-1][i]), 4),
                        "phase": str(self.phase[i]), "diseases": str(self.diseases[i]),
                        "label": int(self.labels[i]) if self.labels[i] >= 0 else None,
                        "status": str(self.status[i]) or None, "why_stop": str(self.why_stop[i]) or None})
            if len(out) >= k:
                break
        return out
