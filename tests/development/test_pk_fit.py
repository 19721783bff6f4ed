"""Individual fits (R nls(SSfol) reference), population simulation and regimen search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theralab.development.pk import Dose, PatientFactors, PKParams, concentrations, steady_state
from theralab.development.pk_fit import (
    Target,
    fit_pk,
    fit_ssfol,
    population_summary,
    search_regimen,
    simulate_population,
    ssfol,
)
from theralab.errors import ConvergenceError, InputError


@pytest.fixture(scope="module")
def theoph(reference_data):  # noqa: ANN001, ANN201
    return pd.read_csv(reference_data / "development" / "pk" / "theoph_subject1.csv")


def test_theophylline_subject1_matches_r_nls_ssfol(theoph: pd.DataFrame) -> None:
    f = fit_ssfol(theoph.Time, theoph.conc, 4.02)
    # issue: lKe -2.9196, lKa 0.5752, lCl -3.9159, residual SE 0.732 on 8 df (R nls(SSfol)), 4-5 digits
    assert f.estimates["lKe"] == pytest.approx(-2.9196, abs=5e-5)
    assert f.estimates["lKa"] == pytest.approx(0.5752, abs=5e-5)
    assert f.estimates["lCl"] == pytest.approx(-3.9159, abs=5e-5)
    assert f.residual_se == pytest.approx(0.732, abs=5e-4)
    assert f.df == 8
    # natural scale: ke 0.0540 /h, ka 1.777 /h, CL 0.01992 L/h/kg, V 0.369 L/kg
    assert f.params["ke"] == pytest.approx(0.0540, abs=5e-5)
    assert f.params["ka"] == pytest.approx(1.777, abs=5e-4)
    assert f.params["cl"] == pytest.approx(0.01992, abs=5e-6)
    assert f.params["v"] == pytest.approx(0.369, abs=5e-4)
    # standard errors printed by summary(nls) for this fit: 0.1709, 0.1728, 0.1273 (4 digits)
    assert [f.se[k] for k in ("lKe", "lKa", "lCl")] == pytest.approx([0.1709, 0.1728, 0.1273], abs=5e-5)


def test_ssfol_standard_errors_equal_finite_difference_jacobian(theoph: pd.DataFrame) -> None:
    f = fit_ssfol(theoph.Time, theoph.conc, 4.02)
    x = np.array([f.estimates[k] for k in ("lKe", "lKa", "lCl")])
    t = theoph.Time.to_numpy(float)
    h = 1e-6
    jac = np.column_stack(
        [(ssfol(4.02, t, *(x + h * e)) - ssfol(4.02, t, *(x - h * e))) / (2 * h) for e in np.eye(3)]
    )
    se = np.sqrt(np.diag(f.residual_se**2 * np.linalg.inv(jac.T @ jac)))
    assert se == pytest.approx([f.se[k] for k in ("lKe", "lKa", "lCl")], rel=1e-5)


def test_generic_fit_reproduces_ssfol_and_recovers_two_compartment() -> None:
    p = PKParams(cl=3, v1=10, q2=6, v2=30)
    t = np.array([0.1, 0.25, 0.5, 1, 2, 4, 6, 8, 12, 24, 36, 48])
    c = concentrations(t, [Dose(0, 100)], p)
    f = fit_pk(t, c, [Dose(0, 100)], PKParams(cl=2, v1=8, q2=4, v2=20), ("cl", "v1", "q2", "v2"))
    assert [f.params[k] for k in ("cl", "v1", "q2", "v2")] == pytest.approx([3, 10, 6, 30], rel=1e-6)


def test_unidentifiable_fit_raises_convergence_error_with_last_estimate() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    c = np.array([1.0, 1.0, 1.0, 1.0])  # flat: ka, ke not identifiable
    with pytest.raises(ConvergenceError) as exc:
        fit_pk(t, c, [Dose(0, 10)], PKParams(cl=1, v1=10, q2=1, v2=10), ("cl", "v1", "q2"))
    assert exc.value.last_estimate is not None


def test_ssfol_on_uninformative_data_says_so_with_last_estimate() -> None:
    with pytest.raises(ConvergenceError) as exc:
        fit_ssfol([0.5, 1, 2, 4, 8], [1, 1, 1, 1, 1], 100.0)
    assert set(exc.value.last_estimate) == {"lKe", "lKa", "lCl"} and exc.value.where == "fit_ssfol"


def test_fit_bad_input() -> None:
    with pytest.raises(InputError):
        fit_ssfol([0, 1, 2], [1, 2, 1], 4.0)  # 3 points, 3 parameters
    with pytest.raises(InputError):
        fit_ssfol([0, 1, 2, 3], [1, 2, 1, 0.5], 0.0)
    with pytest.raises(InputError):
        fit_ssfol([0, 2, 1, 3], [1, 2, 1, 0.5], 1.0)
    with pytest.raises(InputError):
        fit_ssfol([0, 1, 2, 3], [0, 0, 0, 0], 1.0)


def test_population_simulation_iiv_and_covariates() -> None:
    p = PKParams(cl=5, v1=50, ka=1)
    sim = simulate_population(p, [Dose(0, 500, "oral")], [2.0], omega={"cl": 0.09}, n_subjects=4000, seed=1)
    cl = sim.groupby("id").cl.first()
    assert np.log(cl).std() == pytest.approx(0.3, abs=0.015)  # omega^2 = 0.09
    assert np.exp(np.log(cl).mean()) == pytest.approx(5.0, rel=0.02)  # geometric mean = typical
    again = simulate_population(p, [Dose(0, 500, "oral")], [2.0], omega={"cl": 0.09}, n_subjects=5, seed=1)
    assert np.allclose(again.cl.to_numpy(), cl.to_numpy()[:5])  # seeded
    cov = pd.DataFrame({"weight_kg": [70, 140], "cl_multiplier": [1.0, 0.5]})
    sim2 = simulate_population(p, [Dose(0, 500, "oral")], [1.0, 4.0], covariates=cov)
    assert sim2.groupby("id").cl.first().tolist() == pytest.approx([5.0, 5.0 * 0.5 * 2**0.75])
    band = population_summary(sim)
    assert list(band.columns) == ["time", "p5", "p50", "p95"] and band.p5[0] < band.p50[0] < band.p95[0]


def test_regimen_search_hits_trough_window_for_poor_metaboliser() -> None:
    p = PKParams(cl=5, v1=50, ka=1)
    pm = PatientFactors(cl_multiplier=0.5)
    table = search_regimen(p, Target("trough", 5, 10), intervals=(8, 12, 24), patient=pm, max_peak=20)
    best = table.iloc[0]
    assert best.in_window
    ss = steady_state(pm.apply(p), best.dose, best.interval, "oral", n_points=2001)
    assert 5 <= ss.cmin_ss <= 10 and ss.cmax_ss <= 20
    assert ss.cmin_ss == pytest.approx(best.trough, rel=1e-9)
    auc_t = search_regimen(p, Target("auc24", 200, 300), intervals=(12,), dose_step=10).iloc[0]
    assert auc_t.auc24 == pytest.approx(auc_t.dose * 2 / 5, rel=1e-9)  # AUC24 = F Dose (24/tau) / CL
    with pytest.raises(InputError):
        Target("trough", 10, 5)


@pytest.mark.parametrize(
    "model,true,duration",
    [
        ("2cmt-oral", PKParams(cl=3, v1=10, q2=6, v2=30, ka=1.5), 0.0),
        ("1cmt-infusion", PKParams(cl=3, v1=20), 1.0),
        ("3cmt-iv", PKParams(cl=3, v1=10, q2=6, v2=30, q3=1, v3=80), 0.0),
    ],
)
def test_fit_compartmental_recovers_parameters_from_nca_starts(
    model: str, true: PKParams, duration: float
) -> None:
    from theralab.development.pk_fit import COMPARTMENT_MODELS, fit_compartmental

    t = np.array([0.1, 0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 24, 36, 48])
    route = COMPARTMENT_MODELS[model][1]
    c = concentrations(t, [Dose(0, 100, route, duration)], true)  # type: ignore[arg-type]
    f = fit_compartmental(t, c, 100, model, duration=duration)
    for k, v in f.params.items():
        assert v == pytest.approx(getattr(true, k), rel=1e-6), k  # noise-free data: exact recovery
    corr = np.array(f.correlation)
    assert np.allclose(np.diag(corr), 1.0)


def test_fit_compartmental_one_cmt_oral_equals_ssfol(theoph: pd.DataFrame) -> None:
    from theralab.development.pk_fit import fit_compartmental

    f = fit_compartmental(theoph.Time, theoph.conc, 4.02, "1cmt-oral")
    assert f.params["cl"] == pytest.approx(0.01992, abs=5e-6) and f.params["v1"] == pytest.approx(
        0.369, abs=5e-4
    )
    assert f.residual_se == pytest.approx(0.732, abs=5e-4)
    with pytest.raises(InputError):
        fit_compartmental(theoph.Time, theoph.conc, 4.02, "4cmt-iv")
