"""Load and run the neural NER (:mod:`theralab.nlp.neural.tagger`) with the same API as the CRF one.

A model directory holds ``model.pt`` (float16 tensors of every ensemble member and the settings,
read with ``torch.load(weights_only=True)``: no pickle), ``vocab.json``, ``gazetteer.json`` and the
card ``model.json``; the weights' sha256 in the card is checked before torch reads them.
``predict(text)`` returns :class:`~theralab.nlp.entities.Entity` records with offsets into the
caller's text, exactly like :class:`theralab.nlp.ner.ClinicalNER`, so criteria parsing, note
matching and the benchmark take either model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from theralab.errors import InputError
from theralab.nlp.entities import Entity, bio_to_spans
from theralab.nlp.gazetteer import Gazetteer
from theralab.nlp.neural.tagger import Vocab, allowed_transitions, batch_tensors, build_tagger, marginals, viterbi
from theralab.nlp.tokens import Token, split_lines, tokenize

WEIGHTS_FILE = "model.pt"
VOCAB_FILE = "vocab.json"
GAZETTEER_FILE = "gazetteer.json"
BAD = -1e4  # score of a BIO-invalid transition (I-X after O or after another type)


def crf_masks(labels: list[str]) -> tuple[Any, Any]:
    """Additive penalties: ``[L, L]`` for invalid transitions and ``[L]`` for starting on an ``I-``."""
    import torch

    ok = torch.tensor(allowed_transitions(labels))
    trans = torch.where(ok, 0.0, BAD)
    start = torch.tensor([BAD if lab.startswith("I-") else 0.0 for lab in labels])
    return trans, start


class NeuralNER:
    """A loaded BiLSTM-CRF ensemble: ``predict(text)`` -> entities with offsets into ``text``.

    Args:
        model_dir: a directory with ``model.pt``, ``vocab.json`` and ``model.json``.
        verify: check the weights' sha256 against the card first (default True).
    """

    def __init__(self, model_dir: Path, *, verify: bool = True) -> None:
        import torch

        from theralab.models.registry import card_and_file

        self.model_dir = Path(model_dir)
        self.card, path = card_and_file(self.model_dir, WEIGHTS_FILE, verify=verify)
        blob = torch.load(path, map_location="cpu", weights_only=True)
        self.vocab = Vocab.load(self.model_dir / VOCAB_FILE)
        self.labels = list(self.vocab.labels)
        self.members = []
        for state in blob["members"]:
            net = build_tagger(blob["sizes"], blob["hp"])
            net.load_state_dict({k: v.float() for k, v in state.items()})
            net.eval()
            self.members.append(net)
        gaz = self.model_dir / GAZETTEER_FILE
        self.gazetteer = Gazetteer.load(gaz) if gaz.exists() else None
        self._mask_trans, self._mask_start = crf_masks(self.labels)
        params = getattr(self.card, "params", None) or {}
        self.o_bias = float(params.get("o_bias", 0.0))

    @property
    def entity_types(self) -> list[str]:
        """Entity types this model can emit."""
        return sorted({lab[2:] for lab in self.labels if lab != "O"})

    def _potentials(self, lines: list[list[Token]]) -> list[tuple[Any, Any, Any, Any]]:
        """Ensemble-averaged CRF potentials (emissions ``[T, L]``, transitions, start, end) per line."""
        import torch

        enc = [self.vocab.encode(t, self.gazetteer.tag(t) if self.gazetteer is not None else None) for t in lines]
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny batches: one thread is fastest, and never oversubscribes shared cores
        try:
            with torch.inference_mode():
                batch = batch_tensors(enc)
                n = len(self.members)
                em = sum(m.emissions(batch) for m in self.members) / n
                if self.o_bias:  # recall/precision trade-off (card params.o_bias; 0 in the shipped model)
                    em[..., self.labels.index("O")] -= self.o_bias
                trans = sum(m.trans for m in self.members) / n + self._mask_trans
                start = sum(m.start for m in self.members) / n + self._mask_start
                end = sum(m.end for m in self.members) / n
        finally:
            torch.set_num_threads(threads)
        return [(em[i, :len(toks)], trans, start, end) for i, toks in enumerate(lines)]

    def tag_lines(self, lines: list[list[Token]], *, with_scores: bool = False) -> list[Any]:
        """BIO labels for several token lines at once (one batched forward pass), optionally with marginals."""
        if not lines:
            return []
        out: list[Any] = []
        for k in range(0, len(lines), 256):
            for em, trans, start, end in self._potentials(lines[k:k + 256]):
                labels = [self.labels[j] for j in viterbi(em, trans, start, end)]
                if with_scores:
                    probs = marginals(em, trans, start, end)
                    out.append((labels, [float(probs[i, self.labels.index(lab)]) for i, lab in enumerate(labels)]))
                else:
                    out.append(labels)
        return out

    def tag_tokens(self, tokens: list[Token]) -> list[str]:
        """BIO labels for the tokens of one line (used by evaluation)."""
        return self.tag_lines([tokens])[0] if tokens else []

    def predict(self, text: str) -> list[Entity]:
        """Tag every non-blank line of ``text`` and return the entities in reading order.

        ``score`` is the mean marginal probability of the entity's labels under the ensemble CRF.

        Raises:
            InputError: when ``text`` is not a string.
        """
        if not isinstance(text, str):
            raise InputError(f"text must be a string, not {type(text).__name__}", where="text")
        lines = [toks for _off, line in split_lines(text) if (toks := tokenize(line, _off))]
        out: list[Entity] = []
        for toks, (labels, probs) in zip(lines, self.tag_lines(lines, with_scores=True), strict=True):
            for etype, start, end, i, j in bio_to_spans(toks, labels):
                out.append(Entity(text[start:end], etype, start, end, score=round(sum(probs[i:j]) / (j - i), 4)))
        return out
