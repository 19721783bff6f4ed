"""One sample's pharmacogenomic result: gene calls, phenotypes and the recommendations that apply.

Its own module because both renderers read it: the HTML/TSV/JSON report (:mod:`.report`) and the
PDF (:mod:`.report_pdf`), which the report module calls; neither has to import the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from theralab.precision.pgx.caller import GeneCall
from theralab.precision.pgx.definitions import manifest
from theralab.precision.pgx.phenotype import Phenotype
from theralab.precision.pgx.recommend import Recommendation


@dataclass
class PgxResult:
    """Everything known about one sample: gene calls, phenotypes, applicable recommendations."""

    sample: str
    calls: dict[str, GeneCall]
    phenotypes: dict[str, Phenotype]
    recommendations: list[Recommendation]
    medications: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def actionable(self) -> list[Recommendation]:
        """Recommendations that change drug choice or dose."""
        return [r for r in self.recommendations if r.actionable]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the knowledge-base versions used."""
        return {
            "sample": self.sample,
            "knowledge_base": {
                k: {"version": v["version"], "licence": v["licence"]} for k, v in manifest()["files"].items()
            },
            "genes": {
                g: {"call": c.to_dict(), "phenotype": self.phenotypes[g].to_dict()} for g, c in self.calls.items()
            },
            "recommendations": [r.to_dict() for r in self.recommendations],
            "medications": self.medications,
            "warnings": self.warnings,
        }
