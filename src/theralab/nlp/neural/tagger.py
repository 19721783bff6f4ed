"""A BiLSTM-CRF tagger with character CNN: the neural clinical NER shipped as ``chia-bilstm``.

Why a small neural tagger rather than the CRF alone: the CRF over hand-made window features
plateaued at 0.72 overlap F1 on held-out Chia trials, mostly on the vague types (Qualifier,
Observation, Mood, Multiplier) whose cues sit several words away. A bidirectional LSTM reads the
whole criterion line, a character CNN generalises over spellings it never saw (``-itis``,
``-mab``, ``HbA1c``), and word vectors pre-trained by us on unlabelled criteria text (see
:mod:`theralab.nlp.embeddings`) carry similarity between rare words. A CRF layer on top keeps the
BIO output well formed. Several seeds are averaged (an ensemble) because single BiLSTM runs vary
by a point or more. Everything is trained in this project from Chia (no hub download); weights
are float16 ``torch`` tensors read with ``torch.load(weights_only=True)`` (no pickle).

Input per token: lower-cased word with digits folded to ``0``, its characters, its collapsed
shape (:func:`theralab.nlp.features.shape`), a lexicon cue (unit, time word, comparator,
negation…) and the tag of the training-entity dictionary (:mod:`theralab.nlp.gazetteer`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theralab.nlp import features as _f
from theralab.nlp.tokens import Token

PAD, UNK = 0, 1
MAX_CHARS = 20
_LEXICONS = (("unit", _f._UNITS), ("time", _f._TIME), ("cmp", _f._COMPARATORS), ("neg", _f._NEGATIONS),
             ("person", _f._PERSON), ("mood", _f._MOOD), ("num", _f._NUM_WORDS))
_DIGITS = re.compile(r"\d")


def norm_word(word: str) -> str:
    """The word-embedding key: lower case, every digit ``0`` (so ``7.5`` and ``8.2`` share a vector)."""
    return _DIGITS.sub("0", word.lower())


def lexicon_cue(word: str) -> str:
    """The lexicon a word belongs to (``unit``, ``time``…), a suffix hint (``-itis``), or ``-``."""
    low = word.lower()
    for name, lex in _LEXICONS:
        if low in lex:
            return name
    for suf in _f._SUFFIX_HINTS:
        if low.endswith(suf) and len(low) > len(suf) + 1:
            return suf
    return "-"


@dataclass
class Vocab:
    """String -> index tables for every input and the labels; saved as JSON beside the weights."""

    words: dict[str, int] = field(default_factory=lambda: {"<pad>": PAD, "<unk>": UNK})
    chars: dict[str, int] = field(default_factory=lambda: {"<pad>": PAD, "<unk>": UNK})
    shapes: dict[str, int] = field(default_factory=lambda: {"<pad>": PAD, "<unk>": UNK})
    cues: dict[str, int] = field(default_factory=lambda: {"<pad>": PAD, "<unk>": UNK})
    gaz: dict[str, int] = field(default_factory=lambda: {"<pad>": PAD, "<unk>": UNK})
    labels: list[str] = field(default_factory=list)

    @staticmethod
    def _add(table: dict[str, int], key: str) -> None:
        if key not in table:
            table[key] = len(table)

    def add_line(self, tokens: list[Token], gaz_tags: list[str] | None) -> None:
        """Register the characters, shapes, cues and dictionary tags of one training line."""
        for i, t in enumerate(tokens):
            for c in t.text[:MAX_CHARS]:
                self._add(self.chars, c)
            self._add(self.shapes, _f.shape(t.text)[:6])
            self._add(self.cues, lexicon_cue(t.text))
            if gaz_tags is not None:
                self._add(self.gaz, gaz_tags[i])

    def encode(self, tokens: list[Token], gaz_tags: list[str] | None) -> dict[str, Any]:
        """Index lists of one line (unknown strings map to ``<unk>``)."""
        g = gaz_tags or ["O"] * len(tokens)
        return {
            "words": [self.words.get(norm_word(t.text), UNK) for t in tokens],
            "chars": [[self.chars.get(c, UNK) for c in t.text[:MAX_CHARS]] for t in tokens],
            "shapes": [self.shapes.get(_f.shape(t.text)[:6], UNK) for t in tokens],
            "cues": [self.cues.get(lexicon_cue(t.text), UNK) for t in tokens],
            "gaz": [self.gaz.get(x, UNK) for x in g],
        }

    def to_json(self) -> dict[str, Any]:
        return {"words": self.words, "chars": self.chars, "shapes": self.shapes, "cues": self.cues,
                "gaz": self.gaz, "labels": self.labels}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vocab:
        return cls(data["words"], data["chars"], data["shapes"], data["cues"], data["gaz"], list(data["labels"]))

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")),
                              encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def allowed_transitions(labels: list[str]) -> list[list[bool]]:
    """``ok[i][j]``: may label ``j`` follow label ``i`` in BIO (``I-X`` only after ``B-X``/``I-X``)."""
    def ok(a: str, b: str) -> bool:
        return not b.startswith("I-") or (a != "O" and a[2:] == b[2:])
    return [[ok(a, b) for b in labels] for a in labels]


def batch_tensors(encoded: list[dict[str, Any]]) -> dict[str, Any]:
    """Pad a list of encoded lines into ``[B, T]`` (and ``[B, T, C]`` chars) long tensors plus a mask."""
    import torch

    b, t = len(encoded), max(len(e["words"]) for e in encoded)
    c = max(len(ch) for e in encoded for ch in e["chars"])
    out = {k: torch.zeros(b, t, dtype=torch.long) for k in ("words", "shapes", "cues", "gaz")}
    chars = torch.zeros(b, t, c, dtype=torch.long)
    mask = torch.zeros(b, t, dtype=torch.bool)
    for i, e in enumerate(encoded):
        n = len(e["words"])
        mask[i, :n] = True
        for k in out:
            out[k][i, :n] = torch.tensor(e[k])
        for j, ch in enumerate(e["chars"]):
            chars[i, j, :len(ch)] = torch.tensor(ch)
    return {**out, "chars": chars, "mask": mask}


def build_tagger(sizes: dict[str, int], hp: dict[str, Any]) -> Any:
    """The ``torch.nn.Module`` (defined lazily so importing this module does not import torch)."""
    import torch
    from torch import nn

    class CharCNN(nn.Module):
        def __init__(self, n: int, dim: int, filters: int) -> None:
            super().__init__()
            self.emb = nn.Embedding(n, dim, padding_idx=PAD)
            self.conv = nn.Conv1d(dim, filters, kernel_size=3, padding=1)

        def forward(self, chars: torch.Tensor) -> torch.Tensor:
            b, t, c = chars.shape
            x = self.emb(chars.view(b * t, c)).transpose(1, 2)  # [BT, dim, C]
            h = self.conv(x).masked_fill((chars.view(b * t, 1, c) == PAD), -1e4)
            return h.max(dim=2).values.clamp(min=-1.0).view(b, t, -1)

    class Tagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(sizes["words"], hp["word_dim"], padding_idx=PAD)
            self.char = CharCNN(sizes["chars"], hp["char_dim"], hp["char_filters"])
            self.shape = nn.Embedding(sizes["shapes"], hp["feat_dim"], padding_idx=PAD)
            self.cue = nn.Embedding(sizes["cues"], hp["feat_dim"], padding_idx=PAD)
            self.gaz = nn.Embedding(sizes["gaz"], hp["feat_dim"], padding_idx=PAD)
            d_in = hp["word_dim"] + hp["char_filters"] + 3 * hp["feat_dim"]
            self.drop = nn.Dropout(hp["dropout"])
            self.lstm = nn.LSTM(d_in, hp["hidden"], num_layers=hp["layers"], bidirectional=True,
                                batch_first=True, dropout=hp["dropout"] if hp["layers"] > 1 else 0.0)
            self.out = nn.Linear(2 * hp["hidden"], sizes["labels"])
            n = sizes["labels"]
            self.trans = nn.Parameter(torch.zeros(n, n))
            self.start = nn.Parameter(torch.zeros(n))
            self.end = nn.Parameter(torch.zeros(n))

        def emissions(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            return self.out(self.drop(self.hidden(batch)))

        def hidden(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
            """The BiLSTM states ``[B, T, 2*hidden]`` (auxiliary training heads read them too)."""
            x = torch.cat([self.word(batch["words"]), self.char(batch["chars"]), self.shape(batch["shapes"]),
                           self.cue(batch["cues"]), self.gaz(batch["gaz"])], dim=-1)
            lengths = batch["mask"].sum(1).cpu()
            packed = nn.utils.rnn.pack_padded_sequence(self.drop(x), lengths, batch_first=True,
                                                       enforce_sorted=False)
            h, _ = self.lstm(packed)
            h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
            return h

    return Tagger()


def crf_nll(em: Any, tags: Any, mask: Any, trans: Any, start: Any, end: Any) -> Any:
    """Mean negative log-likelihood of the gold tag paths under a linear-chain CRF.

    Args:
        em: emission scores ``[B, T, L]``; tags: ``[B, T]``; mask: ``[B, T]`` bool (left-aligned).
        trans, start, end: transition ``[L, L]`` and start/end ``[L]`` scores (invalid BIO moves
            already penalised by the caller).
    """
    import torch

    b, t, _ = em.shape
    maskf = mask.float()
    ar = torch.arange(b, device=em.device)
    gold = start[tags[:, 0]] + (em.gather(2, tags.unsqueeze(2)).squeeze(2) * maskf).sum(1)
    gold = gold + (trans[tags[:, :-1], tags[:, 1:]] * maskf[:, 1:]).sum(1)
    last = tags[ar, mask.sum(1) - 1]
    gold = gold + end[last]
    alpha = start + em[:, 0]  # [B, L]
    for i in range(1, t):
        nxt = torch.logsumexp(alpha.unsqueeze(2) + trans.unsqueeze(0), dim=1) + em[:, i]
        alpha = torch.where(mask[:, i:i + 1], nxt, alpha)
    log_z = torch.logsumexp(alpha + end, dim=1)
    return (log_z - gold).mean()


def viterbi(em: Any, trans: Any, start: Any, end: Any) -> list[int]:
    """Best label path of one sequence (``em``: ``[T, L]``)."""
    import torch

    score = start + em[0]
    back = []
    for i in range(1, em.shape[0]):
        s = score.unsqueeze(1) + trans  # [L_prev, L]
        best, idx = s.max(dim=0)
        back.append(idx)
        score = best + em[i]
    path = [int(torch.argmax(score + end))]
    for idx in reversed(back):
        path.append(int(idx[path[-1]]))
    return path[::-1]


def marginals(em: Any, trans: Any, start: Any, end: Any) -> Any:
    """Per-token label marginal probabilities ``[T, L]`` of one sequence (forward-backward)."""
    import torch

    t = em.shape[0]
    alpha = [start + em[0]]
    for i in range(1, t):
        alpha.append(torch.logsumexp(alpha[-1].unsqueeze(1) + trans, dim=0) + em[i])
    beta = [end]
    for i in range(t - 1, 0, -1):
        beta.append(torch.logsumexp(trans + (em[i] + beta[-1]).unsqueeze(0), dim=1))
    beta = beta[::-1]
    a, bt = torch.stack(alpha), torch.stack(beta)
    log_z = torch.logsumexp(alpha[-1] + end, dim=0)
    return torch.exp(a + bt - log_z)
