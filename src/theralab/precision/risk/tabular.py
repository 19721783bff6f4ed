"""Tabular patient features: a JSON-serialisable preprocessor shared by classifiers and survival models.

Clinical tables mix numbers with categories and have gaps. The preprocessor learns, on training
data only, each numeric column's median (for imputation), mean and SD (for scaling) and each
categorical column's levels (one-hot, unseen levels -> all zeros), and stores them as JSON so a
saved model can be reloaded without pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError


@dataclass
class Preprocessor:
    """Median-impute and standardise numeric columns, one-hot encode categorical ones."""

    numeric: list[str] = field(default_factory=list)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    means: dict[str, float] = field(default_factory=dict)
    sds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, features: Sequence[str], max_levels: int = 30) -> Preprocessor:
        """Learn the transform from ``frame[features]`` (categorical = non-numeric dtype or bool)."""
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise InputError(f"feature columns {missing} are not in the table",
                             hint=f"columns: {', '.join(map(str, frame.columns))}")
        pre = cls()
        for col in features:
            series = frame[col]
            if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                values = series.astype(float)
                if values.notna().sum() == 0:
                    raise InputError(f"feature {col} has no values")
                pre.numeric.append(col)
                pre.medians[col] = float(values.median())
                filled = values.fillna(pre.medians[col])
                pre.means[col] = float(filled.mean())
                pre.sds[col] = float(filled.std(ddof=0)) or 1.0
            else:
                levels = sorted(series.dropna().astype(str).unique().tolist())
                if len(levels) > max_levels:
                    raise InputError(f"categorical feature {col} has {len(levels)} levels (> {max_levels})",
                                     hint="drop identifier-like columns or bin the values")
                pre.categorical[col] = levels[1:] if len(levels) > 1 else levels  # first level is the reference
        return pre

    @property
    def feature_names(self) -> list[str]:
        """Names of the output columns (``col`` for numbers, ``col=level`` for one-hot)."""
        return self.numeric + [f"{c}={lvl}" for c, levels in self.categorical.items() for lvl in levels]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The model matrix (rows x ``feature_names``)."""
        missing = [c for c in [*self.numeric, *self.categorical] if c not in frame.columns]
        if missing:
            raise InputError(f"columns {missing} needed by the model are missing")
        parts = []
        for col in self.numeric:
            values = pd.to_numeric(frame[col], errors="coerce").astype(float).fillna(self.medians[col])
            parts.append(((values - self.means[col]) / self.sds[col]).to_numpy()[:, None])
        for col, levels in self.categorical.items():
            values = frame[col].astype(str).to_numpy()
            parts.append(np.stack([(values == lvl).astype(float) for lvl in levels], axis=1))
        return np.hstack(parts) if parts else np.zeros((len(frame), 0))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        return cls(**data)
