"""A SMILES language-model prior (GRU), trained streaming with checkpoints, and its sampler.

The prior is the generator REINVENT's RL fine-tunes and the distribution learner MOSES judges:
``p(SMILES) = prod_t p(token_t | tokens_<t)``. Tokens follow REINVENT's regex (bracket atoms,
two-letter halogens and ring-bond labels are single tokens). Training reads MOSES train straight
from the ``molsets`` wheel (a zip; nothing is extracted), one batch at a time, so memory stays flat
whatever the corpus size; a checkpoint every ``checkpoint_every`` steps records the weights, the
optimiser and how many molecules were consumed, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theralab.errors import InputError

PAD, BOS, EOS = "<pad>", "^", "$"
TOKEN_RE = re.compile(r"(\[[^\]]+]|Br|Cl|%\d{2}|[A-Za-z]|\d|\(|\)|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\.)")
MOSES_MEMBER = "moses/dataset/data/train.csv.gz"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights" / "smiles-gru-prior"


def tokenize(smiles: str) -> list[str]:
    """Split a SMILES into tokens; raises InputError when characters are left over."""
    tokens = TOKEN_RE.findall(smiles)
    if "".join(tokens) != smiles:
        raise InputError(f"SMILES has characters the tokenizer does not know: {smiles!r}")
    return tokens


@dataclass
class Vocabulary:
    """Token <-> index; index 0 is padding, 1 begin, 2 end."""

    tokens: list[str]

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, smiles: Sequence[str]) -> Vocabulary:
        """All tokens seen in ``smiles`` (sorted, after the three specials)."""
        seen: set[str] = set()
        for s in smiles:
            seen.update(TOKEN_RE.findall(s))
        return cls([PAD, BOS, EOS, *sorted(seen)])

    def encode(self, smiles: str) -> list[int] | None:
        """``[BOS, tokens..., EOS]`` as indices, or None when a token is out of vocabulary."""
        try:
            return [1] + [self.index[t] for t in tokenize(smiles)] + [2]
        except (KeyError, InputError):
            return None

    def decode(self, ids: Sequence[int]) -> str:
        """Indices (without BOS) up to the first EOS back to a SMILES string."""
        out = []
        for i in ids:
            if i == 2 or i == 0:
                break
            out.append(self.tokens[i])
        return "".join(out)


def moses_smiles(wheel: str | Path, skip: int = 0) -> Iterator[str]:
    """Stream MOSES train SMILES from the ``molsets`` wheel, skipping the first ``skip`` rows."""
    wheel = Path(wheel)
    if not wheel.exists():
        raise InputError(f"molsets wheel not found: {wheel}", where=str(wheel),
                         hint="pip download --no-deps molsets==0.3.1 -d benchmarks/cache/")
    with zipfile.ZipFile(wheel) as zf, zf.open(MOSES_MEMBER) as raw:
        reader = csv.reader(io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="ascii"))
        header = next(reader)
        col = header.index("SMILES")
        for k, row in enumerate(reader):
            if k >= skip:
                yield row[col]


def _net(vocab_size: int, embed: int, hidden: int, layers: int, dropout: float) -> Any:
    import torch.nn as nn

    class SmilesGRU(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(vocab_size, embed, padding_idx=0)
            self.rnn = nn.GRU(embed, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
            self.out = nn.Linear(hidden, vocab_size)

        def forward(self, x: Any, h: Any = None) -> tuple[Any, Any]:
            y, h = self.rnn(self.embed(x), h)
            return self.out(y), h

    return SmilesGRU()


class Prior:
    """The GRU language model with its vocabulary; sampling and sequence log-likelihoods.

    Args:
        vocab: token vocabulary.
        embed, hidden, layers, dropout: network size (the card records them).
    """

    def __init__(self, vocab: Vocabulary, embed: int = 64, hidden: int = 256, layers: int = 2,
                 dropout: float = 0.0) -> None:
        self.vocab = vocab
        self.hparams = {"embed": embed, "hidden": hidden, "layers": layers, "dropout": dropout}
        self.net = _net(len(vocab.tokens), embed, hidden, layers, dropout)

    def clone(self) -> Prior:
        """An independent copy (the RL agent starts as a copy of the prior)."""
        other = Prior(self.vocab, **self.hparams)
        other.net.load_state_dict(self.net.state_dict())
        return other

    def encode_batch(self, smiles: Sequence[str]) -> tuple[Any, list[int]]:
        """Padded ``(n, L)`` long tensor of encodable SMILES and the indices of those kept."""
        import torch

        rows, kept = [], []
        for i, s in enumerate(smiles):
            ids = self.vocab.encode(s)
            if ids is not None:
                rows.append(ids)
                kept.append(i)
        length = max((len(r) for r in rows), default=2)
        out = torch.zeros((len(rows), length), dtype=torch.long)
        for i, r in enumerate(rows):
            out[i, : len(r)] = torch.tensor(r)
        return out, kept

    def log_likelihood(self, seqs: Any) -> Any:
        """Per-sequence sum of token log-probabilities (differentiable), for ``[BOS ... EOS pad]`` rows."""
        import torch.nn.functional as F

        logits, _ = self.net(seqs[:, :-1])
        target = seqs[:, 1:]
        logp = F.log_softmax(logits, dim=-1).gather(2, target.unsqueeze(-1)).squeeze(-1)
        return (logp * (target != 0)).sum(dim=1)

    def sample(self, n: int, max_length: int = 100, seed: int | None = None,
               temperature: float = 1.0) -> tuple[list[str], Any]:
        """Sample ``n`` SMILES; returns them and their token tensors ``[BOS, ..., EOS, pad]``."""
        import torch

        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        self.net.eval()
        with torch.no_grad():
            x = torch.full((n, 1), 1, dtype=torch.long)
            seqs = [x]
            h = None
            done = torch.zeros(n, dtype=torch.bool)
            for _ in range(max_length):
                logits, h = self.net(x, h)
                probs = torch.softmax(logits[:, -1] / temperature, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=gen).squeeze(1)
                nxt = torch.where(done, torch.zeros_like(nxt), nxt)
                seqs.append(nxt.unsqueeze(1))
                done |= nxt == 2
                x = nxt.unsqueeze(1)
                if bool(done.all()):
                    break
        tokens = torch.cat(seqs, dim=1)
        smiles = [self.vocab.decode(row[1:].tolist()) for row in tokens]
        return smiles, tokens

    def state(self) -> dict[str, Any]:
        """Everything needed to rebuild the model (weights, vocabulary, sizes)."""
        return {"state_dict": self.net.state_dict(), "vocab": self.vocab.tokens, "hparams": self.hparams}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Prior:
        """Inverse of :meth:`state`."""
        prior = cls(Vocabulary(list(state["vocab"])), **state["hparams"])
        prior.net.load_state_dict(state["state_dict"])
        return prior

    def save(self, path: str | Path) -> None:
        """Write ``prior.pt`` (weights only: tensors, vocabulary and sizes)."""
        import torch

        torch.save(self.state(), Path(path))


def load_prior(path: str | Path | None = None) -> Prior:
    """Load a prior from a ``prior.pt`` file or its directory (the shipped prior when None)."""
    import torch

    path = Path(path) if path is not None else WEIGHTS_DIR
    if path.is_dir():
        path = path / "prior.pt"
    if not path.exists():
        raise InputError(f"no prior at {path}", where=str(path),
                         hint="train one: python benchmarks/generate_prior.py --help")
    return Prior.from_state(torch.load(path, map_location="cpu", weights_only=True))


def sample_report(smiles: Sequence[str], train: set[str] | None = None) -> dict[str, float]:
    """Validity, uniqueness (of valid) and novelty (of unique valid, against ``train``) of samples."""
    from rdkit import Chem, rdBase

    canon = []
    with rdBase.BlockLogs():
        for s in smiles:
            mol = Chem.MolFromSmiles(s) if s else None
            if mol is not None:
                canon.append(Chem.MolToSmiles(mol))
    n = max(len(smiles), 1)
    uniq = set(canon)
    out = {"n": float(len(smiles)), "validity": len(canon) / n,
           "uniqueness": len(uniq) / len(canon) if canon else 0.0}
    if train is not None:
        out["novelty"] = len(uniq - train) / len(uniq) if uniq else 0.0
    return out


def train_prior(
    source: Iterator[str],
    out_dir: str | Path,
    vocab: Vocabulary | None = None,
    *,
    batch_size: int = 128,
    lr: float = 1e-3,
    max_minutes: float = 12.0,
    max_molecules: int | None = None,
    checkpoint_every: int = 100,
    resume: bool = True,
    hparams: dict[str, Any] | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Train (or resume training) a prior on a stream of SMILES, checkpointing to ``out_dir``.

    Why by wall time: the machine is shared, so a fixed time box is the honest unit; the card
    records how many molecules the model actually saw. ``checkpoint.pt`` holds weights, optimiser
    and ``consumed``; a rerun with ``resume=True`` skips the molecules already seen.

    Returns:
        ``{"consumed", "steps", "loss_per_token", "seconds", "seconds_total"}`` (totals over resumes).
    """
    import torch

    torch.set_num_threads(1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    consumed, steps, before = 0, 0, 0.0
    if resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        prior = Prior.from_state(ckpt["model"])
        opt = torch.optim.Adam(prior.net.parameters(), lr=lr)
        opt.load_state_dict(ckpt["optimizer"])
        consumed, steps = int(ckpt["consumed"]), int(ckpt["steps"])
        before = float(ckpt.get("seconds", 0.0))
        for _ in range(consumed):  # skip what the checkpoint already saw
            next(source, None)
        log(f"resumed from {ckpt_path}: {consumed} molecules, {steps} steps")
    else:
        if vocab is None:
            raise InputError("a new prior needs a vocabulary", hint="Vocabulary.build(smiles sample)")
        prior = Prior(vocab, **(hparams or {}))
        opt = torch.optim.Adam(prior.net.parameters(), lr=lr)
    prior.net.train()
    start, loss_ema = time.time(), float("nan")

    def checkpoint() -> None:
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": prior.state(), "optimizer": opt.state_dict(), "consumed": consumed,
                    "steps": steps, "seconds": before + time.time() - start}, tmp)
        tmp.replace(ckpt_path)  # atomic: an interrupted save never corrupts the last checkpoint

    while True:
        batch = []
        for s in source:
            batch.append(s)
            if len(batch) == batch_size:
                break
        if not batch:
            break
        consumed += len(batch)
        seqs, _ = prior.encode_batch(batch)
        if len(seqs) == 0:
            continue
        loss = -(prior.log_likelihood(seqs)).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(prior.net.parameters(), 5.0)
        opt.step()
        steps += 1
        per_tok = loss.item() / max(float((seqs[:, 1:] != 0).sum()) / len(seqs), 1.0)
        loss_ema = per_tok if np.isnan(loss_ema) else 0.98 * loss_ema + 0.02 * per_tok
        if steps % checkpoint_every == 0:
            checkpoint()
            log(f"step {steps} molecules {consumed} loss/token {loss_ema:.3f} {time.time() - start:.0f}s")
        if (time.time() - start) / 60 >= max_minutes or (max_molecules and consumed >= max_molecules):
            break
    checkpoint()
    prior.save(out / "prior.pt")
    summary = {"consumed": consumed, "steps": steps, "loss_per_token": loss_ema,
               "seconds": round(time.time() - start, 1), "seconds_total": round(before + time.time() - start, 1)}
    (out / "train_log.json").write_text(json.dumps(summary, indent=2))
    return summary


class PriorPredictor:
    """The prior as a registered model: ``predict`` gives each SMILES' log-likelihood under the prior.

    Why: a likelihood is a usable score (``type = "model"``, ``model = "smiles-gru-prior"``) to keep
    designs close to the chemistry the prior learned, and it makes the prior visible in
    ``theralab models list`` with its card.
    """

    def __init__(self, model_dir: Path) -> None:
        from theralab.models.registry import load_card

        self.card = load_card(model_dir)
        self.prior = load_prior(model_dir)

    def predict(self, smiles: Sequence[str]) -> Any:
        """``log_likelihood`` (nats, summed over tokens) per SMILES; NaN when a token is unknown."""
        import pandas as pd
        import torch

        smiles = list(smiles)
        out = np.full(len(smiles), np.nan)
        seqs, kept = self.prior.encode_batch(smiles)
        if kept:
            with torch.no_grad():
                out[kept] = self.prior.log_likelihood(seqs).numpy()
        return pd.DataFrame({"log_likelihood": out})


def load_predictor_dir(model_dir: str | Path) -> PriorPredictor:
    """Loader named in the shipped card (``theralab.discovery.generate.prior:load_predictor_dir``)."""
    return PriorPredictor(Path(model_dir))
