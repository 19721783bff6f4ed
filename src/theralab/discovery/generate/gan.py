"""An ORGAN-style sequence GAN: the prior as generator, a CNN discriminator on SMILES tokens.

ORGAN (Guimaraes et al. 2017) trains a SMILES generator by policy gradient against a reward that
mixes a discriminator's belief that a molecule is real with an objective:

    R(x) = lambda * D(x) + (1 - lambda) * O(x)

Here the generator is a copy of the pre-trained prior and the discriminator is a small text CNN
(Kim 2014; SeqGAN's discriminator) over the same tokens. Two simplifications, both because one
shared CPU core is the budget:

* the reward is given per sequence (REINFORCE with a batch-mean baseline), not per token through
  Monte-Carlo roll-outs as SeqGAN/ORGAN do (roll-outs multiply sampling cost by ~16 x length);
* the policy gradient carries a KL penalty to the prior, ``R - beta (log p_G(x) - log p_prior(x))``,
  the standard guard against the mode collapse ORGAN is known for.

Molecules that do not parse get ``invalid_reward`` (0): the discriminator would learn that too,
but slower. What the discriminator sees as "real" is a stream of reference SMILES (MOSES train for
distribution learning; a user's actives or, when none, the prior's own samples inside a run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.discovery.generate.oracle import canonical
from theralab.discovery.generate.prior import Prior
from theralab.discovery.generate.schemas import GANConfig
from theralab.errors import InputError

Progress = Callable[[dict[str, float]], None]
Objective = Callable[[list[str]], np.ndarray]


def _disc_net(vocab_size: int, embed: int, filters: Sequence[tuple[int, int]], dropout: float) -> Any:
    import torch
    import torch.nn as nn

    class SmilesCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embed, padding_idx=0)
            self.convs = nn.ModuleList(nn.Conv1d(embed, n, w) for w, n in filters)
            total = sum(n for _, n in filters)
            self.highway = nn.Linear(total, total)
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(total, 1)

        def forward(self, x: Any) -> Any:
            width = max(w for w, _ in filters)
            if x.shape[1] < width:  # a row shorter than the widest filter: pad so every conv fits
                x = torch.nn.functional.pad(x, (0, width - x.shape[1]))
            e = self.embed(x).transpose(1, 2)
            h = torch.cat([torch.relu(c(e)).max(dim=2).values for c in self.convs], dim=1)
            gate = torch.sigmoid(self.highway(h))  # SeqGAN's highway layer
            h = gate * torch.relu(self.highway(h)) + (1 - gate) * h
            return self.out(self.drop(h)).squeeze(1)

    return SmilesCNN()


class Discriminator:
    """Logistic CNN over padded token rows ``[BOS, ..., EOS, pad]`` of the prior's vocabulary."""

    def __init__(self, vocab_size: int, embed: int = 32, filters: Sequence[tuple[int, int]] | None = None,
                 dropout: float = 0.25) -> None:
        self.filters = [tuple(f) for f in (filters or [(2, 32), (3, 32), (4, 32), (5, 32), (6, 32), (8, 32)])]
        self.hparams = {"vocab_size": vocab_size, "embed": embed, "filters": self.filters, "dropout": dropout}
        self.net = _disc_net(vocab_size, embed, self.filters, dropout)

    def prob(self, seqs: Any) -> np.ndarray:
        """P(real) per row (no gradient)."""
        import torch

        self.net.eval()
        with torch.no_grad():
            return torch.sigmoid(self.net(seqs)).numpy()

    def state(self) -> dict[str, Any]:
        """Weights and sizes."""
        return {"state_dict": self.net.state_dict(), "hparams": self.hparams}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Discriminator:
        """Inverse of :meth:`state`."""
        hp = dict(state["hparams"])
        disc = cls(hp.pop("vocab_size"), **hp)
        disc.net.load_state_dict(state["state_dict"])
        return disc


def _pad_to(a: Any, b: Any) -> tuple[Any, Any]:
    import torch.nn.functional as F

    n = max(a.shape[1], b.shape[1])
    return F.pad(a, (0, n - a.shape[1])), F.pad(b, (0, n - b.shape[1]))


@dataclass
class GanResult:
    """The trained generator and discriminator, per-step history and why training stopped."""

    generator: Prior
    discriminator: Discriminator
    history: pd.DataFrame
    stopped: str


def train_gan(
    prior: Prior,
    real: Iterator[str],
    cfg: GANConfig | None = None,
    *,
    objective: Objective | None = None,
    max_steps: int = 1000,
    max_minutes: float | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    resume: bool = True,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> GanResult:
    """Adversarially fine-tune a copy of ``prior`` against a CNN discriminator.

    Args:
        prior: the pre-trained generator (left unchanged; it anchors the KL penalty).
        real: an endless (or long) stream of reference SMILES the discriminator calls real.
        cfg: GAN settings (``discriminator_weight`` = ORGAN's lambda; 1 is pure distribution learning).
        objective: ``O(x)`` in [0, 1] for valid SMILES (ORGAN's objective term); needed when
            ``cfg.discriminator_weight < 1``.
        max_steps, max_minutes: generator steps / wall time for this call (whichever comes first).
        checkpoint: file for generator + discriminator + optimisers + step; resumed when it exists.
        stop: polled each step; True stops early (the optimiser's budget is spent).

    Returns:
        A :class:`GanResult`; ``history`` has one row per generator step (valid and unique rates,
        mean D on real and fake, reward, KL estimate).
    """
    import torch
    import torch.nn.functional as F

    cfg = cfg or GANConfig()
    if cfg.discriminator_weight < 1 and objective is None:
        raise InputError("a GAN with lambda < 1 needs an objective to mix into the reward",
                         hint="set gan.discriminator_weight = 1 for pure distribution learning")
    torch.manual_seed(seed)
    gen = prior.clone()
    disc = Discriminator(len(prior.vocab.tokens))
    g_opt = torch.optim.Adam(gen.net.parameters(), lr=cfg.g_learning_rate)
    d_opt = torch.optim.Adam(disc.net.parameters(), lr=cfg.d_learning_rate)
    step, rows = 0, []
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and resume and ckpt.exists():
        saved = torch.load(ckpt, map_location="cpu", weights_only=True)
        gen = Prior.from_state(saved["generator"])
        disc = Discriminator.from_state(saved["discriminator"])
        g_opt = torch.optim.Adam(gen.net.parameters(), lr=cfg.g_learning_rate)
        d_opt = torch.optim.Adam(disc.net.parameters(), lr=cfg.d_learning_rate)
        g_opt.load_state_dict(saved["g_opt"])
        d_opt.load_state_dict(saved["d_opt"])
        step, rows = int(saved["step"]), list(saved.get("history", []))
    prior.net.eval()
    for p in prior.net.parameters():
        p.requires_grad_(False)

    def real_batch(n: int) -> Any:
        smiles = [s for _, s in zip(range(n * 2), real, strict=False)]
        seqs, kept = gen.encode_batch(smiles)
        if len(kept) < 2:
            raise InputError("the reference stream ran dry or has no encodable SMILES",
                             hint="give more reference molecules (tokens must be in the prior's vocabulary)")
        return seqs[: n]

    def d_step(fake: Any) -> float:
        disc.net.train()
        real_seqs = real_batch(len(fake))
        a, b = _pad_to(real_seqs, fake)
        x = torch.cat([a, b])
        y = torch.cat([torch.ones(len(a)), torch.zeros(len(b))])
        loss = F.binary_cross_entropy_with_logits(disc.net(x), y * (1 - cfg.label_smoothing))
        d_opt.zero_grad()
        loss.backward()
        d_opt.step()
        return float(loss.item())

    def save() -> None:
        if ckpt is None:
            return
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"generator": gen.state(), "discriminator": disc.state(), "g_opt": g_opt.state_dict(),
                    "d_opt": d_opt.state_dict(), "step": step, "history": rows}, tmp)
        tmp.replace(ckpt)  # atomic

    if step == 0:  # teach the discriminator the prior's mistakes before the generator moves
        for k in range(cfg.d_pretrain_steps):
            _, fake = gen.sample(cfg.batch_size, max_length=cfg.max_length, seed=seed * 7919 + k)
            d_step(fake)
    start, stopped = time.time(), f"max_steps {max_steps}"
    baseline = None
    while step < max_steps:
        if max_minutes is not None and (time.time() - start) / 60 >= max_minutes:
            stopped = f"max_minutes {max_minutes}"
            break
        if stop is not None and stop():
            stopped = "budget"
            break
        step += 1
        smiles, seqs = gen.sample(cfg.batch_size, max_length=cfg.max_length, seed=seed * 100_003 + step)
        canon = [canonical(s) for s in smiles]
        valid = np.array([c is not None for c in canon])
        d_fake = disc.prob(seqs)
        reward = np.where(valid, d_fake, cfg.invalid_reward)
        obj = np.zeros(len(smiles))
        if objective is not None and cfg.discriminator_weight < 1:
            obj = np.nan_to_num(np.asarray(objective(smiles), dtype=float), nan=0.0)
            lam = cfg.discriminator_weight
            reward = lam * reward + (1 - lam) * np.where(valid, obj, cfg.invalid_reward)
        gen.net.train()
        g_lp = gen.log_likelihood(seqs)
        with torch.no_grad():
            p_lp = prior.log_likelihood(seqs)
        kl = (g_lp.detach() - p_lp).numpy()
        shaped = reward - cfg.beta * kl
        baseline = shaped.mean() if baseline is None else 0.9 * baseline + 0.1 * shaped.mean()
        adv = torch.as_tensor(shaped - baseline, dtype=torch.float32)
        g_loss = -(adv * g_lp).mean()
        g_opt.zero_grad()
        g_loss.backward()
        torch.nn.utils.clip_grad_norm_(gen.net.parameters(), 5.0)
        g_opt.step()
        d_losses = [d_step(seqs)]
        for k in range(cfg.d_steps - 1):
            _, fake = gen.sample(cfg.batch_size, max_length=cfg.max_length, seed=seed * 31 + step * 17 + k)
            d_losses.append(d_step(fake))
        real_probe = disc.prob(real_batch(min(64, cfg.batch_size)))
        ok = [c for c in canon if c is not None]
        row = {"step": step, "valid": float(valid.mean()), "unique": len(set(ok)) / len(canon),
               "d_real": float(real_probe.mean()), "d_fake": float(d_fake.mean()),
               "reward": float(reward.mean()), "objective": float(obj[valid].mean()) if valid.any() else 0.0,
               "kl": float(kl.mean()), "d_loss": float(np.mean(d_losses)), "g_loss": float(g_loss.item()),
               "seconds": round(time.time() - start, 1)}
        rows.append(row)
        if progress:
            progress(row)
        if ckpt is not None and (step % cfg.checkpoint_every == 0):
            save()
        if row["unique"] < cfg.min_unique:
            stopped = f"mode collapse: unique fraction {row['unique']:.2f} < {cfg.min_unique}"
            break
    save()
    return GanResult(generator=gen, discriminator=disc, history=pd.DataFrame(rows), stopped=stopped)
