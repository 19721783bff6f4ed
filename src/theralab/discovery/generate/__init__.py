"""Generative molecular design: scoring, Graph GA, SMILES/SELFIES priors, REINVENT-style RL, an ORGAN-style GAN.

Public API (everything else is internal)::

    from theralab.discovery.generate import load_run, Scorer, Oracle, run_ga, load_prior, run_rl, train_gan

See docs/generation.md for the run-file format and the methods.
"""

from __future__ import annotations

from theralab.discovery.generate.ga import RunResult, run_ga
from theralab.discovery.generate.gan import GanResult, train_gan
from theralab.discovery.generate.objectives import OBJECTIVES, get_objective
from theralab.discovery.generate.oracle import Oracle, top_auc
from theralab.discovery.generate.prior import Prior, load_prior, sample_report
from theralab.discovery.generate.rl import run_rl
from theralab.discovery.generate.run import execute_run
from theralab.discovery.generate.schemas import RunConfig, ScoringConfig, load_run, parse_run, parse_scoring
from theralab.discovery.generate.scoring import ScoreBatch, Scorer, ScoringError, desirability

__all__ = [
    "OBJECTIVES",
    "GanResult",
    "Oracle",
    "Prior",
    "RunConfig",
    "RunResult",
    "ScoreBatch",
    "Scorer",
    "ScoringConfig",
    "ScoringError",
    "desirability",
    "execute_run",
    "get_objective",
    "load_prior",
    "load_run",
    "parse_run",
    "parse_scoring",
    "run_ga",
    "run_rl",
    "sample_report",
    "top_auc",
    "train_gan",
]
