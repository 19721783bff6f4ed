"""``/v1/screening``: exact similarity and substructure search over fingerprint indexes.

Indexes live under ``<data dir>/libraries/`` (built with ``theralab screen index LIB -o
<data dir>/libraries/<name>``); a request names one by its folder name or a relative path inside
that folder, never by an absolute path, so a caller cannot read files elsewhere on the server.
Opened indexes are memory-mapped and kept in a small cache, so repeated searches pay no start-up.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from theralab.api.schemas import RequestModel, exactly_one
from theralab.errors import InputError, NotFoundError
from theralab.privacy.deps import CurrentUser

router = APIRouter(prefix="/screening", tags=["screening"])

MAX_HITS = 10_000


class SearchRequest(RequestModel):
    """One query against one index: ``threshold`` or ``top`` (or only ``substructure``)."""

    index: str = Field(min_length=1, max_length=300, description="index folder under <data dir>/libraries/")
    query: str | None = Field(default=None, max_length=10_000, description="query SMILES")
    threshold: float | None = Field(default=None, gt=0, le=1, description="Tanimoto cut-off")
    top: int | None = Field(default=None, ge=1, le=MAX_HITS, description="number of nearest neighbours")
    substructure: str | None = Field(default=None, max_length=2_000, description="SMARTS every hit must contain")
    max_hits: int = Field(default=1000, ge=1, le=MAX_HITS, description="cap on hits returned")

    @model_validator(mode="after")
    def _one_ranking(self) -> SearchRequest:
        if self.threshold is not None and self.top is not None:
            raise ValueError("send 'threshold' or 'top', not both")
        if self.query is None and not self.substructure:
            raise ValueError("send 'query' (with 'threshold' or 'top') or 'substructure'")
        if self.query is not None and self.threshold is None and self.top is None:
            raise ValueError("a similarity query needs 'threshold' or 'top'")
        return self


class HitOut(BaseModel):
    """One hit: library id, SMILES and Tanimoto similarity (null for pure substructure hits)."""

    id: str
    smiles: str
    similarity: float | None


class SearchResponse(BaseModel):
    """Hits best first; ``truncated`` is true when more hits existed than ``max_hits``."""

    index: str
    mode: str
    query: str
    count: int
    truncated: bool
    fingerprint: dict[str, Any]
    hits: list[HitOut]


def libraries_dir() -> Path:
    """``<data dir>/libraries`` from the platform settings."""
    from theralab.settings import get_settings

    return Path(get_settings().data_dir) / "libraries"


def resolve_index(name: str) -> Path:
    """Map an index name to its folder inside the libraries dir, refusing anything outside it."""
    root = libraries_dir().resolve()
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts:
        raise InputError(
            "an index is named relative to the libraries folder",
            where="index",
            hint="use the folder name under <data dir>/libraries/, e.g. 'enamine_hll'",
        )
    path = (root / rel).resolve()
    if root not in path.parents:
        raise InputError("the index must be inside the libraries folder", where="index")
    if not (path / "manifest.json").is_file():
        raise NotFoundError(
            f"no fingerprint index named {name!r}",
            where="index",
            hint="build one with 'theralab screen index LIB -o <data dir>/libraries/<name>'",
        )
    return path


@lru_cache(maxsize=8)
def _open(path: str, mtime_ns: int) -> Any:
    from theralab.chem.search import FingerprintIndex

    return FingerprintIndex.open(path)


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, user: CurrentUser) -> SearchResponse:
    """Exact Tanimoto search (threshold or top-k), optionally restricted to a substructure.

    Any logged-in user may search (libraries hold no patient data, so no audit record is written).
    """
    path = resolve_index(body.index)
    index = _open(str(path), (path / "manifest.json").stat().st_mtime_ns)
    if body.query is None:
        res = index.substructure(str(body.substructure), max_hits=body.max_hits + 1)
    elif body.top is not None:
        res = index.top_k(body.query, body.top, substructure=body.substructure)
    else:
        res = index.similarity(body.query, float(body.threshold or 0), substructure=body.substructure)
    hits = res.hits[: body.max_hits]
    return SearchResponse(
        index=body.index,
        mode=res.mode,
        query=res.query,
        count=len(res.hits),
        truncated=len(res.hits) > body.max_hits,
        fingerprint=index.manifest["fp"],
        hits=[HitOut(id=h.id, smiles=h.smiles, similarity=h.similarity) for h in hits],
    )


class ScreenRunRequest(RequestModel):
    """A screening run, as the sections of a run file (``docs/screening-pipeline.md``).

    The library is a registered library name (``theralab screen library add``) or inline SMILES
    (``"SMILES id"`` lines); actives are SMILES and models are registered names, never server paths.
    Panel endpoints work as filters (``filters.require: ["hERG <= 0.3"]``) and objectives once
    ``models`` holds ``{"name": "panel"}``.
    """

    name: str = Field("api screen", max_length=200)
    library: str | None = Field(None, max_length=200, description="registered library name")
    smiles: list[str] | None = Field(None, max_length=100_000, description="inline library: 'SMILES [id]' lines")
    chunk_size: int = Field(2000, ge=10, le=100_000)
    standardize: dict[str, Any] = Field(default_factory=dict)
    filters: dict[str, Any] = Field(default_factory=dict)
    similarity: dict[str, Any] = Field(default_factory=dict)
    models: list[dict[str, Any]] = Field(default_factory=list)
    objectives: list[dict[str, Any]] = Field(default_factory=list)
    diversity: dict[str, Any] = Field(default_factory=dict)

    _one_library = exactly_one(
        "library", "smiles", "send 'library' (a registered name) or 'smiles', not both or neither"
    )


class ScreenRunResponse(BaseModel):
    """The job that runs the screen: follow it under ``/v1/jobs/{job_id}``; its result is the hits CSV."""

    job_id: str
    status: str
    kind: str


@router.post("/runs", status_code=202, response_model=ScreenRunResponse)
def submit_run(body: ScreenRunRequest, user: CurrentUser) -> ScreenRunResponse:
    """Validate a run (models, columns, actives) and start it as a ``screen.run`` job.

    Every mistake (unknown key, unknown panel endpoint, unregistered model) is a 422 before any job
    exists. Libraries hold no patient data; the job submission is audited like any other.
    """
    import uuid

    from theralab.discovery.screening import check_config
    from theralab.discovery.screening.config import parse_config
    from theralab.runtime import jobs as runtime_jobs
    from theralab.settings import get_settings

    for i, active in enumerate(body.similarity.get("actives", []) or []):
        if not isinstance(active, str) or Path(active).exists():
            raise InputError("actives are SMILES strings, not files", where=f"similarity.actives.{i}")
    for i, model in enumerate(body.models):
        if "/" in str(model.get("name", "")):
            raise InputError("models are registered names, not paths", where=f"models.{i}.name",
                             hint="see GET /v1/models")
    data_dir = Path(get_settings().data_dir)
    run_id = uuid.uuid4().hex[:12]
    if body.smiles is not None:
        uploads = data_dir / "uploads"
        uploads.mkdir(parents=True, exist_ok=True)
        source = uploads / f"screen-{run_id}.smi"
        source.write_text("".join(s.replace("\n", " ").strip() + "\n" for s in body.smiles))
        library = str(source)
    else:
        from theralab.discovery.screening.libraries import library_path

        library_path(Path(str(body.library)).name)  # NotFoundError (404) when not registered
        library = Path(str(body.library)).name
    params = {"run": {"name": body.name, "library": library, "chunk_size": body.chunk_size,
                      "output_dir": str(data_dir / "screens" / user.username / run_id)},
              "standardize": body.standardize, "filters": body.filters, "similarity": body.similarity,
              "models": body.models, "objectives": body.objectives, "diversity": body.diversity}
    config = parse_config(params, "request body")
    check_config(config)
    job_id = runtime_jobs.create_job("screen.run", config.model_dump(), owner=user.username)
    user.audit("job.submit", "Job", job_id)
    runtime_jobs.start_in_background(job_id)
    job = runtime_jobs.get_job(job_id)
    return ScreenRunResponse(job_id=job_id, status=job["status"], kind="screen.run")
