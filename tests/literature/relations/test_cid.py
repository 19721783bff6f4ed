"""The CID classifier trains for real on 12 BC5CDR abstracts, beats co-occurrence on 4 held-out ones,
keeps evidence sentences, and round-trips through its model card; the shipped model loads."""

from __future__ import annotations

from theralab.literature.readers import read_path
from theralab.literature.relations.cid import CIDModel, cooccurrence, gold_triples, prf
from theralab.literature.relations.features import FEATURES, Priors, candidate_pairs


def _docs(test_data, name):
    docs, errors = read_path(test_data / "literature" / name)
    assert errors == []
    return docs


def test_features_of_a_pair(test_data):
    doc = _docs(test_data, "cdr_dev_mini.PubTator.txt")[0]  # "Hypomania-like syndrome induced by olanzapine."
    pairs = {(c, d): (f, ev) for c, d, f, ev in candidate_pairs(doc)}
    assert set(pairs) == {("C076029", "D001714"), ("C076029", "D011618")}
    feats, ev = pairs[("C076029", "D001714")]
    named = dict(zip(FEATURES, feats, strict=True))
    assert named["both_in_title"] == 1.0 and named["between_induc"] == 1.0 and named["shared_sentences"] == 2
    assert doc.text[ev[0]:ev[1]] == "Hypomania-like syndrome induced by olanzapine."


def test_priors_count_training_documents(test_data):
    docs = _docs(test_data, "cdr_train_mini.PubTator.txt")
    from theralab.literature.relations.cid import gold_pairs

    priors = Priors.fit(docs, gold_pairs(docs))
    pos, n = priors.chem["D008012"]  # lidocaine: in 354896 with a CID relation
    assert n >= 1 and pos >= 1
    assert Priors.from_json(priors.to_json()).pair == priors.pair


def test_train_predict_save_load(test_data, tmp_path):
    train = _docs(test_data, "cdr_train_mini.PubTator.txt")
    dev = _docs(test_data, "cdr_dev_mini.PubTator.txt")
    model, report = CIDModel.train(train, rounds=60, threshold=0.5, folds=3)
    assert report["pairs"] > 20
    scores = model.score(dev)
    assert all(0.0 <= p <= 1.0 for *_x, p, _e in scores)
    pred = {(a, b, c) for a, b, c, p, _e in scores if p >= model.threshold}
    learned = prf(pred, gold_triples(dev))
    floor = prf(cooccurrence(dev), gold_triples(dev))
    assert floor["recall"] == 1.0
    assert learned["precision"] >= floor["precision"]  # fewer false pairs than linking everything
    model.predict(dev)
    for doc in dev:
        for rel in doc.relations:
            assert rel.type == "CID" and rel.subject.startswith("MESH:") and rel.evidence is not None
            s, e = rel.evidence  # one sentence, or the closest sentences of the two and those between
            assert s in {a for a, _ in doc.sentences} and e in {b for _, b in doc.sentences}
    folder = model.save(tmp_path / "cid", {"retrain": "python -m theralab.literature.relations.train cid"})
    again = CIDModel.load(folder)
    assert [round(x[3], 6) for x in again.score(dev)] == [round(x[3], 6) for x in scores]


def test_shipped_model_loads_with_card_and_beats_the_floor_on_fixture(test_data):
    from theralab.models.registry import find_model, load_card

    card = load_card(find_model("literature-cid"))
    assert card.retrain.startswith("python -m theralab.literature.relations.train cid")
    assert card.metrics["dev_gold_entities"]["f1"] > card.metrics["dev_cooccurrence"]["f1"]
    model = CIDModel.load()
    dev = _docs(test_data, "cdr_dev_mini.PubTator.txt")
    pred = {(a, b, c) for a, b, c, p, _e in model.score(dev) if p >= model.threshold}
    assert prf(pred, gold_triples(dev))["f1"] >= prf(cooccurrence(dev), gold_triples(dev))["f1"]
