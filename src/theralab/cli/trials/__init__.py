"""``theralab trials``: design, safety and meta-analysis (:mod:`.statistics`), criteria parsing
(:mod:`.criteria`) and patient matching (:mod:`.match`), one command group."""

from __future__ import annotations

from theralab.cli.trials.statistics import app

__all__ = ["app"]
