"""The neural clinical NER (BiLSTM-CRF with character CNN): model, loading, training, cross-validation.

Modules: :mod:`.tagger`, :mod:`.ner` (load and run), :mod:`.train`, :mod:`.auxiliary`, :mod:`.cv`.
"""

from __future__ import annotations

from theralab.nlp.neural.ner import (
    BAD,
    GAZETTEER_FILE,
    VOCAB_FILE,
    WEIGHTS_FILE,
    NeuralNER,
    crf_masks,
)

__all__ = [
    "BAD",
    "GAZETTEER_FILE",
    "NeuralNER",
    "VOCAB_FILE",
    "WEIGHTS_FILE",
    "crf_masks",
]
