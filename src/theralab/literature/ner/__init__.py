"""Named entities of biomedical literature: chemicals, diseases and genes, normalised, with negation.

Public API::

    from theralab.literature.ner import tag
    docs = tag(docs)  # fills each Document's mentions: type, span, identifier, confidence, negated

The pipeline per batch: sentences (:mod:`theralab.literature.sentences`) -> the trained tagger
(:mod:`.tagger`: frozen MiniLM features + BiLSTM-CRF, shipped as ``bc5cdr-minilm-bilstm``) ->
abbreviation propagation (:mod:`theralab.literature.abbreviations`) -> MeSH/HGNC normalisation
(:mod:`theralab.literature.normalise`) -> negation (:mod:`theralab.literature.negation`).
Modules: :mod:`.encoding`, :mod:`.model`, :mod:`.vocab`, :mod:`.tagger`, :mod:`.train`,
:mod:`.evaluate`, :mod:`.corpora`, :mod:`.pipeline`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MODEL", "annotate", "load_model", "propagate_abbreviations", "tag"]

DEFAULT_MODEL = "bc5cdr-minilm-bilstm"


def __getattr__(name: str) -> Any:
    if name in ("tag", "annotate", "load_model", "propagate_abbreviations"):
        from theralab.literature.ner import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
