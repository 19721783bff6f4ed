"""Meta-analysis: fixed and random effects, heterogeneity, meta-regression, bias tests, plots.

The model is metafor's (Viechtbauer 2010) normal-normal hierarchical model
``y_i = x_i' beta + u_i + e_i``, ``u_i ~ N(0, tau2)``, ``e_i ~ N(0, v_i)`` with ``v_i`` known. All
estimators are written for a general design matrix so the same code fits the intercept-only model,
subgroup models and meta-regression. Results match metafor 3.8-1 on the BCG vaccine data to 1e-6.

Effect sizes and MH/Peto pooling live in :mod:`theralab.trials.meta.effects`; forest and funnel
plots in :mod:`theralab.trials.meta.plots`. The package :mod:`theralab.trials.meta` exports all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.stats import chi2, norm
from scipy.stats import t as student_t

from theralab.errors import ConvergenceError, InputError
from theralab.trials.meta.effects import (  # noqa: F401  (re-exported)
    MEASURES_2X2,
    EffectSizes,
    PooledFixed,
    effects_2x2,
    effects_hr,
    effects_means,
    mantel_haenszel,
    peto,
)
from theralab.trials.records import Record

METHODS = ("FE", "DL", "REML", "ML", "PM", "HE", "SJ", "HS")


@dataclass(frozen=True)
class MetaResult(Record):
    """A fitted (meta-regression) model. ``beta[0]`` is the pooled estimate in the intercept-only model."""

    method: str
    test: str
    k: int
    beta: list[float]
    se: list[float]
    ci_lb: list[float]
    ci_ub: list[float]
    zval: list[float]
    pval: list[float]
    tau2: float
    se_tau2: float | None
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    pi: tuple[float, float] | None
    tau2_ci: tuple[float, float] | None
    i2_ci: tuple[float, float] | None
    weights_pct: list[float]
    labels: list[str]
    yi: list[float]
    vi: list[float]
    qm: float | None = None
    qm_p: float | None = None
    r2: float | None = None
    coef_names: list[str] = field(default_factory=lambda: ["intercept"])
    measure: str = ""

    @property
    def estimate(self) -> float:
        return self.beta[0]

    def pooled(self) -> dict[str, float]:
        """The pooled estimate with its SE, CI and heterogeneity (one row of an influence or subgroup table)."""
        return {"estimate": self.estimate, "se": self.se[0], "ci_lb": self.ci_lb[0], "ci_ub": self.ci_ub[0],
                "tau2": self.tau2, "i2": self.i2, "q": self.q}


def _validate(yi: object, vi: object) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise InputError("yi and vi must be 1-D arrays of the same length", where="vi")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise InputError("yi or vi has missing / non-finite values", where="yi")
    if np.any(v <= 0):
        i = int(np.argmax(v <= 0))
        raise InputError(
            f"sampling variance must be positive; study {i + 1} has vi={v[i]!r}",
            where=f"vi[{i}]",
            hint="negative or zero variances are impossible: check the standard errors",
        )
    return y, v


def _wls(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares at ``tau2``: (beta, vcov, P) with ``P = W - W X (X'WX)^-1 X' W``."""
    w = 1 / (v + tau2)
    xtw = x.T * w
    vb = np.linalg.inv(xtw @ x)
    beta = vb @ (xtw @ y)
    p = np.diag(w) - xtw.T @ vb @ xtw
    return beta, vb, p


def _q_gen(y: np.ndarray, v: np.ndarray, x: np.ndarray, tau2: float) -> float:
    beta, _, _ = _wls(y, v, x, tau2)
    r = y - x @ beta
    return float(np.sum(r**2 / (v + tau2)))


def _neg_ll(tau2: float, y: np.ndarray, v: np.ndarray, x: np.ndarray, reml: bool) -> float:
    beta, vb, _ = _wls(y, v, x, tau2)
    r = y - x @ beta
    ll = np.sum(np.log(v + tau2)) + np.sum(r**2 / (v + tau2))
    if reml:
        ll += np.linalg.slogdet(np.linalg.inv(vb))[1]
    return 0.5 * ll


def _tau2(method: str, y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    k, p = x.shape
    if method == "FE":
        return 0.0
    _, _, p0 = _wls(y, v, x, 0.0)
    q0 = float(y @ p0 @ y)
    if method == "DL":
        return max(0.0, (q0 - (k - p)) / np.trace(p0))
    if method == "HS":
        w = 1 / v
        return max(0.0, (q0 - k) / w.sum()) if p == 1 else max(0.0, (q0 - k) / np.trace(p0))
    if method == "HE":
        h = x @ np.linalg.pinv(x)
        r = y - h @ y
        return max(0.0, (r @ r - np.trace((np.eye(k) - h) @ np.diag(v))) / (k - p))
    if method == "SJ":
        h = x @ np.linalg.pinv(x)
        r = y - h @ y
        t0 = r @ r / k
        if t0 <= 0:
            return 0.0
        _, _, pj = _wls(y, v, x, t0)  # tau2 = tau0 * sum w (y - x b)^2 / (k - p), w = 1/(v + tau0)
        return float(t0 * (y @ pj @ y) / (k - p))
    if method == "PM":
        target = k - p
        if _q_gen(y, v, x, 0.0) <= target:
            return 0.0
        hi = max(1.0, 10 * np.var(y) + 10 * v.max())
        while _q_gen(y, v, x, hi) > target:
            hi *= 10
        return float(optimize.brentq(lambda t: _q_gen(y, v, x, t) - target, 0.0, hi, xtol=1e-12, rtol=1e-14))
    if method in ("REML", "ML"):
        hi = max(1.0, 10 * np.var(y) + 10 * v.max())
        res = optimize.minimize_scalar(
            _neg_ll,
            bounds=(0.0, hi),
            args=(y, v, x, method == "REML"),
            method="bounded",
            options={"xatol": 1e-12, "maxiter": 2000},
        )
        if not res.success:
            raise ConvergenceError(f"{method} tau2 did not converge", last_estimate=float(res.x), where="tau2")
        t = float(res.x)
        return 0.0 if _neg_ll(0.0, y, v, x, method == "REML") <= _neg_ll(t, y, v, x, method == "REML") else t
    raise InputError(f"unknown method {method!r}", where="method", hint=", ".join(METHODS))


def _q_profile(y: np.ndarray, v: np.ndarray, x: np.ndarray, level: float) -> tuple[float, float]:
    """Q-profile CI for tau2 (Viechtbauer 2007): values where the generalised Q meets chi2 quantiles."""
    k, p = x.shape
    df = k - p
    lo_q, hi_q = chi2.ppf((1 + level) / 2, df), chi2.ppf((1 - level) / 2, df)
    big = 10.0
    while _q_gen(y, v, x, big) > hi_q:
        big *= 10
        if big > 1e8:
            break

    def solve(target: float) -> float:
        if _q_gen(y, v, x, 0.0) < target:
            return 0.0
        return float(optimize.brentq(lambda t: _q_gen(y, v, x, t) - target, 0.0, big, xtol=1e-12))

    return solve(lo_q), solve(hi_q)


def rma(
    yi: object,
    vi: object,
    *,
    method: str = "REML",
    mods: object = None,
    mod_names: list[str] | None = None,
    test: str = "z",
    level: float = 0.95,
    labels: list[str] | None = None,
    measure: str = "",
) -> MetaResult:
    """Fit a fixed-effect, random-effects or mixed-effects (meta-regression) model (metafor ``rma``).

    Args:
        yi, vi: effect sizes and their sampling variances (all ``vi > 0``).
        method: ``FE`` (inverse variance), ``DL`` (DerSimonian & Laird 1986), ``REML``/``ML``,
            ``PM`` (Paule & Mandel 1982), ``HE`` (Hedges), ``SJ`` (Sidik & Jonkman), ``HS`` (Hunter-Schmidt).
        mods: optional moderators (k x m array or 1-D); an intercept is always added.
        test: ``z`` or ``knha`` (Hartung & Knapp 2001 / Sidik & Jonkman 2002: ``t_{k-p}`` with the
            scaled variance ``s2 = sum w (y - x b)^2 / (k - p)``, not truncated at 1, as metafor).
        level: confidence level for CIs, the prediction interval and the Q-profile tau2 CI.

    Raises:
        InputError: fewer than 2 studies (no heterogeneity, nothing to pool), non-positive vi.
    """
    y, v = _validate(yi, vi)
    k = y.size
    if k < 2:
        raise InputError(
            f"meta-analysis needs at least 2 studies, got {k}",
            where="yi",
            hint="with a single study report its own estimate and CI",
        )
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", where="method", hint=", ".join(METHODS))
    if test not in ("z", "knha"):
        raise InputError(f"test must be 'z' or 'knha', got {test!r}", where="test")
    if not 0 < level < 1:
        raise InputError("level must lie in (0, 1)", where="level")
    if mods is None:
        x = np.ones((k, 1))
        names = ["intercept"]
    else:
        m = np.asarray(mods, dtype=float).reshape(k, -1)
        x = np.column_stack([np.ones(k), m])
        names = ["intercept"] + (mod_names or [f"mod{j + 1}" for j in range(m.shape[1])])
    p = x.shape[1]
    if k <= p:
        raise InputError(f"{k} studies cannot support {p} coefficients", where="mods")
    tau2 = _tau2(method, y, v, x)
    beta, vb, pm = _wls(y, v, x, tau2)
    _, _, p0 = _wls(y, v, x, 0.0)
    q = float(y @ p0 @ y)
    df = k - p
    if test == "knha":
        w = 1 / (v + tau2)
        s2 = float(np.sum(w * (y - x @ beta) ** 2) / df)
        vb = vb * s2
        crit = student_t.isf((1 - level) / 2, df)
        dist_sf = lambda z: 2 * student_t.sf(np.abs(z), df)  # noqa: E731
    else:
        crit = norm.isf((1 - level) / 2)
        dist_sf = lambda z: 2 * norm.sf(np.abs(z))  # noqa: E731
    se = np.sqrt(np.diag(vb))
    zval = beta / se
    vt = df / np.trace(p0)  # "typical" within-study variance (Higgins & Thompson 2002, generalised)
    i2 = 100 * tau2 / (vt + tau2) if method != "FE" else max(0.0, 100 * (q - df) / q)
    h2 = (vt + tau2) / vt if method != "FE" else q / df
    se_tau2 = None
    if method == "REML":
        se_tau2 = float(np.sqrt(2 / np.trace(pm @ pm)))
    elif method == "ML":
        w = 1 / (v + tau2)
        se_tau2 = float(np.sqrt(2 / np.sum(w**2)))
    pi = None
    if p == 1:
        half = crit * np.sqrt(se[0] ** 2 + tau2)
        pi = (float(beta[0] - half), float(beta[0] + half))
    tau2_ci = i2_ci = None
    if method != "FE":
        tau2_ci = _q_profile(y, v, x, level)
        i2_ci = tuple(float(100 * t / (vt + t)) for t in tau2_ci)
    qm = qm_p = r2 = None
    if p > 1:
        b, cov = beta[1:], vb[1:, 1:]
        qm = float(b @ np.linalg.solve(cov, b))
        qm_p = float(chi2.sf(qm, p - 1)) if test == "z" else None
        if test == "knha":
            from scipy.stats import f as f_dist

            qm = qm / (p - 1)
            qm_p = float(f_dist.sf(qm, p - 1, df))
        if method != "FE":
            tau2_re = _tau2(method, y, v, np.ones((k, 1)))
            r2 = float(max(0.0, 100 * (tau2_re - tau2) / tau2_re)) if tau2_re > 0 else 0.0
    w_pct = 100 * (1 / (v + tau2)) / np.sum(1 / (v + tau2))
    return MetaResult(
        method=method,
        test=test,
        k=k,
        beta=beta.tolist(),
        se=se.tolist(),
        ci_lb=(beta - crit * se).tolist(),
        ci_ub=(beta + crit * se).tolist(),
        zval=zval.tolist(),
        pval=dist_sf(zval).tolist(),
        tau2=float(tau2),
        se_tau2=se_tau2,
        q=q,
        q_df=df,
        q_p=float(chi2.sf(q, df)),
        i2=float(i2),
        h2=float(h2),
        pi=pi,
        tau2_ci=tau2_ci,
        i2_ci=i2_ci,
        weights_pct=w_pct.tolist(),
        labels=labels or [f"study {i + 1}" for i in range(k)],
        yi=y.tolist(),
        vi=v.tolist(),
        qm=qm,
        qm_p=qm_p,
        r2=r2,
        coef_names=names,
        measure=measure,
    )


def meta_analysis(es: EffectSizes, *, method: str = "REML", test: str = "z", level: float = 0.95) -> MetaResult:
    """Convenience wrapper: fit :func:`rma` to an :class:`EffectSizes`."""
    return rma(es.yi, es.vi, method=method, test=test, level=level, labels=es.labels, measure=es.measure)


@dataclass(frozen=True)
class EggerResult(Record):
    """Regression test for funnel-plot asymmetry."""

    model: str
    z: float
    p: float
    limit_estimate: float
    df: int | None


def egger_test(yi: object, vi: object, *, model: str = "rma", method: str = "REML") -> EggerResult:
    """Egger's regression test (Egger et al. 1997; metafor ``regtest``).

    ``model="rma"`` (metafor default): mixed-effects meta-regression of ``y`` on its standard error,
    z test of the slope. ``model="lm"``: the classical weighted linear regression with a
    multiplicative dispersion, t test on ``k-2`` df.
    """
    y, v = _validate(yi, vi)
    if y.size < 3:
        raise InputError("Egger's test needs at least 3 studies", where="yi")
    sei = np.sqrt(v)
    if model == "rma":
        fit = rma(y, v, method=method, mods=sei, mod_names=["sei"])
        return EggerResult("rma", fit.zval[1], fit.pval[1], fit.beta[0], None)
    if model == "lm":
        fit = rma(y, v, method="FE", mods=sei, mod_names=["sei"], test="knha")
        return EggerResult("lm", fit.zval[1], fit.pval[1], fit.beta[0], y.size - 2)
    raise InputError("model must be 'rma' or 'lm'", where="model")


def leave_one_out(
    yi: object, vi: object, *, method: str = "REML", labels: list[str] | None = None, test: str = "z"
) -> list[dict]:
    """Refit omitting each study in turn (influence diagnostics)."""
    y, v = _validate(yi, vi)
    if y.size < 3:
        raise InputError("leave-one-out needs at least 3 studies", where="yi")
    labels = labels or [f"study {i + 1}" for i in range(y.size)]
    out = []
    for i in range(y.size):
        keep = np.arange(y.size) != i
        r = rma(y[keep], v[keep], method=method, test=test)
        out.append({"omitted": labels[i], **r.pooled()})
    return out


def subgroup_analysis(
    yi: object, vi: object, groups: list[str], *, method: str = "REML", labels: list[str] | None = None
) -> dict:
    """Separate random-effects fits per subgroup and the test for subgroup differences.

    ``Q_between = sum_g w_g (mu_g - mu_bar)^2`` with ``w_g = 1/se_g^2`` on ``G - 1`` df
    (Borenstein et al. 2009, ch. 19, separate tau2 per subgroup). Subgroups with a single study
    contribute that study's estimate with its own variance.
    """
    y, v = _validate(yi, vi)
    g = np.asarray(groups, dtype=object)
    if g.size != y.size:
        raise InputError(f"{g.size} group labels for {y.size} studies", where="groups")
    labels = labels or [f"study {i + 1}" for i in range(y.size)]
    fits = {}
    for name in dict.fromkeys(g.tolist()):
        idx = np.flatnonzero(g == name)
        if idx.size == 1:
            i = int(idx[0])
            fits[str(name)] = {
                "k": 1,
                "estimate": float(y[i]),
                "se": float(np.sqrt(v[i])),
                "tau2": None,
                "i2": None,
                "q": 0.0,
            }
            continue
        r = rma(y[idx], v[idx], method=method, labels=[labels[i] for i in idx])
        fits[str(name)] = {"k": r.k, **r.pooled()}
    if len(fits) < 2:
        raise InputError("subgroup analysis needs at least 2 subgroups", where="groups")
    mu = np.array([f["estimate"] for f in fits.values()])
    w = 1 / np.array([f["se"] for f in fits.values()]) ** 2
    qb = float(np.sum(w * (mu - np.sum(w * mu) / w.sum()) ** 2))
    return {
        "subgroups": fits,
        "q_between": qb,
        "df": len(fits) - 1,
        "p_between": float(chi2.sf(qb, len(fits) - 1)),
    }
