"""Group-sequential designs: boundaries, alpha spending, power and inflation factor.

Boundaries are computed by the exact recursive numerical integration of the joint distribution of
the sequential z statistics (Armitage, McPherson & Rowe 1969), on the grid and Simpson weights of
Jennison & Turnbull (2000, ch. 19) -- the algorithm behind rpact and gsDesign. With the default
grid (``r=32``, ~380 points per look) the z bounds agree with rpact 3.3.4 to 6e-7.

Two-sided designs are symmetric (reject when |Z_k| >= c_k) and the probability of crossing either
bound is accounted for exactly, as in rpact ``sided=2``. One-sided designs reject when Z_k >= c_k.
Futility bounds are *non-binding*: efficacy bounds are computed as if the trial never stopped for
futility (so type I error is controlled whether or not futility stops are obeyed), while power and
expected sample size use the futility bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from scipy.special import ndtr
from scipy.stats import norm

from theralab.errors import InputError
from theralab.trials.records import Record

SPENDING = ("of", "pocock", "hp", "ld-of", "ld-pocock", "hsd", "kd", "user")
_INF = 40.0  # a z bound that is never crossed


def _check_prob(name: str, value: float, hi: float = 1.0) -> None:
    if not (0.0 < value < hi):
        raise InputError(
            f"{name} must lie strictly between 0 and {hi:g}, got {value!r}",
            where=name,
            hint=f"give {name} as a probability such as 0.05",
        )


def _check_rates(t: np.ndarray) -> None:
    if t.ndim != 1 or t.size < 1:
        raise InputError("information rates must be a non-empty list", where="information_rates")
    if np.any(np.diff(t) <= 0) or t[0] <= 0 or abs(t[-1] - 1.0) > 1e-12:
        raise InputError(
            f"information rates must increase strictly and end at 1, got {t.tolist()}",
            where="information_rates",
            hint="e.g. [0.3, 0.6, 1.0] for looks at 30%, 60%, 100%",
        )


def _grid(mu: float, lo: float, hi: float, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Jennison-Turnbull grid on (lo, hi) around mean ``mu``, with Simpson weights."""
    i = np.arange(1, 6 * r)
    x = np.where(
        i < r,
        mu - 3 - 4 * np.log(r / i),
        np.where(i <= 5 * r, mu - 3 + 3 * (i - r) / (2 * r), mu + 3 + 4 * np.log(r / np.maximum(6 * r - i, 1))),
    )
    x = x[(x > lo) & (x < hi)]
    if np.isfinite(lo):
        x = np.concatenate(([lo], x))
    if np.isfinite(hi):
        x = np.concatenate((x, [hi]))
    if x.size == 1:
        return x, np.zeros(1)
    mid = (x[:-1] + x[1:]) / 2
    z = np.empty(2 * x.size - 1)
    z[0::2], z[1::2] = x, mid
    w = np.zeros_like(z)
    d = np.diff(x)
    w[0:-1:2] += d / 6
    w[2::2] += d / 6
    w[1::2] = 4 * d / 6
    return z, w


_SQRT2PI = np.sqrt(2 * np.pi)


def _pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / _SQRT2PI


def _start(lower: float, upper: float, theta: float, sq0: float, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid and weighted sub-density of Z_1 on its continuation region."""
    z, w = _grid(theta * sq0, lower, upper, r)
    return z, w * _pdf(z - theta * sq0)


def _step_cross(
    z: np.ndarray,
    h: np.ndarray,
    tk: float,
    tprev: float,
    theta: float,
    lower: float,
    upper: float,
) -> tuple[float, float]:
    """P(continue to look k-1, then cross upper / lower at look k) from the sub-density (z, h) at look k-1."""
    dt = tk - tprev
    sdt = np.sqrt(dt)
    shift = z * np.sqrt(tprev) + theta * dt
    up = h @ ndtr((shift - upper * np.sqrt(tk)) / sdt) if np.isfinite(upper) else 0.0
    lo = h @ ndtr((lower * np.sqrt(tk) - shift) / sdt) if np.isfinite(lower) else 0.0
    return float(up), float(lo)


def _step_density(
    z: np.ndarray, h: np.ndarray, tk: float, tprev: float, theta: float, lower: float, upper: float, r: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sub-density of Z_k on its continuation region (Armitage-McPherson-Rowe recursion)."""
    dt = tk - tprev
    sdt = np.sqrt(dt)
    shift = z * np.sqrt(tprev) + theta * dt
    z_new, w_new = _grid(theta * np.sqrt(tk), lower, upper, r)
    dens = _pdf((z_new[:, None] * np.sqrt(tk) - shift[None, :]) / sdt) * (np.sqrt(tk) / sdt)
    return z_new, w_new * (dens @ h)


def _cross_probs(
    lower: np.ndarray,
    upper: np.ndarray,
    t: np.ndarray,
    theta: float,
    r: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """Probability of first crossing the upper / lower bound at each look.

    ``theta`` is the drift per unit information, so ``Z_k ~ N(theta * sqrt(t_k), 1)`` marginally.
    Continuation region at look k is ``lower[k] < Z_k < upper[k]``.
    """
    k_max = t.size
    up, lo = np.zeros(k_max), np.zeros(k_max)
    mu = theta * np.sqrt(t[0])
    up[0] = ndtr(mu - upper[0])
    lo[0] = ndtr(lower[0] - mu)
    if k_max == 1:
        return up, lo
    z, h = _start(lower[0], upper[0], theta, np.sqrt(t[0]), r)
    for k in range(1, k_max):
        up[k], lo[k] = _step_cross(z, h, t[k], t[k - 1], theta, lower[k], upper[k])
        if k < k_max - 1:
            z, h = _step_density(z, h, t[k], t[k - 1], theta, lower[k], upper[k], r)
    return up, lo


def spending(kind: str, t: np.ndarray | float, alpha: float, gamma: float = -4.0) -> np.ndarray:
    """Cumulative error spent by information fraction ``t`` (Lan & DeMets 1983; Hwang, Shih & DeCani 1990).

    Args:
        kind: ``ld-of`` (O'Brien-Fleming type, ``2 - 2 Phi(z_{1-alpha/2}/sqrt t)``), ``ld-pocock``
            (``alpha log(1 + (e - 1) t)``) or ``hsd`` (``alpha (1 - e^{-gamma t}) / (1 - e^{-gamma})``).
        t: information fraction(s) in (0, 1].
        alpha: one-sided error to spend.
        gamma: HSD shape (-4 mimics O'Brien-Fleming, 1 mimics Pocock), or the Kim-DeMets power
            ``kd``: ``alpha t^gamma`` (Kim & DeMets 1987).
    """
    t = np.asarray(t, dtype=float)
    if kind == "ld-of":
        return 2.0 - 2.0 * norm.cdf(norm.isf(alpha / 2) / np.sqrt(t))
    if kind == "ld-pocock":
        return alpha * np.log(1 + (np.e - 1) * t)
    if kind == "hsd":
        if gamma == 0:
            return alpha * t
        return alpha * (1 - np.exp(-gamma * t)) / (1 - np.exp(-gamma))
    if kind == "kd":
        if gamma <= 0:
            raise InputError("the Kim-DeMets power family needs gamma > 0", where="gamma")
        return alpha * t**gamma
    raise InputError(f"unknown spending function {kind!r}", where="spending", hint="ld-of, ld-pocock, hsd or kd")


@dataclass(frozen=True)
class GroupSequentialDesign(Record):
    """Boundaries and operating characteristics of a group-sequential design (z scale)."""

    kind: str
    alpha: float
    sided: int
    information_rates: list[float]
    efficacy_z: list[float]
    futility_z: list[float] | None
    cumulative_alpha_spent: list[float]
    nominal_p: list[float]
    beta: float = 0.2
    inflation_factor: float = float("nan")
    drift_h1: float = float("nan")
    expected_n_rel_h1: float = float("nan")
    expected_n_rel_h0: float = float("nan")
    power_by_look: list[float] = field(default_factory=list)

    def table(self) -> list[dict[str, float]]:
        """One row per look (for printing)."""
        rows = []
        for k, t in enumerate(self.information_rates):
            rows.append(
                {
                    "look": k + 1,
                    "information": t,
                    "efficacy_z": self.efficacy_z[k],
                    "nominal_p": self.nominal_p[k],
                    "cum_alpha": self.cumulative_alpha_spent[k],
                    "cum_power": float(np.sum(self.power_by_look[: k + 1])) if self.power_by_look else None,
                }
            )
            if self.futility_z is not None:
                rows[-1]["futility_z"] = self.futility_z[k]
        return rows


def _bounds_to_region(c: np.ndarray, sided: int) -> tuple[np.ndarray, np.ndarray]:
    lower = -c if sided == 2 else np.full(c.size, -np.inf)
    return lower, c


def _alpha_of(c: np.ndarray, t: np.ndarray, sided: int, r: int) -> np.ndarray:
    lower, upper = _bounds_to_region(c, sided)
    up, lo = _cross_probs(lower, upper, t, 0.0, r)
    return up + lo if sided == 2 else up


def _solve_constant(shape: np.ndarray, t: np.ndarray, alpha: float, sided: int, r: int) -> np.ndarray:
    """Find c with bounds ``c * shape`` whose total crossing probability is ``alpha``."""
    f = lambda c: _alpha_of(c * shape, t, sided, r).sum() - alpha  # noqa: E731
    c = optimize.brentq(f, 0.5, 15.0, xtol=1e-12, rtol=1e-14)
    return c * shape


def _spent_at(x: float, k: int, z: np.ndarray | None, h: np.ndarray | None, t: np.ndarray, sided: int) -> float:
    """H0 probability of first crossing at look k with bound x, given the sub-density at look k-1."""
    lo_b = -x if sided == 2 else -np.inf
    if k == 0:
        return float(ndtr(-x) + (ndtr(lo_b) if sided == 2 else 0.0))
    u, lo_p = _step_cross(z, h, t[k], t[k - 1], 0.0, lo_b, x)
    return u + lo_p


def _solve_spending(increments: np.ndarray, t: np.ndarray, sided: int, r: int) -> np.ndarray:
    """Find bounds look by look so that each look spends the given increment under H0.

    The sub-density at the previous look is kept, so each root search only integrates one step.
    """
    c = np.full(t.size, _INF)
    z = h = None
    for k in range(t.size):
        if increments[k] > 0:
            c[k] = optimize.brentq(
                lambda x, k=k, z=z, h=h: _spent_at(x, k, z, h, t, sided) - increments[k],
                1e-6,
                _INF,
                xtol=1e-12,
                rtol=1e-14,
            )
        lo_b = -c[k] if sided == 2 else -np.inf
        if k == 0:
            z, h = _start(lo_b, c[k], 0.0, np.sqrt(t[0]), r)
        elif k < t.size - 1:
            z, h = _step_density(z, h, t[k], t[k - 1], 0.0, lo_b, c[k], r)
    return c


def group_sequential(
    k: int = 3,
    *,
    alpha: float = 0.05,
    beta: float = 0.2,
    sided: int = 2,
    kind: str = "ld-of",
    information_rates: list[float] | None = None,
    gamma: float = -4.0,
    user_alpha_spent: list[float] | None = None,
    futility_z: list[float] | None = None,
    hp_z: float = 3.0,
    beta_spending: str | None = None,
    beta_gamma: float = -4.0,
    futility_stops: list[bool] | None = None,
    grid_r: int = 32,
) -> GroupSequentialDesign:
    """Compute a group-sequential design.

    Args:
        k: number of looks (1-20).
        alpha: total type I error; two-sided when ``sided=2`` (rpact convention: alpha 0.05 sided 2).
        beta: type II error used for the inflation factor and expected sample size.
        sided: 1 or 2.
        kind: ``of`` (O'Brien & Fleming 1979, c sqrt(K/k) with constant boundary on the score scale),
            ``pocock`` (Pocock 1977, constant), ``hp`` (Haybittle-Peto: ``hp_z`` at interims, final
            adjusted to keep alpha exact), ``ld-of``/``ld-pocock``/``hsd`` (Lan-DeMets spending),
            ``user`` (cumulative alpha in ``user_alpha_spent``).
        information_rates: look times as information fractions (default equally spaced).
        gamma: Hwang-Shih-DeCani parameter.
        user_alpha_spent: cumulative alpha at each look for ``kind='user'``; must be non-decreasing
            and end at ``alpha``.
        futility_z: optional non-binding futility bounds on the z scale (one per look; the last equal
            to the efficacy bound is typical), used only for power / expected sample size.
        hp_z: Haybittle-Peto interim bound.
        beta_spending: ``ld-of``, ``ld-pocock`` or ``hsd`` (``beta_gamma``) to derive non-binding
            futility bounds by spending ``beta`` under H1 (one-sided designs; as rpact
            ``typeBetaSpending``). The final futility bound equals the final efficacy bound.
        futility_stops: with ``beta_spending``, which interim looks may stop for futility (rpact
            ``futilityStops``); beta is not spent at the others.
        grid_r: Jennison-Turnbull grid size parameter (points per look ~ 12 r).

    Raises:
        InputError: bad probabilities, look times, spending that does not sum to alpha.
    """
    if kind not in SPENDING:
        raise InputError(f"unknown design kind {kind!r}", where="kind", hint=", ".join(SPENDING))
    if sided not in (1, 2):
        raise InputError(f"sided must be 1 or 2, got {sided!r}", where="sided")
    _check_prob("alpha", alpha)
    _check_prob("beta", beta)
    if not (1 <= k <= 20):
        raise InputError(f"number of looks must be 1-20, got {k}", where="k")
    t = np.arange(1, k + 1) / k if information_rates is None else np.asarray(information_rates, float)
    _check_rates(t)
    if t.size != k:
        raise InputError(f"{t.size} information rates given for k={k} looks", where="information_rates")
    if futility_z is not None and len(futility_z) not in (k - 1, k):
        raise InputError(
            f"{len(futility_z)} futility bounds given for k={k} looks",
            where="futility_z",
            hint="one per interim (k-1, as rpact) or one per look",
        )
    if futility_stops is not None and len(futility_stops) != k - 1:
        raise InputError("futility_stops needs one True/False per interim look", where="futility_stops")
    one = alpha / sided  # error per side
    if kind == "of":
        c = _solve_constant(np.sqrt(1 / t), t, alpha, sided, grid_r)
    elif kind == "pocock":
        c = _solve_constant(np.ones(k), t, alpha, sided, grid_r)
    elif kind == "hp":
        shape = np.full(k, hp_z)
        if k > 1:
            c_int = shape[:-1]
            f = lambda x: _alpha_of(np.append(c_int, x), t, sided, grid_r).sum() - alpha  # noqa: E731
            c = np.append(c_int, optimize.brentq(f, 0.1, _INF, xtol=1e-12))
        else:
            c = np.array([norm.isf(one)])
    else:
        if kind == "user":
            if user_alpha_spent is None or len(user_alpha_spent) != k:
                raise InputError(
                    "kind='user' needs user_alpha_spent with one cumulative value per look",
                    where="user_alpha_spent",
                )
            cum = np.asarray(user_alpha_spent, float)
            if np.any(np.diff(cum) < 0) or cum[0] < 0:
                raise InputError(
                    f"cumulative alpha spent must be non-decreasing, got {cum.tolist()}",
                    where="user_alpha_spent",
                )
            if abs(cum[-1] - alpha) > 1e-10:
                raise InputError(
                    f"alpha spending does not sum to alpha: ends at {cum[-1]!r}, alpha is {alpha!r}",
                    where="user_alpha_spent",
                    hint="the last cumulative value must equal alpha",
                )
        else:
            cum = spending(kind, t, one, gamma) * sided
        inc = np.diff(np.concatenate(([0.0], cum)))
        c = _solve_spending(inc, t, sided, grid_r)
    if beta_spending is not None:
        if futility_z is not None:
            raise InputError("give futility_z or beta_spending, not both", where="beta_spending")
        if sided != 1:
            raise InputError("beta-spending futility bounds need a one-sided design (sided=1)", where="sided")
        if beta_spending not in ("ld-of", "ld-pocock", "hsd", "kd"):
            raise InputError(
                f"unknown beta spending {beta_spending!r}", where="beta_spending", hint="ld-of, ld-pocock, hsd or kd"
            )
        stops = np.append(np.asarray(futility_stops if futility_stops is not None else [True] * (k - 1), bool), True)
        futility_z = _beta_spending_futility(c, t, beta, beta_spending, beta_gamma, grid_r, stops).tolist()
    elif futility_z is not None and len(futility_z) == k - 1:
        futility_z = [float(x) for x in futility_z] + [float(c[-1])]
    lower, upper = _bounds_to_region(c, sided)
    up0, lo0 = _cross_probs(lower, upper, t, 0.0, grid_r)
    spent = np.cumsum(up0 + lo0 if sided == 2 else up0)
    design = dict(
        kind=kind,
        alpha=alpha,
        sided=sided,
        information_rates=t.tolist(),
        efficacy_z=c.tolist(),
        futility_z=None if futility_z is None else [float(x) for x in futility_z],
        cumulative_alpha_spent=spent.tolist(),
        nominal_p=norm.sf(c).tolist(),
        beta=beta,
    )
    chars = characteristics(c, t, sided=sided, alpha=alpha, beta=beta, futility_z=futility_z, grid_r=grid_r)
    return GroupSequentialDesign(**design, **chars)


def _futility_path(
    theta: float,
    c: np.ndarray,
    t: np.ndarray,
    inc: np.ndarray,
    r: int,
) -> tuple[float, np.ndarray]:
    """Futility bounds spending ``inc`` under drift ``theta``; returns (final-look mismatch, bounds)."""
    k_max = t.size
    f = np.empty(k_max)
    z = h = None
    for k in range(k_max):
        if k == k_max - 1:
            f[k] = c[k]
            if k == 0:
                return float(ndtr(c[k] - theta * np.sqrt(t[0]))) - inc[k], f
            _, lo = _step_cross(z, h, t[k], t[k - 1], theta, c[k], c[k])
            return lo - inc[k], f

        def lower_prob(x: float, k: int = k, z: np.ndarray | None = z, h: np.ndarray | None = h) -> float:
            if k == 0:
                return float(ndtr(x - theta * np.sqrt(t[0])))
            return _step_cross(z, h, t[k], t[k - 1], theta, x, c[k])[1]

        if inc[k] <= 0:
            f[k] = -np.inf  # no futility stop at this look
        elif lower_prob(c[k]) <= inc[k]:
            f[k] = c[k]  # bounds meet: stop here
        else:
            f[k] = optimize.brentq(lambda x, lp=lower_prob, k=k: lp(x) - inc[k], -_INF, c[k], xtol=1e-12)
        if k == 0:
            z, h = _start(f[0], c[0], theta, np.sqrt(t[0]), r)
        else:
            z, h = _step_density(z, h, t[k], t[k - 1], theta, f[k], c[k], r)
    return 0.0, f


def _beta_spending_futility(
    c: np.ndarray,
    t: np.ndarray,
    beta: float,
    kind: str,
    gamma: float,
    r: int,
    stops: np.ndarray,
) -> np.ndarray:
    """Non-binding futility bounds from a beta-spending function: at the drift theta solving the
    design, look k stops for futility with probability ``beta(t_k) - beta(t_{k-1})`` under H1 and the
    last futility bound meets the last efficacy bound (Pampallona, Tsiatis & Kim 2001; rpact)."""
    cum = spending(kind, t, beta, gamma)
    for k in range(1, t.size):  # no spending at looks without a futility stop
        if not stops[k - 1]:
            cum[k - 1] = cum[k - 2] if k >= 2 else 0.0
    cum[-1] = beta
    inc = np.diff(np.concatenate(([0.0], np.maximum.accumulate(cum))))
    theta = optimize.brentq(lambda th: _futility_path(th, c, t, inc, r)[0], 1e-3, 15.0, xtol=1e-12)
    return _futility_path(theta, c, t, inc, r)[1]


def _power(
    theta: float,
    c: np.ndarray,
    t: np.ndarray,
    sided: int,
    fut: np.ndarray | None,
    r: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-look probabilities of rejecting H0 and of stopping (any reason) at drift ``theta``."""
    lower, upper = _bounds_to_region(c, sided)
    if fut is not None:
        lower = np.maximum(lower, fut)
        lower[-1] = min(lower[-1], upper[-1])
    up, lo = _cross_probs(lower, upper, t, theta, r)
    rej = up  # power in the direction of the effect (rpact convention)
    stop = up + lo
    return rej, stop


def characteristics(
    c: np.ndarray,
    t: np.ndarray,
    *,
    sided: int,
    alpha: float,
    beta: float,
    futility_z: list[float] | None = None,
    grid_r: int = 32,
) -> dict:
    """Inflation factor, drift under H1 and expected sample size relative to the fixed design.

    The inflation factor is ``(theta_1 / (z_{1-alpha/sided} + z_{1-beta}))^2`` where ``theta_1`` is
    the drift giving power ``1 - beta``; the maximum sample size is the fixed-design size times it
    (Jennison & Turnbull 2000, sec. 2.7; rpact ``getDesignCharacteristics``).
    """
    fut = None if futility_z is None else np.asarray(futility_z, float)
    target = 1 - beta

    def pw(theta: float) -> float:
        return _power(theta, c, t, sided, fut, grid_r)[0].sum() - target

    theta1 = optimize.brentq(pw, 0.0, 20.0, xtol=1e-12)
    rej, stop = _power(theta1, c, t, sided, fut, grid_r)
    stop[-1] = 1.0 - stop[:-1].sum()
    fixed = norm.isf(alpha / sided) + norm.isf(beta)
    infl = (theta1 / fixed) ** 2
    en1 = float(infl * (stop * t).sum())
    _, stop0 = _power(0.0, c, t, sided, fut, grid_r)
    stop0[-1] = 1.0 - stop0[:-1].sum()
    en0 = float(infl * (stop0 * t).sum())
    return dict(
        inflation_factor=float(infl),
        drift_h1=float(theta1),
        expected_n_rel_h1=en1,
        expected_n_rel_h0=en0,
        power_by_look=rej.tolist(),
    )
