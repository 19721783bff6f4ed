"""``/v1/development``: PK simulation, fitting, NCA, regimen search, dissolution and DDI screening.

All computations are small and answered inline. The data are study or formulation data (no patient
identifiers), so any logged-in user may call them; errors come back as 4xx JSON with ``where``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from theralab.api.encoding import json_safe
from theralab.api.schemas import OpenResult, RequestModel, request_model_of
from theralab.development.pk import PatientFactors, PKParams
from theralab.privacy.deps import CurrentUser

router = APIRouter(prefix="/development", tags=["development"])

MAX_POINTS = 10_000


#: Request models generated from the library's dataclasses (one definition of the parameters).
ParamsIn = request_model_of(
    PKParams, doc="PK parameters (clearances and volumes; peripheral compartments when v2/v3 > 0)."
)
PatientIn = request_model_of(
    PatientFactors, doc="Per-patient factors: PGx clearance multiplier, weight, renal function (docs/development.md)."
)


class DoseIn(RequestModel):
    """One administration."""

    time: float = 0.0
    amount: float
    route: Literal["iv_bolus", "infusion", "oral"] = "iv_bolus"
    duration: float = 0.0


class RegimenIn(RequestModel):
    """A regular regimen: ``n_doses`` of ``amount`` every ``interval``."""

    amount: float
    interval: float = 24.0
    n_doses: int = Field(1, ge=1, le=1000)
    route: Literal["iv_bolus", "infusion", "oral"] = "iv_bolus"
    duration: float = 0.0


class SimulateRequest(RequestModel):
    """Give ``doses`` or ``regimen``; ``times`` or ``t_end`` (with ``n_points``)."""

    params: ParamsIn
    doses: list[DoseIn] | None = Field(None, max_length=1000)
    regimen: RegimenIn | None = None
    times: list[float] | None = Field(None, max_length=MAX_POINTS)
    t_end: float | None = None
    n_points: int = Field(241, ge=2, le=MAX_POINTS)
    patient: PatientIn | None = None
    steady_state: bool = False


def _params(p: ParamsIn, patient: PatientIn | None):  # noqa: ANN202
    from theralab.development.pk import PatientFactors, PKParams

    params = PKParams(**p.model_dump())
    return PatientFactors(**patient.model_dump()).apply(params) if patient else params


@router.post("/pk/simulate", response_model=OpenResult)
def pk_simulate(req: SimulateRequest, user: CurrentUser) -> dict[str, Any]:
    """Concentration-time curve by superposition of analytic solutions (+ steady state for a regimen)."""
    import numpy as np

    from theralab.development.pk import Dose, concentrations, dosing_schedule, steady_state, time_grid
    from theralab.errors import InputError

    p = _params(req.params, req.patient)
    if (req.doses is None) == (req.regimen is None):
        raise InputError("send exactly one of 'doses' or 'regimen'", where="body")
    doses = (
        [Dose(**d.model_dump()) for d in req.doses]
        if req.doses is not None
        else dosing_schedule(**req.regimen.model_dump())
    )  # type: ignore[union-attr]
    if req.times is not None:
        t = np.asarray(req.times, dtype=float)
    else:
        interval = req.regimen.interval if req.regimen is not None else None
        t = time_grid(doses, t_end=req.t_end, n_points=req.n_points, interval=interval)
    c = concentrations(t, doses, p)
    i = int(np.argmax(c))
    out: dict[str, Any] = {
        "times": t.tolist(),
        "conc": c.tolist(),
        "cmax": float(c[i]),
        "tmax": float(t[i]),
        "individual_params": p.to_dict(),
    }
    if req.steady_state:
        if req.regimen is None:
            raise InputError("steady_state needs a 'regimen'", where="steady_state")
        r = req.regimen
        out["steady_state"] = steady_state(p, r.amount, r.interval, r.route, r.duration).to_dict()
    return json_safe(out)


class PopulationRequest(RequestModel):
    """Typical parameters, regimen, IIV (log-scale variances) and optional per-subject covariates."""

    params: ParamsIn
    regimen: RegimenIn
    times: list[float] = Field(max_length=1000)
    omega: dict[str, float] = Field(default_factory=lambda: {"cl": 0.09, "v1": 0.04})
    covariates: list[PatientIn] | None = Field(None, max_length=5000)
    n_subjects: int = Field(500, ge=1, le=5000)
    sigma_prop: float = Field(0.0, ge=0)
    seed: int = 0
    percentiles: list[float] = Field(default=[5, 50, 95], max_length=20)


@router.post("/pk/population", response_model=OpenResult)
def pk_population(req: PopulationRequest, user: CurrentUser) -> dict[str, Any]:
    """Population simulation: percentile bands per time (and each subject's individual CL, V1)."""
    import pandas as pd

    from theralab.development.pk import PKParams, dosing_schedule
    from theralab.development.pk_fit import population_summary, simulate_population

    cov = pd.DataFrame([c.model_dump(exclude_none=True) for c in req.covariates]) if req.covariates else None
    sim = simulate_population(
        PKParams(**req.params.model_dump()),
        dosing_schedule(**req.regimen.model_dump()),
        req.times,
        omega=req.omega,
        covariates=cov,
        n_subjects=req.n_subjects,
        sigma_prop=req.sigma_prop,
        seed=req.seed,
    )
    band = population_summary(sim, "dv" if req.sigma_prop else "ipred", tuple(req.percentiles))
    subjects = sim.groupby("id")[["cl", "v1"]].first().reset_index()
    return json_safe({"bands": band.to_dict(orient="list"), "subjects": subjects.to_dict(orient="records")})


class FitRequest(RequestModel):
    """One subject's profile after a single oral dose."""

    time: list[float] = Field(max_length=MAX_POINTS)
    conc: list[float] = Field(max_length=MAX_POINTS)
    dose: float
    model: str = Field(
        "ssfol",
        description="ssfol or one of 1cmt-iv, 2cmt-iv, 3cmt-iv, 1cmt-infusion, 2cmt-infusion, 1cmt-oral, 2cmt-oral",
    )
    duration: float = 0.0
    weighting: Literal["none", "proportional"] = "none"


@router.post("/pk/fit", response_model=OpenResult)
def pk_fit(req: FitRequest, user: CurrentUser) -> dict[str, Any]:
    """Compartmental NLS fit (default: one-compartment oral as R's nls(SSfol)) with standard errors."""
    from theralab.development.pk_fit import fit_compartmental, fit_ssfol

    if req.model == "ssfol":
        return json_safe(fit_ssfol(req.time, req.conc, req.dose).to_dict())
    res = fit_compartmental(req.time, req.conc, req.dose, req.model, req.duration, req.weighting)
    return json_safe(res.to_dict())


class NCARequest(RequestModel):
    """Profile for NCA; null concentrations are BLQ."""

    time: list[float] = Field(max_length=MAX_POINTS)
    conc: list[float | None] = Field(max_length=MAX_POINTS)
    dose: float | None = None
    auc_method: Literal["linear", "linear-up/log-down"] = "linear"
    lambda_z_points: int | None = None
    loq: float | None = None
    route: Literal["extravascular", "iv_bolus", "infusion"] = "extravascular"
    infusion_duration: float = 0.0
    tau: float | None = Field(None, description="dosing interval of a steady-state profile")


@router.post("/pk/nca", response_model=OpenResult)
def pk_nca(req: NCARequest, user: CurrentUser) -> dict[str, Any]:
    """Non-compartmental analysis with the PKNCA/WinNonlin rules."""
    from theralab.development.nca import nca

    conc = [float("nan") if c is None else c for c in req.conc]
    return json_safe(
        nca(
            req.time,
            conc,
            req.dose,
            req.auc_method,
            req.lambda_z_points,
            req.loq,
            req.infusion_duration,
            req.route,
            req.tau,
        ).to_dict()
    )


class RegimenRequest(RequestModel):
    """Target window for one patient."""

    params: ParamsIn
    patient: PatientIn | None = None
    route: Literal["iv_bolus", "infusion", "oral"] = "oral"
    target: Literal["trough", "auc24"] = "trough"
    low: float
    high: float
    intervals: list[float] = Field(default=[6, 8, 12, 24], max_length=50)
    dose_step: float = 50.0
    max_dose: float = 5000.0
    max_peak: float | None = None


@router.post("/pk/regimen", response_model=OpenResult)
def pk_regimen(req: RegimenRequest, user: CurrentUser) -> dict[str, Any]:
    """Ranked doses and intervals; the first row is the recommendation."""
    from theralab.development.pk_fit import Target, search_regimen

    p = _params(req.params, req.patient)
    table = search_regimen(
        p,
        Target(req.target, req.low, req.high),
        req.route,
        tuple(req.intervals),
        req.dose_step,
        req.max_dose,
        max_peak=req.max_peak,
    )
    return json_safe({"candidates": table.to_dict(orient="records")})


class DissolutionFitRequest(RequestModel):
    """Mean release profile (%)."""

    time: list[float] = Field(max_length=1000)
    release: list[float] = Field(max_length=1000)
    models: list[str] | None = None


@router.post("/dissolution/fit", response_model=OpenResult)
def dissolution_fit(req: DissolutionFitRequest, user: CurrentUser) -> dict[str, Any]:
    """Fit dissolution models and rank by AIC (R2, adjusted R2 reported)."""
    from theralab.development.dissolution import fit_all

    table = fit_all(req.time, req.release, req.models)
    return json_safe({"models": table.to_dict(orient="records")})


class CompareRequest(RequestModel):
    """Unit-level data: ``reference[i][j]`` is unit i at ``time[j]``."""

    time: list[float] = Field(max_length=100)
    reference: list[list[float]] = Field(max_length=500)
    test: list[list[float]] = Field(max_length=500)
    bootstrap: Literal["auto", "always", "never"] = "auto"
    n_boot: int = Field(2000, ge=100, le=20000)
    confidence: float = Field(0.90, gt=0, lt=1)
    seed: int = 0
    points: Literal["all", "fda"] = "all"


@router.post("/dissolution/compare", response_model=OpenResult)
def dissolution_compare(req: CompareRequest, user: CurrentUser) -> dict[str, Any]:
    """f1, f2, the FDA 1997 conditions and the bootstrap f2 CI (percentile and BCa)."""
    import numpy as np

    from theralab.development.dissolution import compare_profiles
    from theralab.errors import InputError

    try:
        ref, test = np.asarray(req.reference, dtype=float), np.asarray(req.test, dtype=float)
    except ValueError as exc:
        raise InputError("every unit needs one value per time point", where="reference/test") from exc
    res = compare_profiles(req.time, ref, test, req.bootstrap, req.n_boot, req.confidence, req.seed, points=req.points)
    return json_safe(res.to_dict())


class DDIRequest(RequestModel):
    """A medication list (drug names)."""

    drugs: list[str] = Field(min_length=2, max_length=100)


@router.post("/ddi/check", response_model=OpenResult)
def ddi_check(req: DDIRequest, user: CurrentUser) -> dict[str, Any]:
    """Pairwise CYP interaction screen (mechanistic static model, FDA cut-offs)."""
    from theralab.development.ddi import check_medications

    return json_safe(check_medications(req.drugs))
