"""Training-command logic of the BiLSTM-CRF NER: pooling the k fold models into one estimate."""

from __future__ import annotations

import pytest

from theralab.errors import InputError
from theralab.models.registry import ModelCard, load_card, save_card
from theralab.nlp.neural.cv import cv_summary
from theralab.nlp.neural.train import main


def _fold_model(path, fold, p, n_pred, r, n_gold):
    path.mkdir()
    (path / "model.pt").write_bytes(b"w")
    m = {"precision": p, "recall": r, "f1": round(2 * p * r / (p + r), 4), "gold": n_gold, "pred": n_pred}
    flat = {"overall": {"overlap": m, "exact": {**m, "f1": 0.5}}, "Condition": {"overlap": m}}
    save_card(path, ModelCard(name="f", task="clinical-ner", training_data={"fold": fold, "test_trials": 10},
                              metrics={"heldout_flattened": flat}))
    return path


def test_cv_summary_pools_true_positives_over_folds(tmp_path):
    a = _fold_model(tmp_path / "a", 0, 0.8, 100, 0.5, 160)  # 80 TP of 100 predictions, 80 of 160 gold
    b = _fold_model(tmp_path / "b", 1, 0.6, 50, 0.75, 40)  # 30 of 50, 30 of 40
    cv = cv_summary([a, b])
    pooled = cv["pooled"]["overall"]["overlap"]
    assert pooled["precision"] == pytest.approx(110 / 150, abs=1e-4)
    assert pooled["recall"] == pytest.approx(110 / 200, abs=1e-4)
    assert pooled["f1"] == pytest.approx(2 * (110 / 150) * (110 / 200) / (110 / 150 + 110 / 200), abs=1e-4)
    assert (pooled["gold"], pooled["pred"]) == (200, 150)
    assert [f["fold"] for f in cv["folds"]] == [0, 1]
    assert cv["overlap_f1_mean"] == pytest.approx((0.6154 + 0.6667) / 2, abs=1e-4)
    assert cv["overlap_f1_sd"] == pytest.approx(abs(0.6154 - 0.6667) / 2**0.5, abs=1e-4)


def test_cv_summary_refuses_a_fold_twice_and_a_model_without_heldout_metrics(tmp_path):
    a = _fold_model(tmp_path / "a", 2, 0.8, 100, 0.5, 160)
    b = _fold_model(tmp_path / "b", 2, 0.6, 50, 0.75, 40)
    with pytest.raises(InputError, match="fold 2 is given twice"):
        cv_summary([a, b])
    bare = tmp_path / "bare"
    bare.mkdir()
    save_card(bare, ModelCard(name="x", task="clinical-ner", weights={}))
    with pytest.raises(InputError, match="no held-out metrics"):
        cv_summary([bare])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fold", "2"], "--out is required unless --all"),
        (["--all", "--dev"], "--out is required unless --all"),
        (["--fold", "1", "--out", "x", "--cv", "a"], "--cv goes with --all"),
        (["--all", "--out", "x", "--pool-only"], "--pool-only needs --all --cv"),
        (["--fold", "1", "--out", "x", "--abstracts", "none"], "auxiliary abstract task without data"),
    ],
)
def test_commands_that_would_replace_the_shipped_model_or_mix_modes_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--chia", "/nonexistent", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_pool_only_writes_the_fold_figures_into_the_all_trials_card(tmp_path):
    folds = [_fold_model(tmp_path / f"f{k}", k, 0.8, 100, 0.5, 160) for k in range(2)]
    shipped = tmp_path / "all"
    shipped.mkdir()
    (shipped / "model.pt").write_bytes(b"weights")
    save_card(shipped, ModelCard(name="all", task="clinical-ner", training_data={"fold": None},
                                 metrics={"train_seconds": 9.0}))
    main(["--all", "--out", str(shipped), "--pool-only", "--cv", *map(str, folds)])
    card = load_card(shipped)  # checksums still match: the weights were not touched
    assert card.metrics["train_seconds"] == 9.0
    assert card.metrics["cv"]["pooled"]["overall"]["overlap"]["gold"] == 320
    with pytest.raises(InputError, match="holds a fold model"):
        main(["--all", "--out", str(folds[0]), "--pool-only", "--cv", *map(str, folds)])

