"""Relations between mentioned concepts: chemical-induced disease, chemical-gene, gene-disease.

Public API::

    from theralab.literature.relations import extract
    docs = extract(docs)           # docs with mentions (gold or from the tagger) -> docs with relations

Each :class:`~theralab.literature.documents.Relation` keeps its evidence sentence. CID comes from
a trained LightGBM classifier (:mod:`.cid`), chemical-gene types from a trained logistic regression
(:mod:`.chemprot`) applied to pairs whose sentence carries a relation trigger, gene-disease
associations from sentence co-occurrence with a trigger score (:mod:`.gda`; no trained model).
"""

from __future__ import annotations

from functools import lru_cache

from theralab.literature.documents import Document, Relation
from theralab.literature.relations.chemprot import ChemProtModel
from theralab.literature.relations.cid import CIDModel
from theralab.literature.relations.gda import CHEM_GENE_TRIGGERS, GDA_TRIGGERS, sentence_pairs, trigger_score

__all__ = ["CIDModel", "ChemProtModel", "RELATION_TYPES", "extract", "load_models"]

RELATION_TYPES = ("CID", "CPR:3", "CPR:4", "CPR:5", "CPR:6", "CPR:9", "GDA")


@lru_cache(maxsize=1)
def load_models() -> tuple[CIDModel, ChemProtModel]:
    """The shipped CID and ChemProt models (loaded once per process, checksums verified)."""
    return CIDModel.load(), ChemProtModel.load()


def extract(docs: list[Document], *, cid: CIDModel | None = None, chemprot: ChemProtModel | None = None,
            min_confidence: float = 0.4) -> list[Document]:
    """Add relations to documents whose ``mentions`` are filled (identifiers needed for concepts).

    Args:
        docs: documents with mentions.
        cid: a CID model (default: the shipped one).
        chemprot: a ChemProt model (default: the shipped one).
        min_confidence: chemical-gene and gene-disease pairs below this trigger score are dropped (the
            default keeps sentences with at least one trigger word and no negation, or two with one).
    """
    if cid is None or chemprot is None:
        shipped = load_models()
        cid, chemprot = cid or shipped[0], chemprot or shipped[1]
    cid.predict(docs)
    for doc in docs:
        best: dict[tuple[str, str, str], Relation] = {}
        for chem, gene, span in sentence_pairs(doc, "Chemical", "Gene"):
            sentence = doc.text[span[0]:span[1]]
            gate = trigger_score(sentence, CHEM_GENE_TRIGGERS)
            if gate < min_confidence or chem.start == gene.start:
                continue
            s0 = span[0]
            label, p = chemprot.predict(sentence, chem.start - s0, chem.end - s0, gene.start - s0, gene.end - s0)
            rel = Relation(label, str(chem.identifier), str(gene.identifier), round(p * gate, 4), span)
            key = (label, rel.subject, rel.object)
            if key not in best or best[key].confidence < rel.confidence:
                best[key] = rel
        for gene, dis, span in sentence_pairs(doc, "Gene", "Disease"):
            score = trigger_score(doc.text[span[0]:span[1]], GDA_TRIGGERS)
            if score < min_confidence:
                continue
            rel = Relation("GDA", str(gene.identifier), str(dis.identifier), round(score, 4), span)
            key = ("GDA", rel.subject, rel.object)
            if key not in best or best[key].confidence < rel.confidence:
                best[key] = rel
        doc.relations.extend(best.values())
    return docs
