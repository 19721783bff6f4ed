"""Sequential safety surveillance: Wald SPRT, Poisson MaxSPRT (exact critical values), CUSUM.

* Wald (1945) SPRT: accumulate the log-likelihood ratio; reject H0 above ``ln A = ln((1-beta)/alpha)``,
  accept H0 below ``ln B = ln(beta/(1-alpha))``. For Bernoulli outcomes the boundaries are lines in
  (subjects, cumulative events).
* Poisson MaxSPRT (Kulldorff et al. 2011): with expected count ``mu`` under H0 and ``c`` observed
  events, ``LLR = (mu - c) + c ln(c/mu)`` when ``c > mu``; signal when LLR >= CV. The critical value
  is exact: the type I error is the probability that a Poisson process crosses the boundary before
  the end of surveillance ``T`` (in expected counts), computed by the recursion of R ``Sequential``
  ``CV.Poisson`` (continuous surveillance, minimum ``M`` events, no delay ``D``) and solved for CV.
* CUSUM (Page 1954): ``S_t = max(0, S_{t-1} + w_t)``, signal when ``S_t >= h``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special
from scipy.stats import poisson

from theralab.errors import InputError
from theralab.trials.design.power import check_probability
from theralab.trials.records import Record


@dataclass(frozen=True)
class SequentialSignal(Record):
    """Outcome of a sequential test on a stream."""

    method: str
    decision: str  # "reject_h0" (signal), "accept_h0", "continue"
    step: int | None  # 1-based index of the observation where the decision was made
    statistic: float
    upper: float
    lower: float | None
    path: list[float] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def signal(self) -> bool:
        return self.decision == "reject_h0"


def sprt_bounds(alpha: float = 0.05, beta: float = 0.2) -> tuple[float, float]:
    """Wald's approximate log boundaries ``(ln A, ln B)``."""
    check_probability("alpha", alpha)
    check_probability("beta", beta)
    return math.log((1 - beta) / alpha), math.log(beta / (1 - alpha))


def sprt_binomial_lines(p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2) -> dict[str, float]:
    """Boundaries on the cumulative event count after n subjects: ``intercept + slope * n``."""
    check_probability("p0", p0)
    check_probability("p1", p1)
    if p1 <= p0:
        raise InputError("p1 must exceed p0 (the SPRT looks for an increased event rate)", where="p1")
    ln_a, ln_b = sprt_bounds(alpha, beta)
    den = math.log(p1 / p0) - math.log((1 - p1) / (1 - p0))
    return {
        "reject_intercept": ln_a / den,
        "accept_intercept": ln_b / den,
        "slope": math.log((1 - p0) / (1 - p1)) / den,
    }


def _check_order(times: object) -> None:
    if times is None:
        return
    t = np.asarray(times, dtype=float)
    bad = np.flatnonzero(np.diff(t) < 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(
            f"events out of order: observation {i + 1} (t={t[i]!r}) precedes observation {i} (t={t[i - 1]!r})",
            where=f"times[{i}]",
            hint="sort the stream by time first (the monitor never reorders silently)",
        )


def sprt_binomial(
    outcomes: object, p0: float, p1: float, *, alpha: float = 0.05, beta: float = 0.2, times: object = None
) -> SequentialSignal:
    """Run a Bernoulli SPRT over a stream of 0/1 outcomes (one per subject, in time order)."""
    x = np.asarray(outcomes, dtype=float)
    if x.ndim != 1 or np.any((x != 0) & (x != 1)):
        raise InputError("outcomes must be a list of 0/1 values", where="outcomes")
    _check_order(times)
    lines = sprt_binomial_lines(p0, p1, alpha, beta)
    ln_a, ln_b = sprt_bounds(alpha, beta)
    llr = np.cumsum(x * math.log(p1 / p0) + (1 - x) * math.log((1 - p1) / (1 - p0)))
    return _first_crossing("sprt-binomial", llr, ln_a, ln_b, lines)


def sprt_poisson(
    counts: object,
    exposure: object,
    rate0: float,
    rate1: float,
    *,
    alpha: float = 0.05,
    beta: float = 0.2,
    times: object = None,
) -> SequentialSignal:
    """Poisson SPRT on event counts with exposures (person-time) per period, H0 rate0 vs H1 rate1."""
    c, e = np.asarray(counts, float), np.asarray(exposure, float)
    if c.shape != e.shape or np.any(c < 0) or np.any(e < 0):
        raise InputError("counts and exposure must be equal-length non-negative arrays", where="counts")
    if not (0 < rate0 < rate1):
        raise InputError("need 0 < rate0 < rate1", where="rate1")
    _check_order(times)
    ln_a, ln_b = sprt_bounds(alpha, beta)
    llr = np.cumsum(c * math.log(rate1 / rate0) - (rate1 - rate0) * e)
    return _first_crossing("sprt-poisson", llr, ln_a, ln_b, {})


def _first_crossing(
    method: str,
    path: np.ndarray,
    upper: float,
    lower: float | None,
    details: dict,
) -> SequentialSignal:
    up = np.flatnonzero(path >= upper)
    lo = np.flatnonzero(path <= lower) if lower is not None else np.array([], int)
    i_up = int(up[0]) if up.size else None
    i_lo = int(lo[0]) if lo.size else None
    if i_up is not None and (i_lo is None or i_up < i_lo):
        dec, i = "reject_h0", i_up
    elif i_lo is not None:
        dec, i = "accept_h0", i_lo
    else:
        dec, i = "continue", None
    stat = float(path[i]) if i is not None else (float(path[-1]) if path.size else 0.0)
    return SequentialSignal(method, dec, None if i is None else i + 1, stat, upper, lower, path.tolist(), details)


# ------------------------------------------------------------------------------ Poisson MaxSPRT
def maxsprt_llr(observed: object, expected: object) -> np.ndarray:
    """Poisson MaxSPRT log-likelihood ratio (0 when observed <= expected)."""
    c, mu = np.asarray(observed, float), np.asarray(expected, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = (mu - c) + np.where(c > 0, c * np.log(c / mu), 0.0)
    return np.where(c > mu, llr, 0.0)


def _boundary_times(cv: float, i_max: int) -> np.ndarray:
    """mu_i < i solving ``mu - i + i ln(i/mu) = cv``: the i-th event signals if it comes by mu_i."""
    i = np.arange(1, i_max + 1, dtype=float)
    return -i * np.real(special.lambertw(-np.exp(-1 - cv / i), 0))


def maxsprt_alpha(cv: float, t_max: float, min_events: int = 1) -> float:
    """Exact type I error of continuous Poisson MaxSPRT with critical value ``cv`` (LLR scale)."""
    i_max = int(max(2 * t_max, 50) + 10 * math.sqrt(t_max) + 50)
    mu = _boundary_times(cv, i_max)
    while mu[-1] < t_max:
        i_max *= 2
        mu = _boundary_times(cv, i_max)
    m = min_events
    last = int(np.argmax(mu >= t_max)) + 1  # events needed to signal by t_max
    if last <= m:
        return float(poisson.sf(m - 1, t_max))
    # state: probability of k events (k = 0..i-1) at time mu_i, no signal so far; start at i = m
    alpha = 0.0
    probs = poisson.pmf(np.arange(m), mu[m - 1])
    alpha += poisson.sf(m - 1, mu[m - 1])
    t_prev = mu[m - 1]
    for i in range(m + 1, last):
        dt = mu[i - 1] - t_prev
        k = np.arange(i)  # new states 0..i-1
        pm = poisson.pmf(k[:, None] - np.arange(probs.size)[None, :], dt)  # from j to k
        new = pm @ probs
        alpha += probs @ poisson.sf(i - 1 - np.arange(probs.size), dt)  # reach >= i events
        probs, t_prev = new, mu[i - 1]
    alpha += probs @ poisson.sf(last - 1 - np.arange(probs.size), t_max - t_prev)
    return float(alpha)


def maxsprt_critical_value(t_max: float, *, alpha: float = 0.05, min_events: int = 1) -> float:
    """Exact critical value (LLR scale) for continuous Poisson MaxSPRT (R Sequential ``CV.Poisson``, D=0).

    Args:
        t_max: length of surveillance as the expected count under H0 ("SampleSize").
        alpha: type I error.
        min_events: minimum number of events before a signal is allowed ("M").
    """
    check_probability("alpha", alpha)
    if not t_max > 0:
        raise InputError(f"t_max must be positive, got {t_max!r}", where="t_max")
    if min_events < 1 or min_events != int(min_events):
        raise InputError("min_events must be a positive integer", where="min_events")
    if poisson.sf(min_events - 1, t_max) < alpha:
        raise InputError(
            f"no solution: with M={min_events} even signalling on any M events by T={t_max} "
            f"has type I error below alpha",
            where="t_max",
            hint="increase t_max or decrease M",
        )
    return float(optimize.brentq(lambda c: maxsprt_alpha(c, t_max, min_events) - alpha, 1e-6, 30, xtol=1e-12))


def maxsprt_poisson(
    observed: object,
    expected: object,
    *,
    t_max: float,
    alpha: float = 0.05,
    min_events: int = 1,
    times: object = None,
) -> SequentialSignal:
    """Monitor cumulative observed vs expected counts (cumulative, time-ordered) with MaxSPRT."""
    c, mu = np.asarray(observed, float), np.asarray(expected, float)
    if c.shape != mu.shape or c.ndim != 1:
        raise InputError("observed and expected must be equal-length 1-D arrays (cumulative)", where="observed")
    if np.any(np.diff(c) < 0) or np.any(np.diff(mu) < 0):
        raise InputError("cumulative counts must not decrease", where="observed", hint="pass cumulative sums")
    _check_order(times)
    cv = maxsprt_critical_value(t_max, alpha=alpha, min_events=min_events)
    llr = np.where(c >= min_events, maxsprt_llr(c, mu), 0.0)
    res = _first_crossing("maxsprt-poisson", llr, cv, None, {"t_max": t_max, "min_events": min_events})
    if res.decision == "continue" and mu.size and mu[-1] >= t_max:
        return SequentialSignal(
            "maxsprt-poisson",
            "accept_h0",
            int(np.argmax(mu >= t_max)) + 1,
            res.statistic,
            cv,
            None,
            res.path,
            res.details,
        )
    return res


# ------------------------------------------------------------------------------------------ CUSUM
def cusum(values: object, *, target: float, k: float, h: float, times: object = None) -> SequentialSignal:
    """Upper tabular CUSUM for a shift above ``target``: ``S_t = max(0, S_{t-1} + x_t - target - k)``."""
    x = np.asarray(values, float)
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise InputError("values must be a 1-D list of numbers", where="values")
    if h <= 0 or k < 0:
        raise InputError("need h > 0 and k >= 0", where="h")
    _check_order(times)
    s = np.empty_like(x)
    acc = 0.0
    for i, xi in enumerate(x):
        acc = max(0.0, acc + xi - target - k)
        s[i] = acc
    return _first_crossing("cusum", s, h, None, {"target": target, "k": k})


def cusum_bernoulli(outcomes: object, p0: float, p1: float, *, h: float, times: object = None) -> SequentialSignal:
    """Bernoulli CUSUM with log-likelihood-ratio weights (Reynolds & Stoumbos 1999)."""
    x = np.asarray(outcomes, float)
    if np.any((x != 0) & (x != 1)):
        raise InputError("outcomes must be 0/1", where="outcomes")
    check_probability("p0", p0)
    check_probability("p1", p1)
    w = np.where(x == 1, math.log(p1 / p0), math.log((1 - p1) / (1 - p0)))
    res = cusum(w, target=0.0, k=0.0, h=h, times=times)
    return SequentialSignal(
        "cusum-bernoulli", res.decision, res.step, res.statistic, h, None, res.path, {"p0": p0, "p1": p1}
    )
