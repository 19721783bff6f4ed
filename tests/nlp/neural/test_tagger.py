"""The BiLSTM-CRF NER: CRF algebra against brute force, a tiny real training run, the shipped ensemble."""

from __future__ import annotations

import itertools
import shutil

import pytest

torch = pytest.importorskip("torch")

from theralab.errors import InputError, ModelError  # noqa: E402
from theralab.models.registry import ModelCard, load_card, save_card  # noqa: E402
from theralab.nlp.chia import corpus_fingerprint, flatten, load_chia  # noqa: E402
from theralab.nlp.ner import WEIGHTS_ROOT, load_ner  # noqa: E402
from theralab.nlp.neural.ner import GAZETTEER_FILE, VOCAB_FILE, WEIGHTS_FILE, NeuralNER  # noqa: E402
from theralab.nlp.neural.tagger import allowed_transitions, crf_nll, marginals, viterbi  # noqa: E402
from theralab.nlp.neural.train import train_bilstm  # noqa: E402
from theralab.nlp.pubtator import read_pubtator  # noqa: E402
from theralab.nlp.train import evaluate, score  # noqa: E402

SHIPPED = WEIGHTS_ROOT / "chia-bilstm"


@pytest.fixture(scope="module")
def chia(shared_data):
    return load_chia(shared_data / "trials" / "chia")


def _path_score(em, path, trans, start, end):
    s = start[path[0]] + end[path[-1]] + sum(em[i, p] for i, p in enumerate(path))
    return s + sum(trans[a, b] for a, b in zip(path, path[1:], strict=False))


def test_crf_matches_brute_force():
    """NLL, Viterbi and marginals agree with enumerating all 3^4 label paths (to 1e-4)."""
    g = torch.Generator().manual_seed(0)
    em, trans = torch.randn(4, 3, generator=g), torch.randn(3, 3, generator=g)
    start, end = torch.randn(3, generator=g), torch.randn(3, generator=g)
    paths = list(itertools.product(range(3), repeat=4))
    scores = torch.stack([_path_score(em, p, trans, start, end) for p in paths])
    log_z = torch.logsumexp(scores, 0)
    gold = (2, 0, 1, 1)
    nll = crf_nll(em[None], torch.tensor([gold]), torch.ones(1, 4, dtype=torch.bool), trans, start, end)
    assert float(nll) == pytest.approx(float(log_z - _path_score(em, gold, trans, start, end)), abs=1e-4)
    assert tuple(viterbi(em, trans, start, end)) == paths[int(scores.argmax())]
    probs = torch.exp(scores - log_z)
    want = torch.zeros(4, 3)
    for p, pr in zip(paths, probs, strict=True):
        for i, lab in enumerate(p):
            want[i, lab] += pr
    assert torch.allclose(marginals(em, trans, start, end), want, atol=1e-4)


def test_padding_does_not_change_the_likelihood():
    g = torch.Generator().manual_seed(1)
    em, trans = torch.randn(1, 3, 4, generator=g), torch.randn(4, 4, generator=g)
    start, end = torch.randn(4, generator=g), torch.randn(4, generator=g)
    tags = torch.tensor([[1, 2, 3]])
    short = crf_nll(em, tags, torch.ones(1, 3, dtype=torch.bool), trans, start, end)
    padded = crf_nll(
        torch.cat([em, torch.randn(1, 2, 4, generator=g)], 1),
        torch.tensor([[1, 2, 3, 0, 0]]),
        torch.tensor([[True, True, True, False, False]]),
        trans,
        start,
        end,
    )
    assert float(short) == pytest.approx(float(padded), abs=1e-5)


def test_bio_constraints():
    ok = allowed_transitions(["O", "B-Drug", "I-Drug", "I-Value"])
    assert ok[1][2] and ok[2][2] and not ok[0][2] and not ok[1][3] and ok[3][0]


def test_tiny_training_run_learns_its_documents(chia, tmp_path, test_data):
    """A real (small) training run of the shipped recipe, auxiliary heads included: the network fits its
    own 8 trials well above chance, and only the main tagger is saved."""
    keep = sorted({d.trial for d in chia})[:8]
    docs = [d for d in chia if d.trial in keep]
    hp = {
        "word_dim": 24,
        "char_filters": 16,
        "feat_dim": 8,
        "hidden": 48,
        "epochs": 12,
        "w2v_epochs": 1,
        "batch": 8,
        "dropout": 0.1,
        "word_dropout": 0.0,
        "lr": 1e-2,
    }
    abstracts = read_pubtator(test_data / "literature" / "mini.PubTator.txt")
    lines = []
    train_bilstm(docs, tmp_path, hp=hp, seeds=(1,), folds=2, abstracts=abstracts, log=lines.append)
    assert len(lines) == 13 and lines[-1].startswith("seed 1 epoch 12")
    saved = torch.load(tmp_path / WEIGHTS_FILE, weights_only=True)["members"][0]
    assert "out.weight" in saved and not any(k.startswith(("heads", "aux")) for k in saved)
    save_card(
        tmp_path,
        ModelCard(
            name="tiny", task="clinical-ner", weights=dict.fromkeys([WEIGHTS_FILE, VOCAB_FILE, GAZETTEER_FILE], "")
        ),
    )
    model = load_ner(str(tmp_path))
    assert isinstance(model, NeuralNER)
    f1 = evaluate(model, docs)["overall"]["overlap"]["f1"]
    assert f1 > 0.6, f1  # measured 0.80 (1 torch thread, seed 1); an untrained network scores near 0
    text = docs[0].text
    ents = model.predict(text)
    assert ents and all(text[e.start : e.end] == e.text and 0.0 <= e.score <= 1.0 for e in ents)


def test_auxiliary_abstract_task_without_abstracts_is_refused(chia, tmp_path):
    docs = [d for d in chia if d.trial == chia[0].trial]
    with pytest.raises(InputError, match="annotated abstracts"):
        train_bilstm(docs, tmp_path, hp={"epochs": 1, "w2v_epochs": 1}, seeds=(1,), folds=2)
    train_bilstm(docs, tmp_path, hp={"epochs": 1, "w2v_epochs": 1, "aux_pubtator": 0}, seeds=(1,), folds=2)
    assert (tmp_path / WEIGHTS_FILE).exists()


def test_shipped_card_verifies_and_records_training_data(chia):
    """The shipped model is trained on every Chia trial; its held-out figure is the pooled 5-fold one."""
    card = load_card(SHIPPED)  # raises if a weight file does not match its sha256
    assert set(card.weights) == {WEIGHTS_FILE, VOCAB_FILE, GAZETTEER_FILE}
    assert card.training_data["sha256"] == corpus_fingerprint(chia)["sha256"]
    assert card.training_data["fold"] is None and card.training_data["trials"] == 800
    assert "python -m theralab.nlp.neural.train" in card.retrain and len(card.seeds) >= 1
    aux = card.training_data["auxiliary_tasks"]  # the recipe: both auxiliary heads were on
    assert aux["chia_second_layer"] > 0 and aux["pubtator_disease_chemical"] > 0 and "1000" in aux["pubtator_source"]
    cv = card.metrics["cv"]
    assert sorted(f["fold"] for f in cv["folds"]) == [0, 1, 2, 3, 4]
    # the five held-out folds together are the whole corpus: every flattened gold entity scored once
    all_gold = score([flatten(d.spans) for d in chia], [[] for _ in chia])["overall"]["overlap"]["gold"]
    assert cv["pooled"]["overall"]["overlap"]["gold"] == sum(f["gold"] for f in cv["folds"]) == all_gold
    assert cv["pooled"]["overall"]["overlap"]["f1"] >= 0.72
    assert sum((SHIPPED / f).stat().st_size for f in card.weights) < 12 * 2**20


def test_shipped_tampered_weights_are_refused(tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(SHIPPED, copy)
    with open(copy / VOCAB_FILE, "a", encoding="utf-8") as fh:
        fh.write(" ")
    with pytest.raises(ModelError, match="sha256"):
        NeuralNER(copy)


def test_shipped_model_tags_a_real_criterion(shared_data):
    text = (shared_data / "trials" / "chia" / "NCT00050349_inc.txt").read_bytes().decode("utf-8")
    ents = load_ner("chia-bilstm").predict(text)
    assert all(text[e.start : e.end] == e.text for e in ents)
    found = {(e.type, e.text) for e in ents}
    assert ("Measurement", "total bilirubin") in found
    assert ("Value", "<1.5 X ULN") in found
    assert ("Measurement", "Karnofsky Performance Status") in found
    assert ("Value", "> 60") in found


def test_shipped_model_fits_the_trials_it_was_trained_on(chia):
    """20 blocks of its own training trials: above its unseen-trial estimate (wrong weights or vocab score ~0)."""
    model = load_ner("chia-bilstm")
    got = evaluate(model, chia[:20])["overall"]["overlap"]["f1"]
    assert got > model.card.metrics["cv"]["pooled"]["overall"]["overlap"]["f1"], got


def test_dev_run_refuses_to_overwrite_shipped_weights(capsys):
    """``--dev`` trains on 90% of the training trials: without ``--out`` it would replace the shipped model."""
    from theralab.nlp.neural.train import main

    before = (SHIPPED / WEIGHTS_FILE).stat().st_mtime_ns if (SHIPPED / WEIGHTS_FILE).exists() else None
    with pytest.raises(SystemExit) as exc:
        main(["--dev", "--chia", "/nonexistent"])
    assert exc.value.code == 2
    assert "--out is required unless --all" in capsys.readouterr().err
    after = (SHIPPED / WEIGHTS_FILE).stat().st_mtime_ns if (SHIPPED / WEIGHTS_FILE).exists() else None
    assert before == after
