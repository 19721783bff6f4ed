"""Development page: a PK simulator and a dissolution-profile comparison, computed on the server.

Both forms are plain GET forms (the page's address is the analysis: bookmark it, share it) and call
the same library functions as the API (``/v1/development/...``) and the CLI. Each chart carries
its axis titles with units and offers its data as CSV; the PK chart shows the population's 90%
prediction band (5th-95th percentile of a seeded simulation with inter-individual variability),
and f2 comes with its bootstrap confidence interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from theralab.errors import InputError, TheralabError
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("development")

#: Inter-individual variability of the population band: variance of eta on the log scale (CV about 30%, 20%).
OMEGA = {"cl": 0.09, "v1": 0.04}
BAND_SUBJECTS = 300
N_POINTS = 400
MAX_DOSES = 200  # the page simulates 300 patients at every point: keep one request small
MAX_UNITS, MAX_TIMES = 100, 50


@dataclass
class PKForm:
    """The PK simulator's inputs (mg, h, L) with the page's defaults."""

    amount: float = 500.0
    interval: float = 12.0
    n_doses: int = 6
    route: str = "oral"
    cl: float = 5.0
    v1: float = 50.0
    ka: float = 1.0
    f: float = 1.0
    q2: float = 0.0
    v2: float = 0.0
    cl_multiplier: float = 1.0
    band: bool = True


@dataclass
class DissolutionForm:
    """The dissolution comparison's inputs: times (min) and unit-level % dissolved, one unit per line."""

    time: str = "15,30,45,60"
    reference: str = "30,55,75,88\n32,57,77,90\n28,53,73,86"
    test: str = "35,62,80,91\n37,60,82,92\n33,59,79,90"


def _form(cls: type, query: dict[str, str], prefix: str) -> Any:
    """A form dataclass from the query string (``prefix`` + field name); a bad number is an InputError."""
    values: dict[str, Any] = {}
    for f in fields(cls):
        key = prefix + f.name
        default = f.default
        if isinstance(default, bool):
            # a submitted form without the box ticked means "off"; a first visit keeps the default
            values[f.name] = query.get(key) in ("1", "true", "on") if f"{prefix}submitted" in query else default
            continue
        if key not in query:
            values[f.name] = default
            continue
        raw = query[key]
        try:
            values[f.name] = type(default)(raw) if not isinstance(default, str) else raw
        except ValueError:
            raise InputError(f"{f.name} must be a number, got {raw!r}", where=key) from None
    return cls(**values)


def simulate(form: PKForm) -> dict[str, Any]:
    """Concentration curve, population band, steady state and the chart spec for ``form``."""
    import numpy as np

    from theralab.development.pk import (
        PatientFactors,
        PKParams,
        concentrations,
        dosing_schedule,
        steady_state,
        time_grid,
    )
    from theralab.development.pk_fit import population_summary, simulate_population
    from theralab.web.charts import axis, chart_spec

    if not 1 <= form.n_doses <= MAX_DOSES:
        raise InputError(f"doses must be between 1 and {MAX_DOSES}, got {form.n_doses}", where="pk_n_doses",
                         hint="longer regimens: the API (/v1/development/pk/simulate) or the CLI")
    if form.route not in ("oral", "iv_bolus"):
        raise InputError(f"unknown route {form.route!r}", where="pk_route", hint="oral or iv_bolus")
    oral = form.route == "oral"
    typical = PKParams(cl=form.cl, v1=form.v1, q2=form.q2, v2=form.v2, f=form.f, ka=form.ka if oral else None)
    params = PatientFactors(cl_multiplier=form.cl_multiplier).apply(typical)
    doses = dosing_schedule(form.amount, form.interval, form.n_doses, form.route)  # type: ignore[arg-type]
    t = time_grid(doses, n_points=N_POINTS, interval=form.interval)
    c = concentrations(t, doses, params)
    i = int(np.argmax(c))
    ss = steady_state(params, form.amount, form.interval, form.route)  # type: ignore[arg-type]
    traces: list[dict[str, Any]] = []
    if form.band:
        sim = simulate_population(params, doses, t, omega=OMEGA, n_subjects=BAND_SUBJECTS, seed=0)
        band = population_summary(sim, "ipred", (5, 50, 95))
        traces += [
            {"x": band["time"], "y": band["p5"], "name": "5th percentile", "mode": "lines",
             "line": {"width": 0}, "showlegend": False, "hoverinfo": "skip"},
            {"x": band["time"], "y": band["p95"], "name": "90% prediction band (5th–95th percentile)",
             "mode": "lines", "line": {"width": 0}, "fill": "tonexty", "fillcolor": "rgba(37,99,235,0.15)"},
        ]
    traces.append({"x": t, "y": c, "name": "typical patient", "mode": "lines", "line": {"width": 2.5}})
    route = "oral" if oral else "IV bolus"
    spec = chart_spec(f"Plasma concentration: {form.amount:g} mg {route} every {form.interval:g} h × {form.n_doses}",
                      axis("Time after first dose", "h"), axis("Plasma concentration", "mg/L"), traces,
                      download="pk_simulation.csv")
    return {"spec": spec, "cmax": float(c[i]), "tmax": float(t[i]), "steady": ss.to_dict(),
            "half_life": float(np.log(2) * params.v1 / params.cl) if params.n_compartments == 1 else None,
            "band": form.band, "omega": OMEGA, "subjects": BAND_SUBJECTS}


def _rows(text: str, where: str) -> list[list[float]]:
    try:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return [[float(v) for v in line.replace(",", " ").split()] for line in lines]
    except ValueError as exc:
        raise InputError(f"{where} has a value that is not a number: {exc}", where=where,
                         hint="one unit per line, values separated by commas") from None


def compare(form: DissolutionForm) -> dict[str, Any]:
    """f1, f2, the FDA conditions, the bootstrap f2 interval and the chart spec for ``form``."""
    import numpy as np

    from theralab.development.dissolution import compare_profiles
    from theralab.web.charts import axis, chart_spec

    try:
        time = [float(v) for v in form.time.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise InputError("time points must be numbers separated by commas", where="diss_time") from None
    ref, test = _rows(form.reference, "diss_reference"), _rows(form.test, "diss_test")
    if len(time) > MAX_TIMES or max(len(ref), len(test)) > MAX_UNITS:
        raise InputError(f"at most {MAX_TIMES} time points and {MAX_UNITS} units per product on the page",
                         where="diss_time", hint="larger studies: the API (/v1/development/dissolution/compare)")
    if {len(r) for r in ref + test} != {len(time)}:
        raise InputError(f"every unit needs {len(time)} values, one per time point", where="diss_reference/diss_test")
    res = compare_profiles(time, np.asarray(ref), np.asarray(test), "always", 1000, 0.90, 0)
    keep = [t > 0 for t in time]
    sd = {name: np.asarray(units)[:, keep].std(axis=0, ddof=1) for name, units in (("ref", ref), ("test", test))}
    traces = [
        {"x": res.times, "y": res.ref_mean, "name": "reference (mean ± SD)", "mode": "lines+markers",
         "error_y": {"type": "data", "array": sd["ref"], "visible": True}},
        {"x": res.times, "y": res.test_mean, "name": "test (mean ± SD)", "mode": "lines+markers",
         "error_y": {"type": "data", "array": sd["test"], "visible": True}},
    ]
    spec = chart_spec(f"Dissolution profiles ({len(ref)} reference, {len(test)} test units)",
                      axis("Time", "min"), axis("Dissolved", "%"), traces,
                      bands=[{"y0": 85, "y1": 100, "color": "rgba(46,139,87,0.10)", "label": "≥ 85% dissolved"}],
                      download="dissolution_profiles.csv")
    boot = res.bootstrap or {}
    return {"spec": spec, "f1": res.f1, "f2": res.f2, "similar": res.similar, "conditions_met": res.conditions_met,
            "conditions": [asdict(c) if hasattr(c, "__dataclass_fields__") else c for c in res.conditions],
            "bca": boot.get("bca"), "percentile": boot.get("percentile"), "n_boot": boot.get("n_boot"),
            "confidence": int(round(100 * boot.get("confidence", 0.9)))}


@router.get("/development", response_class=HTMLResponse)
def development_page(request: Request, user: WebUser) -> HTMLResponse:
    query = dict(request.query_params)
    context: dict[str, Any] = {"pk": None, "diss": None, "pk_problem": None, "diss_problem": None}
    status = 200
    try:
        pk_form = _form(PKForm, query, "pk_")
    except InputError as exc:
        pk_form, context["pk_problem"], status = PKForm(), str(exc), 422
    try:
        diss_form = _form(DissolutionForm, query, "diss_")
    except InputError as exc:
        diss_form, context["diss_problem"], status = DissolutionForm(), str(exc), 422
    if not context["pk_problem"]:
        try:
            context["pk"] = simulate(pk_form)
        except TheralabError as exc:
            context["pk_problem"], status = str(exc), 422
    if not context["diss_problem"]:
        try:
            context["diss"] = compare(diss_form)
        except TheralabError as exc:
            context["diss_problem"], status = str(exc), 422
    context.update(pk_form=asdict(pk_form), diss_form=asdict(diss_form))
    return render(request, "development.html", context, status_code=status)
