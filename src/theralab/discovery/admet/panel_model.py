"""The ADMET panel as a registered model: ``[[models]] name = "panel"`` in a screening run.

Why a separate module: the registry's protocol (:mod:`theralab.models.base`) wants a loader that
takes a model directory and returns an object with ``card`` and ``predict(smiles)``; the panel's
weights live in the pinned ``admet-ai`` wheel, so its model directory
(``discovery/weights/panel``) holds only the card, and the loader hands back the process-wide
panel (:func:`theralab.discovery.admet.panel.get_panel`): one load per worker process, shared by
the CLI, the API, the web page and screening workers.

The predictor returns the 41 endpoint columns (probabilities for the 31 classifiers, the
endpoint's units for the 10 regressions) plus ``panel_error`` (why a row could not be scored),
so a screening filter such as ``hERG <= 0.3`` can name any endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from theralab.models.registry import ModelCard, load_card

PANEL_NAME = "panel"
ERROR_COLUMN = "panel_error"


class PanelPredictor:
    """The registry face of :class:`~theralab.discovery.admet.panel.AdmetPanel`.

    Args:
        card: the panel's card (its ``outputs`` name the 41 endpoints).
        overlap: let the panel fork an RDKit helper for large calls; screening workers pass False
            since the executor already keeps every core busy.
    """

    def __init__(self, card: ModelCard, overlap: bool = True) -> None:
        self.card = card
        self.overlap = overlap

    @property
    def panel(self):  # noqa: ANN201 - AdmetPanel, imported lazily (torch, chemprop)
        from theralab.discovery.admet.panel import get_panel

        panel = get_panel()
        panel.overlap = self.overlap
        return panel

    @property
    def outputs(self) -> list[str]:
        """Endpoint names, in the panel's order."""
        return list((self.card.model_extra or {}).get("outputs", []))

    def predict(self, smiles: Sequence[str]) -> pd.DataFrame:
        """41 endpoint columns (no percentiles) and ``panel_error``; one row per input, in order."""
        panel = self.panel
        keep = panel.percentiles
        panel.percentiles = False
        try:
            table = panel.predict_smiles([str(s) for s in smiles])
        finally:
            panel.percentiles = keep
        out = table[panel.tasks].reset_index(drop=True)
        out[ERROR_COLUMN] = table["error"].to_numpy()
        return out


def panel_dir() -> Path:
    """The panel's model directory (the card only; weights ship in the admet-ai wheel)."""
    return Path(__file__).resolve().parent / "weights" / PANEL_NAME


def load(model_dir: Path) -> PanelPredictor:
    """Registry loader named by the panel's card (``theralab.discovery.admet.panel_model:load``)."""
    return PanelPredictor(load_card(Path(model_dir)))


def warm(names: str) -> list[str]:
    """Load the named models into this process now (``THERALAB_WARM_MODELS="panel"``) so the first
    request is answered as fast as the next: the server calls this once per worker process at
    start-up, in a background thread. Returns the names it loaded; unknown names are skipped.

    The panel is loaded (ten checkpoints) and run once on a small molecule, which also builds the
    alert screens and the lazily created parts of the forward path.
    """
    loaded = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name == PANEL_NAME:
            from theralab.discovery.admet.panel import get_panel

            get_panel().predict_smiles(["CC(=O)Nc1ccc(O)cc1"])
            loaded.append(name)
        else:
            from theralab.models.base import cached_predictor

            try:
                cached_predictor(name).predict(["CCO"])
                loaded.append(name)
            except Exception:  # noqa: BLE001 - a warm-up must never stop the server; the request will say why
                continue
    return loaded


def panel_outputs() -> list[str]:
    """The 41 endpoint names from the card (no torch import: used to validate run files)."""
    return list((load_card(panel_dir(), verify=False).model_extra or {}).get("outputs", []))


__all__ = ["ERROR_COLUMN", "PANEL_NAME", "PanelPredictor", "load", "panel_dir", "panel_outputs", "warm"]
