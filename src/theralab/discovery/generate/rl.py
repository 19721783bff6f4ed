"""REINVENT-style reinforcement learning on the SMILES prior (Olivecrona et al. 2017; REINVENT 2/3).

The agent starts as a copy of the prior. Each step it samples a batch, the oracle scores it, and the
agent's sequence log-likelihood is pulled towards the *augmented likelihood*

    log p_aug(x) = log p_prior(x) + sigma * S(x)

by minimising ``(log p_aug - log p_agent)^2``; the prior term keeps the agent near chemistry it
knows. Two REINVENT devices:

* **experience replay**: the best molecules seen so far are replayed each step (their loss terms
  are added), which speeds learning on sparse rewards;
* **diversity filter** (identical Murcko scaffold): once ``bucket_size`` molecules with score >=
  ``min_score`` share a scaffold, further ones score 0 for learning, pushing the agent elsewhere.

**Mode collapse** stop: when the fraction of unique valid molecules in a batch stays under
``min_unique`` for ``collapse_patience`` steps, the run stops with that reason (sampling the same
few molecules again would spend the time without new information).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase
from rdkit.Chem.Scaffolds import MurckoScaffold

from theralab.discovery.generate.ga import RunResult
from theralab.discovery.generate.oracle import Oracle, canonical
from theralab.discovery.generate.prior import Prior
from theralab.discovery.generate.schemas import RLConfig

Progress = Callable[[dict[str, float]], None]


def scaffold(smiles: str) -> str:
    """Murcko scaffold SMILES ('' for acyclic molecules, which share one bucket)."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
        return MurckoScaffold.MurckoScaffoldSmiles(mol=mol) if mol is not None else ""


class DiversityFilter:
    """REINVENT's identical-Murcko-scaffold filter: at most ``bucket_size`` good hits per scaffold."""

    def __init__(self, bucket_size: int, min_score: float = 0.4) -> None:
        self.bucket_size = bucket_size
        self.min_score = min_score
        self.buckets: Counter[str] = Counter()

    def __call__(self, smiles: list[str | None], scores: np.ndarray) -> np.ndarray:
        """Scores with molecules from full scaffold buckets set to 0."""
        out = scores.copy()
        for i, s in enumerate(smiles):
            if s is None or out[i] < self.min_score:
                continue
            key = scaffold(s)
            if self.buckets[key] >= self.bucket_size:
                out[i] = 0.0
            else:
                self.buckets[key] += 1
        return out


def run_rl(
    oracle: Oracle,
    prior: Prior,
    cfg: RLConfig | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    max_steps: int = 10_000,
    agent_state: dict | None = None,
    checkpoint: Path | None = None,
) -> RunResult:
    """Fine-tune a copy of ``prior`` on the oracle until its budget is spent or the agent collapses.

    Args:
        agent_state: a saved agent (``Prior.state()``) to continue from instead of the prior.
        checkpoint: where to save the agent after every step (atomically), for resuming.
    """
    import torch

    cfg = cfg or RLConfig()
    torch.manual_seed(seed)
    agent = prior.clone() if agent_state is None else Prior.from_state(agent_state)
    agent.net.train()
    prior.net.eval()
    for p in prior.net.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(agent.net.parameters(), lr=cfg.learning_rate)
    dfilter = DiversityFilter(cfg.bucket_size)
    replay: dict[str, float] = {}
    rows: list[dict[str, float]] = []
    collapsed, stopped = 0, "budget"
    for step in range(1, max_steps + 1):
        if oracle.exhausted:
            break
        smiles, seqs = agent.sample(cfg.batch_size, max_length=cfg.max_length, seed=seed * 100_003 + step)
        # one row per distinct token sequence (REINVENT drops duplicate sequences before the update)
        _, first = np.unique(seqs.numpy(), axis=0, return_index=True)
        first = np.sort(first)
        seqs, smiles = seqs[first], [smiles[i] for i in first]
        canon = [canonical(s) for s in smiles]
        raw = np.nan_to_num(oracle(smiles), nan=0.0)
        scores = dfilter(canon, raw)
        agent_lp = agent.log_likelihood(seqs)
        with torch.no_grad():
            prior_lp = prior.log_likelihood(seqs)
        aug = prior_lp + cfg.sigma * torch.as_tensor(scores, dtype=torch.float32)
        loss_terms = [(aug - agent_lp) ** 2]
        if replay and cfg.replay_sample:
            best = sorted(replay.items(), key=lambda t: -t[1])[: cfg.replay_size]
            pick = np.random.default_rng(seed + step).permutation(len(best))[: cfg.replay_sample]
            rep_smiles = [best[i][0] for i in pick]
            rep_seqs, kept = agent.encode_batch(rep_smiles)
            if len(kept):
                rep_scores = torch.tensor([best[pick[i]][1] for i in kept], dtype=torch.float32)
                with torch.no_grad():
                    rep_prior = prior.log_likelihood(rep_seqs)
                loss_terms.append((rep_prior + cfg.sigma * rep_scores - agent.log_likelihood(rep_seqs)) ** 2)
        loss = torch.cat(loss_terms).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        for s, c, sc in zip(smiles, canon, scores, strict=True):
            if c is not None and sc > 0:
                replay[s] = float(sc)
        if len(replay) > 4 * cfg.replay_size:
            replay = dict(sorted(replay.items(), key=lambda t: -t[1])[: cfg.replay_size])
        valid = [c for c in canon if c is not None]
        unique_frac = len(set(valid)) / cfg.batch_size
        row = {"step": step, "calls": oracle.calls, "best": max(oracle.cache.values(), default=0.0),
               "top10": oracle.top_mean(10), "valid": len(valid) / max(len(canon), 1),
               "unique": unique_frac, "mean_score": float(np.mean(raw)) if len(raw) else 0.0,
               "loss": float(loss.item())}
        rows.append(row)
        if checkpoint is not None:
            tmp = checkpoint.with_suffix(".tmp")
            torch.save(agent.state(), tmp)
            tmp.replace(checkpoint)
        if progress:
            progress(row)
        collapsed = collapsed + 1 if unique_frac < cfg.min_unique else 0
        if collapsed >= cfg.collapse_patience:
            stopped = (f"mode collapse: unique valid fraction < {cfg.min_unique} for "
                       f"{cfg.collapse_patience} steps")
            break
    else:
        stopped = f"max_steps {max_steps}"
    return RunResult(oracle=oracle, history=pd.DataFrame(rows), stopped=stopped)
