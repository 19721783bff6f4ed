"""The extraction pipeline (read, tag, relate) and its writers (JSONL, BioC JSON).

Why here: the command line, the API and the benchmark run the same steps in the same order, so
a figure measured by ``benchmarks/literature.py`` is what ``theralab literature extract`` gives.
Tagging uses :func:`theralab.literature.ner.tag` (the project's trained tagger); documents that
already carry mentions (an annotated PubTator or BioC file) keep them unless ``retag`` is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

from theralab.errors import ModelError
from theralab.literature.documents import Document, DocumentError


def tagger() -> Callable[[list[Document]], list[Document]] | None:
    """The project's entity tagger (``theralab.literature.ner.tag``), or ``None`` where it is not installed."""
    try:
        from theralab.literature import ner
    except ImportError:
        return None
    return getattr(ner, "tag", None)


def process(docs: list[Document], *, retag: bool = False, relations: bool = True, batch: int = 32,
            progress: Callable[[int], None] | None = None) -> tuple[list[Document], list[DocumentError]]:
    """Tag (when needed) and relate documents in batches; a batch that fails names its documents as errors.

    Args:
        docs: documents from :mod:`theralab.literature.readers`.
        retag: tag again even when a document already has mentions (e.g. gold ones).
        relations: also extract relations (:func:`theralab.literature.relations.extract`).
        batch: documents per tagger call.
        progress: called with the number of documents finished after each batch.
    """
    tag = tagger()
    errors: list[DocumentError] = []
    out: list[Document] = []
    for i in range(0, len(docs), batch):
        part = docs[i:i + batch]
        try:
            todo = [d for d in part if retag or not d.mentions]
            if todo:
                if tag is None:
                    raise ModelError("no entity tagger is installed (theralab.literature.ner)",
                                     hint="give documents with annotations (PubTator, BioC) or install the tagger")
                for d in todo:
                    d.mentions = []
                tag(todo)
            if relations:
                from theralab.literature.relations import extract

                extract(part)
            out.extend(part)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - one bad batch must not lose the others
            errors.extend(DocumentError(d.id, f"processing failed: {type(exc).__name__}: {exc}") for d in part)
        if progress:
            progress(len(part))
    return out, errors


def to_dict(doc: Document) -> dict[str, Any]:
    """A JSON-safe dict of one document (the JSONL line)."""
    data = asdict(doc)
    data["sections"] = [asdict(s) for s in doc.sections]
    data["sentences"] = [list(s) for s in doc.sentences]
    data["relations"] = [dict(asdict(r), evidence=list(r.evidence) if r.evidence else None,
                              sentence=doc.text[r.evidence[0]:r.evidence[1]] if r.evidence else None)
                         for r in doc.relations]
    return data


def to_jsonl(docs: Iterable[Document]) -> Iterable[str]:
    """One JSON line per document."""
    for doc in docs:
        yield json.dumps(to_dict(doc), ensure_ascii=False) + "\n"


def to_bioc(docs: Iterable[Document]) -> dict[str, Any]:
    """A BioC JSON collection: one passage per section, annotations with locations, relations with nodes."""
    documents = []
    for doc in docs:
        sections = [s for s in doc.sections if s.name in ("title", "abstract")] or \
            [s for s in doc.sections][:1] or []
        if not sections:
            from theralab.literature.documents import Section

            sections = [Section("abstract", 0, len(doc.text))]
        passages = []
        n = 0
        for s in sections:
            anns = []
            for m in doc.mentions:
                if s.start <= m.start < s.end:
                    n += 1
                    anns.append({"id": f"T{n}", "infons": {"type": m.type, "identifier": m.identifier,
                                                           "confidence": m.confidence, "negated": m.negated},
                                 "text": m.text, "locations": [{"offset": m.start, "length": m.end - m.start}]})
            passages.append({"infons": {"type": s.name}, "offset": s.start, "text": doc.text[s.start:s.end],
                             "annotations": anns, "relations": []})
        rels = [{"id": f"R{k}", "infons": {"type": r.type, "subject": r.subject, "object": r.object,
                                           "confidence": r.confidence,
                                           "evidence": list(r.evidence) if r.evidence else None},
                 "nodes": [{"refid": r.subject, "role": "subject"}, {"refid": r.object, "role": "object"}]}
                for k, r in enumerate(doc.relations, 1)]
        documents.append({"id": doc.id, "infons": {"year": str(doc.year or "")}, "passages": passages,
                          "relations": rels})
    return {"source": "theralab", "key": "theralab-literature", "documents": documents}
