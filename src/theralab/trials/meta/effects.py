"""Effect sizes for meta-analysis (as metafor ``escalc``) and Mantel-Haenszel / Peto pooling.

Continuity correction (stated, as metafor's default ``add=1/2, to="only0"``): when any cell of a
study's 2x2 table is zero, 0.5 is added to all four cells of that study; the studies corrected are
listed in the result. Tables with zero events in *both* arms give no information on RR/OR and are
rejected for MH/Peto unless ``drop_double_zero=True``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.special import gammaln

from theralab.errors import InputError
from theralab.trials.records import Record

MEASURES_2X2 = ("RR", "OR", "RD")


@dataclass(frozen=True)
class EffectSizes:
    """Per-study effect sizes ``yi`` (log scale for RR/OR/HR) and sampling variances ``vi``."""

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    labels: list[str]
    corrected: list[str] = field(default_factory=list)
    correction: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["yi"], d["vi"] = self.yi.tolist(), self.vi.tolist()
        return d


def _arr(name: str, x: object) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise InputError(f"{name} must be a non-empty list of numbers", where=name)
    if not np.all(np.isfinite(a)):
        raise InputError(
            f"{name} contains missing or non-finite values (study {int(np.argmin(np.isfinite(a))) + 1})",
            where=name,
        )
    return a


def _labels(labels: list[str] | None, k: int) -> list[str]:
    if labels is None:
        return [f"study {i + 1}" for i in range(k)]
    if len(labels) != k:
        raise InputError(f"{len(labels)} labels for {k} studies", where="labels")
    return [str(s) for s in labels]


def _tables(ai: object, bi: object, ci: object, di: object) -> tuple[np.ndarray, ...]:
    a, b, c, d = (_arr(n, x) for n, x in zip(("ai", "bi", "ci", "di"), (ai, bi, ci, di), strict=True))
    if not (a.size == b.size == c.size == d.size):
        raise InputError("ai, bi, ci, di must have the same length", where="ai")
    for name, x in zip(("ai", "bi", "ci", "di"), (a, b, c, d), strict=True):
        if np.any(x < 0):
            raise InputError(f"negative cell count in {name} (study {int(np.argmax(x < 0)) + 1})", where=name)
    if np.any(a + b == 0) or np.any(c + d == 0):
        raise InputError("an arm with no subjects (ai+bi or ci+di is 0)", where="ai")
    return a, b, c, d


def effects_2x2(
    ai: object,
    bi: object,
    ci: object,
    di: object,
    *,
    measure: str = "RR",
    add: float = 0.5,
    labels: list[str] | None = None,
) -> EffectSizes:
    """Log risk ratio, log odds ratio or risk difference from 2x2 tables (metafor ``escalc``).

    ``ai``/``bi``: events / non-events in the treatment arm, ``ci``/``di`` in the control arm.
    RR: ``y = log(a/n1) - log(c/n2)``, ``v = 1/a - 1/n1 + 1/c - 1/n2``;
    OR: ``y = log(ad/bc)``, ``v = 1/a + 1/b + 1/c + 1/d``;
    RD: ``y = a/n1 - c/n2``, ``v = p1(1-p1)/n1 + p2(1-p2)/n2``.
    """
    if measure not in MEASURES_2X2:
        raise InputError(f"unknown measure {measure!r}", where="measure", hint=", ".join(MEASURES_2X2))
    a, b, c, d = _tables(ai, bi, ci, di)
    labs = _labels(labels, a.size)
    zero = (np.minimum(np.minimum(a, b), np.minimum(c, d)) == 0) if measure != "RD" else np.zeros(a.size, bool)
    if add < 0:
        raise InputError("continuity correction must be >= 0", where="add")
    if zero.any() and add == 0:
        raise InputError(
            f"zero cell in {[labs[i] for i in np.flatnonzero(zero)]} and no continuity correction",
            where="add",
            hint="use add=0.5 (the default) or drop those studies",
        )
    a, b, c, d = (x + add * zero for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    if measure == "RR":
        yi = np.log(a / n1) - np.log(c / n2)
        vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
    elif measure == "OR":
        yi = np.log(a * d / (b * c))
        vi = 1 / a + 1 / b + 1 / c + 1 / d
    else:
        p1, p2 = a / n1, c / n2
        yi = p1 - p2
        vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    corrected = [labs[i] for i in np.flatnonzero(zero)]
    note = f"{add} added to all cells of studies with a zero cell" if corrected else ""
    return EffectSizes(measure, yi, vi, labs, corrected, note)


def effects_means(
    m1: object,
    sd1: object,
    n1: object,
    m2: object,
    sd2: object,
    n2: object,
    *,
    measure: str = "MD",
    labels: list[str] | None = None,
) -> EffectSizes:
    """Mean difference or standardised mean difference (Hedges' g, exact small-sample factor).

    SMD: ``d = (m1 - m2) / s_pooled``, ``g = J d`` with ``J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``,
    ``m = n1 + n2 - 2``; ``v = 1/n1 + 1/n2 + g^2 / (2 (n1 + n2))`` (metafor ``measure="SMD"``).
    """
    m1, s1, k1, m2, s2, k2 = (
        _arr(n, x) for n, x in zip(("m1", "sd1", "n1", "m2", "sd2", "n2"), (m1, sd1, n1, m2, sd2, n2), strict=True)
    )
    if np.any(s1 < 0) or np.any(s2 < 0):
        raise InputError("negative standard deviation", where="sd1" if np.any(s1 < 0) else "sd2")
    if np.any(k1 < 2) or np.any(k2 < 2):
        raise InputError("each arm needs at least 2 subjects", where="n1")
    labs = _labels(labels, m1.size)
    if measure == "MD":
        return EffectSizes("MD", m1 - m2, s1**2 / k1 + s2**2 / k2, labs)
    if measure != "SMD":
        raise InputError(f"unknown measure {measure!r}", where="measure", hint="MD or SMD")
    m = k1 + k2 - 2
    sp = np.sqrt(((k1 - 1) * s1**2 + (k2 - 1) * s2**2) / m)
    j = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
    g = j * (m1 - m2) / sp
    return EffectSizes("SMD", g, 1 / k1 + 1 / k2 + g**2 / (2 * (k1 + k2)), labs)


def effects_hr(log_hr: object, se: object, *, labels: list[str] | None = None) -> EffectSizes:
    """Log hazard ratios with their standard errors (variance = se^2)."""
    y, s = _arr("log_hr", log_hr), _arr("se", se)
    if np.any(s <= 0):
        raise InputError("standard errors must be positive", where="se")
    return EffectSizes("HR", y, s**2, _labels(labels, y.size))


@dataclass(frozen=True)
class PooledFixed(Record):
    """A Mantel-Haenszel or Peto pooled estimate (log scale for RR/OR)."""

    method: str
    measure: str
    estimate: float
    se: float
    ci: tuple[float, float]
    z: float
    p: float
    q: float
    k: int


def _pooled(method: str, measure: str, est: float, se: float, q: float, k: int, level: float) -> PooledFixed:
    from scipy.stats import norm

    zc = norm.isf((1 - level) / 2)
    z = est / se
    return PooledFixed(
        method,
        measure,
        float(est),
        float(se),
        (float(est - zc * se), float(est + zc * se)),
        float(z),
        float(2 * norm.sf(abs(z))),
        float(q),
        k,
    )


def mantel_haenszel(
    ai: object,
    bi: object,
    ci: object,
    di: object,
    *,
    measure: str = "RR",
    level: float = 0.95,
    add: float = 0.5,
) -> PooledFixed:
    """Mantel-Haenszel pooled RR / OR / RD (no continuity correction in the pooling itself).

    Variances: Greenland & Robins (1985) for RR and RD, Robins, Breslow & Greenland (1986) for OR.
    Q uses the per-study ``escalc`` estimates (corrected as stated there) around the MH estimate,
    as metafor ``rma.mh`` does.
    """
    a, b, c, d = _tables(ai, bi, ci, di)
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "RR":
        r, s = np.sum(a * n2 / n), np.sum(c * n1 / n)
        est = np.log(r / s)
        var = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2) / (r * s)
    elif measure == "OR":
        r, s = a * d / n, b * c / n
        rs, ss = r.sum(), s.sum()
        p, qq = (a + d) / n, (b + c) / n
        est = np.log(rs / ss)
        var = np.sum(p * r) / (2 * rs**2) + np.sum(p * s + qq * r) / (2 * rs * ss) + np.sum(qq * s) / (2 * ss**2)
    elif measure == "RD":
        w = n1 * n2 / n
        est = np.sum((a * n2 - c * n1) / n) / w.sum()
        var = np.sum((a * b * n2**3 + c * d * n1**3) / (n1 * n2 * n**2)) / w.sum() ** 2
    else:
        raise InputError(f"unknown measure {measure!r}", where="measure", hint="RR, OR or RD")
    es = effects_2x2(a, b, c, d, measure=measure, add=add)
    q = float(np.sum((es.yi - est) ** 2 / es.vi))
    return _pooled("MH", measure, est, float(np.sqrt(var)), q, a.size, level)


def peto(ai: object, bi: object, ci: object, di: object, *, level: float = 0.95) -> PooledFixed:
    """Peto's one-step log odds ratio: ``sum(O - E) / sum(V)``, ``se = 1/sqrt(sum V)`` (Yusuf et al. 1985)."""
    a, b, c, d = _tables(ai, bi, ci, di)
    n1, n2 = a + b, c + d
    n = n1 + n2
    m1, m2 = a + c, b + d
    e = n1 * m1 / n
    v = n1 * n2 * m1 * m2 / (n**2 * (n - 1))
    if np.any(v <= 0):
        raise InputError("a study has no events or no non-events at all (Peto variance 0)", where="ai")
    est = np.sum(a - e) / v.sum()
    q = float(np.sum((a - e) ** 2 / v) - np.sum(a - e) ** 2 / v.sum())
    return _pooled("Peto", "OR", est, float(1 / np.sqrt(v.sum())), q, a.size, level)
