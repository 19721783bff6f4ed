"""Drug-target interaction: predict binding affinity from a SMILES and a protein sequence.

Three model kinds behind one interface (:class:`DTIModel`): ``cnn`` (DeepDTA-style convolutions
over SMILES and residues), ``graph`` (GIN over RDKit graphs + protein CNN / k-mers, GraphDTA-style)
and ``baseline`` (ECFP4 + protein k-mers into LightGBM). Ensembles give an uncertainty; the nearest
training drug and target give the applicability domain. Data: Davis, KIBA (DeepDTA setting-1
folds) and user CSVs, split random / setting1 / cold-drug / cold-target / cold-both.
"""

from __future__ import annotations

from theralab.discovery.dti.data import (
    BadRow,
    DTIData,
    clean_sequence,
    load_benchmark,
    load_davis,
    load_kiba,
    read_fasta_or_sequence,
    read_pairs_csv,
    sequence_problem,
    setting1_folds,
    split_pairs,
)
from theralab.discovery.dti.metrics import concordance_index, mse, pearson, regression_report, rm2
from theralab.discovery.dti.predictor import DTIModel, bind_model, load_dti
from theralab.discovery.dti.train import TrainConfig

__all__ = [
    "BadRow", "DTIData", "DTIModel", "TrainConfig", "bind_model", "clean_sequence", "concordance_index",
    "load_benchmark", "load_davis", "load_dti", "load_kiba", "mse", "pearson", "read_fasta_or_sequence",
    "read_pairs_csv", "regression_report", "rm2", "sequence_problem", "setting1_folds", "split_pairs",
]
