"""Non-compartmental analysis (NCA) of one concentration-time profile, single dose.

Rules follow PKNCA (Denney et al., J Pharmacokinet Pharmacodyn 2015) and Phoenix WinNonlin's
defaults, so numbers can be compared one to one:

* AUC: ``"linear"`` trapezoids, or ``"linear-up/log-down"`` (log trapezoid where the concentration
  falls and both ends are > 0, linear otherwise).
* lambda-z (terminal slope), "best fit" rule: regress ln(C) on t over the last 3, 4, ... points
  after Tmax (Cmax itself excluded, zero concentrations excluded); keep the fit with the highest
  adjusted R2, and among fits within 1e-4 of that best adjusted R2 the one with the most points;
  the slope must be negative. Alternatively a fixed number of last points (``lambda_z_points``).
* BLQ rule: a concentration below the limit of quantification (``loq``) before the first
  quantifiable concentration is set to 0; after it, it is excluded (PKNCA's default
  ``conc.blq = list(first = "keep" as 0, middle = "drop", last = "drop")``).
* AUC0-inf = AUClast + Clast,obs / lambda_z; %extrapolated = 100 (AUCinf - AUClast)/AUCinf.
* CL/F = Dose/AUCinf, Vz/F = Dose/(lambda_z AUCinf); AUMC with the same trapezoid rule and the
  extrapolation Clast tlast/lz + Clast/lz^2; MRT = AUMCinf/AUCinf (minus Tinf/2 for an infusion).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from theralab.errors import InputError

AucMethod = Literal["linear", "linear-up/log-down"]
Route = Literal["extravascular", "iv_bolus", "infusion"]
ROUTES: tuple[str, ...] = ("extravascular", "iv_bolus", "infusion")
R2_TOLERANCE = 1e-4  # PKNCA adj.r.squared.factor / WinNonlin "within 0.0001"


@dataclass(frozen=True)
class LambdaZ:
    """The terminal-phase regression: slope, points used, fit quality."""

    lambda_z: float
    intercept: float
    n_points: int
    t_first: float
    t_last: float
    r2: float
    adj_r2: float

    @property
    def half_life(self) -> float:
        """Terminal half-life ln 2 / lambda_z."""
        return float(np.log(2) / self.lambda_z)


@dataclass(frozen=True)
class NCAResult:
    """NCA parameters of one profile (units follow the input: conc x time, dose / conc)."""

    cmax: float
    tmax: float
    tlast: float
    clast: float
    auc_last: float
    aumc_last: float
    lambda_z: float | None
    half_life: float | None
    lambda_z_points: int | None
    lambda_z_adj_r2: float | None
    auc_inf: float | None
    auc_pct_extrap: float | None
    aumc_inf: float | None
    mrt: float | None
    cl_f: float | None
    vz_f: float | None
    vss: float | None
    c0: float | None
    route: str
    auc_method: str
    flags: list[str]
    n_blq_zeroed: int
    n_blq_excluded: int
    auc_tau: float | None = None
    cmin: float | None = None
    cavg: float | None = None
    fluctuation_pct: float | None = None
    swing: float | None = None
    cl_ss_f: float | None = None

    def to_dict(self) -> dict[str, float | int | str | None]:
        """Plain dict for JSON/CSV output."""
        return asdict(self)


def _validate(time: np.ndarray | list[float], conc: np.ndarray | list[float]) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    c = np.asarray(conc, dtype=float)
    if t.ndim != 1 or c.ndim != 1 or t.size != c.size:
        raise InputError(f"time and conc must be 1-D of equal length ({t.size} vs {c.size})", where="nca")
    if t.size < 2:
        raise InputError("NCA needs at least 2 samples", where="nca")
    if not np.all(np.isfinite(t)):
        raise InputError("time has missing or infinite values", where="time")
    if np.any(t < 0):
        raise InputError(
            f"negative time at row {int(np.argmax(t < 0))}: {t[t < 0][0]}",
            where="time",
            hint="times are measured from the dose, so they are >= 0",
        )
    if np.any(np.diff(t) <= 0):
        row = int(np.argmax(np.diff(t) <= 0)) + 1
        raise InputError(
            f"times must be strictly increasing; row {row} ({t[row]}) is not after {t[row - 1]}",
            where=f"time[{row}]",
            hint="sort the samples by time and remove duplicates",
        )
    if np.any(c[np.isfinite(c)] < 0):
        raise InputError("negative concentration", where=f"conc[{int(np.argmax(c < 0))}]")
    return t, c


def apply_blq(time: np.ndarray, conc: np.ndarray, loq: float | None) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Apply the BLQ rule: before the first quantifiable sample -> 0, afterwards -> excluded.

    Missing (NaN) concentrations are treated as BLQ when ``loq`` is given, and dropped otherwise.
    Returns the kept times and concentrations and the counts zeroed and excluded.
    """
    blq = ~np.isfinite(conc) if loq is None else (~np.isfinite(conc)) | (conc < loq)
    if blq.all():
        raise InputError(
            "every concentration is below the limit of quantification",
            where="conc",
            hint="no NCA is possible without a quantifiable concentration",
        )
    first_q = int(np.argmax(~blq))
    zero = blq & (np.arange(conc.size) < first_q)
    drop = blq & (np.arange(conc.size) > first_q)
    c = conc.copy()
    c[zero] = 0.0
    keep = ~drop
    return time[keep], c[keep], int(zero.sum() if loq is not None else 0), int(drop.sum())


def _segment_auc(t: np.ndarray, c: np.ndarray, method: AucMethod) -> tuple[np.ndarray, np.ndarray]:
    """AUC and AUMC of each interval under the chosen trapezoid rule."""
    dt = np.diff(t)
    c1, c2, t1, t2 = c[:-1], c[1:], t[:-1], t[1:]
    auc = dt * (c1 + c2) / 2
    aumc = dt * (c1 * t1 + c2 * t2) / 2
    if method == "linear-up/log-down":
        log = (c2 < c1) & (c2 > 0) & (c1 > 0)
        if log.any():
            k = np.log(c1[log] / c2[log]) / dt[log]  # local elimination rate
            auc[log] = (c1[log] - c2[log]) / k
            aumc[log] = (c1[log] * t1[log] - c2[log] * t2[log]) / k + (c1[log] - c2[log]) / k**2
    elif method != "linear":
        raise InputError(f"unknown AUC method {method!r}", where="auc_method", hint="'linear' or 'linear-up/log-down'")
    return auc, aumc


def auc(time: np.ndarray | list[float], conc: np.ndarray | list[float], method: AucMethod = "linear") -> float:
    """AUC from the first to the last sample."""
    t, c = _validate(time, conc)
    return float(_segment_auc(t, c, method)[0].sum())


def back_extrapolate_c0(time: np.ndarray, conc: np.ndarray) -> float:
    """C0 after an IV bolus, PKNCA's default order of methods.

    A positive concentration observed at t = 0 is used as is; otherwise the log-linear line through
    the first two positive samples is extrapolated to 0 when they decline ("logslope"); otherwise
    the first positive concentration ("c1").
    """
    if time[0] == 0 and conc[0] > 0:
        return float(conc[0])
    pos = np.nonzero((conc > 0) & (time > 0))[0]
    if pos.size == 0:
        raise InputError("no positive concentration to back-extrapolate C0 from", where="conc")
    if pos.size >= 2 and conc[pos[1]] < conc[pos[0]]:
        (t1, t2), (c1, c2) = time[pos[:2]], conc[pos[:2]]
        return float(np.exp(np.log(c1) - (np.log(c2) - np.log(c1)) / (t2 - t1) * t1))
    return float(conc[pos[0]])


def _regress(t: np.ndarray, c: np.ndarray) -> LambdaZ | None:
    y = np.log(c)
    slope, intercept = np.polyfit(t, y, 1)
    n = t.size
    ss_res = float(np.sum((y - (intercept + slope * t)) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    adj = 1.0 - (1.0 - r2) * (n - 1) / (n - 2)
    if slope >= 0:
        return None
    return LambdaZ(float(-slope), float(intercept), n, float(t[0]), float(t[-1]), float(r2), float(adj))


def lambda_z(
    time: np.ndarray | list[float],
    conc: np.ndarray | list[float],
    n_points: int | None = None,
    min_points: int = 3,
) -> LambdaZ | None:
    """Terminal elimination rate by log-linear regression (best adjusted R2 rule or fixed points).

    Returns ``None`` when no valid terminal phase exists (too few points after Tmax, or a
    non-negative slope), so the caller reports AUCinf as not estimable rather than a wrong number.
    """
    t, c = _validate(time, conc)
    imax = int(np.argmax(c))
    pos = (np.arange(c.size) > imax) & (c > 0)  # after Cmax, positive concentrations
    tt, cc = t[pos], c[pos]
    if n_points is not None:
        if n_points < 2:
            raise InputError("lambda_z_points must be >= 2", where="lambda_z_points")
        if n_points > tt.size:
            raise InputError(
                f"{n_points} terminal points requested, only {tt.size} after Tmax", where="lambda_z_points"
            )
        return _regress(tt[-n_points:], cc[-n_points:])
    fits = [f for k in range(min_points, tt.size + 1) if (f := _regress(tt[-k:], cc[-k:])) is not None]
    if not fits:
        return None
    best = max(f.adj_r2 for f in fits)
    return max((f for f in fits if f.adj_r2 >= best - R2_TOLERANCE), key=lambda f: f.n_points)


def conc_at(t: np.ndarray, c: np.ndarray, x: float, method: AucMethod, lz: LambdaZ | None) -> float:
    """Concentration at time ``x``: interpolated as the AUC rule does, extrapolated with lambda-z."""
    if x <= t[-1]:
        i = min(int(np.searchsorted(t, x, side="right")) - 1, t.size - 2)
        c1, c2, dt = c[i], c[i + 1], t[i + 1] - t[i]
        if method == "linear-up/log-down" and 0 < c2 < c1:
            return float(np.exp(np.log(c1) + (np.log(c2) - np.log(c1)) * (x - t[i]) / dt))
        return float(c1 + (c2 - c1) * (x - t[i]) / dt)
    if lz is None:
        raise InputError(
            f"time {x} is after the last sample and lambda-z is not estimable",
            where="tau",
            hint="sample up to the end of the dosing interval",
        )
    return float(c[-1] * np.exp(-lz.lambda_z * (x - t[-1])))


def _steady_state_block(
    t: np.ndarray, c: np.ndarray, tau: float, method: AucMethod, lz: LambdaZ | None, dose: float | None
) -> dict[str, float | None]:
    """AUC0-tau and the steady-state exposure metrics over one dosing interval."""
    if not tau > 0:
        raise InputError(f"tau must be > 0, got {tau}", where="tau")
    c_tau = conc_at(t, c, tau, method, lz)
    inside = t < tau
    tt, cc = np.r_[t[inside], tau], np.r_[c[inside], c_tau]
    auc_tau = float(_segment_auc(tt, cc, method)[0].sum())
    cmin, cmax, cavg = float(cc.min()), float(cc.max()), auc_tau / tau
    return {
        "auc_tau": auc_tau,
        "cmin": cmin,
        "cavg": cavg,
        "fluctuation_pct": 100.0 * (cmax - cmin) / cavg,
        "swing": (cmax - cmin) / cmin if cmin > 0 else None,
        "cl_ss_f": dose / auc_tau if dose is not None else None,
    }


def _quality_flags(lz: LambdaZ | None, pct_extrap: float | None) -> list[str]:
    """Acceptance checks PKNCA applies by default, reported (not silently applied) so users decide.

    adjusted R2 of the terminal fit >= 0.9 (``min.hl.r.squared``), span of the fit >= 2 half-lives
    (``min.span.ratio``), and AUC extrapolation <= 20% (the usual regulatory limit).
    """
    if lz is None:
        return ["lambda_z not estimable: no declining terminal phase of >= 3 points after Cmax"]
    flags = []
    if lz.adj_r2 < 0.9:
        flags.append(f"lambda_z adjusted R2 {lz.adj_r2:.3f} < 0.9")
    span = (lz.t_last - lz.t_first) / lz.half_life
    if span < 2:
        flags.append(f"lambda_z span {span:.2f} half-lives < 2")
    if pct_extrap is not None and pct_extrap > 20:
        flags.append(f"AUC extrapolated {pct_extrap:.1f}% > 20%")
    return flags


def nca(
    time: np.ndarray | list[float],
    conc: np.ndarray | list[float],
    dose: float | None = None,
    auc_method: AucMethod = "linear",
    lambda_z_points: int | None = None,
    loq: float | None = None,
    infusion_duration: float = 0.0,
    route: Route = "extravascular",
    tau: float | None = None,
) -> NCAResult:
    """Run the NCA of one profile.

    Args:
        time: sampling times after the dose, strictly increasing, >= 0.
        conc: concentrations (NaN or < ``loq`` are BLQ, handled by :func:`apply_blq`).
        dose: dose amount; gives CL/F and Vz/F (omit for exposure only).
        auc_method: ``"linear"`` or ``"linear-up/log-down"``.
        lambda_z_points: use exactly the last N points instead of the best adjusted R2 rule.
        loq: lower limit of quantification.
        infusion_duration: for an infusion, MRT subtracts half of it.
        route: ``"extravascular"`` (default), ``"iv_bolus"`` or ``"infusion"``. Without a sample
            at t = 0, C(0) = 0 is inserted for extravascular and infusion data (WinNonlin), and
            for an IV bolus C0 is back-extrapolated (:func:`back_extrapolate_c0`). For the IV
            routes ``cl_f``/``vz_f`` are CL and Vz (F = 1) and Vss = CL x MRT is reported.
        tau: dosing interval of a steady-state profile (give the pre-dose sample at t = 0): adds
            AUC0-tau, Cmin, Cavg = AUCtau/tau, fluctuation 100 (Cmax - Cmin)/Cavg, swing
            (Cmax - Cmin)/Cmin and CLss/F = Dose/AUCtau (WinNonlin's steady-state parameters).
    """
    if route not in ROUTES:
        raise InputError(f"unknown route {route!r}", where="route", hint=f"one of {ROUTES}")
    if infusion_duration and route != "infusion":
        raise InputError("infusion_duration given but route is not 'infusion'", where="route")
    t, c = _validate(time, conc)
    if dose is not None and (not np.isfinite(dose) or dose <= 0):
        raise InputError(f"dose must be > 0, got {dose}", where="dose", hint="omit the dose for exposure only")
    t, c, n_zero, n_drop = apply_blq(t, c, loq)
    if t.size < 2:
        raise InputError("fewer than 2 samples left after the BLQ rule", where="conc")
    c0 = None
    if route == "iv_bolus":
        c0 = back_extrapolate_c0(t, c)
        t, c = (t, np.r_[c0, c[1:]]) if t[0] == 0 else (np.r_[0.0, t], np.r_[c0, c])
    elif t[0] > 0:
        t, c = np.r_[0.0, t], np.r_[0.0, c]
    seg_auc, seg_aumc = _segment_auc(t, c, auc_method)
    imax = int(np.argmax(c))
    last = int(np.nonzero(c > 0)[0][-1])
    auc_last, aumc_last = float(seg_auc[:last].sum()), float(seg_aumc[:last].sum())
    tlast, clast = float(t[last]), float(c[last])
    lz = lambda_z(t[: last + 1], c[: last + 1], lambda_z_points)
    auc_inf = aumc_inf = pct = mrt = cl_f = vz_f = vss = None
    if lz is not None:
        k = lz.lambda_z
        auc_inf = auc_last + clast / k
        aumc_inf = aumc_last + clast * tlast / k + clast / k**2
        pct = 100.0 * (auc_inf - auc_last) / auc_inf
        mrt = aumc_inf / auc_inf - infusion_duration / 2.0
        if dose is not None:
            cl_f = dose / auc_inf
            vz_f = dose / (k * auc_inf)
            if route != "extravascular":
                vss = cl_f * mrt
    ss = _steady_state_block(t, c, tau, auc_method, lz, dose) if tau is not None else {}
    return NCAResult(
        **ss,
        cmax=float(c[imax]),
        tmax=float(t[imax]),
        tlast=tlast,
        clast=clast,
        auc_last=auc_last,
        aumc_last=aumc_last,
        lambda_z=lz.lambda_z if lz else None,
        half_life=lz.half_life if lz else None,
        lambda_z_points=lz.n_points if lz else None,
        lambda_z_adj_r2=lz.adj_r2 if lz else None,
        flags=_quality_flags(lz, pct),
        auc_inf=auc_inf,
        auc_pct_extrap=pct,
        aumc_inf=aumc_inf,
        mrt=mrt,
        cl_f=cl_f,
        vz_f=vz_f,
        vss=vss,
        c0=c0,
        route=route,
        auc_method=auc_method,
        n_blq_zeroed=n_zero,
        n_blq_excluded=n_drop,
    )
