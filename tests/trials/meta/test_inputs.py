"""One study-table parser for CLI, API and web: every layout, MH/Peto, and clear refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theralab.errors import InputError
from theralab.trials.meta import analyse_table, effects_from_table


@pytest.fixture(scope="module")
def bcg(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "trials/dat_bcg.csv")


def test_bcg_rr_dl_matches_metafor(bcg) -> None:
    out = analyse_table(bcg, "RR", "DL")
    assert out.result.beta[0] == pytest.approx(-0.714117, abs=1e-5)  # metafor rma(method="DL")
    assert out.result.tau2 == pytest.approx(0.30876, abs=1e-5)
    assert out.effects.labels[0] == "Aronson"  # label column found by name


def test_both_2x2_layouts_give_the_same_effects(bcg) -> None:
    renamed = bcg.rename(columns={"tpos": "ai", "tneg": "bi", "cpos": "ci", "cneg": "di"})
    a, b = effects_from_table(bcg, "OR"), effects_from_table(renamed, "OR")
    assert np.allclose(a.yi, b.yi) and np.allclose(a.vi, b.vi)


def test_mantel_haenszel_and_peto_pool_2x2(bcg) -> None:
    mh = analyse_table(bcg, "RR", "MH")
    assert mh.effects is None and mh.result.k == 13
    assert np.exp(mh.result.estimate) < 1  # BCG protects
    peto = analyse_table(bcg, "OR", "PETO")
    assert peto.result.measure == "OR"


def test_means_hr_and_generic_layouts() -> None:
    means = pd.DataFrame({"study": ["a", "b", "c"], "m1": [5.0, 6, 5.5], "sd1": [1.0, 1.2, 0.9], "n1": [30, 40, 35],
                          "m2": [4.0, 5.1, 5.0], "sd2": [1.1, 1.0, 1.0], "n2": [30, 38, 33]})
    md = analyse_table(means, "MD", "FE")
    # fixed-effect MD = sum(w*y)/sum(w) with w = 1/(sd1^2/n1 + sd2^2/n2)
    y = means.m1 - means.m2
    w = 1 / (means.sd1**2 / means.n1 + means.sd2**2 / means.n2)
    assert md.result.beta[0] == pytest.approx(float((w * y).sum() / w.sum()), rel=1e-9)
    hr = analyse_table(pd.DataFrame({"loghr": [-0.2, -0.1], "se": [0.1, 0.2]}), "HR", "FE")
    assert hr.result.k == 2
    gen = analyse_table(pd.DataFrame({"yi": [0.1, 0.3], "vi": [0.01, 0.04]}), "GEN", "FE")
    assert gen.result.beta[0] == pytest.approx((0.1 / 0.01 + 0.3 / 0.04) / (1 / 0.01 + 1 / 0.04))


@pytest.mark.parametrize(
    ("frame", "measure", "method", "where"),
    [
        (pd.DataFrame({"yi": [0.1]}), "GEN", "REML", "columns"),
        (pd.DataFrame({"ai": [1], "bi": [2]}), "RR", "REML", "columns"),
        (pd.DataFrame({"yi": [0.1, 0.2], "vi": [0.1, 0.1]}), "XX", "REML", "measure"),
        (pd.DataFrame({"yi": [0.1, 0.2], "vi": [0.1, 0.1]}), "GEN", "MH", "method"),
        (pd.DataFrame({"yi": [0.1, 0.2], "vi": [0.1, 0.1]}), "GEN", "BOGUS", "method"),
    ],
)
def test_refusals_name_what_is_wrong(frame, measure, method, where) -> None:
    with pytest.raises(InputError) as err:
        analyse_table(frame, measure, method)
    assert err.value.where == where
