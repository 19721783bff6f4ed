"""Typed run files for generative design: scoring components, desirabilities and optimiser settings.

A run file is TOML validated here with ``extra="forbid"`` everywhere, so a misspelt key is an error
naming the key instead of a silently ignored setting (the commonest REINVENT support question).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from theralab.errors import InputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class Desirability(_Strict):
    """Maps a raw component value to [0, 1].

    ``kind``:
      * ``raw``: the value clipped to [0, 1] (for scores already in that range: QED, similarity).
      * ``maximize``: 0 at or below ``low``, 1 at or above ``high``.
      * ``minimize``: 1 at or below ``low``, 0 at or above ``high``.
      * ``range``: 1 inside [``low``, ``high``], falling off outside over ``width``.

    ``shape``: ``linear`` ramp, ``sigmoid`` (logistic, 0.007/0.993 at the ends of the ramp) or
    ``step`` (hard threshold at the midpoint for maximize/minimize, at the bounds for range).
    """

    kind: Literal["raw", "maximize", "minimize", "range"] = "raw"
    shape: Literal["linear", "sigmoid", "step"] = "sigmoid"
    low: float | None = None
    high: float | None = None
    width: float = Field(1.0, gt=0, description="range only: distance over which the score falls to ~0")

    @model_validator(mode="after")
    def _bounds(self) -> Desirability:
        if self.kind == "raw":
            return self
        if self.low is None or self.high is None:
            raise ValueError(f"desirability {self.kind!r} needs both 'low' and 'high'")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ValueError(f"desirability needs finite low < high, got low={self.low}, high={self.high}")
        return self


class _Component(_Strict):
    name: str = Field(..., min_length=1, description="unique label; column name in the results table")
    weight: float = 1.0
    desirability: Desirability = Field(default_factory=Desirability)
    timeout_s: float = Field(60.0, gt=0, description="per batch; a slower component fails with its name")

    @field_validator("weight")
    @classmethod
    def _weight(cls, v: float) -> float:
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"weight must be a finite number >= 0, got {v}")
        return v


class QedComponent(_Component):
    """Bickerton's QED (RDKit defaults), already in [0, 1]."""

    type: Literal["qed"]


class SAComponent(_Component):
    """Ertl-Schuffenhauer synthetic accessibility, 1 (easy) .. 10 (hard): pair with ``minimize``."""

    type: Literal["sa_score"]


class PropertyComponent(_Component):
    """Any descriptor of :mod:`theralab.chem.descriptors` (``mw``, ``clogp``, ``tpsa``...)."""

    type: Literal["property"]
    descriptor: str


class SubstructureComponent(_Component):
    """1 when the SMARTS rule is met (``require``: matches; ``forbid``: does not match), else 0."""

    type: Literal["substructure"]
    smarts: str
    mode: Literal["require", "forbid"] = "require"


class SimilarityComponent(_Component):
    """Tanimoto similarity to a reference molecule on a :mod:`theralab.chem.fingerprints` fingerprint."""

    type: Literal["similarity"]
    smiles: str
    fingerprint: str = "morgan2"
    bits: int | None = None


class ModelComponent(_Component):
    """One output column of a registered model (name or model directory), via ``load_predictor``."""

    type: Literal["model"]
    model: str
    column: str | None = Field(None, description="output column; the first numeric one if omitted")


class AdmetComponent(_Component):
    """One endpoint of the ADMET panel (e.g. ``hERG``, ``AMES``, ``Solubility_AqSolDB``)."""

    type: Literal["admet"]
    endpoint: str


class CustomComponent(_Component):
    """A Python scorer ``"module:function"`` taking a list of SMILES and returning one float each."""

    type: Literal["custom"]
    function: str = Field(..., pattern=r"^[\w.]+:\w+$")


_LEAVES = (QedComponent | SAComponent | PropertyComponent | SubstructureComponent | SimilarityComponent
           | ModelComponent | AdmetComponent | CustomComponent)
LeafComponent = Annotated[_LEAVES, Field(discriminator="type")]


class SelectivityComponent(_Component):
    """``on_target - off_target`` of two raw component values (e.g. pIC50 on target minus off-target)."""

    type: Literal["selectivity"]
    on_target: LeafComponent
    off_target: LeafComponent


Component = Annotated[_LEAVES | SelectivityComponent, Field(discriminator="type")]


class ScoringConfig(_Strict):
    """Components and how their desirabilities combine (weights are normalised to sum to 1)."""

    aggregate: Literal["geometric", "arithmetic"] = "geometric"
    components: list[Component] = Field(..., min_length=1)
    on_nan: Literal["zero", "error"] = Field(
        "zero", description="a NaN from a scorer: score that molecule 0 and record why, or stop the run"
    )

    @model_validator(mode="after")
    def _check(self) -> ScoringConfig:
        names = [c.name for c in self.components]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"component names must be unique; repeated: {', '.join(dupes)}")
        if sum(c.weight for c in self.components) <= 0:
            raise ValueError("component weights sum to 0; give at least one a positive weight")
        return self


class GAConfig(_Strict):
    """Graph GA settings (defaults: Jensen 2019 / GuacaMol baseline, PMO's tuned mutation rate)."""

    population_size: int = Field(120, ge=2)
    offspring_size: int = Field(70, ge=1)
    mutation_rate: float = Field(0.067, ge=0, le=1)
    average_size: float = 39.15
    size_stdev: float = 3.50
    patience: int = Field(5, ge=1, description="generations without a new best top-10 mean before stopping")


class RLConfig(_Strict):
    """REINVENT-style RL settings (defaults from REINVENT 2/3: sigma 120 for scores in [0, 1])."""

    batch_size: int = Field(64, ge=2)
    sigma: float = Field(120.0, gt=0)
    learning_rate: float = Field(5e-4, gt=0)
    replay_size: int = Field(64, ge=0)
    replay_sample: int = Field(16, ge=0)
    bucket_size: int = Field(25, ge=1, description="molecules allowed per Murcko scaffold before it scores 0")
    min_unique: float = Field(0.2, ge=0, le=1, description="stop when a batch's unique valid fraction stays below")
    collapse_patience: int = Field(3, ge=1)
    max_length: int = Field(100, ge=10)


class GANConfig(_Strict):
    """ORGAN-style GAN settings (:mod:`.gan`); defaults were set on MOSES train, not on any task."""

    batch_size: int = Field(64, ge=2)
    discriminator_weight: float = Field(0.5, ge=0, le=1, description="ORGAN's lambda: D's share of the reward "
                                        "(1: pure distribution learning, as in benchmarks/generate_gan.py)")
    beta: float = Field(0.01, ge=0, description="KL penalty to the prior (per nat of log-likelihood ratio)")
    g_learning_rate: float = Field(1e-4, gt=0)
    d_learning_rate: float = Field(1e-4, gt=0)
    d_steps: int = Field(1, ge=1, le=10, description="discriminator updates per generator update")
    d_pretrain_steps: int = Field(50, ge=0, le=10_000)
    label_smoothing: float = Field(0.1, ge=0, lt=0.5)
    invalid_reward: float = Field(0.0, ge=0, le=1)
    min_unique: float = Field(0.2, ge=0, le=1, description="stop when a batch's unique valid fraction falls below")
    checkpoint_every: int = Field(10, ge=1)
    max_length: int = Field(100, ge=10)


class RunSection(_Strict):
    """What to run and for how long."""

    optimizer: Literal["ga", "rl", "gan"] = "ga"
    budget: int = Field(1000, ge=10, description="scoring calls (unique molecules scored)")
    seed: int = 0
    prior: str | None = Field(None, description="prior directory; the shipped prior when omitted")
    start_smiles: list[str] = Field(default_factory=list,
                                    description="GA starting population; GAN reference ('real') molecules")
    top_k: int = Field(100, ge=1, description="rows in the ranked results table")


class RunConfig(_Strict):
    """A whole run file: ``[run]``, ``[scoring]`` (+ ``[[scoring.components]]``), ``[ga]``, ``[rl]``, ``[gan]``."""

    run: RunSection = Field(default_factory=RunSection)
    scoring: ScoringConfig
    ga: GAConfig = Field(default_factory=GAConfig)
    rl: RLConfig = Field(default_factory=RLConfig)
    gan: GANConfig = Field(default_factory=GANConfig)


def check_remote(cfg: RunConfig | ScoringConfig, where: str = "scoring.components") -> None:
    """Refuse what a network caller must not reach: Python scorers, server paths, unregistered priors.

    Why here: the API's inline scoring and the ``generate.run`` job accept the same run files, so
    one rule decides for both. A ``custom`` component imports server code; a ``model`` component or
    ``run.prior`` given as a path would read server files. Registered model names are fine.
    """
    scoring = cfg.scoring if isinstance(cfg, RunConfig) else cfg

    def leaves(c: Any) -> list[Any]:
        return [c.on_target, c.off_target] if c.type == "selectivity" else [c]

    for comp in scoring.components:
        for leaf in leaves(comp):
            if leaf.type == "custom":
                raise InputError(f"component {leaf.name!r}: custom Python scorers are not accepted over the API",
                                 where=where, hint="use the command line for custom scorers")
            if leaf.type == "model" and not _NAME.match(leaf.model):
                raise InputError(f"component {leaf.name!r}: give a registered model name, not a path",
                                 where=where, hint="GET /v1/models lists registered models")
    if isinstance(cfg, RunConfig) and cfg.run.prior is not None:
        if not _NAME.match(cfg.run.prior):
            raise InputError("run.prior must be a registered model name (e.g. selfies-gru-prior), not a path",
                             where="run.prior", hint="GET /v1/models lists the generation models")
        from theralab.errors import NotFoundError
        from theralab.models.registry import find_model, load_card

        try:
            task = load_card(find_model(cfg.run.prior), verify=False).task
        except NotFoundError as exc:
            raise InputError(exc.message, where="run.prior", hint=exc.hint) from None
        if task != "generation":
            raise InputError(f"model {cfg.run.prior!r} is not a generative prior", where="run.prior",
                             hint="GET /v1/models lists the models with task 'generation'")


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            return repr(value)
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items() if v is not None) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def spec_to_toml(spec: dict[str, Any]) -> str:
    """A run-file dict as TOML text (what :func:`load_run` reads back), for forms and the CLI.

    Why our own writer: run files are a few tables of scalars, lists and component tables; the
    standard library reads TOML but does not write it.
    """
    lines: list[str] = []
    for section, body in spec.items():
        if not isinstance(body, dict):
            lines.append(f"{section} = {_toml_value(body)}")
            continue
        scalars = {k: v for k, v in body.items() if v is not None and not (isinstance(v, list) and v
                                                                             and isinstance(v[0], dict))}
        tables = {k: v for k, v in body.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
        lines += ["", f"[{section}]"] + [f"{k} = {_toml_value(v)}" for k, v in scalars.items()]
        for key, rows in tables.items():
            for row in rows:
                lines += ["", f"[[{section}.{key}]]"]
                lines += [f"{k} = {_toml_value(v)}" for k, v in row.items() if v is not None]
    return "\n".join(lines).lstrip() + "\n"


def _validation_error(exc: ValidationError, where: str) -> InputError:
    lines = []
    for err in exc.errors()[:8]:
        loc = ".".join(str(p) for p in err["loc"])
        lines.append(f"{loc}: {err['msg']}")
    return InputError("invalid run file: " + "; ".join(lines), where=where,
                      hint="see docs/generation.md for the run-file keys and component types")


def parse_run(data: dict[str, Any], where: str = "run file") -> RunConfig:
    """Validate a run-file dict; every problem is reported with its key path."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, where) from None


def parse_scoring(data: dict[str, Any], where: str = "scoring") -> ScoringConfig:
    """Validate a ``[scoring]`` dict alone (for library callers and the API)."""
    try:
        return ScoringConfig.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc, where) from None


def load_run(path: str | Path) -> RunConfig:
    """Read and validate a TOML run file."""
    import tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"run file not found: {path}", where=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"run file is not valid TOML: {exc}", where=str(path)) from None
    return parse_run(data, where=str(path))
