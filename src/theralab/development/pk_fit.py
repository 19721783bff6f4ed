"""Fitting and population use of the PK models: individual NLS fits, IIV simulation, regimen search.

* Individual fits are ordinary nonlinear least squares (scipy ``least_squares``) on log parameters,
  as R's self-starting models (``SSfol``) do, so estimates stay positive and standard errors are on
  the scale where their sampling distribution is closest to normal. Standard errors are
  ``sqrt(diag(s^2 (J'J)^-1))`` with ``s^2 = RSS/(n - p)``, exactly what ``summary(nls)`` prints.
* Population simulation draws log-normal random effects, ``P_i = P_typ x exp(eta_i)``,
  ``eta ~ N(0, Omega)`` (NONMEM's exponential IIV), after covariates from :class:`PatientFactors`.
* Regimen search exploits linearity: steady-state trough and AUC are proportional to the dose, so
  for each interval the dose reaching the target is computed, rounded to a practical strength, and
  checked against the window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from theralab.development.nca import lambda_z
from theralab.development.pk import (
    Dose,
    PatientFactors,
    PKParams,
    Route,
    concentrations,
    disposition,
    steady_state,
)
from theralab.errors import ConvergenceError, InputError


@dataclass(frozen=True)
class FitResult:
    """Result of a least-squares PK fit.

    ``estimates``/``se`` are on the fitted (log) scale; ``params`` are the natural-scale values
    derived from them; ``se_natural`` by the delta method (SE x value for a log parameter).
    """

    names: list[str]
    estimates: dict[str, float]
    se: dict[str, float]
    params: dict[str, float]
    se_natural: dict[str, float]
    residual_se: float
    df: int
    n: int
    rss: float
    correlation: list[list[float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Plain dict for JSON output."""
        return asdict(self)


def _check_obs(
    time: np.ndarray | list[float], conc: np.ndarray | list[float], n_par: int
) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    c = np.asarray(conc, dtype=float)
    if t.shape != c.shape or t.ndim != 1:
        raise InputError("time and conc must be 1-D of equal length", where="fit")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))):
        raise InputError("time or conc has missing values", where="fit", hint="drop BLQ/missing rows first")
    if np.any(t < 0):
        raise InputError("negative time", where="time")
    if np.any(np.diff(t) < 0):
        raise InputError("times are not sorted", where="time", hint="sort the samples by time")
    if t.size <= n_par:
        raise InputError(
            f"{t.size} observations for {n_par} parameters: no degrees of freedom left",
            where="fit",
            hint="a fit needs more samples than parameters",
        )
    return t, c


def _finish(res: object, names: list[str], n: int, natural: dict[str, float], where: str) -> FitResult:
    """Standard errors from the Jacobian at the optimum, as summary.nls."""
    x, jac, fun = res.x, res.jac, res.fun  # type: ignore[attr-defined]
    p = x.size
    df = n - p
    rss = float(fun @ fun)
    s2 = rss / df
    jtj = jac.T @ jac
    last = dict(zip(names, map(float, x), strict=True))
    if not res.success:  # type: ignore[attr-defined]
        raise ConvergenceError(
            f"the fit did not converge: {res.message}",
            last_estimate=last,  # type: ignore[attr-defined]
            where=where,
            hint="check units and dose, or give better starting values",
        )
    if not np.all(np.isfinite(jtj)) or np.linalg.cond(jtj) > 1e14:
        raise ConvergenceError(
            "the fit stopped where the parameters are not identifiable (singular Jacobian)",
            last_estimate=last,
            where=where,
            hint="the data do not inform every parameter; fix some or fit a simpler model",
        )
    cov = s2 * np.linalg.inv(jtj)
    se = np.sqrt(np.diag(cov))
    corr = cov / np.outer(se, se)
    est = dict(zip(names, map(float, x), strict=True))
    ses = dict(zip(names, map(float, se), strict=True))
    se_nat = {nat: float(natural[nat] * ses[log]) for log, nat in zip(names, natural, strict=False)}
    return FitResult(names, est, ses, natural, se_nat, float(np.sqrt(s2)), df, n, rss, corr.tolist())


# ---------------------------------------------------------------- SSfol
def ssfol(dose: float, time: np.ndarray, lke: float, lka: float, lcl: float) -> np.ndarray:
    """R's ``SSfol``: one-compartment first-order absorption, log(ke), log(ka), log(CL)."""
    ke, ka = np.exp(lke), np.exp(lka)
    return dose * np.exp(lke + lka - lcl) * (np.exp(-ke * time) - np.exp(-ka * time)) / (ka - ke)


def fit_ssfol(time: np.ndarray | list[float], conc: np.ndarray | list[float], dose: float) -> FitResult:
    """Fit a one-compartment oral model as R's ``nls(conc ~ SSfol(Dose, Time, lKe, lKa, lCl))``.

    Starting values: ke from the terminal slope (best adjusted R2 rule), CL from Dose/AUCinf, and
    ka from a grid of multiples of ke (the best of those by RSS), so the fit finds the branch with
    ka > ke (the flip-flop solution with ka < ke fits equally well; by convention ka > ke).
    """
    if not np.isfinite(dose) or dose <= 0:
        raise InputError(f"dose must be > 0, got {dose}", where="dose")
    t, c = _check_obs(time, conc, 3)
    if c.max() <= 0:
        raise InputError("every concentration is zero: nothing to fit", where="conc")
    lz = lambda_z(t, c)
    ke0 = lz.lambda_z if lz else np.log(2) / max(t[-1] / 3, 1e-6)
    auc_obs = float(np.trapezoid(c, t)) + c[-1] / ke0
    cl0 = dose / max(auc_obs, 1e-12)

    def resid(x: np.ndarray) -> np.ndarray:
        return ssfol(dose, t, *x) - c

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        starts = [np.log([ke0, ke0 * m, cl0]) for m in (1.5, 3, 10, 30, 100)]
        x0 = min(starts, key=lambda s: float(np.sum(resid(s) ** 2)))
        res = least_squares(resid, x0, method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=2000)
        lke, lka, lcl = res.x
        if lka < lke:  # flip-flop branch: same curve, swap to the ka > ke convention and refit
            res = least_squares(resid, [lka, lke, lcl], method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14)
            lke, lka, lcl = res.x
        natural = {
            "ke": float(np.exp(lke)),
            "ka": float(np.exp(lka)),
            "cl": float(np.exp(lcl)),
            "v": float(np.exp(lcl - lke)),
        }
    fit = _finish(res, ["lKe", "lKa", "lCl"], t.size, natural, "fit_ssfol")
    # V = CL/ke: var(lV) = var(lCl) + var(lKe) - 2 cov
    cov = np.array(fit.correlation) * np.outer(list(fit.se.values()), list(fit.se.values()))
    se_lv = float(np.sqrt(cov[2, 2] + cov[0, 0] - 2 * cov[0, 2]))
    fit.se_natural["v"] = natural["v"] * se_lv
    return fit


# ---------------------------------------------------------------- generic individual fit
def fit_pk(
    time: np.ndarray | list[float],
    conc: np.ndarray | list[float],
    doses: list[Dose],
    init: PKParams,
    estimate: tuple[str, ...] = ("cl", "v1"),
    weighting: Literal["none", "proportional"] = "none",
) -> FitResult:
    """Fit selected parameters of any model in :mod:`pk` to one subject's data.

    Args:
        time, conc: observations (sorted times).
        doses: the dosing history.
        init: starting values; parameters not in ``estimate`` stay fixed at these values.
        estimate: names of :class:`PKParams` fields to estimate (on log scale), e.g.
            ``("cl", "v1", "q2", "v2")`` for a two-compartment IV model.
        weighting: ``"proportional"`` weights residuals by 1/prediction (constant CV error).
    """
    valid = {"cl", "v1", "q2", "v2", "q3", "v3", "ka", "tlag"}
    bad = [e for e in estimate if e not in valid]
    if bad or not estimate:
        raise InputError(f"cannot estimate {bad or 'nothing'}", where="estimate", hint=f"choose from {sorted(valid)}")
    t, c = _check_obs(time, conc, len(estimate))
    base = init.to_dict()
    for e in estimate:
        if not base.get(e):
            raise InputError(f"starting value of {e} must be > 0", where=f"init.{e}")

    def params_of(x: np.ndarray) -> PKParams:
        return PKParams(**{**base, **dict(zip(estimate, np.exp(x), strict=True))})

    def resid(x: np.ndarray) -> np.ndarray:
        try:
            pred = concentrations(t, doses, params_of(x))
        except (InputError, FloatingPointError):
            return np.full(t.size, 1e6)
        r = pred - c
        return r / np.maximum(pred, 1e-8) if weighting == "proportional" else r

    x0 = np.log([base[e] for e in estimate])
    res = least_squares(resid, x0, method="trf", xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=1000)
    natural = {e: float(np.exp(v)) for e, v in zip(estimate, res.x, strict=True)}
    return _finish(res, [f"log_{e}" for e in estimate], t.size, natural, "fit_pk")


COMPARTMENT_MODELS: dict[str, tuple[int, str]] = {
    "1cmt-iv": (1, "iv_bolus"), "2cmt-iv": (2, "iv_bolus"), "3cmt-iv": (3, "iv_bolus"),
    "1cmt-infusion": (1, "infusion"), "2cmt-infusion": (2, "infusion"),
    "1cmt-oral": (1, "oral"), "2cmt-oral": (2, "oral"),
}  # fmt: skip


def fit_compartmental(
    time: np.ndarray | list[float],
    conc: np.ndarray | list[float],
    dose: float,
    model: str,
    duration: float = 0.0,
    weighting: Literal["none", "proportional"] = "none",
) -> FitResult:
    """Fit a named compartmental model to a single-dose profile, with automatic starting values.

    Starting values come from NCA (CL = Dose/AUCinf, V = CL/lambda_z); for two and three compartments
    and for ka, a few splits and multiples are tried and the converged fit with the smallest RSS is
    kept (multi-start, because these likelihoods have local minima). For oral models CL and V are
    apparent (CL/F, V/F); F is fixed to 1.

    Raises:
        InputError: unknown model or bad data.
        ConvergenceError: no start converged; ``last_estimate`` is the best attempt.
    """
    from theralab.development.nca import nca

    if model not in COMPARTMENT_MODELS:
        raise InputError(f"unknown model {model!r}", where="model", hint=f"one of {sorted(COMPARTMENT_MODELS)}")
    n_cmt, route = COMPARTMENT_MODELS[model]
    if not np.isfinite(dose) or dose <= 0:
        raise InputError(f"dose must be > 0, got {dose}", where="dose")
    t, c = _check_obs(time, conc, 2 * n_cmt + (route == "oral"))
    res = nca(t, c, dose, "linear-up/log-down", route="iv_bolus" if route == "iv_bolus" else "extravascular")
    k = res.lambda_z or np.log(2) / max(t[-1] / 3, 1e-6)
    cl0 = dose / (res.auc_inf or max(res.auc_last, 1e-12))
    v0 = cl0 / k
    doses = [Dose(0.0, dose, route, duration)]  # type: ignore[arg-type]
    starts: list[tuple[PKParams, tuple[str, ...]]] = []
    kas = (k * 3, k * 10, k * 30) if route == "oral" else (None,)
    for ka in kas:
        if n_cmt == 1:
            starts.append((PKParams(cl=cl0, v1=v0, ka=ka), ("cl", "v1") + (("ka",) if ka else ())))
        for frac in (0.2, 0.5) if n_cmt >= 2 else ():
            for qf in (0.5, 2.0):
                extra = {"q3": cl0 * qf / 4, "v3": v0 * 2} if n_cmt == 3 else {}
                names = ("cl", "v1", "q2", "v2") + (("q3", "v3") if n_cmt == 3 else ()) + (("ka",) if ka else ())
                starts.append((PKParams(cl=cl0, v1=v0 * frac, q2=cl0 * qf, v2=v0 * (1 - frac), ka=ka, **extra), names))
    scale = float(c @ c)

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-6 * min(a, b) + 1e-12 * scale

    def conventional(fit: FitResult) -> bool:
        """ka faster than every disposition rate (the flip-flop twin fits equally well)."""
        if route != "oral":
            return True
        lam, _ = disposition(PKParams(**{**fit.params, "ka": None}))
        return fit.params["ka"] > float(lam.max())

    fits: list[FitResult] = []
    last: ConvergenceError | None = None
    for init, names in starts:
        try:
            fit = fit_pk(t, c, doses, init, names, weighting)
        except ConvergenceError as exc:
            last = exc
            continue
        fits.append(fit)
        good = [f for f in fits if conventional(f) and close(f.rss, fit.rss)]
        if conventional(fit) and (fit.rss <= 1e-20 * scale or len(good) >= 2):
            break  # exact fit, or two starts agree on the minimum
    best = None
    if fits:
        floor = min(f.rss for f in fits)
        tied = [f for f in fits if close(f.rss, floor)]
        best = next((f for f in tied if conventional(f)), min(tied, key=lambda f: f.rss))
    if best is None:
        raise ConvergenceError(
            f"no start converged for {model}",
            where="fit_compartmental",
            last_estimate=last.last_estimate if last else None,
            hint="fit a simpler model or check dose and units",
        )
    if n_cmt == 3 and best.params["q3"] / best.params["v3"] > best.params["q2"] / best.params["v2"]:
        best = _swap_peripherals(best)  # label switching: report the faster peripheral as compartment 2
    return best


def _swap_peripherals(fit: FitResult) -> FitResult:
    """Exchange compartments 2 and 3 in a fit result (same model, canonical order)."""
    swap = {"q2": "q3", "q3": "q2", "v2": "v3", "v3": "v2"}
    ren = {f"log_{a}": f"log_{b}" for a, b in swap.items()}

    def remap(d: dict[str, float], m: dict[str, str]) -> dict[str, float]:
        return {k: d[m.get(k, k)] for k in d}

    idx = [fit.names.index(ren.get(n, n)) for n in fit.names]
    return replace(
        fit,
        estimates=remap(fit.estimates, ren),
        se=remap(fit.se, ren),
        params=remap(fit.params, swap),
        se_natural=remap(fit.se_natural, swap),
        correlation=np.asarray(fit.correlation)[np.ix_(idx, idx)].tolist(),
    )


# ---------------------------------------------------------------- population simulation
def simulate_population(
    typical: PKParams,
    doses: list[Dose],
    times: np.ndarray | list[float],
    omega: dict[str, float] | None = None,
    covariates: pd.DataFrame | None = None,
    n_subjects: int | None = None,
    sigma_prop: float = 0.0,
    sigma_add: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a population: covariates, log-normal IIV, optional residual error.

    Args:
        typical: typical-value parameters (70 kg, CrCL 100 mL/min, normal metaboliser).
        doses, times: the regimen and the sampling grid, shared by all subjects.
        omega: variance of eta on the log scale per parameter, e.g. ``{"cl": 0.09, "v1": 0.04}``
            (CV about 30% and 20%).
        covariates: one row per subject; columns among ``weight_kg, age_years, crcl_ml_min, fe,
            cl_multiplier`` (see :class:`PatientFactors`). Its length sets the number of subjects.
        n_subjects: number of subjects when no covariate table is given.
        sigma_prop, sigma_add: SD of proportional and additive residual error.
        seed: seed of the numpy Generator (results are reproducible).

    Returns:
        Long table: ``id, time, ipred, dv`` plus each subject's individual parameters.
    """
    omega = omega or {}
    valid = {"cl", "v1", "q2", "v2", "q3", "v3", "ka"}
    if bad := set(omega) - valid:
        raise InputError(f"IIV on unknown parameters {sorted(bad)}", where="omega", hint=f"choose from {sorted(valid)}")
    if any(v < 0 for v in omega.values()):
        raise InputError("omega variances must be >= 0", where="omega")
    if covariates is None:
        if not n_subjects or n_subjects < 1:
            raise InputError("give n_subjects or a covariate table", where="simulate_population")
        covariates = pd.DataFrame(index=range(n_subjects))
    allowed = {"weight_kg", "age_years", "crcl_ml_min", "fe", "cl_multiplier"}
    cov_cols = [col for col in covariates.columns if col in allowed]
    rng = np.random.default_rng(seed)
    names = list(omega)
    eta = rng.normal(0.0, np.sqrt([omega[n] for n in names]), size=(len(covariates), len(names)))
    t = np.asarray(times, dtype=float)
    base = typical.to_dict()
    n_sub, n_t = len(covariates), t.size
    ipred = np.empty((n_sub, n_t))
    indiv: dict[str, list[float]] = {"cl": [], "v1": [], "ka": []}
    for i, (_, row) in enumerate(covariates.iterrows()):
        factors = PatientFactors(**{c: float(row[c]) for c in cov_cols})
        ind = factors.apply(typical).to_dict()
        for j, n in enumerate(names):
            if ind[n]:
                ind[n] = ind[n] * float(np.exp(eta[i, j]))
        ipred[i] = concentrations(t, doses, PKParams(**{**base, **ind}))
        for k in indiv:
            indiv[k].append(float(ind[k]) if ind[k] is not None else float("nan"))
    eps_p = rng.standard_normal((n_sub, n_t))
    eps_a = rng.standard_normal((n_sub, n_t))
    dv = ipred * (1 + sigma_prop * eps_p) + sigma_add * eps_a
    out = pd.DataFrame(
        {
            "id": np.repeat(np.arange(1, n_sub + 1), n_t),
            "time": np.tile(t, n_sub),
            "ipred": ipred.ravel(),
            "dv": dv.ravel(),
        }
    )
    for k, v in indiv.items():
        if not np.all(np.isnan(v)):
            out[k] = np.repeat(v, n_t)
    return out


def population_summary(
    sim: pd.DataFrame, column: str = "ipred", percentiles: tuple[float, ...] = (5, 50, 95)
) -> pd.DataFrame:
    """Percentiles of concentration at each time (the prediction band of a VPC)."""
    q = sim.groupby("time")[column].quantile([p / 100 for p in percentiles]).unstack()
    q.columns = [f"p{p:g}" for p in percentiles]
    return q.reset_index()


# ---------------------------------------------------------------- regimen search
@dataclass(frozen=True)
class Target:
    """Target window for the steady-state trough (Cmin,ss) or the daily AUC (AUC24,ss)."""

    kind: Literal["trough", "auc24"]
    low: float
    high: float

    def __post_init__(self) -> None:
        if self.kind not in ("trough", "auc24"):
            raise InputError(f"unknown target {self.kind!r}", where="Target.kind", hint="'trough' or 'auc24'")
        if not 0 < self.low < self.high:
            raise InputError(f"target window needs 0 < low < high, got [{self.low}, {self.high}]", where="Target")


def search_regimen(
    params: PKParams,
    target: Target,
    route: Route = "oral",
    intervals: tuple[float, ...] = (6, 8, 12, 24),
    dose_step: float = 50.0,
    max_dose: float = 5000.0,
    infusion_duration: float = 1.0,
    patient: PatientFactors | None = None,
    max_peak: float | None = None,
) -> pd.DataFrame:
    """Doses and intervals that keep one patient's steady state in the target window.

    For each interval the steady-state metric per unit dose is computed exactly, the dose hitting
    the window's geometric centre is rounded to ``dose_step``, and the neighbouring strengths are
    also checked. Rows are ranked: in window first, then fewer doses a day, then closeness to the
    centre (on log scale). The first row is the recommendation. ``max_peak`` (e.g. a toxicity
    threshold) additionally requires Cmax,ss <= max_peak for a regimen to count as in window.
    """
    if dose_step <= 0 or max_dose <= 0:
        raise InputError("dose_step and max_dose must be > 0", where="search_regimen")
    p = patient.apply(params) if patient else params
    centre = np.sqrt(target.low * target.high)
    rows = []
    for tau in intervals:
        if tau <= 0:
            raise InputError(f"interval must be > 0, got {tau}", where="intervals")
        ss = steady_state(p, 1.0, tau, route, infusion_duration if route == "infusion" else 0.0)
        per_unit = ss.cmin_ss if target.kind == "trough" else ss.auc_tau_ss * 24.0 / tau
        ideal = centre / per_unit
        base = max(1, round(ideal / dose_step))
        for k in {base - 1, base, base + 1}:
            dose = k * dose_step
            if dose <= 0 or dose > max_dose:
                continue
            value = per_unit * dose
            rows.append(
                {
                    "dose": dose,
                    "interval": tau,
                    "trough": ss.cmin_ss * dose,
                    "peak": ss.cmax_ss * dose,
                    "auc24": ss.auc_tau_ss * dose * 24.0 / tau,
                    "metric": value,
                    "in_window": bool(
                        target.low <= value <= target.high and (max_peak is None or ss.cmax_ss * dose <= max_peak)
                    ),
                    "log_distance": float(abs(np.log(value / centre))),
                }
            )
    if not rows:
        raise InputError(
            "no candidate dose within max_dose",
            where="search_regimen",
            hint="raise max_dose or lower dose_step",
        )
    table = pd.DataFrame(rows).drop_duplicates(["dose", "interval"])
    table["doses_per_day"] = 24.0 / table["interval"]
    table = table.sort_values(["in_window", "doses_per_day", "log_distance"], ascending=[False, True, True])
    return table.reset_index(drop=True)
