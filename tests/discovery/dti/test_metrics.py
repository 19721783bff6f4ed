"""CI, MSE, Pearson and rm2 against values worked out by hand on tiny cases."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.discovery.dti import concordance_index, mse, pearson, rm2
from theralab.errors import InputError


def test_ci_hand_computed():
    # y = 1,2,3: pairs (2>1),(3>1),(3>2). p = 1,3,2 orders (2>1) ok, (3>1) ok, (3>2) wrong -> 2/3
    assert concordance_index([1, 2, 3], [1, 3, 2]) == pytest.approx(2 / 3)
    assert concordance_index([1, 2, 3], [0.1, 0.2, 0.3]) == 1.0
    assert concordance_index([1, 2, 3], [3, 2, 1]) == 0.0
    # a tied prediction counts one half: pairs (2>1) tie 0.5, (3>1) 1, (3>2) 1 -> 2.5/3
    assert concordance_index([1, 2, 3], [1, 1, 2]) == pytest.approx(2.5 / 3)
    # tied truths are not pairs: y = 1,1,2 -> pairs (2>1),(2>1); p = 0,5,3: 1 + 0 -> 1/2
    assert concordance_index([1, 1, 2], [0, 5, 3]) == pytest.approx(0.5)


def test_ci_blocks_match_brute_force():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 300).astype(float)
    p = np.round(rng.normal(size=300), 1)
    num = den = 0.0
    for i in range(300):
        for j in range(300):
            if y[i] > y[j]:
                den += 1
                num += 1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0
    assert concordance_index(y, p, block=7) == pytest.approx(num / den, abs=1e-12)


def test_ci_matches_lifelines_when_installed():
    utils = pytest.importorskip("lifelines.utils")
    rng = np.random.default_rng(2)
    y, p = rng.normal(size=200), rng.normal(size=200)
    assert concordance_index(y, p) == pytest.approx(utils.concordance_index(y, p), abs=1e-12)


def test_mse_pearson_rm2_hand_computed():
    y, p = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0])
    assert mse(y, p) == pytest.approx(1 / 3)
    # r = cov/sd: y-mean = -1,0,1; p-mean = -4/3,-1/3,5/3 -> 3 / sqrt(2 * 42/9)
    r = 3 / np.sqrt(2 * 42 / 9)
    assert pearson(y, p) == pytest.approx(r)
    # k = sum(yp)/sum(p^2) = 17/21; r0^2 = 1 - sum((y - k p)^2) / 2
    k = 17 / 21
    r02 = 1 - ((1 - k) ** 2 + (2 - 2 * k) ** 2 + (3 - 4 * k) ** 2) / 2
    assert rm2(y, p) == pytest.approx(r**2 * (1 - np.sqrt(abs(r**2 - r02))))
    assert rm2(y, y) == pytest.approx(1.0)


def test_metric_errors():
    with pytest.raises(InputError, match="different true values"):
        concordance_index([1, 1], [0, 1])
    with pytest.raises(InputError, match="finite"):
        mse([1, np.nan], [1, 2])
    with pytest.raises(InputError, match="predictions"):
        mse([1, 2], [1])
    with pytest.raises(InputError, match="constant"):
        pearson([1, 2, 3], [1, 1, 1])
