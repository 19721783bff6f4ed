"""PubTator reading: texts, mention offsets, relations, and errors that say where."""

from __future__ import annotations

from collections import Counter

import pytest

from theralab.errors import InputError
from theralab.nlp.pubtator import bio_sentences, pubtator_docs, pubtator_texts, read_pubtator


def test_read_pubtator_offsets_point_at_the_mention(test_data):
    docs = read_pubtator(test_data / "literature" / "mini.PubTator.txt")
    assert [d.pmid for d in docs] == ["227508", "354896"]
    first = docs[0]
    assert [first.text[m.start : m.end] for m in first.mentions] == ["Naloxone", "clonidine"]
    assert first.mentions[1].concept == "D003000" and first.relations == [("CID", "D003000", "D006973")]
    assert docs[1].text == "Lidocaine-induced cardiac asystole."  # empty abstract: title only


def test_pubtator_texts_reads_a_folder(test_data, tmp_path):
    import shutil

    shutil.copy(test_data / "literature" / "mini.PubTator.txt", tmp_path / "mini.PubTator.txt")
    texts = pubtator_texts(tmp_path)
    assert len(texts) == 2 and texts[0].startswith("Naloxone reverses") and "blood pressure" in texts[0]


def test_bc5cdr_titles_and_abstracts_all_load(shared_data):
    texts = pubtator_texts(shared_data / "literature" / "bc5cdr")
    assert len(texts) == 1000  # 500 training + 500 development abstracts


def test_malformed_lines_are_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "x.PubTator.txt"
    bad.write_text("1|t|Title\n1\tzero\t4\tTitl\tChemical\tD1\n")
    with pytest.raises(InputError) as exc:
        read_pubtator(bad)
    assert "x.PubTator.txt:2" in str(exc.value.where) and "not integers" in str(exc.value)
    with pytest.raises(InputError, match="no \\*.PubTator.txt"):
        pubtator_texts(tmp_path / "missing")


def test_bio_sentences_label_the_mentions_sentence_by_sentence(test_data):
    doc = read_pubtator(test_data / "literature" / "mini.PubTator.txt")[0]
    sentences = bio_sentences(doc)
    assert [" ".join(t.text for t in toks) for toks, _ in sentences] == [
        "Naloxone reverses the antihypertensive effect of clonidine .",
        "In rats clonidine lowered blood pressure .",
    ]
    tagged = [(t.text, lab) for toks, labels in sentences for t, lab in zip(toks, labels, strict=True) if lab != "O"]
    assert tagged == [("Naloxone", "B-Chemical"), ("clonidine", "B-Chemical")]  # the abstract's is not


def test_bc5cdr_sentences_carry_every_mention(shared_data):
    """Mention counts are the corpus paper's (Li et al., Database 2016: training 5,203 chemical and 4,182
    disease mentions, development 5,347 and 4,244), and every mention begins exactly one BIO entity."""
    docs = pubtator_docs(shared_data / "literature" / "bc5cdr")
    kinds = Counter(m.type for d in docs for m in d.mentions)
    assert kinds == {"Chemical": 5203 + 5347, "Disease": 4182 + 4244}
    begins = Counter(lab[2:] for d in docs for _t, labels in bio_sentences(d) for lab in labels if lab[:2] == "B-")
    assert begins == kinds
