"""Clinical classifiers and survival models: metrics by hand, real small fits, save/load, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theralab.errors import InputError, ModelError
from theralab.precision.risk import (
    check_survival,
    concordance_index,
    evaluate_survival,
    fit_survival,
    load_model,
    save_model,
    train_classifier,
    train_survival,
)


def test_c_index_by_hand_and_against_lifelines():
    # times 1(e) 2(e) 3(c) 4(e); comparable pairs: (1,2),(1,3),(1,4),(2,3),(2,4) -> 5
    t, e = [1, 2, 3, 4], [1, 1, 0, 1]
    assert concordance_index(t, e, [4, 3, 2, 1]) == 1.0
    assert concordance_index(t, e, [1, 2, 3, 4]) == 0.0
    assert concordance_index(t, e, [4, 3, 3, 3]) == pytest.approx((3 + 0.5 + 0.5) / 5)  # (2,3),(2,4) tied
    from lifelines.utils import concordance_index as lifelines_ci

    rng = np.random.default_rng(0)
    tt, ee, rr = rng.exponential(size=60), rng.integers(0, 2, 60), rng.normal(size=60)
    assert concordance_index(tt, ee, rr) == pytest.approx(lifelines_ci(tt, -rr, ee), abs=1e-12)


def test_bad_survival_data():
    with pytest.raises(InputError, match="negative"):
        check_survival([1, -2, 3], [1, 0, 1])
    with pytest.raises(InputError, match="no events"):
        check_survival([1, 2, 3], [0, 0, 0])
    with pytest.raises(InputError, match="0/1"):
        check_survival([1, 2, 3], [0, 2, 1])


@pytest.fixture(scope="module")
def rossi():
    from lifelines.datasets import load_rossi

    return load_rossi()


@pytest.fixture(scope="module")
def whas500():
    """Worcester Heart Attack Study (500 patients), shipped inside scikit-survival."""
    from sksurv.datasets import load_whas500

    x, y = load_whas500()
    frame = x.apply(lambda c: c.astype(str) if str(c.dtype) == "category" else c)
    frame["time"], frame["event"] = y["lenfol"], y["fstat"].astype(int)
    return frame.sample(frac=1.0, random_state=0)


@pytest.mark.parametrize("kind", ["cox", "rsf", "neural_cox"])
def test_survival_models_learn_whas500(whas500, kind, tmp_path):
    train, test = whas500.iloc[:375], whas500.iloc[375:]
    opts = {"n_estimators": 40} if kind == "rsf" else {"epochs": 150} if kind == "neural_cox" else {}
    model = fit_survival(train, "time", "event", kind=kind, **opts)
    metrics = evaluate_survival(model, test, "time", "event", train=train, horizons=[365, 730, 1460])
    assert 0.68 < metrics["c_index"] < 0.9  # 5-fold Cox/RSF here ~0.77; chance is 0.5
    assert len(metrics["td_auc"]) == 3 and all(0.65 < a < 0.95 for a in metrics["td_auc"])
    assert all(0.0 < b < 0.25 for b in metrics["brier"])
    surv = model.survival(test, [100, 700, 1500])
    assert ((surv >= 0) & (surv <= 1)).all() and (np.diff(surv, axis=1) <= 1e-12).all()
    if kind == "rsf":
        with pytest.raises(ModelError, match="pickle"):
            save_model(model, tmp_path / "m", name="x")
        return
    loaded = load_model(save_model(model, tmp_path / "m", name="rossi-" + kind, extra={"horizons": [30]}))
    pred = loaded.predict(test)
    assert list(pred.columns) == ["risk", "survival_t30"]
    np.testing.assert_allclose(pred["risk"], model.risk(test), rtol=1e-6)
    np.testing.assert_allclose(pred["survival_t30"], model.survival(test, [30])[:, 0], rtol=1e-6)


def test_cox_matches_lifelines_coefficients_direction(rossi):
    model = fit_survival(rossi, "week", "arrest", kind="cox", penalizer=0.0)
    beta = dict(zip(model.params["names"], model.params["beta"], strict=True))
    # lifelines' rossi example: fin, age and prio coefficients -0.38, -0.057, +0.091 (per unit); ours per SD
    assert beta["fin"] * 1 / model.pre.sds["fin"] == pytest.approx(-0.379, abs=0.01)
    assert beta["prio"] / model.pre.sds["prio"] == pytest.approx(0.091, abs=0.005)


def _toy_classification(n=600, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(60, 10, n), "bmi": rng.normal(27, 4, n),
                          "sex": rng.choice(["F", "M"], n), "noise": rng.normal(size=n)})
    frame.loc[rng.choice(n, 20, replace=False), "bmi"] = np.nan
    logit = 0.08 * (frame["age"] - 60) + 0.1 * (frame["bmi"].fillna(27) - 27) + 0.7 * (frame["sex"] == "M") - 0.5
    frame["event"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame


@pytest.mark.parametrize("kind", ["logistic", "gbm"])
def test_classifier_calibrated_explained_and_saved(kind, tmp_path):
    frame = _toy_classification()
    model, metrics = train_classifier(frame, "event", kind=kind)
    assert metrics["auc"] > (0.68 if kind == "logistic" else 0.63) and metrics["ece"] < 0.08
    assert abs(np.mean(metrics["oof_probability"]) - frame["event"].mean()) < 0.02  # calibrated in the large
    shap = model.explain(frame.head(50))
    raw = model.raw(frame.head(50))
    np.testing.assert_allclose(shap.drop(columns="base_value").sum(axis=1) + shap["base_value"], raw, atol=1e-6)
    importance = shap.drop(columns="base_value").abs().mean()
    assert importance["age"] > importance["noise"]
    loaded = load_model(save_model(model, tmp_path / kind, name=f"toy-{kind}", metrics=metrics, training=frame))
    np.testing.assert_allclose(loaded.predict(frame)["probability"], model.predict_proba(frame), rtol=1e-9)
    assert loaded.card.metrics["auc"] == pytest.approx(metrics["auc"])


def test_train_survival_reports_held_out_metrics(whas500):
    model, metrics = train_survival(whas500, "time", "event", kind="cox")
    assert metrics["n"] == 125 and 0.68 < metrics["c_index"] < 0.9
    assert len(metrics["calibration"]) >= 2
