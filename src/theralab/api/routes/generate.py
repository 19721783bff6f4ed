"""``/v1/generate``: score molecules under a scoring section, and small inline Graph GA runs.

Runs are answered inline and capped (``MAX_BUDGET`` scoring calls) so a request cannot hold a worker
for long; bigger runs belong to the CLI. For safety the API refuses the two component types that
reach into the server: ``custom`` (imports a Python module) and ``model`` given as a path (only
registered model names are accepted). Molecules are not patient data; any logged-in user may call.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from theralab.errors import InputError
from theralab.privacy.deps import CurrentUser

router = APIRouter(prefix="/generate", tags=["generate"])

MAX_BUDGET = 500
MAX_SCORE = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreIn(_Strict):
    """SMILES and a ``[scoring]`` section (as in a run file, see docs/generation.md)."""

    smiles: list[str] = Field(..., min_length=1, max_length=MAX_SCORE)
    scoring: dict[str, Any]


class ScoredMolecule(BaseModel):
    """One molecule: total score, per-component desirabilities and raw values, and any error."""

    rank: int | None = None
    smiles: str
    score: float
    components: dict[str, float]
    raw: dict[str, float | None]
    error: str = ""


class ScoreOut(BaseModel):
    """Scores in input order."""

    molecules: list[ScoredMolecule]


class RunIn(_Strict):
    """A small Graph GA run from given starting molecules."""

    scoring: dict[str, Any]
    start_smiles: list[str] = Field(..., min_length=2, max_length=MAX_SCORE)
    budget: int = Field(200, ge=10, le=MAX_BUDGET)
    seed: int = 0
    optimizer: Literal["ga"] = "ga"
    population_size: int = Field(40, ge=2, le=200)
    offspring_size: int = Field(30, ge=1, le=200)
    top_k: int = Field(20, ge=1, le=200)


class ProgressRow(BaseModel):
    """Search state after one generation."""

    generation: int
    calls: int
    best: float
    top10: float


class RunOut(BaseModel):
    """Ranked molecules, the score curve, and why the run stopped."""

    calls: int
    stopped: str
    auc_top10: float
    molecules: list[ScoredMolecule]
    history: list[ProgressRow]


def _scoring(data: dict[str, Any]) -> Any:
    from theralab.discovery.generate import parse_scoring

    cfg = parse_scoring(data)

    def leaves(c: Any) -> list[Any]:
        return [c.on_target, c.off_target] if c.type == "selectivity" else [c]

    for comp in cfg.components:
        for leaf in leaves(comp):
            if leaf.type == "custom":
                raise InputError(f"component {leaf.name!r}: custom Python scorers are not accepted over the API",
                                 where="scoring.components", hint="use the CLI for custom scorers")
            if leaf.type == "model" and ("/" in leaf.model or "\\" in leaf.model):
                raise InputError(f"component {leaf.name!r}: give a registered model name, not a path",
                                 where="scoring.components", hint="GET /v1/models lists registered models")
    return cfg


def _rows(table: Any, names: list[str]) -> list[ScoredMolecule]:
    import math

    out = []
    for _, r in table.iterrows():
        raw = {n: (None if math.isnan(float(r[f"{n}_raw"])) else float(r[f"{n}_raw"])) for n in names
               if f"{n}_raw" in r}
        out.append(ScoredMolecule(rank=int(r["rank"]) if "rank" in r else None, smiles=str(r["smiles"]),
                                  score=float(r["score"]), components={n: float(r[n]) for n in names if n in r},
                                  raw=raw, error=str(r.get("error", "") or "")))
    return out


@router.post("/score", response_model=ScoreOut)
def score(body: ScoreIn, user: CurrentUser) -> ScoreOut:
    """Score SMILES under a scoring section (invalid SMILES score 0 with their reason)."""
    from theralab.discovery.generate import Scorer

    cfg = _scoring(body.scoring)
    batch = Scorer(cfg)(body.smiles)
    return ScoreOut(molecules=_rows(batch.table, [c.name for c in cfg.components]))


@router.post("/run", response_model=RunOut)
def run(body: RunIn, user: CurrentUser) -> RunOut:
    """A small inline Graph GA run (budget <= 500 scoring calls)."""
    from theralab.discovery.generate import Oracle, Scorer, run_ga
    from theralab.discovery.generate.schemas import GAConfig

    cfg = _scoring(body.scoring)
    oracle = Oracle(Scorer(cfg), budget=body.budget)
    result = run_ga(oracle, body.start_smiles, GAConfig(population_size=body.population_size,
                                                        offspring_size=body.offspring_size), seed=body.seed)
    hist = [ProgressRow(**{k: r[k] for k in ("generation", "calls", "best", "top10")})
            for r in result.history.to_dict("records")]
    return RunOut(calls=oracle.calls, stopped=result.stopped, auc_top10=oracle.auc_top(10),
                  molecules=_rows(result.table(body.top_k), [c.name for c in cfg.components]), history=hist)
