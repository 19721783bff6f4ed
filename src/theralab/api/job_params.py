"""What each job kind accepts over the API, and how that becomes the job's internal parameters.

A network caller names data by id (an upload or a registered library) and never names where the
output goes; :func:`build_params` turns the validated request into the parameters the job kind
reads (``input`` and ``output`` paths), every path resolved and confined by
:mod:`theralab.privacy.confine`. Keys that would name server paths (``input``, ``output``,
``output_dir``, ``crash_once_dir``, ...) are simply not in these models, and ``extra="forbid"``
turns them into a 422.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from theralab.api.schemas import RequestModel
from theralab.errors import InputError
from theralab.privacy.confine import confined, library_file, safe_name, upload_path


class MoleculeSource(RequestModel):
    """Molecules from one upload (``upload_id``) or one registered library (``library``)."""

    upload_id: str | None = Field(None, max_length=120, description="id returned by POST /v1/jobs/uploads")
    library: str | None = Field(None, max_length=120, description="name of a registered library")
    smiles_column: str | None = Field(None, max_length=200)
    id_column: str | None = Field(None, max_length=200)
    chunk_size: int = Field(2000, ge=10, le=100_000)
    format: Literal["parquet", "csv"] = Field("parquet", description="result file format")


class ProfileParams(MoleculeSource):
    standardize: bool = True
    tautomer: bool = False


class AdmetParams(MoleculeSource):
    model: str = Field("panel", max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                       description="'panel' or a registered model name")


class SelftestParams(RequestModel):
    n: int = Field(100, ge=0, le=100_000)
    chunk_size: int = Field(10, ge=1, le=100_000)
    delay: float = Field(0.0, ge=0.0, le=5.0)

    @model_validator(mode="after")
    def _few_chunks(self) -> SelftestParams:
        if self.n > 1000 * self.chunk_size:
            raise ValueError("at most 1,000 chunks: raise chunk_size")
        return self


class ScreenParams(RequestModel):
    """A screening run configuration (see ``theralab screen run --help``) whose ``run`` section names
    a ``library`` or an ``upload_id`` instead of files; results go to the job's folder."""

    run: dict[str, Any] = Field(default_factory=dict)
    standardize: dict[str, Any] = Field(default_factory=dict)
    filters: dict[str, Any] = Field(default_factory=dict)
    similarity: dict[str, Any] = Field(default_factory=dict)
    models: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    objectives: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    diversity: dict[str, Any] = Field(default_factory=dict)


class GenerateRunParams(RequestModel):
    """A generative-design run file given as data (the TOML's tables as JSON), run in budget chunks.

    ``spec`` is validated by :func:`theralab.discovery.generate.parse_run` (``extra="forbid"``), then
    :func:`~theralab.discovery.generate.schemas.check_remote` refuses custom Python scorers and any
    path (models and priors are named); results go to the job's folder.
    """

    spec: dict[str, Any] = Field(..., description="run file: {run: {...}, scoring: {...}, ga|rl|gan: {...}}")
    chunk_budget: int = Field(250, ge=10, le=5000, description="scoring calls per resumable chunk (progress step)")


#: Largest scoring budget of one generate.run job submitted over the network.
MAX_GENERATE_BUDGET = 20_000

PARAMS: dict[str, type[BaseModel]] = {
    "chem.profile": ProfileParams,
    "admet.predict": AdmetParams,
    "selftest": SelftestParams,
    "screen.run": ScreenParams,
    "generate.run": GenerateRunParams,
}


def validate_params(kind: str, params: dict[str, Any]) -> BaseModel:
    """Validate ``params`` for ``kind``; errors become InputError naming the key (a 422)."""
    model = PARAMS.get(kind)
    if model is None:
        raise InputError(f"job kind {kind!r} cannot be submitted over the API", where="kind",
                         hint=f"API job kinds: {', '.join(sorted(PARAMS))}")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "params." + ".".join(str(p) for p in err["loc"])
        msg = f"unknown key '{where}'" if err["type"] == "extra_forbidden" else err["msg"]
        raise InputError(msg, where=where, hint="jobs over the API name data by upload_id or library, never "
                         "by server path; outputs go to the job's own folder") from None


def _source(data_dir: Path, username: str, src: MoleculeSource | dict[str, Any]) -> tuple[Path, str | None, str | None]:
    upload = src.upload_id if isinstance(src, MoleculeSource) else src.get("upload_id")
    library = src.library if isinstance(src, MoleculeSource) else src.get("library")
    smiles_col = src.smiles_column if isinstance(src, MoleculeSource) else src.get("smiles_column")
    id_col = src.id_column if isinstance(src, MoleculeSource) else src.get("id_column")
    if bool(upload) == bool(library):
        raise InputError("name exactly one of 'upload_id' or 'library'", where="params",
                         hint="upload a molecule file with POST /v1/jobs/uploads, or name a registered library")
    if upload:
        return upload_path(data_dir, username, str(upload)), smiles_col, id_col
    return library_file(data_dir, safe_name(str(library), "library")), "smiles", "id"


def build_params(kind: str, request: BaseModel, *, data_dir: Path, username: str, workdir: Path) -> dict[str, Any]:
    """The internal parameters of a job submitted over the API: confined inputs, outputs in ``workdir``."""
    workdir = confined(workdir, Path(data_dir) / "jobs", "job")
    if isinstance(request, SelftestParams):
        return request.model_dump()
    if isinstance(request, (ProfileParams, AdmetParams)):
        source, smiles_col, id_col = _source(data_dir, username, request)
        params = request.model_dump(exclude={"upload_id", "library", "format"})
        if isinstance(request, AdmetParams) and request.model != "panel":
            safe_name(request.model, "params.model")
        stem = "profile" if kind == "chem.profile" else "admet"
        params.update(input=str(source), smiles_column=smiles_col, id_column=id_col,
                      output=str(workdir / f"{stem}.{request.format}"))
        return params
    if isinstance(request, ScreenParams):
        config = request.model_dump()
        run = dict(config.get("run") or {})
        for key in ("output_dir",):
            if key in run:
                raise InputError(f"unknown key 'params.run.{key}'", where=f"params.run.{key}",
                                 hint="a screen submitted over the API writes to its job's folder")
        source_spec = {"upload_id": run.pop("upload_id", None), "library": run.pop("library", None),
                       "smiles_column": run.get("smiles_column"), "id_column": run.get("id_column")}
        source, smiles_col, id_col = _source(data_dir, username, source_spec)
        run.update(library=str(source), smiles_column=smiles_col, id_column=id_col,
                   output_dir=str(workdir / "screen"))
        config["run"] = run
        for i, model in enumerate(config.get("models") or []):
            safe_name(str(model.get("name", "")), f"params.models.{i}.name")
        from theralab.chem.io import parse_smiles

        for i, active in enumerate((config.get("similarity") or {}).get("actives") or []):
            if parse_smiles(str(active))[0] is None:  # a server path is never valid SMILES
                raise InputError("actives over the API are SMILES, never file paths",
                                 where=f"params.similarity.actives.{i}",
                                 hint="paste the actives' SMILES; upload a library with POST /v1/jobs/uploads")
        from theralab.discovery.screening.config import parse_config

        parse_config(config, "params")
        return config
    if isinstance(request, GenerateRunParams):
        from theralab.discovery.generate.schemas import check_remote, parse_run

        cfg = parse_run(request.spec, where="params.spec")
        check_remote(cfg, where="params.spec.scoring.components")
        if cfg.run.budget > MAX_GENERATE_BUDGET:
            raise InputError(f"budget {cfg.run.budget} is over the {MAX_GENERATE_BUDGET:,} calls a network job may use",
                             where="params.spec.run.budget", hint="run bigger searches with 'theralab generate run'")
        if cfg.run.budget / request.chunk_budget > 200:
            raise InputError("at most 200 chunks: raise chunk_budget", where="params.chunk_budget")
        return {"spec": cfg.model_dump(mode="json"), "chunk_budget": request.chunk_budget,
                "output": str(workdir / "results.csv")}
    raise InputError(f"job kind {kind!r} cannot be submitted over the API", where="kind")
