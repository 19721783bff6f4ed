"""The ChemProt typer: marker parsing with exact offsets, training for real on a few sentences, JSON weights."""

from __future__ import annotations

import json

import pytest

from theralab.errors import InputError
from theralab.literature.relations.chemprot import ChemProtModel, micro_f1, pair_features, read_chemprot, unmark

ROWS = [
    ("[[ Gefitinib ]] inhibits << EGFR >> kinase activity.", "INHIBITOR"),
    ("[[ Erlotinib ]] potently inhibits << EGFR >> in cells.", "INHIBITOR"),
    ("[[ Imatinib ]] inhibits << ABL1 >> and KIT.", "INHIBITOR"),
    ("[[ Losartan ]] is an antagonist of the << AT1 receptor >>.", "ANTAGONIST"),
    ("[[ Haloperidol ]] acts as an antagonist at << D2 >> receptors.", "ANTAGONIST"),
    ("[[ Naloxone ]] is a competitive antagonist of << mu-opioid receptor >>.", "ANTAGONIST"),
    ("[[ Midazolam ]] is a substrate of << CYP3A4 >>.", "SUBSTRATE"),
    ("<< CYP2D6 >> metabolises [[ codeine ]] as a substrate.", "SUBSTRATE"),
    ("[[ Omeprazole ]] is a substrate of << CYP2C19 >>.", "SUBSTRATE"),
]


def _rows():
    return [(*unmark(t), {"INHIBITOR": "CPR:4", "ANTAGONIST": "CPR:6", "SUBSTRATE": "CPR:9"}[label])
            for t, label in ROWS]


def test_unmark_offsets():
    text, cs, ce, gs, ge = unmark("<< CYP2D6 >> metabolises [[ codeine ]] as a substrate.")
    assert text == "CYP2D6 metabolises codeine as a substrate."
    assert text[cs:ce] == "codeine" and text[gs:ge] == "CYP2D6"
    with pytest.raises(ValueError):
        unmark("no markers here")
    feats = pair_features(text, cs, ce, gs, ge)
    assert "order=GC" in feats and "b=metabolises" in feats


def test_train_predicts_held_out_sentences_and_saves(tmp_path):
    model = ChemProtModel.train(_rows(), c=10.0, min_count=1)
    text, cs, ce, gs, ge = unmark("[[ Sunitinib ]] inhibits << VEGFR2 >> signalling.")
    assert model.predict(text, cs, ce, gs, ge)[0] == "CPR:4"
    text, cs, ce, gs, ge = unmark("[[ Valsartan ]] is an antagonist of << AGTR1 >>.")
    assert model.predict(text, cs, ce, gs, ge)[0] == "CPR:6"
    probs = model.proba(text, cs, ce, gs, ge)
    assert abs(sum(probs.values()) - 1) < 1e-9
    folder = model.save(tmp_path / "cp")
    again = ChemProtModel.load(folder)
    assert again.proba(text, cs, ce, gs, ge) == pytest.approx(probs)


def test_reader_and_metric(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(json.dumps({"text": t, "label": lab}) for t, lab in ROWS[:2]) + "\n" +
                    json.dumps({"text": "no markers", "label": "INHIBITOR"}) + "\n")
    skipped: list[str] = []
    rows = read_chemprot(path, skipped)
    assert len(rows) == 2 and skipped == [f"{path}:3"]
    with pytest.raises(InputError):
        read_chemprot(path)
    path.write_text('{"text": "x", "label": "NOPE"}\n')
    with pytest.raises(InputError):
        read_chemprot(path)
    assert micro_f1(["CPR:4", "CPR:6"], ["CPR:4", "CPR:9"]) == 0.5


def test_shipped_model_card():
    from theralab.models.registry import find_model, load_card

    card = load_card(find_model("literature-chemprot"))
    assert "dev_micro_f1" in card.metrics and card.retrain
    model = ChemProtModel.load()
    text, cs, ce, gs, ge = unmark("[[ Aspirin ]] irreversibly inhibits << COX-1 >>.")
    assert model.predict(text, cs, ce, gs, ge)[0] == "CPR:4"
