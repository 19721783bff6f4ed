"""Tiny real models: they learn a signal known by construction, save and load exactly, explain additively."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.errors import InputError, ModelError
from theralab.trials.outcome import load_model, train_model

from .conftest import make_trials


def test_learns_the_constructed_signal(tiny_model):
    oof = tiny_model.oof
    assert oof["gbm"]["roc_auc"] > 0.9 and oof["neural"]["roc_auc"] > 0.8
    assert tiny_model.card.task == "trial-outcome" and tiny_model.card.training_data["rows"] == 48
    assert 0 < tiny_model.threshold < 1


def test_save_load_roundtrip_and_checksums(tiny_model, tiny_trials, tmp_path):
    fs = tiny_model.features(tiny_trials[:6])
    before = tiny_model.predict_frame(fs.frame)
    tiny_model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    after = loaded.predict_frame(fs.frame)
    np.testing.assert_allclose(after["prob"], before["prob"], atol=1e-12)
    np.testing.assert_allclose(after["prob_neural"], before["prob_neural"], atol=1e-6)
    assert after["prob"].iloc[0] > after["prob"].iloc[1]  # a success template above a failure template
    with open(tmp_path / "m" / "gbm.txt", "a") as fh:
        fh.write("\n")
    with pytest.raises(ModelError, match="sha256"):
        load_model(tmp_path / "m")


def test_treeshap_is_additive(tiny_model, tiny_trials):
    fs = tiny_model.features(tiny_trials[:4])
    contrib, expected = tiny_model.contributions(fs.frame)
    raw = tiny_model.booster.predict(fs.frame.to_numpy(dtype=float), raw_score=True)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy() + expected, raw, atol=1e-6)


def test_calibrated_probability_is_monotone_in_the_raw_score(tiny_model, tiny_trials):
    fs = tiny_model.features(tiny_trials)
    raw = tiny_model.booster.predict(fs.frame.to_numpy(dtype=float))
    prob = tiny_model.predict_frame(fs.frame)["prob"].to_numpy()
    order = np.argsort(raw)
    assert np.all(np.diff(prob[order]) >= -1e-12)


def test_too_few_or_one_sided_labels_are_refused():
    with pytest.raises(InputError, match="at least 20"):
        train_model(make_trials(10), neural=False)
    one_sided = [t.model_copy(update={"label": 1}) for t in make_trials(24)]
    with pytest.raises(InputError, match="successes and"):
        train_model(one_sided, neural=False)
    twice = make_trials(24) + make_trials(24)[:1]
    with pytest.raises(InputError, match="repeated: NCT90000000"):
        train_model(twice, neural=False)


def test_nearest_trials_share_drug_and_disease(tiny_model, tiny_trials):
    query = tiny_trials[0]  # aspirin, E11.9
    fs = tiny_model.features([query])
    near = tiny_model.reference.nearest(query, fs.frame, k=3)
    assert all(n["nct_id"] != query.nct_id for n in near)
    assert near[0]["drug_similarity"] == 1.0 and near[0]["disease_similarity"] == 1.0
    assert near[0]["label"] == 1
    failed = tiny_model.reference.nearest(tiny_trials[1], tiny_model.features([tiny_trials[1]]).frame, k=1)[0]
    assert failed["label"] == 0 and failed["why_stop"] == "lack of efficacy"
