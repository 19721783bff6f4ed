"""The clinical NER: loading by name, and the linear-chain CRF (CRFsuite) over :mod:`theralab.nlp.features`.

:func:`load_ner` returns the model a directory holds: the BiLSTM-CRF ensemble
(:mod:`theralab.nlp.neural.ner`, shipped as ``chia-bilstm``, the default) or this CRF
(``chia-crf``, kept as the fast, dependency-light peer and for comparison).

The model directory holds ``model.crfsuite`` (CRFsuite's own binary format: weights and labels,
no code, so it is safe to load) and ``model.json`` (the registry card). :func:`load_ner` verifies
the sha256 in the card before CRFsuite reads the file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from theralab.errors import InputError, ModelError
from theralab.nlp.clusters import load_clusters
from theralab.nlp.entities import Entity, bio_to_spans
from theralab.nlp.features import sequence_features
from theralab.nlp.gazetteer import Gazetteer
from theralab.nlp.tokens import Token, split_lines, tokenize

if TYPE_CHECKING:
    from theralab.nlp.neural.ner import NeuralNER

DEFAULT_MODEL = "chia-bilstm"
WEIGHTS_ROOT = Path(__file__).resolve().parent / "weights"
MODEL_FILE = "model.crfsuite"
GAZETTEER_FILE = "gazetteer.json"
CLUSTERS_FILE = "clusters.json"
NEURAL_FILE = "model.pt"  # the BiLSTM-CRF's weights (theralab.nlp.neural.ner)


def crfsuite_module():
    try:
        import pycrfsuite
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ModelError("the clinical NER needs python-crfsuite",
                         hint="pip install python-crfsuite") from exc
    return pycrfsuite


class ClinicalNER:
    """A loaded CRF tagger: ``predict(text)`` -> entities with offsets into ``text``.

    Args:
        model_dir: a directory with ``model.crfsuite`` and ``model.json``.
        verify: check the weights' sha256 against the card first (default True).
    """

    def __init__(self, model_dir: Path, *, verify: bool = True) -> None:
        from theralab.models.registry import card_and_file

        self.model_dir = Path(model_dir)
        self.card, path = card_and_file(self.model_dir, MODEL_FILE, verify=verify)
        self._tagger = crfsuite_module().Tagger()
        self._tagger.open(str(path))
        self.labels = sorted(self._tagger.labels())
        gaz = self.model_dir / GAZETTEER_FILE
        self.gazetteer = Gazetteer.load(gaz) if gaz.exists() else None
        cl = self.model_dir / CLUSTERS_FILE
        self.clusters = load_clusters(cl) if cl.exists() else None

    def featurize(self, tokens: list[Token]) -> list[dict[str, str | float]]:
        """The CRF features of one line, with gazetteer tags when the model was trained with them."""
        return sequence_features(tokens, self.gazetteer.tag(tokens) if self.gazetteer is not None else None,
                                 self.clusters)

    @property
    def entity_types(self) -> list[str]:
        """Entity types this model can emit."""
        return sorted({lab[2:] for lab in self.labels if lab != "O"})

    def predict(self, text: str) -> list[Entity]:
        """Tag every non-blank line of ``text`` and return the entities in reading order.

        Raises:
            InputError: when ``text`` is not a string.
        """
        if not isinstance(text, str):
            raise InputError(f"text must be a string, not {type(text).__name__}", where="text")
        out: list[Entity] = []
        for offset, line in split_lines(text):
            toks = tokenize(line, offset)
            if not toks:
                continue
            labels = self._tagger.tag(self.featurize(toks))
            for etype, start, end, i, j in bio_to_spans(toks, labels):
                probs = [self._tagger.marginal(labels[k], k) for k in range(i, j)]
                out.append(Entity(text[start:end], etype, start, end, score=round(sum(probs) / len(probs), 4)))
        return out

    def tag_tokens(self, tokens: list[Token]) -> list[str]:
        """BIO labels for the tokens of one line (used by evaluation)."""
        return list(self._tagger.tag(self.featurize(tokens)))


@lru_cache(maxsize=4)
def load_ner(name_or_path: str = DEFAULT_MODEL) -> ClinicalNER | NeuralNER:
    """The shipped model by name (``weights/<name>``), or any model directory by path; cached.

    A directory with ``model.pt`` is the BiLSTM-CRF (:class:`~theralab.nlp.neural.ner.NeuralNER`),
    one with ``model.crfsuite`` the CRF; both offer ``predict``, ``tag_tokens`` and ``entity_types``.
    """
    path = Path(name_or_path)
    if not path.is_dir():
        path = WEIGHTS_ROOT / name_or_path
    if not (path / "model.json").exists():
        raise ModelError(f"no NER model at {path}",
                         hint="retrain it: python -m theralab.nlp.neural.train --chia ../shared/data/trials/chia")
    if (path / NEURAL_FILE).exists():
        from theralab.nlp.neural.ner import NeuralNER

        return NeuralNER(path)
    return ClinicalNER(path)
