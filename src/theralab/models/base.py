"""The model protocol every predictor in theralab follows, and the loader that finds it.

A registered model's card names its loader (``"loader": "module:function"``); the function takes
the model directory and returns an object with ``card`` and ``predict(smiles) -> DataFrame``.
That is all the screening pipeline, the API and the web need to use any model, whatever its
library (LightGBM, Chemprop, torch): the model directory is the unit of exchange.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

from theralab.errors import ModelError
from theralab.models.registry import ModelCard, find_model, load_card


@runtime_checkable
class Predictor(Protocol):
    """A loaded model: its card and a batch prediction over SMILES."""

    card: ModelCard

    def predict(self, smiles: Sequence[str]) -> pd.DataFrame:
        """One row per input, one column per output (NaN only where the row could not be featurised)."""
        ...


def resolve_model_dir(name_or_path: str) -> Path:
    """A model directory from a path, or from a registered model name."""
    path = Path(name_or_path)
    if (path / "model.json").exists():
        return path
    return find_model(name_or_path)


def load_predictor(name_or_path: str) -> Predictor:
    """Load a model by registered name or directory via the loader its card names."""
    model_dir = resolve_model_dir(name_or_path)
    card = load_card(model_dir)
    loader = getattr(card, "loader", None) or (card.model_extra or {}).get("loader")
    if not loader:
        raise ModelError(f"model {card.name} has no 'loader' in its card", where=str(model_dir),
                         hint="the card must name 'module:function' that loads it")
    module, _, func = str(loader).partition(":")
    try:
        predictor = getattr(importlib.import_module(module), func)(model_dir)
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"cannot import the loader {loader} of model {card.name}: {exc}") from exc
    return predictor


@lru_cache(maxsize=16)
def cached_predictor(name_or_path: str) -> Predictor:
    """One load per process: workers call this so each loads a model once, not once per chunk."""
    return load_predictor(name_or_path)
