"""The shipped CRF NER (its card, checksums, a tiny real training run) and ``extract`` with the default model."""

from __future__ import annotations

import shutil

import pytest

from theralab.errors import InputError, ModelError
from theralab.models.registry import ModelCard, load_card, save_card
from theralab.nlp import extract
from theralab.nlp.chia import corpus_fingerprint, load_chia, read_ann, split_trials
from theralab.nlp.ner import GAZETTEER_FILE, MODEL_FILE, WEIGHTS_ROOT, ClinicalNER, load_ner
from theralab.nlp.train import SEED, evaluate, score, train_crf

SHIPPED = WEIGHTS_ROOT / "chia-crf"


@pytest.fixture(scope="module")
def chia(shared_data):
    return load_chia(shared_data / "trials" / "chia")


def test_card_verifies_and_records_training_data(chia):
    card = load_card(SHIPPED)  # raises if a weight file does not match its sha256
    assert card.task == "clinical-ner" and set(card.weights) == {MODEL_FILE, GAZETTEER_FILE}
    train, test = split_trials(chia, 0.2, SEED)
    assert card.training_data["sha256"] == corpus_fingerprint(train)["sha256"]
    assert card.training_data["trials"] == 640 and card.training_data["test_trials"] == 160
    assert "python -m theralab.nlp.train" in card.retrain
    assert card.metrics["heldout_flattened"]["overall"]["overlap"]["f1"] >= 0.70


def test_tampered_weights_are_refused(tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(SHIPPED, copy)
    with open(copy / GAZETTEER_FILE, "a", encoding="utf-8") as fh:
        fh.write(" ")
    with pytest.raises(ModelError, match="sha256"):
        ClinicalNER(copy)


def test_real_criterion_entities_and_offsets(shared_data):
    text = (shared_data / "trials" / "chia" / "NCT00050349_inc.txt").read_bytes().decode("utf-8")
    ents = extract(text)
    assert all(text[e.start:e.end] == e.text for e in ents)
    found = {(e.type, e.text) for e in ents}
    assert ("Measurement", "total bilirubin") in found
    assert ("Value", "<1.5 X ULN") in found
    assert ("Measurement", "Karnofsky Performance Status") in found
    assert ("Value", "> 60") in found


def test_extract_flags_negation_and_history():
    ents = extract("No history of myocardial infarction or stroke.\nFamily history of breast cancer.")
    by_text = {e.text: e for e in ents}
    assert by_text["myocardial infarction"].type == "Condition"
    assert by_text["myocardial infarction"].negated and by_text["myocardial infarction"].historical
    assert by_text["stroke"].negated
    assert by_text["breast cancer"].family and not by_text["breast cancer"].negated
    cond = extract("Patients with type 2 diabetes mellitus treated with metformin", types={"Condition", "Drug"})
    assert [(e.type, e.text) for e in cond] == [("Condition", "type 2 diabetes mellitus"), ("Drug", "metformin")]
    assert not any(e.negated or e.historical for e in cond)


def test_heldout_sample_scores_like_the_card(chia):
    """20 held-out blocks: overlap F1 within 0.1 of the card's held-out figure (sample noise)."""
    _, test = split_trials(chia, 0.2, SEED)
    model = load_ner("chia-crf")
    got = evaluate(model, test[:20])["overall"]["overlap"]["f1"]
    card_f1 = model.card.metrics["heldout_flattened"]["overall"]["overlap"]["f1"]
    assert abs(got - card_f1) < 0.1, (got, card_f1)


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError, match="empty"):
        extract("   \n ")
    with pytest.raises(InputError, match="string"):
        extract(None)  # type: ignore[arg-type]
    with pytest.raises(ModelError):
        load_ner("no-such-model")


def test_tiny_training_run_learns_its_documents(chia, tmp_path):
    docs = [d for d in chia if d.trial in {x.trial for x in chia[:12]}]
    train_crf(docs, tmp_path, {"max_iterations": 40})
    save_card(tmp_path, ModelCard(name="tiny", task="clinical-ner", weights={MODEL_FILE: "", GAZETTEER_FILE: ""}))
    model = ClinicalNER(tmp_path)
    result = evaluate(model, docs)
    assert result["overall"]["overlap"]["f1"] > 0.8  # a CRF fits its own training text
    assert "Condition" in model.entity_types


def test_brat_reader_covers_discontinuous_and_negation_links():
    text = "no major impairment of renal or hepatic function"
    ann = ("T1\tCondition 3 22;32 48\tmajor impairment of hepatic function\nT2\tNegation 0 2\tno\n"
           "T3\tScope 3 48\tmajor impairment of renal or hepatic function\nR1\tHas_negation Arg1:T3 Arg2:T2\t\n"
           "T4\tCondition 90 99\tout of range\n")
    doc = read_ann(text, ann, "NCT00000000_inc")
    assert [(s.type, s.start, s.end) for s in doc.spans] == [("Negation", 0, 2), ("Condition", 3, 48)]
    assert doc.negated == {(3, 48)} and doc.kind == "inclusion"
    perfect = score([doc.spans], [doc.spans])["overall"]
    assert perfect["exact"]["f1"] == 1.0 and perfect["overlap"]["f1"] == 1.0
