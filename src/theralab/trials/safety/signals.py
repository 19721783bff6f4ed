"""Disproportionality analysis of spontaneous reports: PRR, ROR, BCPNN IC and MGPS/EBGM.

The 2x2 table for a (drug, event) pair counts *reports* (unique report ids):
``a`` = reports with both, ``b`` = drug without the event, ``c`` = event without the drug,
``d`` = neither. ``E = (a+b)(a+c)/n`` is the count expected under independence.

* PRR = ``(a/(a+b)) / (c/(c+d))`` with CI ``exp(ln PRR +- z sqrt(1/a - 1/(a+b) + 1/c - 1/(c+d)))``
  and the Yates-corrected chi-square; the Evans et al. (2001) signal is PRR >= 2, chi2 >= 4, a >= 3.
* ROR = ``ad/(bc)`` with CI ``exp(ln ROR +- z sqrt(1/a + 1/b + 1/c + 1/d))`` (van Puijenbroek 2002).
* BCPNN information component ``IC = log2((a + 0.5)/(E + 0.5))`` with the closed-form credibility
  limits of Noren et al. (2006/2013): ``IC025 = IC - 3.3 (a+.5)^-1/2 - 2 (a+.5)^-3/2``.
* MGPS (DuMouchel 1999; DuMouchel & Pregibon 2001): a two-gamma mixture prior for the true
  reporting ratio, fitted by maximum likelihood on the (optionally squashed) counts, and the
  posterior geometric mean EBGM with the 5th/95th posterior percentiles EB05/EB95 -- the algorithm
  of openEBGM (Canida & Ihrie 2017), whose CAERS example it reproduces.

Zero cells: PRR/ROR and their CIs are undefined when a cell is 0. With ``add`` > 0 (default 0.5)
``add`` is added to all four cells of such tables for PRR/ROR/CI only (flag ``cc_applied``);
chi-square, IC and the MGPS inputs always use the raw counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special
from scipy.stats import gamma, norm

from theralab.errors import ConvergenceError, InputError
from theralab.trials.records import Record


def _as_counts(name: str, x: object) -> np.ndarray:
    a = np.atleast_1d(np.asarray(x, dtype=float))
    if not np.all(np.isfinite(a)) or np.any(a < 0) or np.any(a != np.round(a)):
        raise InputError(f"{name} must hold non-negative whole counts", where=name)
    return a


def disproportionality(
    a: object,
    b: object,
    c: object,
    d: object,
    *,
    level: float = 0.95,
    add: float = 0.5,
    z: float | None = None,
) -> pd.DataFrame:
    """PRR, ROR (with CIs), chi-square (Yates and uncorrected), IC/IC025/IC975 and the Evans signal.

    Vectorised: each argument may be a scalar or an array (one value per pair). ``z`` overrides the
    normal quantile of ``level`` (pharmacovigilance software often uses the rounded 1.96).
    """
    a, b, c, d = (_as_counts(n, x) for n, x in zip("abcd", (a, b, c, d), strict=True))
    n = a + b + c + d
    if np.any((a + b) == 0) or np.any((a + c) == 0) or np.any((c + d) == 0) or np.any((b + d) == 0):
        raise InputError(
            "a 2x2 table has an empty margin (no reports with the drug, the event, or without them)",
            where="a",
        )
    z = norm.isf((1 - level) / 2) if z is None else float(z)
    e = (a + b) * (a + c) / n
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    cc = np.where(zero, add, 0.0)
    a2, b2, c2, d2 = a + cc, b + cc, c + cc, d + cc
    with np.errstate(divide="ignore", invalid="ignore"):
        prr = (a2 / (a2 + b2)) / (c2 / (c2 + d2))
        se_prr = np.sqrt(1 / a2 - 1 / (a2 + b2) + 1 / c2 - 1 / (c2 + d2))
        ror = a2 * d2 / (b2 * c2)
        se_ror = np.sqrt(1 / a2 + 1 / b2 + 1 / c2 + 1 / d2)
    # Pearson chi-square for 2x2: every cell has the same |O - E|; Yates subtracts min(0.5, |O - E|)
    diff = np.abs(a - e)
    inv_e = 1 / e + 1 / ((a + b) * (b + d) / n) + 1 / ((c + d) * (a + c) / n) + 1 / ((c + d) * (b + d) / n)
    chi2 = diff**2 * inv_e
    chi2_yates = (diff - np.minimum(diff, 0.5)) ** 2 * inv_e
    ic = np.log2((a + 0.5) / (e + 0.5))
    ic025 = ic - 3.3 * (a + 0.5) ** -0.5 - 2 * (a + 0.5) ** -1.5
    ic975 = ic + 2.4 * (a + 0.5) ** -0.5 - 0.5 * (a + 0.5) ** -1.5
    out = pd.DataFrame(
        {
            "a": a,
            "b": b,
            "c": c,
            "d": d,
            "E": e,
            "RR": a / e,
            "PRR": prr,
            "PRR_lo": prr * np.exp(-z * se_prr),
            "PRR_hi": prr * np.exp(z * se_prr),
            "ROR": ror,
            "ROR_lo": ror * np.exp(-z * se_ror),
            "ROR_hi": ror * np.exp(z * se_ror),
            "chi2": chi2,
            "chi2_yates": chi2_yates,
            "IC": ic,
            "IC025": ic025,
            "IC975": ic975,
            "cc_applied": zero & (add > 0),
        }
    )
    out["evans_signal"] = (out.PRR >= 2) & (out.chi2_yates >= 4) & (out.a >= 3)
    return out


def count_pairs(
    reports: pd.DataFrame,
    *,
    id_col: str = "id",
    drug_col: str = "var1",
    event_col: str = "var2",
) -> pd.DataFrame:
    """Pair counts from report-level rows (one row per report x drug x event), as openEBGM ``processRaw``.

    Returns one row per observed pair with ``a`` (= N, unique reports with both), the margins and
    ``n`` (unique reports), plus ``b``, ``c``, ``d`` and ``E``.
    """
    for col in (id_col, drug_col, event_col):
        if col not in reports.columns:
            raise InputError(
                f"column {col!r} not found; columns are {list(reports.columns)}",
                where=col,
                hint="name the report id, drug and event columns with --id/--drug/--event",
            )
    df = reports[[id_col, drug_col, event_col]].dropna()
    if df.empty:
        raise InputError("no reports with id, drug and event", where=id_col)
    n_tot = df[id_col].nunique()
    n_drug = df.groupby(drug_col)[id_col].nunique()
    n_event = df.groupby(event_col)[id_col].nunique()
    pairs = df.groupby([drug_col, event_col])[id_col].nunique().rename("a").reset_index()
    pairs = pairs.rename(columns={drug_col: "drug", event_col: "event"})
    nd = pairs["drug"].map(n_drug).to_numpy(float)
    ne = pairs["event"].map(n_event).to_numpy(float)
    a = pairs["a"].to_numpy(float)
    pairs["b"], pairs["c"] = nd - a, ne - a
    pairs["d"] = n_tot - nd - ne + a
    pairs["n"] = n_tot
    pairs["E"] = nd * ne / n_tot
    return pairs


# ------------------------------------------------------------------------------------------ MGPS
@dataclass(frozen=True)
class GammaMixturePrior(Record):
    """Two-gamma mixture prior ``P Gamma(alpha1, beta1) + (1 - P) Gamma(alpha2, beta2)`` (rate form)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float
    neg_log_lik: float = float("nan")
    n_points: int = 0

    @property
    def theta(self) -> np.ndarray:
        return np.array([self.alpha1, self.beta1, self.alpha2, self.beta2, self.p])


def squash(
    n: np.ndarray,
    e: np.ndarray,
    *,
    count: int = 1,
    bin_size: int = 50,
    keep_pts: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Data squashing (DuMouchel et al. 2001; openEBGM ``squashData`` defaults).

    Points with ``N == count`` are sorted by E; all but the ``keep_pts`` largest are averaged in
    consecutive bins of ``bin_size`` (the last bin may be partial) and weighted by bin size.
    """
    n, e = np.asarray(n, float), np.asarray(e, float)
    sel = n == count
    hold_n, hold_e = n[~sel], e[~sel]
    es = np.sort(e[sel], kind="stable")
    n_sq = es.size - keep_pts
    if n_sq < bin_size:
        raise InputError("too few points to squash; reduce bin_size or keep_pts", where="bin_size")
    sq, keep = es[:n_sq], es[n_sq:]
    starts = np.arange(0, n_sq, bin_size)
    means = np.add.reduceat(sq, starts) / np.diff(np.append(starts, n_sq))
    weights = np.diff(np.append(starts, n_sq)).astype(float)
    ns = np.concatenate([hold_n, np.full(means.size + keep.size, float(count))])
    ee = np.concatenate([hold_e, means, keep])
    ww = np.concatenate([np.ones(hold_n.size), weights, np.ones(keep.size)])
    return ns, ee, ww


def _nb_logpmf(n: np.ndarray, size: float, prob: np.ndarray) -> np.ndarray:
    return (
        special.gammaln(n + size)
        - special.gammaln(size)
        - special.gammaln(n + 1)
        + size * np.log(prob)
        + n * np.log1p(-prob)
    )


def neg_log_lik(theta: np.ndarray, n: np.ndarray, e: np.ndarray, w: np.ndarray, n_star: int = 1) -> float:
    """Negative log-likelihood of the negative-binomial mixture for counts ``N >= n_star``
    (openEBGM ``negLLsquash``; DuMouchel 1999 eq. 12 conditioned on ``N >= N*``)."""
    a1, b1, a2, b2, p = theta
    if min(a1, b1, a2, b2) <= 0 or not 0 < p < 1:
        return np.inf
    p1, p2 = b1 / (b1 + e), b2 / (b2 + e)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        l1, l2 = _nb_logpmf(n, a1, p1), _nb_logpmf(n, a2, p2)
        if n_star > 0:
            from scipy.stats import nbinom

            l1 = l1 - np.log(nbinom.sf(n_star - 1, a1, p1))
            l2 = l2 - np.log(nbinom.sf(n_star - 1, a2, p2))
        ll = np.logaddexp(np.log(p) + l1, np.log1p(-p) + l2)
    val = float(-np.sum(w * ll))
    return val if np.isfinite(val) else np.inf


DEFAULT_STARTS = np.array(
    [
        [0.2, 0.1, 2, 4, 1 / 3],
        [0.1, 0.1, 10, 10, 0.2],
        [0.3, 0.5, 6, 6, 0.5],
        [0.5, 0.3, 12, 12, 0.8],
        [0.2, 0.2, 5, 5, 0.4],
    ]
)


def fit_prior(
    n: object,
    e: object,
    w: object | None = None,
    *,
    n_star: int = 1,
    starts: np.ndarray | None = None,
) -> GammaMixturePrior:
    """Maximum-likelihood two-gamma prior from several starting points (as openEBGM ``autoHyper``).

    Each start is optimised by BFGS on log/logit parameters; the best is polished by Nelder-Mead
    (the likelihood is flat along a ridge, so one quasi-Newton run stops ~1e-5 short).
    Raises ConvergenceError when no start converges.
    """
    n, e = np.asarray(n, float), np.asarray(e, float)
    w = np.ones_like(n) if w is None else np.asarray(w, float)
    if n.size < 5:
        raise InputError("too few (drug, event) pairs to fit the MGPS prior", where="N")
    keep = n >= n_star
    n, e, w = n[keep], e[keep], w[keep]

    def to_theta(u: np.ndarray) -> np.ndarray:
        return np.concatenate([np.exp(u[:4]), [special.expit(u[4])]])

    def f(u: np.ndarray) -> float:
        return neg_log_lik(to_theta(u), n, e, w, n_star)

    best = None
    for s in DEFAULT_STARTS if starts is None else np.asarray(starts, float):
        u0 = np.concatenate([np.log(s[:4]), [special.logit(s[4])]])
        r = optimize.minimize(f, u0, method="BFGS", options={"gtol": 1e-8})
        th = to_theta(r.x)
        if np.isfinite(r.fun) and np.all(th[:4] < 100) and (best is None or r.fun < best.fun):
            best = r
    if best is not None:  # polish the winner: the likelihood is flat, so quasi-Newton alone stops early
        r = optimize.minimize(f, best.x, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxfev": 5000})
        best = (r.fun, to_theta(r.x))
    if best is None:
        raise ConvergenceError(
            "MGPS prior fit did not converge from any start",
            where="theta",
            hint="try other starting values or squash the data",
        )
    t = best[1]
    return GammaMixturePrior(*map(float, t), neg_log_lik=float(best[0]), n_points=int(n.size))


def posterior(
    prior: GammaMixturePrior,
    n: object,
    e: object,
    *,
    quantiles: tuple[float, float] = (0.05, 0.95),
) -> pd.DataFrame:
    """Qn, EBGM and posterior quantiles (EB05/EB95) for each pair (DuMouchel 1999 eqs. 6-11).

    Unlike openEBGM (rounded to 2 decimals by default), values are returned unrounded; quantiles
    are solved to 1e-10 by Brent's method on the mixture-of-gammas CDF.
    """
    n, e = np.asarray(n, float), np.asarray(e, float)
    a1, b1, a2, b2, p = prior.theta
    p1, p2 = b1 / (b1 + e), b2 / (b2 + e)
    l1 = np.log(p) + _nb_logpmf(n, a1, p1)
    l2 = np.log1p(-p) + _nb_logpmf(n, a2, p2)
    qn = np.exp(l1 - np.logaddexp(l1, l2))
    elog = qn * (special.digamma(a1 + n) - np.log(b1 + e)) + (1 - qn) * (special.digamma(a2 + n) - np.log(b2 + e))
    out = {"Qn": qn, "EBGM": np.exp(elog)}
    for q in quantiles:
        out[f"EB{int(round(q * 100)):02d}"] = _mixture_quantile(q, qn, a1 + n, b1 + e, a2 + n, b2 + e)
    return pd.DataFrame(out)


def _mixture_quantile(
    q: float,
    qn: np.ndarray,
    s1: np.ndarray,
    r1: np.ndarray,
    s2: np.ndarray,
    r2: np.ndarray,
) -> np.ndarray:
    """Vectorised bisection on the posterior CDF (monotone), to relative precision ~1e-12."""
    lo = np.minimum(gamma.ppf(q, s1, scale=1 / r1), gamma.ppf(q, s2, scale=1 / r2))
    hi = np.maximum(gamma.ppf(q, s1, scale=1 / r1), gamma.ppf(q, s2, scale=1 / r2))
    for _ in range(100):
        mid = (lo + hi) / 2
        cdf = qn * gamma.cdf(mid, s1, scale=1 / r1) + (1 - qn) * gamma.cdf(mid, s2, scale=1 / r2)
        below = cdf < q
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        if np.all(hi - lo <= 1e-12 * np.maximum(hi, 1e-300)):
            break
    return (lo + hi) / 2


def mgps(
    reports: pd.DataFrame,
    *,
    id_col: str = "id",
    drug_col: str = "var1",
    event_col: str = "var2",
    squash_data: bool = True,
    prior: GammaMixturePrior | None = None,
) -> tuple[pd.DataFrame, GammaMixturePrior]:
    """Full MGPS pipeline: pair counts -> (squash) -> ML prior -> EBGM/EB05/EB95 for every pair.

    Returns the pair table (drug, event, N, E, RR, PRR, EBGM, EB05, EB95, Qn) sorted by EB05
    descending, and the fitted prior.
    """
    pairs = count_pairs(reports, id_col=id_col, drug_col=drug_col, event_col=event_col)
    n, e = pairs["a"].to_numpy(float), pairs["E"].to_numpy(float)
    if prior is None:
        if squash_data and np.sum(n == 1) > 150:
            ns, es, ws = squash(n, e)
        else:
            ns, es, ws = n, e, np.ones_like(n)
        prior = fit_prior(ns, es, ws)
    post = posterior(prior, n, e)
    nd, ne, ntot = pairs.a + pairs.b, pairs.a + pairs.c, pairs.n
    with np.errstate(divide="ignore"):
        prr = (pairs.a / nd) / ((ne - pairs.a) / (ntot - nd))
    out = pd.DataFrame({"drug": pairs.drug, "event": pairs.event, "N": n, "E": e, "RR": n / e, "PRR": prr})
    out = pd.concat([out, post], axis=1).sort_values("EB05", ascending=False, kind="stable")
    return out.reset_index(drop=True), prior
