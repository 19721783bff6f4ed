"""The ADMET panel (41 endpoints), a user's own ADMET models, and their explanations.

Modules: :mod:`.panel` (pretrained panel), :mod:`.feed` (its RDKit half), :mod:`.physchem`,
:mod:`.features` (MapLight features and splits), :mod:`.user_models` (train/save/load),
:mod:`.train` (table -> registered model), :mod:`.dmpnn` (chemprop D-MPNN),
:mod:`.explain` (per-atom contributions), :mod:`.jobs` (``admet.predict`` job).
"""

from __future__ import annotations

from theralab.discovery.admet.endpoints import endpoint_meta, name_of, unit_of
from theralab.discovery.admet.panel import (
    ADMET_AI_BATCH,
    ADMET_AI_VERSION,
    FORK_MIN,
    MAX_HEAVY_ATOMS,
    PERCENTILE_SUFFIX,
    PHYSCHEM,
    AdmetPanel,
    admet_ai_resources,
    endpoint_info,
    get_panel,
)
from theralab.discovery.admet.train import (
    Prepared,
    evaluate,
    predict_frame,
    prepare,
    read_table,
    resolve_model,
    smiles_column,
    train,
)

__all__ = [
    "ADMET_AI_BATCH",
    "ADMET_AI_VERSION",
    "AdmetPanel",
    "FORK_MIN",
    "MAX_HEAVY_ATOMS",
    "PERCENTILE_SUFFIX",
    "PHYSCHEM",
    "Prepared",
    "admet_ai_resources",
    "endpoint_info",
    "endpoint_meta",
    "evaluate",
    "get_panel",
    "name_of",
    "predict_frame",
    "prepare",
    "read_table",
    "resolve_model",
    "smiles_column",
    "train",
    "unit_of",
]
