"""The screening run file: TOML validated by pydantic with ``extra="forbid"``, so a typo is an error.

Example (``theralab screen run run.toml``)::

    [run]
    name = "kinase-hits"
    library = "library.csv"        # CSV/SDF/Parquet/SMILES file
    output_dir = "screen-out"
    chunk_size = 2000

    [filters]
    rules = ["lipinski", "veber"]  # rule sets a molecule must pass
    max_alerts = 0                 # structural alerts allowed (PAINS, Brenk, NIH)
    ranges = { mw = [200, 500], clogp = [-1, 5], Solubility_AqSolDB = [-4, 1] }
    require = ["hERG <= 0.3", "AMES < 0.5"]   # any descriptor or model output, compared to a number

    [similarity]
    actives = ["CC(=O)Nc1ccc(O)cc1", "actives.smi"]   # SMILES or files
    fusion = "max"                 # or "mean"
    min_similarity = 0.2

    [[models]]
    name = "panel"                 # the 41-endpoint ADMET panel, or any registered model or model directory
    # column = "hERG"              # output column to keep (default: all)

    [[objectives]]
    column = "similarity"
    goal = "maximize"              # maximize | minimize | target
    low = 0.2
    high = 0.7
    weight = 2

    [ranking]
    method = "auto"                # auto | desirability | similarity
    min_actives = 50               # auto: activity models are ranked only with this many actives

    [diversity]
    method = "butina"              # or "maxmin"
    cutoff = 0.6                   # Tanimoto distance for Butina clusters
    top_n = 50
"""

from __future__ import annotations

import operator
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from theralab.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class RunSection(_Strict):
    name: str = "screen"
    library: str
    smiles_column: str | None = None
    id_column: str | None = None
    output_dir: str = "screen-out"
    chunk_size: int = Field(2000, ge=10, le=1_000_000)


class StandardizeSection(_Strict):
    enabled: bool = True
    tautomer: bool = False


OPERATORS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(<=|>=|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


def parse_condition(text: str) -> tuple[str, str, float]:
    """``"hERG <= 0.3"`` -> ``("hERG", "<=", 0.3)``; a ValueError says what a condition looks like."""
    match = _CONDITION.match(text)
    if not match:
        raise ValueError(f"cannot read the condition {text!r}; write COLUMN OP NUMBER, e.g. 'hERG <= 0.3' "
                         "(OP is <, <=, > or >=)")
    return match.group(1), match.group(2), float(match.group(3))


class FilterSection(_Strict):
    rules: list[Literal["lipinski", "veber", "ghose", "egan", "leadlike"]] = Field(default_factory=list)
    max_alerts: int | None = Field(None, ge=0)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    require: list[str] = Field(default_factory=list, description="conditions such as 'hERG <= 0.3'")

    @field_validator("require")
    @classmethod
    def _conditions(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_condition(text)
        return value

    @field_validator("ranges")
    @classmethod
    def _ranges(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for column, (low, high) in value.items():
            if high < low:
                raise ValueError(f"range of {column}: high ({high:g}) is below low ({low:g})")
        return value

    def conditions(self) -> list[tuple[str, str, float]]:
        """Ranges and ``require`` as ``(column, op, number)`` triples, in the order written."""
        out = []
        for column, (low, high) in self.ranges.items():
            out += [(column, ">=", float(low)), (column, "<=", float(high))]
        return out + [parse_condition(text) for text in self.require]


class SimilaritySection(_Strict):
    actives: list[str] = Field(default_factory=list)
    fusion: Literal["max", "mean"] = "max"
    min_similarity: float = Field(0.0, ge=0.0, le=1.0)
    exclude_actives: bool = Field(False, description="drop library molecules that are the query actives "
                                  "(same standardised InChIKey); they are flagged 'query_active' otherwise")
    radius: int = Field(2, ge=1, le=4)
    bits: int = Field(2048, ge=256, le=8192)


class ModelSection(_Strict):
    name: str
    column: str | None = None
    prefix: str = ""
    role: Literal["activity", "property"] | None = Field(
        None, description="activity: predicts the target's actives (ranked only with enough actives, see "
                          "[ranking]); property: ADMET and the like (always ranked). Default: property for "
                          "ADMET models (the panel), activity otherwise")


class RankingSection(_Strict):
    """How hits are ordered. ``auto`` ranks activity-model objectives only when the run has at least
    ``min_actives`` known actives (50); with fewer, the activity evidence is the fused similarity to
    the actives (on ten DUD-E targets a model fused with similarity lost EF1% to max-fusion
    similarity with 5 and with 20 actives, docs/benchmarks/screening.md; 50 is a conservative guess,
    untested). ``desirability`` always uses every objective; ``similarity`` never ranks activity
    models."""

    method: Literal["auto", "desirability", "similarity"] = "auto"
    min_actives: int = Field(50, ge=1)


class Objective(_Strict):
    column: str
    goal: Literal["maximize", "minimize", "target"] = "maximize"
    low: float
    high: float
    target: float | None = None
    weight: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Objective:
        if self.high <= self.low:
            raise ValueError(f"objective {self.column}: high ({self.high}) must exceed low ({self.low})")
        if self.goal == "target" and (self.target is None or not self.low <= self.target <= self.high):
            raise ValueError(f"objective {self.column}: a 'target' goal needs low <= target <= high")
        return self


class DiversitySection(_Strict):
    method: Literal["butina", "maxmin", "none"] = "butina"
    cutoff: float = Field(0.6, gt=0, lt=1)
    top_n: int = Field(100, ge=1)
    candidates: int = Field(5000, ge=1, description="best-scored molecules considered for diversity (O(n^2))")


class RunConfig(_Strict):
    run: RunSection
    standardize: StandardizeSection = Field(default_factory=StandardizeSection)
    filters: FilterSection = Field(default_factory=FilterSection)
    similarity: SimilaritySection = Field(default_factory=SimilaritySection)
    models: list[ModelSection] = Field(default_factory=list)
    objectives: list[Objective] = Field(default_factory=list)
    ranking: RankingSection = Field(default_factory=RankingSection)
    diversity: DiversitySection = Field(default_factory=DiversitySection)


def parse_config(data: dict, where: str = "run file") -> RunConfig:
    """Validate a run configuration; errors name the key path."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{path}'"
        raise InputError(msg, where=f"{where}: {path}",
                         hint="see 'theralab screen run --help' for the keys") from None


def load_config(path: Path) -> RunConfig:
    """Read and validate a TOML run file; relative paths are resolved against its folder."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"run file {path} does not exist", where=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"run file is not valid TOML: {exc}", where=str(path)) from None
    config = parse_config(data, str(path))
    base = path.resolve().parent
    if (base / config.run.library).exists() or "/" in config.run.library or Path(config.run.library).suffix:
        config.run.library = str((base / config.run.library).resolve())
    # else: the name of a registered library (theralab screen library list)
    config.run.output_dir = str((base / config.run.output_dir).resolve())
    config.similarity.actives = [
        str((base / a).resolve()) if (base / a).exists() else a for a in config.similarity.actives
    ]
    return config
