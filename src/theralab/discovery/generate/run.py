"""One entry point for a whole run file: build the scorer, pick the optimiser, checkpoint, resume.

Surfaces (CLI, API) call :func:`execute_run` so they share parsing and defaults. Every scored
molecule is appended to ``<out>.history.csv`` as it is scored; rerunning with ``resume=True``
reloads that history (those calls count against the budget and are not re-scored), restarts the GA
from the best molecules found, and restarts RL from the last agent checkpoint (``<out>.agent.pt``),
so an interrupted run loses at most one generation or step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from theralab.discovery.generate.ga import RunResult, run_ga
from theralab.discovery.generate.oracle import Oracle
from theralab.discovery.generate.schemas import RunConfig
from theralab.discovery.generate.scoring import Scorer
from theralab.errors import InputError

Progress = Callable[[dict[str, float]], None]


def _history_path(out: Path) -> Path:
    return out.with_name(out.stem + ".history.csv")


def _preload(oracle: Oracle, path: Path) -> int:
    """Put a previous run's scored molecules back into the oracle (no re-scoring)."""
    table = pd.read_csv(path, float_precision="round_trip")  # resumed scores equal the scored ones, to the bit
    if "smiles" not in table.columns or "score" not in table.columns:
        raise InputError(f"{path} is not a generation history (needs smiles and score columns)", where=str(path))
    table = table.drop_duplicates("smiles").sort_values("call") if "call" in table else table.drop_duplicates("smiles")
    for s, v in zip(table["smiles"], table["score"], strict=True):
        oracle.cache[str(s)] = float(v)
        oracle.order.append(str(s))
    oracle.rows.append(table)
    return len(table)


def execute_run(
    cfg: RunConfig,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Progress | None = None,
) -> RunResult:
    """Run ``cfg`` to its budget; write the ranked table to ``out`` (CSV or Parquet) when given."""
    out_path = Path(out) if out is not None else None
    scorer = Scorer(cfg.scoring)
    oracle = Oracle(scorer, budget=cfg.run.budget)
    history = _history_path(out_path) if out_path is not None else None
    if history is not None and history.exists():
        if resume:
            _preload(oracle, history)
        else:
            history.unlink()  # a fresh run must not append to an old history
    written = len(oracle.rows)

    def flush() -> None:
        nonlocal written
        if history is not None and len(oracle.rows) > written:
            new = pd.concat(oracle.rows[written:], ignore_index=True)
            new.to_csv(history, mode="a", header=not history.exists() or history.stat().st_size == 0, index=False)
            written = len(oracle.rows)

    def step(row: dict[str, float]) -> None:
        flush()
        if progress:
            progress(row)

    if cfg.run.optimizer == "ga":
        start = list(cfg.run.start_smiles)
        if oracle.cache:
            start = [s for s, _ in sorted(oracle.cache.items(), key=lambda t: -t[1])] + start
        if not start:
            from theralab.discovery.generate.prior import load_prior

            start, _ = load_prior(cfg.run.prior).sample(cfg.ga.population_size * 2, seed=cfg.run.seed)
        result = run_ga(oracle, start, cfg.ga, seed=cfg.run.seed, progress=step)
    elif cfg.run.optimizer == "gan":
        result = _run_gan(cfg, oracle, out_path, resume, step)
    else:
        import torch

        from theralab.discovery.generate.prior import load_prior
        from theralab.discovery.generate.rl import run_rl

        prior = load_prior(cfg.run.prior)
        agent_ckpt = out_path.with_name(out_path.stem + ".agent.pt") if out_path is not None else None
        start_agent = None
        if resume and agent_ckpt is not None and agent_ckpt.exists():
            start_agent = torch.load(agent_ckpt, map_location="cpu", weights_only=True)

        result = run_rl(oracle, prior, cfg.rl, seed=cfg.run.seed, progress=step, agent_state=start_agent,
                        checkpoint=agent_ckpt)
    flush()
    if out_path is not None:
        write_table(result.table(cfg.run.top_k), out_path)
    return result


def _run_gan(cfg: RunConfig, oracle: Oracle, out_path: Path | None, resume: bool, step: Progress) -> RunResult:
    """ORGAN inside a run: reward = lambda D + (1 - lambda) score, until the scoring budget is spent.

    The discriminator's "real" molecules are ``run.start_smiles`` (e.g. known actives: designs
    should look like them and score well) or, when none are given, the prior's own samples, which
    makes the discriminator a learned guard against drifting away from drug-like chemistry.
    """
    import itertools

    from theralab.discovery.generate.gan import train_gan
    from theralab.discovery.generate.prior import load_prior

    if cfg.gan.discriminator_weight >= 1:
        raise InputError("a GAN run optimises its scoring: set gan.discriminator_weight below 1",
                         where="gan.discriminator_weight", hint="ORGAN used 0.5; 1 ignores the objective")
    prior = load_prior(cfg.run.prior)
    if cfg.run.start_smiles:
        real = itertools.cycle(list(cfg.run.start_smiles))
    else:
        def prior_samples() -> Iterator[str]:
            for k in itertools.count():
                yield from prior.sample(256, max_length=cfg.gan.max_length, seed=cfg.run.seed * 7 + k)[0]
        real = prior_samples()
    ckpt = out_path.with_name(out_path.stem + ".gan.pt") if out_path is not None else None
    if ckpt is not None and not resume and ckpt.exists():
        ckpt.unlink()

    def progress(row: dict[str, float]) -> None:
        step({**row, "calls": oracle.calls, "best": max(oracle.cache.values(), default=0.0),
              "top10": oracle.top_mean(10)})

    res = train_gan(prior, real, cfg.gan, objective=oracle, max_steps=100_000, seed=cfg.run.seed,
                    checkpoint=ckpt, resume=resume, progress=progress, stop=lambda: oracle.exhausted)
    return RunResult(oracle=oracle, history=res.history, stopped=res.stopped)


def write_table(table: pd.DataFrame, path: Path) -> None:
    """CSV, or Parquet when the name ends in .parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)
