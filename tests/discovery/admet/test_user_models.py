"""Own ADMET models: real (small) trainings with metric checks, coverage, bad input, save/load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theralab.discovery.admet.train import evaluate, predict_frame, prepare, train
from theralab.discovery.admet.user_models import AdmetModel, TrainConfig
from theralab.errors import InputError


@pytest.fixture(scope="module")
def esol(shared_data):
    return pd.read_csv(shared_data / "discovery" / "moleculenet" / "delaney.csv")


@pytest.fixture(scope="module")
def bbbp(shared_data):
    return pd.read_csv(shared_data / "discovery" / "moleculenet" / "bbbp.csv")


def test_lgbm_regression_learns_esol_and_its_interval_covers(esol, tmp_path):
    frame = esol.sample(400, random_state=0).reset_index(drop=True)
    report = train(frame, TrainConfig(targets=["logp"], kind="lgbm", split="random", members=2), tmp_path / "esol",
                   register=False)
    m = report["metrics"]["logp"]
    sd = frame["logp"].std()  # ~2.1 log units: predicting the mean gives RMSE ~ sd
    assert m["rmse"] < 0.6 * sd and m["r2"] > 0.6 and m["spearman"] > 0.8
    assert 0.75 <= m["coverage90"] <= 1.0  # one split of 80 rows; the mean coverage is tested below
    card = report["card"]
    assert card["task"] == "admet.regression" and card["split"] == "random" and card["seeds"] == [0]
    assert card["training_data"]["rows"] == 400 and len(card["training_data"]["sha256"]) == 64
    # save / load round trip gives the same numbers, with an interval around every prediction
    again = predict_frame(tmp_path / "esol", frame["smiles"].head(5).tolist())
    model = AdmetModel.load(tmp_path / "esol")
    from theralab.chem.io import parse_smiles

    direct = model.predict([parse_smiles(s)[0] for s in frame["smiles"].head(5)])
    np.testing.assert_allclose(again["logp"].to_numpy(float), direct["logp"].to_numpy(), rtol=1e-12)
    assert (again["logp_lower"] < again["logp"]).all() and (again["logp"] < again["logp_upper"]).all()
    assert again["nearest_train_tanimoto"].between(0, 1).all()


def test_conformal_coverage_on_held_out_esol(esol):
    """Coverage of the 90% interval on held-out molecules, over 50 random calibration/test splits."""
    from theralab.chem.io import parse_smiles
    from theralab.discovery.admet.features import Split, maplight_features
    from theralab.discovery.admet.user_models import fit
    from theralab.models.uncertainty import coverage, fit_conformal

    frame = esol.sample(700, random_state=1).reset_index(drop=True)
    mols = [parse_smiles(s)[0] for s in frame["smiles"]]
    y = frame[["logp"]].to_numpy(float)
    X = maplight_features(mols)
    split = Split(np.arange(300), np.arange(300, 310), np.arange(310, 700), "random", 0)
    model = fit(mols, y, TrainConfig(targets=["logp"], kind="lgbm", members=1, task="regression"), split, X)
    held = np.arange(300, 700)
    pred = model.member_predictions([mols[i] for i in held], X[held])["logp__point"]
    rng = np.random.default_rng(0)
    covs = []
    for _ in range(50):
        perm = rng.permutation(len(held))
        cal, test = perm[:200], perm[200:]
        conf = fit_conformal(y[held[cal], 0], pred[cal], 0.1)
        covs.append(coverage(y[held[test], 0], *conf.interval(pred[test])))
    assert 0.87 <= float(np.mean(covs)) <= 0.93


def test_lgbm_classification_scaffold_split_and_calibration(bbbp, tmp_path):
    frame = bbbp.sample(300, random_state=0).reset_index(drop=True)
    report = train(frame, TrainConfig(targets=["p_np"], kind="lgbm", split="scaffold", members=2),
                   tmp_path / "bbbp", register=False)
    m = report["metrics"]["p_np"]
    assert report["card"]["task"] == "admet.classification"
    assert m["auroc"] > 0.75 and m["brier"] < 0.2
    ev = evaluate(tmp_path / "bbbp", frame.head(60))
    assert ev["rows"] == 60 and ev["metrics"]["p_np"]["auroc"] > 0.8  # mostly training molecules


def test_chemprop_and_ensemble_learn(esol, tmp_path):
    frame = esol.sample(130, random_state=2).reset_index(drop=True)
    report = train(frame, TrainConfig(targets=["logp"], kind="ensemble", split="random", members=1, epochs=10),
                   tmp_path / "ens", register=False)
    m = report["metrics"]["logp"]
    test_sd = frame["logp"].std()
    assert m["rmse"] < 0.8 * test_sd and m["spearman"] > 0.6
    model = AdmetModel.load(tmp_path / "ens")
    assert len(model.chemprop) == 1 and len(model.lgbm["logp"]) == 1
    out = predict_frame(tmp_path / "ens", ["CCO", "c1ccccc1Cl"])
    assert (out["logp_spread"] > 0).all()  # two different families disagree a little
    assert out["logp"].iloc[0] > out["logp"].iloc[1]  # ethanol is more soluble than chlorobenzene


def test_multitask_with_missing_labels(shared_data, tmp_path):
    tox = pd.read_csv(shared_data / "discovery" / "moleculenet" / "tox21.csv").head(500)
    report = train(tox, TrainConfig(targets=["NR-AhR", "SR-MMP"], kind="lgbm", split="random", members=1),
                   tmp_path / "tox", register=False)
    assert set(report["metrics"]) == {"NR-AhR", "SR-MMP"}
    assert all(0.5 < report["metrics"][t]["auroc"] <= 1 for t in ("NR-AhR", "SR-MMP"))


def test_bad_input_is_refused_or_set_aside(esol):
    frame = esol.head(60).copy()
    frame.loc[0, "smiles"] = "not-a-smiles"
    frame.loc[1, "logp"] = np.nan
    prepared, task = prepare(frame, ["logp"])
    assert task == "regression" and len(prepared.mols) == 58
    assert {r["row"] for r in prepared.rejected} == {1, 2}
    assert "no target value" in [r["reason"] for r in prepared.rejected]
    with pytest.raises(InputError, match="not in the data"):
        prepare(frame, ["nope"])
    const = frame.assign(logp=2.5)
    with pytest.raises(InputError, match="constant"):
        prepare(const, ["logp"])
    one_class = frame.assign(label=1)
    with pytest.raises(InputError, match="single class"):
        prepare(one_class, ["label"], task="classification")
    with pytest.raises(InputError, match="non-numeric"):
        prepare(frame.assign(logp="high"), ["logp"])
    with pytest.raises(InputError, match="too few"):
        train(frame.head(20), TrainConfig(targets=["logp"]), "/nonexistent/never-written", register=False)
