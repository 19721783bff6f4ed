"""Drug response: the additive baseline by hand, and the neighbour model beating it on real GDSC pairs."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.errors import InputError
from theralab.precision.response import additive_fit, additive_predict, evaluate_split, load_gdsc, split_pairs


def test_additive_fit_recovers_effects():
    a = np.array([1.0, -1.0, 0.5])
    b = np.array([0.2, -0.2, 0.0, 0.4])
    y = 3.0 + a[:, None] + b[None, :]
    y[0, 1] = np.nan
    mu, fa, fb = additive_fit(y)
    np.testing.assert_allclose(mu + fa[:, None] + fb[None, :], 3.0 + a[:, None] + b[None, :], atol=0.05)
    y_unseen = y.copy()
    y_unseen[2] = np.nan  # an unseen drug gets the cell averages only
    pred = additive_predict(y_unseen)
    assert np.allclose(pred[2], pred[2].mean() + (pred[2] - pred[2].mean()))
    assert pred[2, 3] - pred[2, 1] == pytest.approx(0.6, abs=0.1)


@pytest.fixture(scope="module")
def gdsc(shared_data):
    return load_gdsc(shared_data / "precision" / "drug_response")


def test_splits_hold_out_whole_cells_or_drugs(gdsc):
    assert gdsc.y.shape == (238, 561) and gdsc.n_pairs == 107446
    cell = split_pairs(gdsc, "cell", seed=0)
    held_cells = cell.any(axis=0)
    assert not (np.isfinite(gdsc.y[:, held_cells]) & ~cell[:, held_cells]).any()  # every pair of a held cell
    drug = split_pairs(gdsc, "drug", seed=0)
    assert 0.15 < drug.sum() / gdsc.n_pairs < 0.25
    with pytest.raises(InputError):
        split_pairs(gdsc, "tissue")


def test_model_beats_additive_baseline_on_unseen_drugs(gdsc):
    result = evaluate_split(gdsc, "drug", seed=0, rounds=60)
    assert result["baseline_pearson"] == pytest.approx(0.235, abs=0.01)
    assert result["model_pearson"] > result["baseline_pearson"] + 0.05
