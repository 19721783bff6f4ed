"""Dissolution: kinetic model fits, f1/f2 similarity with the FDA conditions, formulation models.

Why this module: formulation scientists use DDSolver (Zhang et al., AAPS J 2010;12:263), an Excel
add-in, for model fitting and f2. Here the same models and selection criteria are plain functions.

* Models (release F in % at time t; DDSolver's parameterisations): zero-order ``k0 t``;
  first-order ``100 (1 - e^{-k1 t})``; Higuchi ``kH sqrt(t)``; Korsmeyer-Peppas ``kKP t^n`` fitted
  on points with F <= 60% only (Korsmeyer et al. 1983; Ritger and Peppas 1987); Hixson-Crowell
  ``100 [1 - (1 - kHC t)^3]``; Hopfenberg ``100 [1 - (1 - kHB t)^n]``; Weibull with lag
  ``Fmax (1 - exp(-(t - Ti)^beta / alpha))`` (Langenbucher 1972); logistic
  ``Fmax e^{a + b ln t} / (1 + e^{a + b ln t})`` and Gompertz ``Fmax exp(-a e^{-b ln t})``.
* Selection statistics as DDSolver: R2 = 1 - SSR/SST, adjusted R2 = 1 - (n-1)/(n-p) (1 - R2),
  AIC = n ln(SSR) + 2p (lower is better).
* f1 = 100 sum|R - T| / sum R and f2 = 50 log10(100 / sqrt(1 + mean (R - T)^2)) on mean
  profiles (Moore and Flanner 1996; FDA guidance *Dissolution Testing of Immediate Release Solid
  Oral Dosage Forms*, 1997), with the FDA conditions checked; when they fail, the bootstrap
  (Shah et al., Pharm Res 1998;15:889) gives a confidence interval for f2 by resampling units
  (scipy.stats.bootstrap, percentile and BCa).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from theralab.errors import ConvergenceError, InputError


# ---------------------------------------------------------------- kinetic models
def _weibull(t: np.ndarray, alpha: float, beta: float, ti: float, fmax: float = 100.0) -> np.ndarray:
    s = np.clip(t - ti, 0.0, None)
    return fmax * (1.0 - np.exp(-(s**beta) / alpha))


def _hixson(t: np.ndarray, k: float) -> np.ndarray:
    return 100.0 * (1.0 - np.clip(1.0 - k * t, 0.0, None) ** 3)


def _hopfenberg(t: np.ndarray, k: float, n: float) -> np.ndarray:
    return 100.0 * (1.0 - np.clip(1.0 - k * t, 0.0, None) ** n)


def _logistic(t: np.ndarray, a: float, b: float, fmax: float) -> np.ndarray:
    z = a + b * np.log(np.clip(t, 1e-12, None))
    return fmax / (1.0 + np.exp(-z))


def _gompertz(t: np.ndarray, a: float, b: float, fmax: float) -> np.ndarray:
    return fmax * np.exp(-a * np.exp(-b * np.log(np.clip(t, 1e-12, None))))


@dataclass(frozen=True)
class KineticModel:
    """A dissolution model: function, parameter names, bounds, and a starting-value rule."""

    name: str
    func: Callable[..., np.ndarray]
    params: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    start: Callable[[np.ndarray, np.ndarray], list[list[float]]]
    max_release: float | None = None  # fit only points with F <= this (Korsmeyer-Peppas: 60)


def _k_guess(t: np.ndarray, f: np.ndarray) -> float:
    """First-order rate from the point nearest 50% released (a robust scale for all starts)."""
    i = int(np.argmin(np.abs(f - 50.0)))
    frac = np.clip(f[i] / 100.0, 0.01, 0.99)
    return float(-np.log(1.0 - frac) / max(t[i], 1e-9))


def _fmax(f: np.ndarray) -> float:
    return max(float(f.max()), 1.0)


INF = np.inf
# fmt: off
MODELS: dict[str, KineticModel] = {m.name: m for m in [
    KineticModel("zero_order", lambda t, k0: k0 * t, ("k0",), (0.0,), (INF,),
                 lambda t, f: [[float(np.sum(t * f) / np.sum(t * t))]]),
    KineticModel("first_order", lambda t, k1: 100.0 * (1.0 - np.exp(-k1 * t)), ("k1",), (0.0,), (INF,),
                 lambda t, f: [[_k_guess(t, f)]]),
    KineticModel("higuchi", lambda t, kh: kh * np.sqrt(t), ("kH",), (0.0,), (INF,),
                 lambda t, f: [[float(np.sum(np.sqrt(t) * f) / np.sum(t))]]),
    KineticModel("korsmeyer_peppas", lambda t, k, n: k * t**n, ("kKP", "n"), (0.0, 0.0), (INF, 5.0),
                 lambda t, f: [[float(f[-1] / t[-1] ** 0.5), 0.5], [float(f[-1] / t[-1]), 1.0]],
                 max_release=60.0),
    KineticModel("hixson_crowell", _hixson, ("kHC",), (0.0,), (INF,), lambda t, f: [[_k_guess(t, f) / 3.0]]),
    KineticModel("hopfenberg", _hopfenberg, ("kHB", "n"), (0.0, 0.0), (INF, 50.0),
                 lambda t, f: [[_k_guess(t, f) / m / 3, m] for m in (1.0, 3.0)] + [[1.0 / (2 * t[-1]), 1.0]]),
    KineticModel("weibull", _weibull, ("alpha", "beta", "Ti"), (1e-12, 0.05, 0.0), (INF, 20.0, INF),
                 lambda t, f: [[_k_guess(t, f) ** -b, b, 0.0] for b in (0.5, 1.0, 2.0)]),
    KineticModel("weibull_fmax", _weibull, ("alpha", "beta", "Ti", "Fmax"), (1e-12, 0.05, 0.0, 1.0),
                 (INF, 20.0, INF, 200.0),
                 lambda t, f: [[_k_guess(t, f) ** -b, b, 0.0, _fmax(f)] for b in (0.5, 1.0, 2.0)]),
    KineticModel("logistic", _logistic, ("a", "b", "Fmax"), (-INF, 0.0, 1.0), (INF, 50.0, 200.0),
                 lambda t, f: [[np.log(_k_guess(t, f)) * b, b, _fmax(f)] for b in (1.0, 2.0)]),
    KineticModel("gompertz", _gompertz, ("a", "b", "Fmax"), (0.0, 0.0, 1.0), (INF, 50.0, 200.0),
                 lambda t, f: [[_k_guess(t, f) ** -b, b, _fmax(f)] for b in (0.5, 1.0, 2.0)]),
]}
# fmt: on


@dataclass(frozen=True)
class DissolutionFit:
    """One model fitted to one profile, with DDSolver's goodness-of-fit statistics."""

    model: str
    params: dict[str, float]
    n: int
    r2: float
    r2_adj: float
    aic: float
    rss: float

    def predict(self, t: np.ndarray | list[float]) -> np.ndarray:
        """Release (%) at times ``t``."""
        return MODELS[self.model].func(np.asarray(t, dtype=float), *self.params.values())

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


def _profile(time: np.ndarray | list[float], release: np.ndarray | list[float]) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    f = np.asarray(release, dtype=float)
    if t.ndim != 1 or t.shape != f.shape:
        raise InputError(
            f"time and release must be 1-D of equal length ({t.size} vs {f.size})",
            where="dissolution profile",
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(f))):
        raise InputError("profile has missing values", where="dissolution profile")
    if np.any(t < 0):
        raise InputError(f"negative time {t[t < 0][0]}", where="time")
    if np.any(np.diff(t) <= 0):
        raise InputError("times must be strictly increasing", where="time", hint="sort and remove duplicates")
    keep = t > 0  # t = 0 carries no information for models that pass through the origin
    return t[keep], f[keep]


def fit_model(time: np.ndarray | list[float], release: np.ndarray | list[float], model: str) -> DissolutionFit:
    """Fit one kinetic model by bounded least squares from several starting values.

    Raises:
        InputError: unknown model or too few points (n must exceed the number of parameters).
        ConvergenceError: no start converged; carries the best estimate reached.
    """
    if model not in MODELS:
        raise InputError(f"unknown dissolution model {model!r}", where="model", hint=f"one of {sorted(MODELS)}")
    m = MODELS[model]
    t, f = _profile(time, release)
    if m.max_release is not None:
        t, f = t[f <= m.max_release], f[f <= m.max_release]
    p = len(m.params)
    if t.size <= p:
        raise InputError(
            f"{model} has {p} parameters but only {t.size} usable points"
            + (f" (F <= {m.max_release}%)" if m.max_release else ""),
            where=model,
            hint="more sampling times are needed for this model",
        )
    best = None
    for x0 in m.start(t, f):
        x0 = np.clip(np.asarray(x0, dtype=float), np.add(m.lower, 1e-9), np.subtract(m.upper, 1e-9))
        try:
            res = least_squares(
                lambda x: m.func(t, *x) - f,
                x0,
                bounds=(m.lower, m.upper),
                method="trf",
                xtol=1e-15,
                ftol=1e-15,
                gtol=1e-15,
                max_nfev=20000,
            )
        except ValueError:
            continue
        if np.all(np.isfinite(res.fun)) and (best is None or res.cost < best.cost):
            best = res
    if best is None or not best.success:
        raise ConvergenceError(
            f"{model} fit did not converge",
            where=model,
            last_estimate=None if best is None else dict(zip(m.params, best.x.tolist(), strict=True)),
            hint="check the profile (units in %, time ascending) or choose another model",
        )
    rss = float(2 * best.cost)
    sst = float(np.sum((f - f.mean()) ** 2))
    n = t.size
    r2 = 1.0 - rss / sst if sst > 0 else float("nan")
    r2_adj = 1.0 - (n - 1) / (n - p) * (1.0 - r2)
    aic = n * np.log(max(rss, 1e-300)) + 2 * p
    return DissolutionFit(model, dict(zip(m.params, map(float, best.x), strict=True)), n, r2, r2_adj, float(aic), rss)


def fit_all(
    time: np.ndarray | list[float], release: np.ndarray | list[float], models: list[str] | None = None
) -> pd.DataFrame:
    """Fit several models and rank them by AIC (the selection table).

    A model that cannot be fitted stays in the table with its reason in ``error``, so the user sees
    why it is absent from the ranking. Korsmeyer-Peppas AIC uses only its F <= 60% points and is not
    comparable with the others; its ``n`` column says so.
    """
    rows = []
    for name in models or list(MODELS):
        try:
            fit = fit_model(time, release, name)
            rows.append(
                {
                    "model": name,
                    "n": fit.n,
                    "r2": fit.r2,
                    "r2_adj": fit.r2_adj,
                    "aic": fit.aic,
                    "rss": fit.rss,
                    "params": fit.params,
                    "error": "",
                }
            )
        except (InputError, ConvergenceError) as exc:
            rows.append(
                {
                    "model": name,
                    "n": 0,
                    "r2": np.nan,
                    "r2_adj": np.nan,
                    "aic": np.nan,
                    "rss": np.nan,
                    "params": {},
                    "error": exc.message,
                }
            )
    return pd.DataFrame(rows).sort_values("aic", na_position="last").reset_index(drop=True)


# ---------------------------------------------------------------- f1 / f2
def _means(ref: np.ndarray | list[float], test: np.ndarray | list[float]) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(ref, dtype=float)
    t = np.asarray(test, dtype=float)
    if r.shape != t.shape or r.ndim != 1:
        raise InputError(
            f"reference and test profiles must have equal length ({r.size} vs {t.size})",
            where="f1/f2",
            hint="use the same sampling times for both products",
        )
    if r.size == 0 or not (np.all(np.isfinite(r)) and np.all(np.isfinite(t))):
        raise InputError("profiles are empty or have missing values", where="f1/f2")
    return r, t


def f1(ref: np.ndarray | list[float], test: np.ndarray | list[float]) -> float:
    """Difference factor f1 = 100 sum|R_t - T_t| / sum R_t (mean profiles)."""
    r, t = _means(ref, test)
    return float(100.0 * np.sum(np.abs(r - t)) / np.sum(r))


def f2(ref: np.ndarray | list[float], test: np.ndarray | list[float]) -> float:
    """Similarity factor f2 = 50 log10(100 / sqrt(1 + mean (R_t - T_t)^2)) (mean profiles)."""
    r, t = _means(ref, test)
    return float(50.0 * np.log10(100.0 / np.sqrt(1.0 + np.mean((r - t) ** 2))))


def _f2_stat(r: np.ndarray, t: np.ndarray, axis: int = -1) -> np.ndarray:
    """f2 of unit-level data for scipy.stats.bootstrap (units along ``axis``, times last after mean)."""
    d = np.mean(r, axis=axis) - np.mean(t, axis=axis)
    return 50.0 * np.log10(100.0 / np.sqrt(1.0 + np.mean(d**2, axis=-1)))


@dataclass(frozen=True)
class Condition:
    """One FDA 1997 condition for using f2, with what was found."""

    name: str
    passed: bool
    detail: str


@dataclass
class SimilarityResult:
    """f1, f2, the FDA conditions and, where requested or needed, the bootstrap f2 interval."""

    times: list[float]
    ref_mean: list[float]
    test_mean: list[float]
    f1: float
    f2: float
    conditions: list[Condition]
    conditions_met: bool
    similar: bool | None
    bootstrap: dict[str, Any] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)


def _units(x: pd.DataFrame | np.ndarray, where: str) -> np.ndarray:
    """Units x times array from a table (time index or ``time`` column, one column per unit)."""
    if isinstance(x, pd.DataFrame):
        df = x.set_index("time") if "time" in x.columns else x
        arr = df.to_numpy(dtype=float).T
    else:
        arr = np.asarray(x, dtype=float)
    if arr.ndim != 2 or arr.shape[0] < 2:
        raise InputError("unit data must be a table of >= 2 units x time points", where=where)
    if not np.all(np.isfinite(arr)):
        raise InputError("unit data has missing values", where=where)
    return arr


def check_fda_conditions(
    times: np.ndarray, ref: np.ndarray, test: np.ndarray, early_time: float | None = None
) -> list[Condition]:
    """The FDA 1997 conditions for a valid f2 (IR guidance, appendix; also EMA 2010).

    ``early_time``: sampling times <= it count as "early" (CV limit 20%); by default the first time.
    """
    both_over = (ref.mean(0) > 85) & (test.mean(0) > 85)
    n_over = int(both_over.sum())
    early = times <= (early_time if early_time is not None else times[0])
    out = [
        Condition(
            "units >= 12",
            bool(min(ref.shape[0], test.shape[0]) >= 12),
            f"reference {ref.shape[0]}, test {test.shape[0]} units",
        ),
        Condition("time points >= 3", bool(times.size >= 3), f"{times.size} time points (t > 0)"),
        Condition("only one point after 85% of both", n_over <= 1, f"{n_over} time point(s) with both means > 85%"),
    ]
    for name, arr in (("reference", ref), ("test", test)):
        cv = 100.0 * arr.std(axis=0, ddof=1) / arr.mean(axis=0)
        out.append(
            Condition(
                f"{name} CV <= 20% at early points",
                bool(np.all(cv[early] <= 20)),
                "CV% " + ", ".join(f"{c:.1f}" for c in cv[early]),
            )
        )
        out.append(
            Condition(
                f"{name} CV <= 10% at later points",
                bool(np.all(cv[~early] <= 10)),
                "CV% " + ", ".join(f"{c:.1f}" for c in cv[~early]),
            )
        )
    return out


def compare_profiles(
    times: np.ndarray | list[float],
    ref: pd.DataFrame | np.ndarray,
    test: pd.DataFrame | np.ndarray,
    bootstrap: Literal["auto", "always", "never"] = "auto",
    n_boot: int = 5000,
    confidence: float = 0.90,
    seed: int = 0,
    early_time: float | None = None,
    points: Literal["all", "fda"] = "all",
) -> SimilarityResult:
    """f1 and f2 of test against reference, the FDA conditions, and the bootstrap when they fail.

    Args:
        times: sampling times (t = 0 is dropped from f1/f2, as the guidance requires).
        ref, test: unit-level data, units x times (array) or a table with a time index/column and
            one column per unit.
        bootstrap: ``"auto"`` bootstraps only when a condition fails.
        n_boot, confidence, seed: bootstrap settings (90% two-sided: the lower bound is the one-sided
            95% bound compared with 50, as Shah et al. 1998).
        early_time: times <= this count as "early" for the 20% CV limit (default: first time).
        points: ``"all"`` uses every time t > 0 (as Shah et al.); ``"fda"`` keeps the times up to
            and including the first one at which both means exceed 85%.
    """
    if points not in ("all", "fda"):
        raise InputError(f"unknown points rule {points!r}", where="points", hint="'all' or 'fda'")
    t = np.asarray(times, dtype=float)
    r, s = _units(ref, "reference"), _units(test, "test")
    if r.shape[1] != t.size or s.shape[1] != t.size:
        raise InputError(
            f"{t.size} times but reference has {r.shape[1]} and test {s.shape[1]} time points",
            where="f1/f2",
            hint="both products need the same sampling times",
        )
    if np.any(np.diff(t) <= 0) or np.any(t < 0):
        raise InputError("times must be >= 0 and strictly increasing", where="times")
    keep = t > 0
    t, r, s = t[keep], r[:, keep], s[:, keep]
    if points == "fda":
        over = np.nonzero((r.mean(0) > 85) & (s.mean(0) > 85))[0]
        if over.size:
            t, r, s = t[: over[0] + 1], r[:, : over[0] + 1], s[:, : over[0] + 1]
    rm, sm = r.mean(0), s.mean(0)
    conds = check_fda_conditions(t, r, s, early_time)
    met = all(c.passed for c in conds)
    value = f2(rm, sm)
    boot = None
    if bootstrap == "always" or (bootstrap == "auto" and not met):
        boot = bootstrap_f2(r, s, n_boot, confidence, seed)
    similar = value >= 50 if met else (boot["bca"][0] >= 50 if boot else None)
    return SimilarityResult(t.tolist(), rm.tolist(), sm.tolist(), f1(rm, sm), value, conds, met, similar, boot)


def bootstrap_f2(
    ref: np.ndarray, test: np.ndarray, n_boot: int = 5000, confidence: float = 0.90, seed: int = 0
) -> dict[str, Any]:
    """Bootstrap f2 by resampling units within each product (Shah et al. 1998).

    Percentile and BCa intervals come from ``scipy.stats.bootstrap`` (BCa acceleration from the
    jackknife over units of each product). Seeded, so the interval is reproducible.
    """
    from scipy.stats import bootstrap as sp_bootstrap

    if n_boot < 100:
        raise InputError("n_boot must be >= 100", where="n_boot")
    out: dict[str, Any] = {"n_boot": n_boot, "confidence": confidence, "seed": seed}
    for method in ("percentile", "BCa"):
        res = sp_bootstrap(
            (ref, test),
            _f2_stat,
            n_resamples=n_boot,
            confidence_level=confidence,
            method=method,
            axis=0,
            vectorized=True,
            paired=False,
            rng=np.random.default_rng(seed),
        )
        ci = res.confidence_interval
        out[method.lower()] = [float(ci.low), float(ci.high)]
        out["boot_mean"] = float(np.mean(res.bootstrap_distribution))
    return out


# ---------------------------------------------------------------- formulation model
class FormulationModel:
    """Predict a release profile from formulation variables, trained on the user's own table.

    Why per time point with a Gaussian process: formulation tables are small (tens of batches), a GP
    with an ARD kernel interpolates smoothly, gives an uncertainty with each prediction and shares
    one kernel over all time points (multi-output). ``method="gbm"`` uses gradient boosting per time
    point instead, for larger, non-smooth tables. Predicted profiles are made non-decreasing
    (cumulative maximum), as a cumulative release must be. Cross-validated RMSE per time point is
    computed at fit time (K-fold, ``min(5, n)`` folds) so the user knows the expected error.
    """

    def __init__(self, method: Literal["gp", "gbm"] = "gp", seed: int = 0) -> None:
        if method not in ("gp", "gbm"):
            raise InputError(f"unknown method {method!r}", where="FormulationModel", hint="'gp' or 'gbm'")
        self.method = method
        self.seed = seed
        self.features: list[str] = []
        self.targets: list[str] = []
        self.cv_rmse: dict[str, float] = {}
        self.baseline_rmse: dict[str, float] = {}
        self._model: Any = None

    def _estimator(self) -> Any:
        from sklearn.ensemble import GradientBoostingRegressor
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
        from sklearn.multioutput import MultiOutputRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if self.method == "gp":
            kernel = ConstantKernel(1.0) * RBF(length_scale=np.ones(len(self.features))) + WhiteKernel(1e-2)
            return make_pipeline(
                StandardScaler(),
                GaussianProcessRegressor(kernel, normalize_y=True, n_restarts_optimizer=1, random_state=self.seed),
            )
        return MultiOutputRegressor(GradientBoostingRegressor(random_state=self.seed, n_estimators=200, max_depth=2))

    def fit(self, table: pd.DataFrame, features: list[str], targets: list[str]) -> FormulationModel:
        """Train on ``table`` (one row per batch): ``features`` -> release at ``targets`` columns."""
        from sklearn.model_selection import KFold, cross_val_predict

        missing = [c for c in [*features, *targets] if c not in table.columns]
        if missing:
            raise InputError(f"columns not in the table: {missing}", where="formulation table")
        if len(table) < 5:
            raise InputError(f"{len(table)} batches are too few to learn from (need >= 5)", where="formulation table")
        x = table[features].to_numpy(dtype=float)
        y = table[targets].to_numpy(dtype=float)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InputError("formulation table has missing values", where="formulation table")
        self.features, self.targets = list(features), list(targets)
        folds = KFold(min(5, len(table)), shuffle=True, random_state=self.seed)
        pred = cross_val_predict(self._estimator(), x, y, cv=folds)
        pred = np.maximum.accumulate(pred, axis=1)
        self.cv_rmse = {c: float(np.sqrt(np.mean((pred[:, j] - y[:, j]) ** 2))) for j, c in enumerate(targets)}
        self.baseline_rmse = {c: float(np.std(y[:, j])) for j, c in enumerate(targets)}
        self._model = self._estimator().fit(x, y)
        return self

    def predict(self, formulations: pd.DataFrame) -> pd.DataFrame:
        """Predicted release (one column per target) for new formulations; GP adds ``<col>_sd``."""
        if self._model is None:
            raise InputError("the formulation model is not fitted", where="FormulationModel.predict")
        missing = [c for c in self.features if c not in formulations.columns]
        if missing:
            raise InputError(f"formulation variables missing: {missing}", where="predict")
        x = formulations[self.features].to_numpy(dtype=float)
        out = pd.DataFrame(
            np.maximum.accumulate(self._model.predict(x), axis=1),
            columns=self.targets,
            index=formulations.index,
        )
        if self.method == "gp":
            scaler, gp = self._model[0], self._model[-1]
            _, sd = gp.predict(scaler.transform(x), return_std=True)
            sd = np.asarray(sd).reshape(len(x), -1)
            for j, c in enumerate(self.targets):
                out[f"{c}_sd"] = sd[:, j] if sd.shape[1] > 1 else sd[:, 0]
        return out
