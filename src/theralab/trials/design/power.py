"""Fixed-sample size and power: means (t and z), proportions, survival, non-inferiority, equivalence.

Conventions follow R ``stats::power.t.test`` / ``power.prop.test`` and rpact: ``alpha`` is the total
type I error of a ``sided``-sided test, ``power = 1 - beta``, ``ratio = n2 / n1`` (allocation of
arm 2 relative to arm 1). Sizes are returned unrounded (``n1``, ``n2``) and rounded up
(``n1_ceil``, ``n2_ceil``) so they can be checked against the references to many digits.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from scipy import optimize
from scipy.stats import nct, norm
from scipy.stats import t as student_t

from theralab.errors import InputError

PROPORTION_METHODS = ("pooled", "unpooled", "arcsine", "fleiss-cc")


def check_probability(name: str, value: float) -> float:
    """Raise InputError unless ``0 < value < 1``."""
    if value is None or not (0.0 < float(value) < 1.0):
        raise InputError(
            f"{name} must lie strictly between 0 and 1, got {value!r}",
            where=name,
            hint=f"e.g. {name}=0.8" if name == "power" else f"e.g. {name}=0.05",
        )
    return float(value)


def _check_positive(name: str, value: float) -> float:
    if value is None or not (float(value) > 0) or not math.isfinite(float(value)):
        raise InputError(f"{name} must be a positive finite number, got {value!r}", where=name)
    return float(value)


def _sided(sided: int) -> int:
    if sided not in (1, 2):
        raise InputError(f"sided must be 1 or 2, got {sided!r}", where="sided")
    return sided


@dataclass(frozen=True)
class SampleSize:
    """A sample-size (or event-count) result."""

    quantity: str  # "subjects" or "events"
    method: str
    n1: float
    n2: float
    alpha: float
    power: float
    sided: int
    details: dict = field(default_factory=dict)

    @property
    def n_total(self) -> float:
        return self.n1 + self.n2

    @property
    def n1_ceil(self) -> int:
        return math.ceil(self.n1 - 1e-9)

    @property
    def n2_ceil(self) -> int:
        return math.ceil(self.n2 - 1e-9)

    def to_dict(self) -> dict:
        """Plain JSON-able dict including the rounded sizes and the total."""
        d = asdict(self)
        d.update(
            n_total=self.n_total,
            n1_ceil=self.n1_ceil,
            n2_ceil=self.n2_ceil,
            n_total_ceil=self.n1_ceil + self.n2_ceil,
        )
        return d


def _z_sum(alpha: float, power: float, sided: int) -> float:
    return norm.isf(alpha / sided) + norm.isf(1 - power)


# ----------------------------------------------------------------------------------------- means
def power_means(
    n1: float,
    delta: float,
    sd: float = 1.0,
    *,
    alpha: float = 0.05,
    sided: int = 2,
    ratio: float = 1.0,
    test: str = "t",
    strict: bool = False,
) -> float:
    """Power of the two-sample t (or z) test with ``n1`` and ``ratio * n1`` subjects.

    With ``strict=False`` (R's default) only rejection in the direction of ``delta`` counts.
    """
    check_probability("alpha", alpha)
    n2 = ratio * n1
    se = sd * math.sqrt(1 / n1 + 1 / n2)
    ncp = abs(delta) / se
    if test == "z":
        q = norm.isf(alpha / sided)
        return float(norm.sf(q - ncp) + (norm.cdf(-q - ncp) if strict and sided == 2 else 0.0))
    if test != "t":
        raise InputError(f"test must be 't' or 'z', got {test!r}", where="test")
    nu = n1 + n2 - 2
    q = student_t.isf(alpha / sided, nu)
    p = nct.sf(q, nu, ncp)
    if strict and sided == 2:
        p += nct.cdf(-q, nu, ncp)
    return float(p)


def n_means(
    delta: float,
    sd: float = 1.0,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    sided: int = 2,
    ratio: float = 1.0,
    test: str = "t",
    strict: bool = False,
) -> SampleSize:
    """Sample size to detect a mean difference ``delta`` (Student t with noncentral-t power, or z).

    The t version solves ``power_means(n) = power`` exactly (R ``power.t.test``: 63.7658 per arm for
    d = 0.5, alpha 0.05, power 0.8); the z version is ``(z_a + z_b)^2 sd^2 (1 + 1/r) / delta^2``.
    """
    check_probability("power", power)
    check_probability("alpha", alpha)
    _sided(sided)
    _check_positive("sd", sd)
    _check_positive("ratio", ratio)
    if delta == 0:
        raise InputError("delta must be non-zero", where="delta", hint="the difference you want to detect")
    n_z = _z_sum(alpha, power, sided) ** 2 * sd**2 * (1 + 1 / ratio) / delta**2
    if test == "z" and not strict:
        n1 = n_z
    else:
        n1 = optimize.brentq(
            lambda n: (
                power_means(n, delta, sd, alpha=alpha, sided=sided, ratio=ratio, test=test, strict=strict) - power
            ),
            max(1.0 + 1e-6, 2 / (1 + ratio) + 1e-6),
            max(10 * n_z, 100),
            xtol=1e-12,
            rtol=1e-14,
        )
    return SampleSize(
        "subjects",
        f"means-{test}",
        n1,
        ratio * n1,
        alpha,
        power,
        sided,
        {"delta": delta, "sd": sd, "effect_size": delta / sd},
    )


# ------------------------------------------------------------------------------------ proportions
def n_proportions(
    p1: float,
    p2: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    sided: int = 2,
    ratio: float = 1.0,
    method: str = "pooled",
) -> SampleSize:
    """Sample size for comparing two proportions.

    Methods:
        ``pooled``: pooled variance under H0, unpooled under H1 (Fleiss; R ``power.prop.test`` and
        rpact ``getSampleSizeRates``) -- ``n1 = (z_a sqrt(pbar qbar (1+1/r)) + z_b sqrt(p1q1 + p2q2/r))^2
        / (p1-p2)^2`` with ``pbar = (p1 + r p2)/(1 + r)``.
        ``unpooled``: Wald test, unpooled variance under both hypotheses.
        ``arcsine``: Cohen's h = 2 asin(sqrt p1) - 2 asin(sqrt p2) (statsmodels ``NormalIndPower``).
        ``fleiss-cc``: pooled with the Fleiss, Tytun & Ury (1980) continuity correction.
    """
    check_probability("p1", p1)
    check_probability("p2", p2)
    check_probability("power", power)
    check_probability("alpha", alpha)
    _sided(sided)
    _check_positive("ratio", ratio)
    if p1 == p2:
        raise InputError("p1 and p2 are equal: there is no difference to detect", where="p2")
    if method not in PROPORTION_METHODS:
        raise InputError(f"unknown method {method!r}", where="method", hint=", ".join(PROPORTION_METHODS))
    za, zb = norm.isf(alpha / sided), norm.isf(1 - power)
    d = abs(p1 - p2)
    if method == "arcsine":
        h = abs(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2)))
        n1 = (za + zb) ** 2 * (1 + 1 / ratio) / h**2
    elif method == "unpooled":
        n1 = (za + zb) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2) / ratio) / d**2
    else:
        pbar = (p1 + ratio * p2) / (1 + ratio)
        n1 = (
            za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / ratio)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio)
        ) ** 2 / d**2
        if method == "fleiss-cc":
            n1 = n1 / 4 * (1 + math.sqrt(1 + 2 * (ratio + 1) / (ratio * n1 * d))) ** 2
    return SampleSize("subjects", f"proportions-{method}", n1, ratio * n1, alpha, power, sided, {"p1": p1, "p2": p2})


def power_proportions(
    n1: float, p1: float, p2: float, *, alpha: float = 0.05, sided: int = 2, ratio: float = 1.0
) -> float:
    """Power of the pooled-variance two-proportion test with ``n1`` and ``ratio * n1`` subjects
    (the inverse of ``n_proportions(method="pooled")``; R ``power.prop.test``, strict = FALSE)."""
    check_probability("p1", p1)
    check_probability("p2", p2)
    check_probability("alpha", alpha)
    _sided(sided)
    pbar = (p1 + ratio * p2) / (1 + ratio)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / (ratio * n1)))
    se1 = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / (ratio * n1))
    return float(norm.cdf((abs(p1 - p2) - norm.isf(alpha / sided) * se0) / se1))


def power_survival(events: float, hr: float, *, alpha: float = 0.05, sided: int = 2, ratio: float = 1.0) -> float:
    """Power of the log-rank test with ``events`` events (Schoenfeld approximation)."""
    check_probability("alpha", alpha)
    _sided(sided)
    _check_positive("events", events)
    _check_positive("hr", hr)
    drift = abs(math.log(hr)) * math.sqrt(events * ratio) / (1 + ratio)
    return float(norm.cdf(drift - norm.isf(alpha / sided)))


# --------------------------------------------------------------------------------------- survival
def events_survival(
    hr: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    sided: int = 2,
    ratio: float = 1.0,
    method: str = "schoenfeld",
) -> float:
    """Number of events for a log-rank test of hazard ratio ``hr``.

    Schoenfeld (1981): ``d = (z_a + z_b)^2 (1 + r)^2 / (r log(hr)^2)``.
    Freedman (1982): ``d = (z_a + z_b)^2 (1 + r hr)^2 / (r (1 - hr)^2)``.
    """
    check_probability("power", power)
    check_probability("alpha", alpha)
    _sided(sided)
    _check_positive("hr", hr)
    _check_positive("ratio", ratio)
    if hr == 1:
        raise InputError("hazard ratio 1 means no effect to detect", where="hr")
    z2 = _z_sum(alpha, power, sided) ** 2
    if method == "schoenfeld":
        return z2 * (1 + ratio) ** 2 / (ratio * math.log(hr) ** 2)
    if method == "freedman":
        return z2 * (1 + ratio * hr) ** 2 / (ratio * (1 - hr) ** 2)
    raise InputError(f"unknown method {method!r}", where="method", hint="schoenfeld or freedman")


def prob_event(hazard: float, accrual_time: float, follow_up: float, dropout_hazard: float = 0.0) -> float:
    """P(event observed) under exponential survival, uniform accrual over ``accrual_time`` and a
    further ``follow_up`` after accrual ends (Lachin & Foulkes 1986), with exponential drop-out."""
    lam = hazard + dropout_hazard
    frac = hazard / lam
    if accrual_time == 0:
        return frac * (1 - math.exp(-lam * follow_up))
    return frac * (
        1 - (math.exp(-lam * follow_up) - math.exp(-lam * (accrual_time + follow_up))) / (lam * accrual_time)
    )


def n_survival(
    hr: float,
    *,
    median_control: float,
    accrual_time: float,
    follow_up: float,
    alpha: float = 0.05,
    power: float = 0.8,
    sided: int = 2,
    ratio: float = 1.0,
    method: str = "schoenfeld",
    dropout_rate: float = 0.0,
) -> SampleSize:
    """Patients needed: events divided by the allocation-weighted probability of an event.

    Args:
        hr: hazard ratio arm 1 (treatment) / arm 2 (control).
        median_control: median survival time in the control arm (same unit as the times).
        accrual_time: length of uniform accrual.
        follow_up: minimum follow-up after the end of accrual.
        dropout_rate: exponential drop-out hazard per unit time (0 for none).
    """
    _check_positive("median_control", median_control)
    if accrual_time < 0 or follow_up < 0 or accrual_time + follow_up <= 0:
        raise InputError("accrual_time and follow_up must be >= 0 and not both 0", where="follow_up")
    events = events_survival(hr, alpha=alpha, power=power, sided=sided, ratio=ratio, method=method)
    lam2 = math.log(2) / median_control
    lam1 = hr * lam2
    p1 = prob_event(lam1, accrual_time, follow_up, dropout_rate)
    p2 = prob_event(lam2, accrual_time, follow_up, dropout_rate)
    p = (p1 + ratio * p2) / (1 + ratio)
    total = events / p
    n1 = total / (1 + ratio)
    return SampleSize(
        "subjects",
        f"survival-{method}",
        n1,
        ratio * n1,
        alpha,
        power,
        sided,
        {"events": events, "prob_event_arm1": p1, "prob_event_arm2": p2, "prob_event": p},
    )


# --------------------------------------------------------------------------- NI and equivalence
def n_noninferiority(
    margin: float,
    *,
    sd: float | None = None,
    p1: float | None = None,
    p2: float | None = None,
    true_difference: float = 0.0,
    alpha: float = 0.025,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Non-inferiority (one-sided ``alpha``): reject H0 ``mu1 - mu2 <= -margin``.

    Means (give ``sd``): ``n1 = (z_a + z_b)^2 sd^2 (1 + 1/r) / (true_difference + margin)^2``.
    Proportions (give ``p1``, ``p2``; true difference is ``p1 - p2``): unpooled variance
    ``p1 q1 + p2 q2 / r`` (Blackwelder 1982).
    """
    _check_positive("margin", margin)
    check_probability("power", power)
    check_probability("alpha", alpha)
    z2 = _z_sum(alpha, power, 1) ** 2
    if sd is not None:
        _check_positive("sd", sd)
        var, diff, kind = sd**2 * (1 + 1 / ratio), true_difference, "means"
    elif p1 is not None and p2 is not None:
        check_probability("p1", p1)
        check_probability("p2", p2)
        var, diff, kind = p1 * (1 - p1) + p2 * (1 - p2) / ratio, p1 - p2, "proportions"
    else:
        raise InputError("give sd (means) or p1 and p2 (proportions)", where="sd")
    if diff + margin <= 0:
        raise InputError(
            "the true difference is already beyond the margin; non-inferiority cannot be shown",
            where="true_difference",
        )
    n1 = z2 * var / (diff + margin) ** 2
    return SampleSize(
        "subjects",
        f"noninferiority-{kind}",
        n1,
        ratio * n1,
        alpha,
        power,
        1,
        {"margin": margin, "true_difference": diff},
    )


def power_equivalence(
    n1: float,
    margin: float,
    *,
    sd: float,
    true_difference: float = 0.0,
    alpha: float = 0.05,
    ratio: float = 1.0,
) -> float:
    """Power of two one-sided tests (TOST, Schuirmann 1987), normal approximation."""
    se = sd * math.sqrt(1 / n1 + 1 / (ratio * n1))
    za = norm.isf(alpha)
    return float(
        max(
            0.0,
            norm.cdf((margin - true_difference) / se - za) + norm.cdf((margin + true_difference) / se - za) - 1,
        )
    )


def n_equivalence(
    margin: float,
    *,
    sd: float,
    true_difference: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> SampleSize:
    """Equivalence of means within +-``margin`` by TOST at level ``alpha`` (each one-sided test).

    With ``true_difference = 0`` this is ``(z_a + z_{b/2})^2 sd^2 (1 + 1/r) / margin^2``; otherwise
    the exact TOST normal power is solved.
    """
    _check_positive("margin", margin)
    _check_positive("sd", sd)
    check_probability("power", power)
    check_probability("alpha", alpha)
    if abs(true_difference) >= margin:
        raise InputError("the true difference lies outside the equivalence margin", where="true_difference")
    hi = (
        4
        * (norm.isf(alpha) + norm.isf((1 - power) / 2)) ** 2
        * sd**2
        * (1 + 1 / ratio)
        / (margin - abs(true_difference)) ** 2
        + 10
    )
    n1 = optimize.brentq(
        lambda n: (
            power_equivalence(n, margin, sd=sd, true_difference=true_difference, alpha=alpha, ratio=ratio) - power
        ),
        1e-3,
        hi,
        xtol=1e-10,
    )
    return SampleSize(
        "subjects",
        "equivalence-means",
        n1,
        ratio * n1,
        alpha,
        power,
        1,
        {"margin": margin, "true_difference": true_difference},
    )


#: what each endpoint of :func:`sample_size` needs besides alpha, power, sidedness and allocation
SAMPLE_SIZE_NEEDS: dict[str, tuple[str, ...]] = {
    "means": ("delta",), "proportions": ("p1", "p2"), "survival": ("hr", "median_control", "accrual_time", "follow_up"),
    "noninferiority": ("margin",), "equivalence": ("margin",),
}


def sample_size(endpoint: str, *, alpha: float = 0.05, power: float = 0.8, sided: int = 2, ratio: float = 1.0,
                delta: float | None = None, sd: float | None = None, test: str = "t", p1: float | None = None,
                p2: float | None = None, method: str | None = None, hr: float | None = None,
                median_control: float | None = None, accrual_time: float | None = None,
                follow_up: float | None = None, margin: float | None = None,
                true_difference: float = 0.0) -> SampleSize:
    """Any fixed design from one set of fields (a form or a request): checks what ``endpoint`` needs
    and fills the defaults (sd 1; method pooled for proportions, Schoenfeld for survival).

    Raises:
        InputError: unknown endpoint, or a field the endpoint needs is missing (``where`` names it).
    """
    if endpoint not in SAMPLE_SIZE_NEEDS:
        raise InputError(f"unknown endpoint {endpoint!r}", where="endpoint", hint=", ".join(SAMPLE_SIZE_NEEDS))
    given = {"delta": delta, "p1": p1, "p2": p2, "hr": hr, "median_control": median_control,
             "accrual_time": accrual_time, "follow_up": follow_up, "margin": margin}
    v: dict[str, float] = {}
    for name in SAMPLE_SIZE_NEEDS[endpoint]:
        value = given[name]
        if value is None:
            raise InputError(f"{name} is required for endpoint {endpoint!r}", where=f"body.{name}")
        v[name] = float(value)
    common = {"alpha": alpha, "power": power, "ratio": ratio}
    if endpoint == "means":
        return n_means(v["delta"], sd or 1.0, sided=sided, test=test, **common)
    if endpoint == "proportions":
        return n_proportions(v["p1"], v["p2"], sided=sided, method=method or "pooled", **common)
    if endpoint == "survival":
        return n_survival(v["hr"], median_control=v["median_control"], accrual_time=v["accrual_time"],
                          follow_up=v["follow_up"], sided=sided, method=method or "schoenfeld", **common)
    if endpoint == "noninferiority":
        return n_noninferiority(v["margin"], sd=sd, p1=p1, p2=p2, true_difference=true_difference, **common)
    return n_equivalence(v["margin"], sd=sd or 1.0, true_difference=true_difference, **common)


def n_group_sequential(
    fixed: SampleSize,
    inflation_factor: float,
    expected_n_rel_h1: float | None = None,
) -> dict[str, float]:
    """Maximum (and expected under H1) total sample size of a group-sequential version of ``fixed``.

    ``N_max = N_fixed * IF``; ``E[N | H1] = N_fixed * ASN_rel`` (Jennison & Turnbull 2000, sec. 2.7).
    """
    out = {"max_n_total": fixed.n_total * inflation_factor}
    if expected_n_rel_h1 is not None:
        out["expected_n_total_h1"] = fixed.n_total * expected_n_rel_h1
    return out
