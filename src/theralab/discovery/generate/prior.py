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
from collections.abc import Iterable, Iterator, Sequence
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


def selfies_tokens(smiles: str) -> list[str] | None:
    """SELFIES tokens of a SMILES (Krenn et al. 2020), or None when the encoder refuses it."""
    import selfies as sf

    try:
        return list(sf.split_selfies(sf.encoder(smiles)))
    except Exception:  # selfies raises EncoderError and, for odd input, plain ValueErrors
        return None


@dataclass
class Vocabulary:
    """Token <-> index; index 0 is padding, 1 begin, 2 end.

    ``kind`` is ``"smiles"`` (REINVENT's regex tokens) or ``"selfies"``: the same network then
    reads and writes SELFIES tokens, and :meth:`decode` turns any token string back into a SMILES
    that parses (SELFIES' guarantee), so callers see SMILES either way.
    """

    tokens: list[str]
    kind: str = "smiles"

    def __post_init__(self) -> None:
        if self.kind not in ("smiles", "selfies"):
            raise InputError(f"unknown vocabulary kind {self.kind!r}", hint="smiles or selfies")
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def split(self, smiles: str) -> list[str] | None:
        """A SMILES as this vocabulary's tokens (None when it cannot be tokenised)."""
        if self.kind == "selfies":
            return selfies_tokens(smiles)
        try:
            return tokenize(smiles)
        except InputError:
            return None

    @classmethod
    def build(cls, smiles: Iterable[str], kind: str = "smiles") -> Vocabulary:
        """All tokens seen in ``smiles`` (sorted, after the three specials)."""
        probe = cls([PAD, BOS, EOS], kind)
        seen: set[str] = set()
        for s in smiles:
            seen.update(probe.split(s) or [])
        return cls([PAD, BOS, EOS, *sorted(seen)], kind)

    def encode(self, smiles: str) -> list[int] | None:
        """``[BOS, tokens..., EOS]`` as indices, or None when a token is out of vocabulary."""
        tokens = self.split(smiles)
        if tokens is None:
            return None
        try:
            return [1] + [self.index[t] for t in tokens] + [2]
        except KeyError:
            return None

    def decode(self, ids: Sequence[int]) -> str:
        """Indices (without BOS) up to the first EOS back to a SMILES string."""
        out = []
        for i in ids:
            if i == 2 or i == 0:
                break
            out.append(self.tokens[i])
        if self.kind == "selfies":
            import selfies as sf

            try:
                return sf.decoder("".join(out)) or ""
            except Exception:  # a decoder failure is an invalid sample, not a crash
                return ""
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
        other = Prior(self.vocab, **self.hparams)  # the vocabulary (and its kind) is shared
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
            banned = torch.zeros(len(self.vocab.tokens), dtype=torch.bool)
            banned[:2] = True  # padding and begin never follow; end never comes first (an empty molecule)
            for t in range(max_length):
                logits, h = self.net(x, h)
                step_logits = logits[:, -1].masked_fill(banned, float("-inf"))
                if t == 0:
                    step_logits[:, 2] = float("-inf")
                probs = torch.softmax(step_logits / temperature, dim=-1)
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
        return {"state_dict": self.net.state_dict(), "vocab": self.vocab.tokens, "kind": self.vocab.kind,
                "hparams": self.hparams}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Prior:
        """Inverse of :meth:`state`."""
        prior = cls(Vocabulary(list(state["vocab"]), str(state.get("kind", "smiles"))), **state["hparams"])
        prior.net.load_state_dict(state["state_dict"])
        return prior

    def save(self, path: str | Path) -> None:
        """Write ``prior.pt`` (weights only: tensors, vocabulary and sizes)."""
        import torch

        torch.save(self.state(), Path(path))


def load_prior(path: str | Path | None = None) -> Prior:
    """Load a prior from a ``prior.pt`` file, its directory, or a registered model name.

    None gives the shipped SMILES prior; a name such as ``selfies-gru-prior`` or ``smiles-organ``
    is looked up in :mod:`theralab.models.registry` (so API callers name priors, never paths).
    """
    import torch

    if path is not None and not any(c in str(path) for c in "/\\") and not str(path).endswith(".pt"):
        from theralab.errors import NotFoundError
        from theralab.models.registry import find_model

        try:  # a registered name wins over a same-named folder in the working directory
            path = find_model(str(path))
        except NotFoundError:
            if not Path(path).exists():
                raise
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
    init: Prior | None = None,
    init_seen: int = 0,
    lr_final: float | None = None,
    bucket: int = 16,
    log: Any = print,
) -> dict[str, Any]:
    """Train (or resume training) a prior on a stream of SMILES, checkpointing to ``out_dir``.

    Why by wall time: the machine is shared, so a fixed time box is the honest unit; the card
    records how many molecules the model actually saw. ``checkpoint.pt`` holds weights, optimiser
    and ``consumed``; a rerun with ``resume=True`` skips the molecules already seen.

    Args:
        init: start from these weights (e.g. the shipped prior) when there is no checkpoint, so
            earlier rounds' compute is not thrown away; ``init_seen`` molecules (what those weights
            saw, in file order) are skipped and counted.
        lr_final: when given, the learning rate follows a cosine from ``lr`` down to ``lr_final``
            over this call's ``max_minutes`` (a late low rate lowers the loss a fixed budget reaches).
        bucket: read ``bucket`` batches at a time and batch them by length, which cuts padding
            (the GRU runs to the longest row of a batch) without changing what is learned.

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
    elif init is not None:
        prior = init.clone()
        opt = torch.optim.Adam(prior.net.parameters(), lr=lr)
        consumed = init_seen
        for _ in range(init_seen):
            next(source, None)
        log("starting from the given weights (no checkpoint)")
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
        prior.save(out / "prior.pt")  # a usable snapshot while training goes on

    def batches() -> Iterator[list[str]]:
        while True:
            chunk = [s for _, s in zip(range(batch_size * bucket), source, strict=False)]
            if not chunk:
                return
            chunk.sort(key=len)
            groups = [chunk[i: i + batch_size] for i in range(0, len(chunk), batch_size)]
            order = np.random.default_rng(steps + consumed).permutation(len(groups))
            yield from (groups[i] for i in order)

    for batch in batches():
        consumed += len(batch)
        if lr_final is not None:
            frac = min((time.time() - start) / 60 / max_minutes, 1.0)
            for group in opt.param_groups:
                # a plain float: a numpy scalar in the optimiser state makes the checkpoint unloadable
                # with weights_only=True, i.e. training could not resume
                group["lr"] = float(lr_final + (lr - lr_final) * 0.5 * (1 + np.cos(np.pi * frac)))
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
