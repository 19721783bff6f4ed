"""Rhythm CNN and the feature + CNN ensemble: preprocessing, a tiny real fit, the CV plumbing and the
shipped weights on known CinC 2017 records."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from theralab.errors import InputError, ModelError
from theralab.monitoring.ecg import cnn as ecg_cnn
from theralab.monitoring.ecg import rhythm as er
from theralab.monitoring.ecg.features import extract_features

TINY = {"widths": [8, 16, 16], "epochs": 20, "batch_size": 10, "crop_s": 9.0, "dropout": 0.0}
# CinC 2017 reference labels. The shipped model was trained on these records, so this checks the
# weights, loading and preprocessing end to end, not generalisation (that is the benchmark's job).
KNOWN = {"A00009": "A", "A00018": "N"}


def _spikes(fs: float, seconds: float, amp: float) -> np.ndarray:
    x = np.zeros(int(fs * seconds))
    x[:: int(fs)] = amp
    return np.convolve(x, np.hanning(int(0.04 * fs)), mode="same")


def test_preprocess_resamples_and_scales_robustly():
    x = _spikes(360, 20, 2.5)
    y = ecg_cnn.preprocess(x, 360)
    assert y.dtype == np.float32 and y.size == 2000  # 20 s at 100 Hz
    peaks = np.max(np.abs(y[:2000].reshape(20, 100)), axis=1)
    assert np.median(peaks) == pytest.approx(1.0, abs=1e-5)
    # one artefact 100x the R amplitude neither changes the scale nor escapes the clip
    x[3000] += 250
    z = ecg_cnn.preprocess(x, 360)
    assert np.median(np.max(np.abs(z.reshape(20, 100)), axis=1)) == pytest.approx(1.0, abs=0.05)
    assert np.max(np.abs(z)) <= 20
    with pytest.raises(InputError, match="too short"):
        ecg_cnn.preprocess(x[:500], 360)
    x[10] = np.nan
    with pytest.raises(InputError, match="NaN"):
        ecg_cnn.preprocess(x, 360)


@pytest.fixture(scope="module")
def few_records(shared_data):
    """10 N, 10 A and 10 O records of CinC 2017 (first in REFERENCE.csv order)."""
    import wfdb

    d = shared_data / "monitoring" / "cinc2017"
    ref = er.load_cinc(d)
    pick = ref[ref.label.isin(["N", "A", "O"])].groupby("label").head(10).reset_index(drop=True)
    raw = [wfdb.rdrecord(str(d / r)).p_signal[:, 0] for r in pick.record]
    return pick, raw


def test_tiny_cnn_fits_real_records_and_round_trips(few_records, tmp_path):
    import torch

    torch.set_num_threads(1)
    pick, raw = few_records
    sig = [ecg_cnn.preprocess(x, 300) for x in raw]
    y = pick.label.map({c: i for i, c in enumerate(er.CLASSES)}).to_numpy()
    losses: list[float] = []
    net = ecg_cnn.train(sig, y, params=TINY, seed=3, progress=lambda e, n, loss: losses.append(loss))
    assert len(losses) == TINY["epochs"] and losses[-1] < 0.75 * losses[0]  # it learns
    prob = ecg_cnn.predict_proba(net, sig)
    assert prob.shape == (30, 4) and np.allclose(prob.sum(axis=1), 1, atol=1e-5)
    assert np.mean(np.argmax(prob, axis=1) == y) >= 0.5  # chance is 1/3; 0.6-0.8 measured over seeds 3-6
    path = tmp_path / "cnn.pt"
    ecg_cnn.save(net, path, TINY)
    assert np.allclose(ecg_cnn.predict_proba(ecg_cnn.load(path), sig), prob, atol=1e-6)
    with pytest.raises(InputError, match="differ"):
        ecg_cnn.train(sig, y[:-1], params=TINY)


def test_ensemble_cv_keeps_folds_apart(few_records):
    import pandas as pd

    pick, raw = few_records
    keep = pick.groupby("label").head(4).index  # 4 records per class keep this test to a second
    df = pick.loc[keep].reset_index(drop=True).assign(crop=0)
    df = df.join(pd.DataFrame([extract_features(raw[i], 300) for i in keep]))
    sig = [ecg_cnn.preprocess(raw[i], 300) for i in keep]
    cv = er.cross_validate_ensemble(df, sig, folds=2, cnn_params=TINY | {"epochs": 1})
    assert sorted(np.bincount(cv.folds)) == [6, 6]
    for p in (cv.lgb, cv.cnn):
        assert p.shape == (12, 4) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert np.allclose(cv.ensemble, 0.5 * (cv.lgb + cv.cnn))
    m = cv.metrics("ensemble")
    assert 0 <= m["cinc_f1"] <= 1 and m["fold_sd"] >= 0
    with pytest.raises(InputError, match="signals"):
        er.cross_validate_ensemble(df, sig[:-1], folds=2)


def test_shipped_ensemble_reads_known_af_and_normal_records(shared_data):
    import wfdb

    model = er.RhythmClassifier.load()  # verifies both weight files against the card's sha256
    assert model.cnn is not None and model.card["cnn"]["n_parameters"] < 500_000
    assert model.card["metrics"]["cinc_f1"] > model.card["metrics"]["lgb"]["cinc_f1"]
    d = shared_data / "monitoring" / "cinc2017"
    for rec, label in KNOWN.items():
        x = wfdb.rdrecord(str(d / rec)).p_signal[:, 0]
        pred = model.predict(x, 300)
        assert pred.label == label and pred.probabilities[label] > 0.5
        assert sum(pred.probabilities.values()) == pytest.approx(1, abs=1e-3)
    # under the network's 3 s minimum the feature model answers alone
    short = x[: int(2.5 * 300)]
    assert model.predict(short, 300) == model.predict_features(extract_features(short, 300))


def test_altered_cnn_weights_are_refused(tmp_path):
    src = er.WEIGHTS_DIR
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    blob = bytearray((tmp_path / "cnn.pt").read_bytes())
    blob[-100] ^= 0xFF
    (tmp_path / "cnn.pt").write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="sha256"):  # the registry's card check (one card for every model)
        er.RhythmClassifier.load(tmp_path)
