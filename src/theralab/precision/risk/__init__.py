"""Disease risk: polygenic scores from genotypes, and clinical risk and survival models.

Polygenic scores (PGS Catalog files on VCF, PLINK bed or pgen genotypes, scored as plink2 does):

    >>> from theralab.precision.risk import read_scoring_file, open_genotypes, score
    >>> result = score(read_scoring_file("PGS001229_22.txt"), open_genotypes("cohort.bed"))
    >>> result.scores.head(); result.match.counts   # {'matched': 782, 'ambiguous': 47, 'absent': 6}

Clinical risk (calibrated logistic / LightGBM classifiers with SHAP) and survival (Cox, random
survival forest, neural Cox) with C-index, time-dependent AUC, Brier and calibration:

    >>> model, metrics = train_survival(frame, "time", "event", kind="neural_cox")
"""

from __future__ import annotations

from theralab.precision.risk.clinical import (
    ClassifierModel,
    LoadedRiskModel,
    load_model,
    save_model,
    train_classifier,
    train_survival,
)
from theralab.precision.risk.genotypes import Genotypes, open_genotypes, read_bed, read_pgen, read_vcf
from theralab.precision.risk.prs import (
    MatchReport,
    ScoreResult,
    complement,
    is_ambiguous,
    match_variants,
    score,
    score_uploads,
)
from theralab.precision.risk.reference import ReferencePanel, absolute_risk
from theralab.precision.risk.scorefile import ScoringFile, check_build, normalise_build, read_scoring_file
from theralab.precision.risk.survival import (
    SurvivalModel,
    calibration_table,
    check_survival,
    concordance_index,
    evaluate_survival,
    fit_survival,
)

__all__ = [
    "ClassifierModel", "LoadedRiskModel", "SurvivalModel", "calibration_table", "check_survival",
    "concordance_index", "evaluate_survival", "fit_survival", "load_model", "save_model", "train_classifier",
    "train_survival",
    "Genotypes", "MatchReport", "ReferencePanel", "ScoreResult", "ScoringFile", "absolute_risk", "check_build",
    "complement", "is_ambiguous", "match_variants", "normalise_build", "open_genotypes", "read_bed", "read_pgen",
    "read_scoring_file", "read_vcf", "score", "score_uploads",
]
