"""``/v1/generate``: score molecules under a scoring section, small inline Graph GA runs, and the
live state of ``generate.run`` jobs.

Inline runs are capped (``MAX_BUDGET`` scoring calls) so a request cannot hold a worker for long;
longer runs (GA, RL, GAN) are ``generate.run`` jobs (``POST /v1/jobs``), whose score curve and
current top molecules ``GET /v1/generate/jobs/{id}`` returns while they run. For safety the API
refuses the two component types that reach into the server: ``custom`` (imports a Python module)
and ``model`` given as a path (only registered model names are accepted). Molecules are not
patient data; researchers and clinicians may call.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from theralab.api.schemas import RequestModel
from theralab.privacy.deps import Principal, require_roles

router = APIRouter(prefix="/generate", tags=["generate"])
Designer = Annotated[Principal, Depends(require_roles("researcher", "clinician"))]
JobId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

MAX_BUDGET = 500
MAX_SCORE = 1000


class ScoreIn(RequestModel):
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


class RunIn(RequestModel):
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
    """Parse a scoring section and refuse what the network may not use (custom scorers, paths)."""
    from theralab.discovery.generate import parse_scoring
    from theralab.discovery.generate.schemas import check_remote

    cfg = parse_scoring(data)
    check_remote(cfg)
    return cfg


def _rows(table: Any, names: list[str]) -> list[ScoredMolecule]:
    from theralab.discovery.generate.jobs import molecule_rows

    return [ScoredMolecule(**row) for row in molecule_rows(table, names)]


@router.post("/score", response_model=ScoreOut)
def score(body: ScoreIn, user: Designer) -> ScoreOut:
    """Score SMILES under a scoring section (invalid SMILES score 0 with their reason)."""
    from theralab.discovery.generate import Scorer

    cfg = _scoring(body.scoring)
    batch = Scorer(cfg)(body.smiles)
    user.audit("generate.score", "Molecules", str(len(body.smiles)))
    return ScoreOut(molecules=_rows(batch.table, [c.name for c in cfg.components]))


@router.post("/run", response_model=RunOut)
def run(body: RunIn, user: Designer) -> RunOut:
    """A small inline Graph GA run (budget <= 500 scoring calls)."""
    from theralab.discovery.generate import Oracle, Scorer, run_ga
    from theralab.discovery.generate.schemas import GAConfig

    cfg = _scoring(body.scoring)
    oracle = Oracle(Scorer(cfg), budget=body.budget)
    result = run_ga(oracle, body.start_smiles, GAConfig(population_size=body.population_size,
                                                        offspring_size=body.offspring_size), seed=body.seed)
    user.audit("generate.run", "Molecules", str(oracle.calls))
    hist = [ProgressRow(**{k: r[k] for k in ("generation", "calls", "best", "top10")})
            for r in result.history.to_dict("records")]
    return RunOut(calls=oracle.calls, stopped=result.stopped, auc_top10=oracle.auc_top(10),
                  molecules=_rows(result.table(body.top_k), [c.name for c in cfg.components]), history=hist)


class JobPoint(BaseModel):
    """One optimiser step of a running job (GA generation, RL or GAN step)."""

    chunk: int
    calls: float
    best: float
    top10: float
    valid: float | None = None
    unique: float | None = None


class JobChunk(BaseModel):
    """State after one chunk of the budget."""

    chunk: int
    calls: int
    best: float
    top10: float
    diversity_top100: float
    stopped: str


class JobProgressOut(BaseModel):
    """A generate.run job: status, the score curve, per-chunk summaries and the current top molecules."""

    job_id: str
    status: str
    optimizer: str
    budget: int
    names: list[str]
    points: list[JobPoint]
    chunks: list[JobChunk]
    molecules: list[ScoredMolecule]


@router.get("/jobs/{job_id}", response_model=JobProgressOut)
def job(job_id: JobId, user: Designer, top: Annotated[int, Query(ge=1, le=500)] = 20) -> JobProgressOut:
    """Live state of your ``generate.run`` job: score curve, chunk summaries, top molecules so far."""
    from theralab.errors import InputError
    from theralab.runtime.jobs import get_owned_job

    row = get_owned_job(job_id, user.username, "admin" in user.roles)
    if row["kind"] != "generate.run":
        raise InputError(f"job {job_id} is a {row['kind']} job, not generate.run", where="job_id")
    from theralab.discovery.generate.jobs import live_view

    user.audit("generate.job.read", "Job", job_id)
    return JobProgressOut.model_validate(live_view(row, top))
