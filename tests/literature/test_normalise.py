"""MeSH normalisation from a training lexicon: exact keys, fuzzy matches with confidence, genes, abbreviations."""

from __future__ import annotations

from pathlib import Path

from theralab.literature.documents import Document, Mention
from theralab.literature.ner.corpora import bc5cdr_documents
from theralab.literature.normalise import Normaliser, gene_symbol, key, load_normaliser, normalise_document

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "literature" / "bc5cdr_fixture.PubTator.txt"


def test_exact_and_fuzzy_lookup() -> None:
    norm = Normaliser.fit(bc5cdr_documents(FIXTURE))
    assert key("Dilated-Cardiomyopathies") == "dilated cardiomyopathy"
    assert norm.normalise("Amiodarone", "Chemical") == ("MESH:D000638", 1.0)
    ident, conf = norm.normalise("dilated cardiomyopathies", "Disease")
    assert ident == "MESH:D002311" and conf == 1.0
    ident, conf = norm.normalise("Sinoatrial blocks", "Disease")
    assert ident == "MESH:D012848" and conf == 1.0
    ident, conf = norm.normalise("sinoatrial heart block", "Disease")
    assert ident == "MESH:D012848" and 0.55 <= conf < 1.0
    assert norm.normalise("zebra", "Disease") == (None, 0.0)


def test_genes_keep_their_symbol_with_low_confidence() -> None:
    assert gene_symbol("Egfr") == ("HGNC:EGFR", 0.5)
    assert gene_symbol("COX-2") == ("HGNC:COX-2", 0.5)
    assert gene_symbol("epidermal growth factor receptor") == (None, 0.0)


def test_short_forms_take_the_long_forms_identifier() -> None:
    norm = load_normaliser()
    text = "Amphotericin B (AmB) caused heart failure. AmB was stopped."
    doc = Document(id="a", text=text, mentions=[Mention(16, 19, "AmB", "Chemical", None, 0.8),
                                               Mention(43, 46, "AmB", "Chemical", None, 0.8)])
    normalise_document(doc, norm)
    assert [m.identifier for m in doc.mentions] == ["MESH:D000666", "MESH:D000666"]
    assert all(0 < m.confidence <= 0.8 for m in doc.mentions)
