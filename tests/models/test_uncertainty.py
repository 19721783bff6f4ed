"""Split-conformal intervals, Platt calibration and nearest-neighbour similarity."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.errors import InputError
from theralab.models.uncertainty import (
    conformal_quantile,
    coverage,
    ensemble_spread,
    expected_calibration_error,
    fit_conformal,
    fit_platt,
    nearest_similarity,
)


def test_conformal_quantile_is_the_finite_sample_order_statistic():
    residuals = np.arange(1, 20, dtype=float)  # n = 19: k = ceil(20 * 0.9) = 18
    assert conformal_quantile(residuals, 0.1) == 18.0
    with pytest.raises(InputError, match="too few"):
        conformal_quantile(np.arange(5.0), 0.1)  # k = 6 > 5


def test_conformal_coverage_on_heteroscedastic_noise():
    rng = np.random.default_rng(1)
    covs = []
    for _ in range(200):
        y_cal = rng.standard_t(4, 300)
        y_test = rng.standard_t(4, 300)
        model = fit_conformal(y_cal, np.zeros(300), alpha=0.1)
        covs.append(coverage(y_test, *model.interval(np.zeros(300))))
    # guarantee: 0.9 <= E[coverage] <= 0.9 + 1/(n+1)
    assert 0.895 <= np.mean(covs) <= 0.907


def test_platt_fixes_overconfident_scores():
    rng = np.random.default_rng(0)
    true_p = rng.uniform(0.05, 0.95, 4000)
    y = rng.uniform(size=4000) < true_p
    logit = np.log(true_p / (1 - true_p))
    overconfident = 1 / (1 + np.exp(-3 * logit))  # same ranking, far too extreme
    cal = fit_platt(y[:2000], overconfident[:2000])
    assert cal.a == pytest.approx(1 / 3, abs=0.05)
    before = expected_calibration_error(y[2000:], overconfident[2000:])
    after = expected_calibration_error(y[2000:], cal(overconfident[2000:]))
    assert before > 0.1 and after < 0.03
    assert fit_platt(np.ones(10), np.full(10, 0.7))(np.array([0.7]))[0] == pytest.approx(0.7)


def test_nearest_similarity_matches_rdkit():
    from rdkit import Chem, DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    from theralab.chem.fingerprints import Fingerprinter, fingerprint_spec

    train = [Chem.MolFromSmiles(s) for s in ("c1ccccc1O", "CCO", "CC(=O)Oc1ccccc1C(=O)O")]
    query = [Chem.MolFromSmiles(s) for s in ("c1ccccc1N", "CC(=O)Oc1ccccc1C(=O)O")]
    fp = Fingerprinter(fingerprint_spec("morgan2", 2048))
    sim, idx = nearest_similarity(fp.pack_many(query), fp.pack_many(train))
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    train_fps = [gen.GetFingerprint(m) for m in train]
    expected = max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(query[0]), train_fps))
    assert sim[0] == pytest.approx(expected, abs=1e-12) and idx[0] == 0
    assert sim[1] == 1.0 and idx[1] == 2


def test_ensemble_spread():
    assert ensemble_spread(np.array([[1.0, 2.0], [3.0, 2.0]])).tolist() == pytest.approx([np.sqrt(2), 0.0])
    assert ensemble_spread(np.array([[1.0, 2.0]])).tolist() == [0.0, 0.0]
