"""Compartmental pharmacokinetic simulation: 1, 2 and 3 compartments, bolus, infusion, oral.

Why analytic first: linear mammillary models have closed-form responses (sums of exponentials),
so a dosing history is the superposition of one response per dose. That is exact, fast and has no
solver tolerance to tune. An ODE path (:func:`simulate_ode`) exists for what has no closed form
(Michaelis-Menten elimination) and doubles as an independent check of the analytic code.

Parameterisation is physiological (clearances and volumes, as NONMEM ADVAN/TRANS4 and mrgsolve):
``cl`` (central elimination clearance), ``v1`` (central volume), ``q2, v2`` and ``q3, v3``
(inter-compartmental clearances and peripheral volumes), ``ka`` (first-order absorption, 1/time),
``f`` (bioavailability), ``tlag`` (absorption lag). Units are the user's: with dose in mg, volumes in
L and time in h, concentrations are mg/L and clearances L/h.

Central-compartment unit-impulse response (Gibaldi and Perrier, *Pharmacokinetics*, 2nd ed., ch. 3;
Rowland and Tozer, ch. 19)::

    C(t) = sum_i A_i exp(-lambda_i t),
    A_i  = prod_p (k_p1 - lambda_i) / prod_{j != i} (lambda_j - lambda_i) / V1

with ``lambda_i`` the eigenvalues of the disposition rate matrix and ``k_p1 = Q_p / V_p``. Oral
input convolves this with ``F ka exp(-ka t)``; a zero-order infusion integrates it.

Patient hook: :class:`PatientFactors` scales CL and V for one patient (metaboliser phenotype as a
clearance multiplier, allometric weight, renal function by the Dettli fraction-excreted method), so
the pharmacogenomics module can pass a phenotype in without knowing any PK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from theralab.errors import ConvergenceError, InputError, NotFoundError

Route = Literal["iv_bolus", "infusion", "oral"]
ROUTES: tuple[str, ...] = ("iv_bolus", "infusion", "oral")


@dataclass(frozen=True)
class PKParams:
    """Typical (or individual) PK parameters of a linear 1-, 2- or 3-compartment model.

    A peripheral compartment is present when its volume is > 0. ``ka`` is needed for oral doses only.
    """

    cl: float
    v1: float
    q2: float = 0.0
    v2: float = 0.0
    q3: float = 0.0
    v3: float = 0.0
    ka: float | None = None
    f: float = 1.0
    tlag: float = 0.0

    def __post_init__(self) -> None:
        for name in ("cl", "v1"):
            if not np.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise InputError(
                    f"{name} must be a positive number, got {getattr(self, name)}",
                    where=f"PKParams.{name}",
                    hint="clearance and central volume are > 0",
                )
        for name in ("q2", "v2", "q3", "v3", "tlag"):
            if getattr(self, name) < 0:
                raise InputError(f"{name} must be >= 0, got {getattr(self, name)}", where=f"PKParams.{name}")
        if (self.v2 > 0) != (self.q2 > 0) or (self.v3 > 0) != (self.q3 > 0):
            raise InputError(
                "a peripheral compartment needs both its Q and V > 0",
                where="PKParams",
                hint="set q2 and v2 (and q3, v3) together, or leave both 0",
            )
        if self.v3 > 0 and self.v2 == 0:
            raise InputError("compartment 3 given without compartment 2", where="PKParams.v3")
        if self.ka is not None and self.ka <= 0:
            raise InputError(f"ka must be > 0, got {self.ka}", where="PKParams.ka")
        if not 0 < self.f <= 1:
            raise InputError(f"bioavailability f must be in (0, 1], got {self.f}", where="PKParams.f")

    @property
    def n_compartments(self) -> int:
        """Number of disposition compartments (1, 2 or 3)."""
        return 1 + (self.v2 > 0) + (self.v3 > 0)

    @property
    def ke(self) -> float:
        """Elimination rate constant from the central compartment, CL/V1."""
        return self.cl / self.v1

    def to_dict(self) -> dict[str, float | None]:
        """Plain dict for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class Dose:
    """One administration: ``amount`` at ``time``; infusions last ``duration``."""

    time: float
    amount: float
    route: Route = "iv_bolus"
    duration: float = 0.0

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise InputError(f"unknown route {self.route!r}", where="Dose.route", hint=f"one of {ROUTES}")
        if not np.isfinite(self.amount) or self.amount <= 0:
            raise InputError(
                f"dose amount must be > 0, got {self.amount}",
                where="Dose.amount",
                hint="a dose of zero gives no concentrations; remove it from the schedule",
            )
        if self.time < 0:
            raise InputError(f"dose time must be >= 0, got {self.time}", where="Dose.time")
        if self.route == "infusion" and self.duration <= 0:
            raise InputError(
                "an infusion needs a duration > 0",
                where="Dose.duration",
                hint="use route='iv_bolus' for an instantaneous dose",
            )


DEFAULT_N_POINTS = 241


def time_grid(doses: Sequence[Dose], *, t_end: float | None = None, n_points: int = DEFAULT_N_POINTS,
              interval: float | None = None) -> np.ndarray:
    """The output times of a simulation, the same for the CLI, the API and the web page.

    Default end: one dosing interval after the last dose (the regimen's ``interval`` when known,
    else the gap between the last two doses, else 24 time units), so a single dose of a daily
    regimen is drawn over its 24 h and a course of doses over its last interval too.
    """
    if n_points < 2:
        raise InputError("n_points must be at least 2", where="n_points")
    if t_end is None:
        times = sorted(d.time for d in doses) or [0.0]
        gap = interval if interval else (times[-1] - times[-2] if len(times) > 1 and times[-1] > times[-2] else 24.0)
        t_end = times[-1] + gap
    if not np.isfinite(t_end) or t_end <= 0:
        raise InputError(f"t_end must be a positive number, got {t_end}", where="t_end")
    return np.linspace(0.0, float(t_end), int(n_points))


def dosing_schedule(
    amount: float,
    interval: float,
    n_doses: int,
    route: Route = "iv_bolus",
    duration: float = 0.0,
    start: float = 0.0,
) -> list[Dose]:
    """Regular dosing: ``n_doses`` of ``amount`` every ``interval`` from ``start``."""
    if n_doses < 1:
        raise InputError(f"n_doses must be >= 1, got {n_doses}", where="n_doses")
    if n_doses > 1 and interval <= 0:
        raise InputError(f"interval must be > 0, got {interval}", where="interval")
    if route == "infusion" and n_doses > 1 and duration > interval:
        raise InputError("infusion longer than the dosing interval", where="duration")
    return [Dose(start + i * interval, amount, route, duration) for i in range(n_doses)]


# ---------------------------------------------------------------- patient covariates
@dataclass(frozen=True)
class PatientFactors:
    """Per-patient factors applied to typical CL and V (the hook for PGx and covariates).

    Covariate models (documented in docs/development.md):

    * ``cl_multiplier``: multiplies the metabolic part of CL, e.g. a CYP2C19 poor-metaboliser
      phenotype from ``precision.pgx`` (0.5 = half the clearance).
    * weight: allometric scaling (Anderson and Holford 2008): CL x (WT/70)^0.75, volumes x (WT/70)^1.
    * renal function: Dettli method, CL = CL_typ x [(1 - fe) + fe x CrCL / crcl_ref], with ``fe``
      the fraction of the drug excreted unchanged in urine; the metabolic part (1 - fe) carries
      ``cl_multiplier``.
    * age enters through CrCL (see :func:`cockcroft_gault`); no separate age effect is assumed.
    """

    cl_multiplier: float = 1.0
    weight_kg: float | None = None
    age_years: float | None = None
    crcl_ml_min: float | None = None
    fe: float = 0.0
    weight_ref: float = 70.0
    crcl_ref: float = 100.0
    cl_exponent: float = 0.75
    v_exponent: float = 1.0
    label: str = field(default="")

    def __post_init__(self) -> None:
        if self.cl_multiplier <= 0:
            raise InputError(f"cl_multiplier must be > 0, got {self.cl_multiplier}", where="PatientFactors")
        if self.weight_kg is not None and self.weight_kg <= 0:
            raise InputError(f"weight must be > 0 kg, got {self.weight_kg}", where="PatientFactors.weight_kg")
        if self.crcl_ml_min is not None and self.crcl_ml_min < 0:
            raise InputError(f"CrCL must be >= 0, got {self.crcl_ml_min}", where="PatientFactors.crcl_ml_min")
        if not 0 <= self.fe <= 1:
            raise InputError(f"fe must be in [0, 1], got {self.fe}", where="PatientFactors.fe")

    @classmethod
    def from_phenotype(cls, phenotype: str, multipliers: Mapping[str, float], **kwargs: Any) -> PatientFactors:
        """Factors from a metaboliser phenotype (e.g. ``precision.pgx`` ``Phenotype.phenotype``).

        ``multipliers`` is the drug-specific table (phenotype -> fraction of normal metabolic
        clearance), e.g. ``{"Normal Metabolizer": 1, "Poor Metabolizer": 0.3}``: the effect of a
        phenotype depends on the drug and the fraction of its clearance through that enzyme, so no
        universal default is assumed. Matching ignores case and surrounding spaces.
        """
        table = {k.strip().lower(): float(v) for k, v in multipliers.items()}
        key = phenotype.strip().lower()
        if key not in table:
            raise NotFoundError(
                f"phenotype {phenotype!r} not in the multiplier table",
                where="phenotype",
                hint=f"known: {sorted(multipliers)}",
            )
        return cls(cl_multiplier=table[key], label=phenotype, **kwargs)

    def cl_factor(self) -> float:
        """Factor multiplying the typical clearance for this patient."""
        renal = self.fe * (self.crcl_ml_min / self.crcl_ref if self.crcl_ml_min is not None else 1.0)
        factor = (1.0 - self.fe) * self.cl_multiplier + renal
        if self.weight_kg is not None:
            factor *= (self.weight_kg / self.weight_ref) ** self.cl_exponent
        return factor

    def v_factor(self) -> float:
        """Factor multiplying every volume for this patient."""
        return (self.weight_kg / self.weight_ref) ** self.v_exponent if self.weight_kg is not None else 1.0

    def apply(self, params: PKParams) -> PKParams:
        """Individual parameters: clearances (CL, Q) and volumes scaled; ka, F, tlag unchanged.

        Q scales with weight like CL but not with phenotype or renal function.
        """
        wq = (self.weight_kg / self.weight_ref) ** self.cl_exponent if self.weight_kg is not None else 1.0
        vf = self.v_factor()
        if self.cl_factor() <= 0:
            raise InputError(
                "patient clearance is zero (fe = 1 and CrCL = 0)",
                where="PatientFactors",
                hint="no elimination pathway left; PK is undefined",
            )
        return replace(
            params,
            cl=params.cl * self.cl_factor(),
            v1=params.v1 * vf,
            q2=params.q2 * wq,
            v2=params.v2 * vf,
            q3=params.q3 * wq,
            v3=params.v3 * vf,
        )


def cockcroft_gault(age_years: float, weight_kg: float, serum_creatinine_mg_dl: float, female: bool) -> float:
    """Creatinine clearance (mL/min), Cockcroft and Gault, Nephron 1976;16:31.

    CrCL = (140 - age) x weight / (72 x SCr) x (0.85 if female).
    """
    if serum_creatinine_mg_dl <= 0 or weight_kg <= 0 or not 0 <= age_years < 140:
        raise InputError("Cockcroft-Gault needs SCr > 0, weight > 0 and 0 <= age < 140", where="cockcroft_gault")
    crcl = (140.0 - age_years) * weight_kg / (72.0 * serum_creatinine_mg_dl)
    return crcl * (0.85 if female else 1.0)


# ---------------------------------------------------------------- analytic solutions
def disposition(params: PKParams) -> tuple[np.ndarray, np.ndarray]:
    """Exponents lambda_i and coefficients A_i of the central unit-impulse response (per V1)."""
    k10 = params.cl / params.v1
    periph = [(params.q2 / params.v1, params.q2 / params.v2)] if params.v2 > 0 else []
    if params.v3 > 0:
        periph.append((params.q3 / params.v1, params.q3 / params.v3))
    n = 1 + len(periph)
    rate = np.zeros((n, n))
    rate[0, 0] = -(k10 + sum(k1p for k1p, _ in periph))
    for p, (k1p, kp1) in enumerate(periph, start=1):
        rate[0, p] = kp1
        rate[p, 0] = k1p
        rate[p, p] = -kp1
    lam = np.sort(-np.linalg.eigvals(rate).real)
    coef = np.empty(n)
    for i in range(n):
        num = np.prod([kp1 - lam[i] for _, kp1 in periph]) if periph else 1.0
        den = np.prod([lam[j] - lam[i] for j in range(n) if j != i]) if n > 1 else 1.0
        coef[i] = num / den / params.v1
    return lam, coef


def _single_dose(t: np.ndarray, dose: Dose, params: PKParams, lam: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Concentration from one dose at the times ``t`` (superposition term)."""
    out = np.zeros_like(t, dtype=float)
    if dose.route == "oral":
        if params.ka is None:
            raise InputError("oral dose but ka is not set", where="PKParams.ka", hint="give an absorption rate")
        s = t - dose.time - params.tlag
        m = s > 0
        ka, amt = params.ka, dose.amount * params.f
        for li, ai in zip(lam, coef, strict=True):
            if abs(ka - li) <= 1e-9 * max(ka, li):  # ka = lambda: limit of the convolution is ka s e^{-ka s}
                out[m] += amt * ai * ka * s[m] * np.exp(-li * s[m])
            else:
                out[m] += amt * ai * ka / (ka - li) * (np.exp(-li * s[m]) - np.exp(-ka * s[m]))
    elif dose.route == "iv_bolus":
        s = t - dose.time
        m = s >= 0
        for li, ai in zip(lam, coef, strict=True):
            out[m] += dose.amount * ai * np.exp(-li * s[m])
    else:
        rate, dur = dose.amount / dose.duration, dose.duration
        s = t - dose.time
        during = (s >= 0) & (s <= dur)
        after = s > dur
        for li, ai in zip(lam, coef, strict=True):
            out[during] += rate * ai / li * (1 - np.exp(-li * s[during]))
            out[after] += rate * ai / li * (1 - np.exp(-li * dur)) * np.exp(-li * (s[after] - dur))
    return out


def _times(times: np.ndarray | list[float]) -> np.ndarray:
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise InputError("times must be a non-empty 1-D array of finite numbers", where="times")
    if np.any(t < 0):
        raise InputError(f"negative time {t[t < 0][0]}", where="times", hint="times are measured from 0")
    return t


def concentrations(times: np.ndarray | list[float], doses: list[Dose], params: PKParams) -> np.ndarray:
    """Central concentrations at ``times`` by superposition of closed-form single-dose responses."""
    t = _times(times)
    if not doses:
        raise InputError("no doses given", where="doses")
    lam, coef = disposition(params)
    return np.sum([_single_dose(t, d, params, lam, coef) for d in doses], axis=0)


def auc_inf(dose_amount: float, params: PKParams, route: Route = "iv_bolus") -> float:
    """AUC0-inf of one dose: F x Dose / CL (F = 1 for intravenous routes)."""
    return (params.f if route == "oral" else 1.0) * dose_amount / params.cl


def oral_tmax_cmax(dose_amount: float, params: PKParams) -> tuple[float, float]:
    """Closed-form Tmax and Cmax of one oral dose, one-compartment model.

    tmax = ln(ka/ke)/(ka - ke) + tlag (ka != ke), tmax = 1/ke + tlag at ka = ke.
    """
    if params.n_compartments != 1 or params.ka is None:
        raise InputError("closed-form tmax/cmax needs a one-compartment oral model", where="oral_tmax_cmax")
    ka, ke = params.ka, params.ke
    tmax = np.log(ka / ke) / (ka - ke) if abs(ka - ke) > 1e-12 * ka else 1.0 / ke
    cmax = float(concentrations([tmax + params.tlag], [Dose(0.0, dose_amount, "oral")], params)[0])
    return float(tmax + params.tlag), cmax


# ---------------------------------------------------------------- steady state
@dataclass(frozen=True)
class SteadyState:
    """Steady-state summary of a regular regimen (one dosing interval at steady state)."""

    tau: float
    cmax_ss: float
    cmin_ss: float
    cavg_ss: float
    auc_tau_ss: float
    accumulation_ratio: float
    time_to_90pct_ss: float
    times: np.ndarray
    conc: np.ndarray

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly dict (curve as lists)."""
        d = {k: float(v) for k, v in asdict(self).items() if k not in ("times", "conc")}
        return {**d, "times": self.times.tolist(), "conc": self.conc.tolist()}


def steady_state(
    params: PKParams,
    amount: float,
    tau: float,
    route: Route = "iv_bolus",
    duration: float = 0.0,
    n_points: int = 201,
) -> SteadyState:
    """Steady-state profile over one interval by summing the geometric series of each exponential.

    Each disposition (and absorption) exponential ``e^{-r t}`` accumulates as ``1/(1 - e^{-r tau})``
    at steady state; we add enough past doses that the omitted tail is below 1e-12 of the first,
    which is the same series truncated, so the profile is exact to that level for any route.
    Cmax,ss and Cmin,ss are polished from the ``n_points`` grid by a bounded 1-D search.
    Accumulation ratio = AUC_tau at steady state (exactly F Dose / CL) / AUC_tau after the first
    dose (adaptive quadrature, rel 1e-12) (Rowland and Tozer); for a one-compartment bolus it
    equals 1 / (1 - exp(-ke tau)).
    """
    if tau <= 0:
        raise InputError(f"dosing interval tau must be > 0, got {tau}", where="tau")
    from scipy.integrate import quad
    from scipy.optimize import minimize_scalar

    lam, _ = disposition(params)
    rates = [*lam, params.ka] if route == "oral" and params.ka else list(lam)
    slowest = min(rates)
    n_past = int(np.ceil(np.log(1e12) / (slowest * tau))) + 2
    if n_past > 200000:
        raise InputError(
            "steady state is too far away (half-life >> tau)",
            where="steady_state",
            hint="increase tau or check the parameters",
        )
    doses = dosing_schedule(amount, tau, n_past, route, duration)
    t_last = doses[-1].time
    grid = np.linspace(0.0, tau, n_points)
    conc_ss = concentrations(t_last + grid, doses, params)
    f = params.f if route == "oral" else 1.0
    auc_ss = f * amount / params.cl  # exact: AUC over tau at steady state = AUC0-inf of one dose
    auc_first = float(
        quad(
            lambda x: concentrations([x], doses[:1], params)[0],
            0.0,
            tau,
            points=[x for x in (params.tlag, duration) if 0 < x < tau] or None,
            epsabs=0.0,
            epsrel=1e-12,
            limit=200,
        )[0]
    )

    def at(x: float) -> float:
        return float(concentrations([t_last + x], doses, params)[0])

    def refine(i: int, sign: float) -> float:
        """Polish a grid extreme with a bounded 1-D search between its neighbours."""
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        if hi <= lo:
            return float(conc_ss[i])
        res = minimize_scalar(
            lambda x: sign * at(x), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * max(tau, 1.0)}
        )
        return sign * min(sign * float(conc_ss[i]), float(res.fun))

    cmax = refine(int(np.argmax(conc_ss)), -1.0)
    cmin = refine(int(np.argmin(conc_ss)), 1.0)
    cavg = f * amount / (params.cl * tau)
    # time to reach 90% of steady state: the slowest exponential (disposition or absorption) dominates
    t90 = float(np.log(10) / slowest)
    return SteadyState(tau, cmax, cmin, cavg, auc_ss, auc_ss / auc_first, t90, grid, conc_ss)


# ---------------------------------------------------------------- ODE path
def simulate_ode(
    times: np.ndarray | list[float],
    doses: list[Dose],
    params: PKParams,
    vmax: float | None = None,
    km: float | None = None,
) -> np.ndarray:
    """Central concentrations by numerical integration (scipy ``solve_ivp``, LSODA).

    Used where no closed form exists: with ``vmax`` and ``km`` the central elimination is
    Michaelis-Menten, ``dA1/dt = ... - Vmax C / (Km + C)`` (CL then is ignored). With linear
    elimination it reproduces :func:`concentrations`, which the tests check.
    """
    from scipy.integrate import solve_ivp

    t = _times(times)
    if (vmax is None) != (km is None):
        raise InputError("give both vmax and km for Michaelis-Menten elimination", where="simulate_ode")
    if vmax is not None and (vmax <= 0 or km <= 0):  # type: ignore[operator]
        raise InputError("vmax and km must be > 0", where="simulate_ode")
    if not doses:
        raise InputError("no doses given", where="doses")
    p = params
    infusions = [d for d in doses if d.route == "infusion"]

    def rhs(time: float, a: np.ndarray) -> np.ndarray:
        depot, a1, a2, a3 = a
        c1 = a1 / p.v1
        elim = vmax * c1 / (km + c1) if vmax is not None else p.cl * c1  # type: ignore[operator]
        inflow = sum(d.amount / d.duration for d in infusions if d.time <= time < d.time + d.duration)
        d2 = p.q2 * (c1 - a2 / p.v2) if p.v2 > 0 else 0.0
        d3 = p.q3 * (c1 - a3 / p.v3) if p.v3 > 0 else 0.0
        absorption = (p.ka or 0.0) * depot
        return np.array([-absorption, absorption - elim - d2 - d3 + inflow, d2, d3])

    # integrate piecewise between events (bolus/oral dose, infusion start/stop) so jumps are exact
    events = sorted(
        {0.0, float(t.max())}
        | {d.time + (p.tlag if d.route == "oral" else 0.0) for d in doses}
        | {d.time + d.duration for d in infusions}
        | {d.time for d in infusions}
    )
    state = np.zeros(4)
    out = np.zeros(t.size)
    for start, stop in zip(events[:-1], events[1:], strict=True):
        for d in doses:
            at = d.time + (p.tlag if d.route == "oral" else 0.0)
            if d.route != "infusion" and at == start:
                state[0 if d.route == "oral" else 1] += d.amount * (p.f if d.route == "oral" else 1.0)
        mask = (t >= start) & (t <= stop)
        grid = np.unique(np.append(t[mask], stop))
        sol = solve_ivp(
            rhs,
            (start, stop),
            state,
            method="LSODA",
            t_eval=grid,
            rtol=1e-10,
            atol=1e-12,
            max_step=max((stop - start) / 20, 1e-6),
        )
        if not sol.success:
            raise ConvergenceError(
                f"ODE solver failed: {sol.message}",
                where=f"simulate_ode, t in [{start}, {stop}]",
                last_estimate=state.tolist(),
                hint="check that rate constants are in consistent units",
            )
        out[mask] = sol.y[1, np.searchsorted(grid, t[mask])] / p.v1
        state = sol.y[:, -1].copy()
    # doses given exactly at the last output time count there, as in the closed form (s >= 0)
    end = events[-1]
    extra = sum(d.amount for d in doses if d.route == "iv_bolus" and d.time == end)
    if extra:
        out[t == end] += extra / p.v1
    return out
