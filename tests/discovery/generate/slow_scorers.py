"""Custom scorers used by the scoring tests (importable as ``slow_scorers:...`` from this folder)."""

from __future__ import annotations

import time


def atom_count(smiles: list[str]) -> list[float]:
    """Length of the SMILES string (a deterministic stand-in for a user's QSAR model)."""
    return [float(len(s)) for s in smiles]


def hang(smiles: list[str]) -> list[float]:
    """Never returns in time (a docking plugin that hangs)."""
    time.sleep(30)
    return [0.0] * len(smiles)


def boom(smiles: list[str]) -> list[float]:
    """Raises, as a broken plugin would."""
    raise RuntimeError("licence server unreachable")


def some_nan(smiles: list[str]) -> list[float]:
    """NaN for molecules containing nitrogen."""
    return [float("nan") if "N" in s else 0.8 for s in smiles]
