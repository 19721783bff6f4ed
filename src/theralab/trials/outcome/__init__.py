"""Trial outcome prediction and design insight from historical trials.

Read trials (:func:`read_top_csv` for the TOP benchmark, :func:`read_ctgov_json` /
:func:`ctgov_record` for ClinicalTrials.gov API v2 records, :func:`parse_protocol` for a draft),
turn them into drug, disease, eligibility and design features (:func:`featurize`), train a
calibrated LightGBM baseline and a three-modality network (:func:`train_model`), and for a draft
protocol get its risk, drivers, similar trials and what-if edits (:func:`explain_protocol`).

TOP is for evaluation only (non-commercial): no weights trained on it ship with theralab.

Example::

    from theralab.trials.outcome import read_top_csv, train_model, explain_protocol, parse_protocol
    model = train_model(read_top_csv("phase_I_train.csv").records, name="my-outcome")
    model.save("models/my-outcome")
    explain_protocol(model, parse_protocol(draft_json))["whatifs"]
"""

from __future__ import annotations

from theralab.trials.outcome.features import FeatureSet, featurize
from theralab.trials.outcome.insight import WhatIfEdit, batch_explain, explain_protocol, propose_edits
from theralab.trials.outcome.models.calibration import Calibrator, fit_calibrator, metrics
from theralab.trials.outcome.predictor import OutcomeModel, load_model, resolve_model, train_model
from theralab.trials.outcome.readers import ReadResult, ctgov_record, read_ctgov_json, read_top_csv, read_trials
from theralab.trials.outcome.schemas import PHASES, Drug, TrialRecord, parse_protocol

__all__ = [
    "PHASES", "Calibrator", "Drug", "FeatureSet", "OutcomeModel", "ReadResult", "TrialRecord", "WhatIfEdit",
    "batch_explain", "ctgov_record", "explain_protocol", "featurize", "fit_calibrator", "load_model", "metrics",
    "parse_protocol", "propose_edits", "read_ctgov_json", "read_top_csv", "read_trials", "resolve_model",
    "train_model",
]
