"""``theralab pk``: simulate concentration-time curves, fit a subject, run NCA, search a regimen.

Units are yours and must agree: with dose in mg, volumes in L and time in h, concentrations are
mg/L and clearances L/h. numpy/pandas/scipy are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console, write_json

app = App(
    help="Pharmacokinetics: simulate 1/2/3-compartment models, fit a profile (NLS), NCA, "
    "dose-regimen search.\n\n"
    "Example: theralab pk simulate --cl 5 --v1 50 --ka 1 --dose 500 --route oral",
    no_args_is_help=True,
)

_CL = typer.Option(..., "--cl", help="clearance (e.g. L/h)")
_V1 = typer.Option(..., "--v1", help="central volume (e.g. L)")


def _params(
    cl: float,
    v1: float,
    q2: float,
    v2: float,
    q3: float,
    v3: float,
    ka: float | None,
    f: float,
    tlag: float,
    cl_multiplier: float,
    weight: float | None,
    crcl: float | None,
    fe: float,
):  # noqa: ANN202
    from theralab.development.pk import PatientFactors, PKParams

    p = PKParams(cl=cl, v1=v1, q2=q2, v2=v2, q3=q3, v3=v3, ka=ka, f=f, tlag=tlag)
    return PatientFactors(cl_multiplier=cl_multiplier, weight_kg=weight, crcl_ml_min=crcl, fe=fe).apply(p)


def _read(path: Path, cols: list[str]):  # noqa: ANN202
    import pandas as pd

    from theralab.errors import InputError

    if not path.exists():
        raise InputError(f"file not found: {path}", where=str(path))
    df = pd.read_csv(path)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(
            f"columns {missing} not in {path.name} (has {list(df.columns)})",
            where=str(path),
            hint="name the columns with --time-col/--conc-col",
        )
    return df


def _table(title: str, rows: dict[str, object]) -> Table:
    t = Table(title=title)
    t.add_column("quantity")
    t.add_column("value", justify="right")
    for k, v in rows.items():
        t.add_row(k, f"{v:.5g}" if isinstance(v, float) else str(v))
    return t


@app.command("simulate")
def simulate(
    cl: float = _CL,
    v1: float = _V1,
    q2: float = typer.Option(0.0, help="inter-compartmental clearance to compartment 2 (0: none)"),
    v2: float = typer.Option(0.0, help="peripheral volume 2 (0: one-compartment)"),
    q3: float = typer.Option(0.0, help="inter-compartmental clearance to compartment 3"),
    v3: float = typer.Option(0.0, help="peripheral volume 3"),
    ka: float | None = typer.Option(None, help="absorption rate constant (1/time), oral only"),
    f: float = typer.Option(1.0, help="bioavailability F (oral)"),
    tlag: float = typer.Option(0.0, help="absorption lag time (oral)"),
    dose: float = typer.Option(..., help="dose amount per administration"),
    route: str = typer.Option("iv_bolus", help="iv_bolus, infusion or oral"),
    duration: float = typer.Option(0.0, help="infusion duration"),
    interval: float = typer.Option(24.0, help="dosing interval tau"),
    n_doses: int = typer.Option(1, help="number of doses"),
    t_end: float | None = typer.Option(None, help="last time of the curve (default: one interval after the last dose)"),
    n_points: int = typer.Option(241, help="number of output times (the API's default too)"),
    cl_multiplier: float = typer.Option(1.0, help="patient clearance multiplier, e.g. PGx phenotype (0.5 = PM)"),
    weight: float | None = typer.Option(None, help="patient weight (kg): allometric CL x (WT/70)^0.75, V x WT/70"),
    crcl: float | None = typer.Option(None, help="patient CrCL (mL/min), with --fe: renal part of CL scaled"),
    fe: float = typer.Option(0.0, help="fraction excreted unchanged in urine (Dettli)"),
    steady: bool = typer.Option(False, "--steady-state", help="also report the steady state for this regimen"),
    out: Path | None = typer.Option(None, "-o", "--out", help="write time,conc CSV here"),
) -> None:
    """Simulate a concentration-time curve by superposition of analytic solutions."""
    import numpy as np
    import pandas as pd

    from theralab.development.pk import concentrations as conc_fn
    from theralab.development.pk import dosing_schedule, steady_state, time_grid

    p = _params(cl, v1, q2, v2, q3, v3, ka, f, tlag, cl_multiplier, weight, crcl, fe)
    doses = dosing_schedule(dose, interval, n_doses, route, duration)  # type: ignore[arg-type]
    t = time_grid(doses, t_end=t_end, n_points=n_points, interval=interval)
    c = conc_fn(t, doses, p)
    i = int(np.argmax(c))
    rows: dict[str, object] = {
        "Cmax": float(c[i]),
        "Tmax": float(t[i]),
        "AUC(0-t_end)": float(np.trapezoid(c, t)),
        "individual CL": p.cl,
        "individual V1": p.v1,
    }
    if steady:
        ss = steady_state(p, dose, interval, route, duration)  # type: ignore[arg-type]
        rows |= {
            "Cmax,ss": ss.cmax_ss,
            "Cmin,ss": ss.cmin_ss,
            "Cavg,ss": ss.cavg_ss,
            "accumulation ratio": ss.accumulation_ratio,
            "time to 90% ss": ss.time_to_90pct_ss,
        }
    console.print(_table("PK simulation", rows))
    if out:
        pd.DataFrame({"time": t, "conc": c}).to_csv(out, index=False)
        console.print(f"curve written to {out}")


@app.command("population")
def population(
    cl: float = _CL,
    v1: float = _V1,
    ka: float | None = typer.Option(None, help="absorption rate constant (oral)"),
    f: float = typer.Option(1.0, help="bioavailability F"),
    dose: float = typer.Option(..., help="dose amount per administration"),
    route: str = typer.Option("oral", help="iv_bolus, infusion or oral"),
    duration: float = typer.Option(0.0, help="infusion duration"),
    interval: float = typer.Option(24.0, help="dosing interval"),
    n_doses: int = typer.Option(1, help="number of doses"),
    t_end: float = typer.Option(24.0, help="last time"),
    n_points: int = typer.Option(49, help="number of output times"),
    omega: str = typer.Option("cl=0.09,v1=0.04", help="IIV variances on the log scale, e.g. cl=0.09 (CV ~30%),v1=0.04"),
    n_subjects: int = typer.Option(1000, help="subjects (ignored with --covariates)"),
    covariates: Path | None = typer.Option(
        None, help="CSV, one row per subject: weight_kg, crcl_ml_min, fe, cl_multiplier, age_years"
    ),
    sigma_prop: float = typer.Option(0.0, help="proportional residual error SD"),
    seed: int = typer.Option(0, help="random seed"),
    out: Path | None = typer.Option(None, "-o", "--out", help="write every subject's curve (long CSV)"),
) -> None:
    """Simulate a population with log-normal IIV and covariates; print the 5/50/95th percentiles."""
    import numpy as np
    import pandas as pd

    from theralab.development.pk import PKParams, dosing_schedule
    from theralab.development.pk_fit import population_summary, simulate_population
    from theralab.errors import InputError

    try:
        om = {k.strip(): float(v) for k, v in (kv.split("=") for kv in omega.split(",") if kv.strip())}
    except ValueError as exc:
        raise InputError(f"bad --omega {omega!r}", where="--omega", hint="e.g. cl=0.09,v1=0.04") from exc
    cov = _read(covariates, []) if covariates else None
    sim = simulate_population(
        PKParams(cl=cl, v1=v1, ka=ka, f=f),
        dosing_schedule(dose, interval, n_doses, route, duration),  # type: ignore[arg-type]
        np.linspace(0.0, t_end, n_points),
        omega=om,
        covariates=cov,
        n_subjects=n_subjects,
        sigma_prop=sigma_prop,
        seed=seed,
    )
    band = population_summary(sim, "dv" if sigma_prop else "ipred")
    t = Table(title=f"population of {sim.id.nunique()} (seed {seed}): concentration percentiles")
    for c in band.columns:
        t.add_column(c, justify="right")
    step = max(1, len(band) // 12)
    for _, r in band.iloc[::step].iterrows():
        t.add_row(*[f"{v:.4g}" for v in r])
    console.print(t)
    if out:
        pd.DataFrame(sim).to_csv(out, index=False)


@app.command("fit")
def fit(
    data: Path = typer.Argument(..., help="CSV with time and concentration columns (one subject)"),
    dose: float = typer.Option(..., help="dose amount (same units as in the fit, e.g. mg/kg)"),
    time_col: str = typer.Option("time", help="time column"),
    conc_col: str = typer.Option("conc", help="concentration column"),
    model: str = typer.Option(
        "ssfol",
        help="ssfol (1-cmt oral as R's SSfol), 1cmt-iv, 2cmt-iv, 3cmt-iv, 1cmt-infusion, 2cmt-infusion, "
        "1cmt-oral, 2cmt-oral",
    ),
    duration: float = typer.Option(0.0, help="infusion duration (infusion models)"),
    weighting: str = typer.Option("none", help="'none' or 'proportional' (1/prediction)"),
    json_out: Path | None = typer.Option(None, "--json", help="write the fit as JSON here"),
) -> None:
    """Fit a compartmental model to one subject by nonlinear least squares, with standard errors.

    Parameters are estimated on the log scale (as R's self-starting models); the table shows the
    log estimates with their SEs and the natural-scale values with delta-method SEs.
    """
    from theralab.development.pk_fit import fit_compartmental, fit_ssfol

    df = _read(data, [time_col, conc_col]).dropna(subset=[time_col, conc_col])
    x, y = df[time_col].to_numpy(float), df[conc_col].to_numpy(float)
    if model == "ssfol":
        res = fit_ssfol(x, y, dose)
        pairs = list(zip(res.estimates, ("ke", "ka", "cl"), strict=True)) + [("", "v")]
    else:
        res = fit_compartmental(x, y, dose, model, duration, weighting)  # type: ignore[arg-type]
        pairs = [(f"log_{k}", k) for k in res.params]
    t = Table(title=f"{model} fit ({res.n} points, residual SE {res.residual_se:.4g} on {res.df} df)")
    for col in ("parameter", "estimate", "SE", "natural", "value", "SE (delta)"):
        t.add_column(col, justify="right")
    for log, nat in pairs:
        est = f"{res.estimates[log]:.5g}" if log else ""
        se = f"{res.se[log]:.4g}" if log else ""
        t.add_row(log, est, se, nat, f"{res.params[nat]:.5g}", f"{res.se_natural[nat]:.3g}")
    console.print(t)
    poor = [k for k, v in res.se.items() if v > 1.0]
    if poor:
        console.print(
            f"[yellow]warning:[/] {', '.join(poor)} poorly determined (SE of the log > 1, i.e. CV > "
            "100%): the data do not support this model; prefer a simpler one."
        )
    write_json(json_out, res.to_dict())


@app.command("nca")
def nca_cmd(
    data: Path = typer.Argument(..., help="CSV with time and concentration (and optionally subject) columns"),
    dose: float | None = typer.Option(None, help="dose amount: gives CL/F and Vz/F"),
    time_col: str = typer.Option("time", help="time column"),
    conc_col: str = typer.Option("conc", help="concentration column (empty or < LOQ = BLQ)"),
    subject_col: str | None = typer.Option(None, help="subject column: one NCA per subject"),
    auc_method: str = typer.Option("linear", help="'linear' or 'linear-up/log-down'"),
    lambda_z_points: int | None = typer.Option(None, help="use the last N points (default: best adjusted R2)"),
    loq: float | None = typer.Option(
        None, help="limit of quantification: BLQ before first quantifiable -> 0, after -> excluded"
    ),
    route: str = typer.Option("extravascular", help="extravascular, iv_bolus (C0 back-extrapolated) or infusion"),
    infusion_duration: float = typer.Option(0.0, help="infusion duration (MRT subtracts half)"),
    tau: float | None = typer.Option(
        None, help="dosing interval of a steady-state profile: AUCtau, Cmin, Cavg, fluctuation, swing"
    ),
    out: Path | None = typer.Option(None, "-o", "--out", help="write the parameters as CSV here"),
) -> None:
    """Non-compartmental analysis: Cmax, Tmax, AUC, lambda-z, t1/2, AUCinf, %extrap, CL/F, Vz/F, MRT."""
    import pandas as pd

    from theralab.development.nca import nca

    cols = [time_col, conc_col] + ([subject_col] if subject_col else [])
    df = _read(data, cols)
    groups = df.groupby(subject_col, sort=False) if subject_col else [("all", df)]
    rows = []
    for sid, g in groups:
        r = nca(
            g[time_col].to_numpy(float),
            g[conc_col].to_numpy(float),
            dose,
            auc_method,  # type: ignore[arg-type]
            lambda_z_points,
            loq,
            infusion_duration,
            route,  # type: ignore[arg-type]
            tau,
        )
        rows.append({"subject": sid, **r.to_dict(), "flags": "; ".join(r.flags)})
    res = pd.DataFrame(rows)
    shown = [
        "subject",
        "cmax",
        "tmax",
        "auc_last",
        "lambda_z",
        "half_life",
        "auc_inf",
        "auc_pct_extrap",
        "cl_f",
        "vz_f",
        "mrt",
    ]
    if len(res) == 1:
        console.print(_table(f"NCA ({auc_method})", {k: v for k, v in rows[0].items() if k != "subject"}))
        if out:
            res.to_csv(out, index=False)
        return
    t = Table(title=f"NCA ({auc_method})")
    for c in shown:
        t.add_column(c, justify="right")
    for _, r in res.iterrows():
        t.add_row(
            *[
                ("-" if r[c] is None or r[c] != r[c] else f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]))
                for c in shown
            ]
        )
    console.print(t)
    if out:
        res.to_csv(out, index=False)


@app.command("regimen")
def regimen(
    cl: float = _CL,
    v1: float = _V1,
    ka: float | None = typer.Option(None, help="absorption rate constant (oral)"),
    f: float = typer.Option(1.0, help="bioavailability F"),
    route: str = typer.Option("oral", help="iv_bolus, infusion or oral"),
    target: str = typer.Option("trough", help="'trough' (Cmin,ss) or 'auc24' (AUC per 24 h at steady state)"),
    low: float = typer.Option(..., help="lower bound of the target window"),
    high: float = typer.Option(..., help="upper bound of the target window"),
    intervals: str = typer.Option("6,8,12,24", help="candidate dosing intervals, comma-separated"),
    dose_step: float = typer.Option(50.0, help="dose rounding (tablet strength)"),
    max_dose: float = typer.Option(5000.0, help="largest single dose allowed"),
    max_peak: float | None = typer.Option(None, help="Cmax,ss must stay below this (toxicity)"),
    cl_multiplier: float = typer.Option(1.0, help="patient clearance multiplier (PGx phenotype)"),
    weight: float | None = typer.Option(None, help="patient weight (kg)"),
    crcl: float | None = typer.Option(None, help="patient CrCL (mL/min)"),
    fe: float = typer.Option(0.0, help="fraction excreted unchanged (renal)"),
    top: int = typer.Option(5, help="rows to show"),
) -> None:
    """Search dose and interval keeping one patient's steady-state trough or AUC24 in a window."""
    from theralab.development.pk_fit import Target, search_regimen
    from theralab.errors import InputError

    try:
        taus = tuple(float(x) for x in intervals.split(","))
    except ValueError as exc:
        raise InputError(f"bad --intervals {intervals!r}", where="--intervals", hint="e.g. 8,12,24") from exc
    p = _params(cl, v1, 0, 0, 0, 0, ka, f, 0, cl_multiplier, weight, crcl, fe)
    res = search_regimen(
        p,
        Target(target, low, high),
        route,
        taus,
        dose_step,
        max_dose,  # type: ignore[arg-type]
        max_peak=max_peak,
    )
    t = Table(title=f"regimens for {target} in [{low}, {high}] (first row recommended)")
    for c in ("dose", "interval", "trough", "peak", "auc24", "in_window"):
        t.add_column(c, justify="right")
    for _, r in res.head(top).iterrows():
        t.add_row(
            f"{r.dose:g}",
            f"{r.interval:g}",
            f"{r.trough:.4g}",
            f"{r.peak:.4g}",
            f"{r.auc24:.4g}",
            "yes" if r.in_window else "no",
        )
    console.print(t)
