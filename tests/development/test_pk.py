"""PK simulation: closed forms against the issue's analytic check, ODE cross-check, steady state."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.development.pk import (
    Dose,
    PatientFactors,
    PKParams,
    auc_inf,
    cockcroft_gault,
    concentrations,
    dosing_schedule,
    oral_tmax_cmax,
    simulate_ode,
    steady_state,
)
from theralab.errors import InputError

ORAL = PKParams(cl=5.0, v1=50.0, ka=1.0)  # ke = 0.1 /h


def test_issue_analytic_check_oral_one_compartment() -> None:
    # issue: 500 mg oral, F 1, V 50 L, ka 1 /h, ke 0.1 /h -> tmax 2.5584 h, Cmax 7.7426, AUC 100
    tmax, cmax = oral_tmax_cmax(500.0, ORAL)
    assert tmax == pytest.approx(2.5584, abs=5e-5)
    assert cmax == pytest.approx(7.7426, abs=5e-5)
    assert auc_inf(500.0, ORAL, "oral") == pytest.approx(100.0, rel=1e-12)
    # the numerical AUC of the simulated curve agrees (trapezoid on a fine grid to 300 h)
    t = np.linspace(0, 300, 300001)
    assert np.trapezoid(concentrations(t, [Dose(0, 500, "oral")], ORAL), t) == pytest.approx(100.0, rel=1e-6)


def test_iv_bolus_and_infusion_closed_forms() -> None:
    p = PKParams(cl=5.0, v1=50.0)
    t = np.array([0.0, 1.0, 10.0])
    assert concentrations(t, [Dose(0, 500)], p) == pytest.approx(10 * np.exp(-0.1 * t), rel=1e-12)
    # infusion 500 over 2 h: at end C = R/CL (1 - e^{-k T})
    c_end = concentrations([2.0], [Dose(0, 500, "infusion", 2.0)], p)[0]
    assert c_end == pytest.approx(250 / 5 * (1 - np.exp(-0.2)), rel=1e-12)


def test_ka_equal_ke_limit_is_continuous() -> None:
    eq = concentrations([3.0], [Dose(0, 100, "oral")], PKParams(cl=5, v1=50, ka=0.1))[0]
    near = concentrations([3.0], [Dose(0, 100, "oral")], PKParams(cl=5, v1=50, ka=0.1 * (1 + 1e-6)))[0]
    assert eq == pytest.approx(100 / 50 * 0.1 * 3 * np.exp(-0.3), rel=1e-12)
    assert near == pytest.approx(eq, rel=1e-5)


@pytest.mark.parametrize(
    "params",
    [
        PKParams(cl=5, v1=20, q2=10, v2=40, ka=0.7, tlag=0.5),
        PKParams(cl=5, v1=20, q2=10, v2=40, q3=2, v3=100, ka=0.7, tlag=0.5),
    ],
)
def test_multicompartment_superposition_matches_ode(params: PKParams) -> None:
    doses = dosing_schedule(100, 12, 3, "oral") + [Dose(30, 50, "infusion", 2), Dose(40, 20)]
    t = np.array([0.3, 1, 5, 13, 25, 31, 33, 40, 47.5])
    assert concentrations(t, doses, params) == pytest.approx(simulate_ode(t, doses, params), rel=1e-6, abs=1e-9)


def test_two_compartment_auc_is_dose_over_cl() -> None:
    p = PKParams(cl=3, v1=10, q2=6, v2=30)
    t = np.linspace(0, 400, 400001)
    c = concentrations(t, [Dose(0, 100)], p)
    assert c[0] == pytest.approx(10.0)  # C0 = Dose / V1
    assert np.trapezoid(c, t) == pytest.approx(100 / 3, rel=1e-5)


def test_michaelis_menten_is_slower_than_linear_at_high_concentration() -> None:
    p = PKParams(cl=5, v1=50)
    # Vmax/Km = 5 L/h as the linear CL at low C; at C >> Km elimination saturates
    lin = simulate_ode([10.0], [Dose(0, 5000)], p)[0]
    mm = simulate_ode([10.0], [Dose(0, 5000)], p, vmax=5.0, km=1.0)[0]
    assert mm > lin


def test_steady_state_accumulation_one_compartment() -> None:
    ss = steady_state(PKParams(cl=5, v1=50), 100, 12)
    r = 1 / (1 - np.exp(-0.1 * 12))
    assert ss.accumulation_ratio == pytest.approx(r, rel=1e-9)
    assert ss.cmax_ss == pytest.approx(2.0 * r, rel=1e-10)
    assert ss.cmin_ss == pytest.approx(2.0 * r * np.exp(-1.2), rel=1e-10)
    assert ss.cavg_ss == pytest.approx(100 / (5 * 12))
    assert ss.time_to_90pct_ss == pytest.approx(np.log(10) / 0.1)


def test_patient_factors_covariate_models() -> None:
    p = PKParams(cl=10, v1=50, q2=4, v2=100, ka=1)
    pm = PatientFactors(cl_multiplier=0.5).apply(p)
    assert pm.cl == pytest.approx(5.0) and pm.v1 == 50 and pm.q2 == 4
    heavy = PatientFactors(weight_kg=140).apply(p)
    assert heavy.cl == pytest.approx(10 * 2**0.75) and heavy.v1 == pytest.approx(100) and heavy.v2 == pytest.approx(200)
    renal = PatientFactors(fe=0.8, crcl_ml_min=25, cl_multiplier=0.5).apply(p)
    assert renal.cl == pytest.approx(10 * (0.2 * 0.5 + 0.8 * 0.25))
    assert cockcroft_gault(60, 72, 1.0, female=True) == pytest.approx(80 * 0.85)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: Dose(0, 0.0),
        lambda: Dose(-1, 10),
        lambda: Dose(0, 10, "infusion"),
        lambda: PKParams(cl=0, v1=1),
        lambda: PKParams(cl=1, v1=1, v2=3),
        lambda: concentrations([-1.0], [Dose(0, 1)], PKParams(cl=1, v1=1)),
        lambda: concentrations([1.0], [Dose(0, 1, "oral")], PKParams(cl=1, v1=1)),
        lambda: PatientFactors(fe=1.0, crcl_ml_min=0).apply(PKParams(cl=1, v1=1)),
    ],
)
def test_bad_input_raises_input_error(bad) -> None:  # noqa: ANN001
    with pytest.raises(InputError):
        bad()


def test_zero_dose_error_names_where() -> None:
    with pytest.raises(InputError) as exc:
        Dose(0, 0.0)
    assert exc.value.where == "Dose.amount"


def test_steady_state_oral_peak_and_trough_closed_form() -> None:
    ka, ke, tau, dose, v = 1.0, 0.1, 12.0, 500.0, 50.0
    ss = steady_state(ORAL, dose, tau, "oral")
    rk, ra = 1 - np.exp(-ke * tau), 1 - np.exp(-ka * tau)
    tmax = np.log(ka * rk / (ke * ra)) / (ka - ke)  # Gibaldi and Perrier, multiple oral dosing

    def c_ss(t: float) -> float:
        return dose * ka / (v * (ka - ke)) * (np.exp(-ke * t) / rk - np.exp(-ka * t) / ra)

    assert ss.cmax_ss == pytest.approx(c_ss(tmax), rel=1e-9)
    assert ss.cmin_ss == pytest.approx(c_ss(0.0), rel=1e-9)
    assert ss.auc_tau_ss == pytest.approx(100.0)


def test_ode_counts_a_bolus_given_at_the_last_output_time() -> None:
    p = PKParams(cl=5, v1=50)
    doses = [Dose(0, 500), Dose(10, 500)]
    assert simulate_ode([0, 5, 10.0], doses, p) == pytest.approx(concentrations([0, 5, 10.0], doses, p), rel=1e-8)


def test_patient_factors_from_pgx_phenotype() -> None:
    from theralab.errors import NotFoundError

    table = {"Normal Metabolizer": 1.0, "Intermediate Metabolizer": 0.6, "Poor Metabolizer": 0.3}
    pf = PatientFactors.from_phenotype(" poor metabolizer", table, weight_kg=70.0)
    assert pf.cl_multiplier == 0.3 and PKParams(cl=10, v1=50).cl * pf.cl_factor() == pytest.approx(3.0)
    with pytest.raises(NotFoundError):
        PatientFactors.from_phenotype("Ultrarapid Metabolizer", table)


def test_time_grid_is_one_rule_for_cli_and_api() -> None:
    """Default end: one interval after the last dose (regimen interval, else last gap, else 24)."""
    from theralab.development.pk import Dose, dosing_schedule, time_grid

    daily = dosing_schedule(100.0, 12.0, 3, "iv_bolus", 0.0)
    grid = time_grid(daily, interval=12.0)
    assert grid[0] == 0.0 and grid[-1] == 36.0 and grid.size == 241
    assert time_grid([Dose(0.0, 5.0), Dose(8.0, 5.0)])[-1] == 16.0
    assert time_grid([Dose(0.0, 5.0)])[-1] == 24.0
    assert time_grid([Dose(0.0, 5.0)], t_end=10.0, n_points=11).tolist() == [float(i) for i in range(11)]


def test_cli_and_api_simulate_the_same_curve(tmp_path) -> None:
    import pandas as pd
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from theralab.app import create_app
    from theralab.cli.main import app as cli
    from theralab.privacy.deps import Principal, get_current_user

    out = tmp_path / "curve.csv"
    r = CliRunner().invoke(cli, ["pk", "simulate", "--cl", "5", "--v1", "50", "--dose", "100", "--interval", "12",
                                 "--n-doses", "3", "-o", str(out)])
    assert r.exit_code == 0, r.output
    api = create_app(with_web=False)
    api.dependency_overrides[get_current_user] = lambda: Principal("t", frozenset({"researcher"}))
    body = {"params": {"cl": 5, "v1": 50}, "regimen": {"amount": 100, "interval": 12, "n_doses": 3}}
    res = TestClient(api).post("/v1/development/pk/simulate", json=body)
    assert res.status_code == 200, res.text
    curve = pd.read_csv(out)
    assert curve.iloc[:, 0].tolist() == pytest.approx(res.json()["times"])
    assert curve.iloc[:, 1].tolist() == pytest.approx(res.json()["conc"], rel=1e-9)
