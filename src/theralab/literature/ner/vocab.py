"""Inputs of the small network besides the encoder: word and character tables and the mention dictionary.

Why a jackknifed dictionary: the tag of a longest-match lookup of training mention strings
(``B-Chemical`` on "cis" "platin"...) is a strong cue, but on its own training text the dictionary
is complete, so a network would learn to trust it blindly. Training windows are therefore tagged
with a dictionary built from the other folds' documents (:func:`jackknife_gazetteers`), and new text
with the dictionary of all training documents, as in :mod:`theralab.nlp.gazetteer`'s CRF use.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from theralab.literature.documents import Document
from theralab.literature.ner.encoding import HEADS, IGNORE, Window
from theralab.literature.ner.model import GAZ_TAGS, MAX_CHARS, PAD, UNK
from theralab.nlp.gazetteer import Gazetteer
from theralab.nlp.neural.tagger import norm_word


@dataclass
class Vocab:
    """Word and character index tables (saved as JSON beside the weights)."""

    words: dict[str, int] = field(default_factory=lambda: {"<pad>": PAD, "<unk>": UNK})
    chars: dict[str, int] = field(default_factory=lambda: {"<pad>": PAD, "<unk>": UNK})

    @classmethod
    def build(cls, wins: list[Window], min_count: int = 2) -> Vocab:
        """Words seen at least ``min_count`` times (lower-cased, digits as 0) and every character."""
        vocab = cls()
        counts = Counter(norm_word(w.text) for win in wins for w in win.words)
        for word, n in sorted(counts.items()):
            if n >= min_count:
                vocab.words[word] = len(vocab.words)
        for char in sorted({c for win in wins for w in win.words for c in w.text[:MAX_CHARS]}):
            vocab.chars[char] = len(vocab.chars)
        return vocab

    def encode(self, win: Window, gazetteer: Gazetteer) -> dict[str, Any]:
        """Index lists of one window: words, characters, shapes and dictionary tags."""
        gaz_index = {t: i + 1 for i, t in enumerate(GAZ_TAGS)}
        return {
            "words": [self.words.get(norm_word(w.text), UNK) for w in win.words],
            "chars": [[self.chars.get(c, UNK) for c in w.text[:MAX_CHARS]] for w in win.words],
            "shapes": [s + 1 for s in win.shapes],
            "gaz": [gaz_index.get(t, 1) for t in gazetteer.tag(win.words)],
        }

    def save(self, path: Path) -> None:
        """JSON with both tables."""
        Path(path).write_text(json.dumps({"words": self.words, "chars": self.chars}, ensure_ascii=False,
                                         separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        """Read :meth:`save`'s JSON."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["words"], data["chars"])


def gazetteer_of(docs: list[Document]) -> Gazetteer:
    """Dictionary of every mention string of ``docs`` with its most frequent type."""
    return Gazetteer.from_spans([(m.text, m.type) for d in docs for m in d.mentions])


def jackknife_gazetteers(docs: list[Document], folds: int = 5) -> list[Gazetteer]:
    """Per document, the dictionary of the other folds' documents (document ``i`` is in fold ``i % folds``)."""
    per_fold = [gazetteer_of([d for i, d in enumerate(docs) if i % folds != k]) for k in range(folds)]
    return [per_fold[i % folds] for i in range(len(docs))]


def collate(items: list[dict[str, Any]], labels: bool = True) -> dict[str, torch.Tensor]:
    """Pad encoded windows (with their ``ctx`` encoder features and, for training, labels) into tensors."""
    b = len(items)
    t = max(len(it["words"]) for it in items)
    c = max(len(ch) for it in items for ch in it["chars"])
    out: dict[str, torch.Tensor] = {k: torch.zeros(b, t, dtype=torch.long) for k in ("words", "shapes", "gaz")}
    out["chars"] = torch.zeros(b, t, c, dtype=torch.long)
    out["mask"] = torch.zeros(b, t, dtype=torch.bool)
    first = items[0]["ctx"]
    out["ctx"] = torch.zeros(b, t, *first.shape[1:], dtype=first.dtype)
    heads = [h for h in HEADS if labels and h in items[0]]
    for h in heads:
        out[h] = torch.full((b, t), IGNORE, dtype=torch.long)
    for i, it in enumerate(items):
        n = len(it["words"])
        out["mask"][i, :n] = True
        for k in ("words", "shapes", "gaz"):
            out[k][i, :n] = torch.tensor(it[k])
        for j, ch in enumerate(it["chars"]):
            out["chars"][i, j, : len(ch)] = torch.tensor(ch)
        out["ctx"][i, :n] = it["ctx"]
        for h in heads:
            out[h][i, :n] = torch.tensor(it[h])
    return out
