"""Drug response: predict ln(IC50) of a drug on a cell line from drug structure and cell omics.

    >>> from theralab.precision.response import load_gdsc, split_pairs, evaluate_split
    >>> data = load_gdsc("../shared/data/precision/drug_response")
    >>> evaluate_split(data, "drug")   # {'baseline_pearson': ..., 'model_pearson': ...}
"""

from __future__ import annotations

from theralab.precision.response.data import ResponseData, load_gdsc, split_pairs
from theralab.precision.response.evaluate import evaluate_split
from theralab.precision.response.model import (
    NeighbourGBM,
    Similarities,
    additive_fit,
    additive_predict,
    pair_features,
    side_similarities,
)

__all__ = ["NeighbourGBM", "ResponseData", "Similarities", "additive_fit", "additive_predict", "evaluate_split",
           "load_gdsc", "pair_features", "side_similarities", "split_pairs"]
