"""Adapters to other theralab packages whose paths may move (one function each, imported lazily)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from theralab.errors import InputError


def admet_endpoints(smiles: Sequence[str], endpoints: Sequence[str]) -> pd.DataFrame:
    """ADMET panel predictions for ``endpoints``, one row per SMILES (NaN where not scored).

    Why an adapter: the panel lives in ``theralab.discovery.admet.panel`` today and is expected to
    move with the discovery-workflow restructuring; only this function needs to follow it.
    """
    from theralab.discovery.admet.panel import get_panel

    table = get_panel().predict_smiles(list(smiles))
    missing = [e for e in endpoints if e not in table.columns]
    if missing:
        known = [c for c in table.columns if c not in ("smiles", "error") and not c.endswith("_percentile")]
        raise InputError(f"unknown ADMET endpoint(s): {', '.join(missing)}", where="admet.endpoint",
                         hint=f"panel endpoints include: {', '.join(known[:12])} ...")
    return table[list(endpoints)].reset_index(drop=True)
