"""``theralab dissolution``: fit kinetic models to a profile, compare two products (f1, f2, bootstrap).

Profiles are CSV files with a ``time`` column and either one release column (%) or one column per
unit (vessel); unit columns are averaged for model fitting.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console, write_json

app = App(
    help="Dissolution: fit zero/first-order, Higuchi, Korsmeyer-Peppas, Hixson-Crowell, Weibull... and "
    "compare profiles with f1/f2 (FDA 1997 conditions checked, bootstrap f2 when they fail).\n\n"
    "Example: theralab dissolution compare ref.csv test.csv",
    no_args_is_help=True,
)


def _load(path: Path, time_col: str):  # noqa: ANN202
    import pandas as pd

    from theralab.errors import InputError

    if not path.exists():
        raise InputError(f"file not found: {path}", where=str(path))
    df = pd.read_csv(path)
    if time_col not in df.columns:
        raise InputError(f"no {time_col!r} column in {path.name}", where=str(path), hint="use --time-col")
    units = df.drop(columns=[time_col])
    if units.shape[1] == 0:
        raise InputError(f"{path.name} has no release columns", where=str(path))
    return df[time_col].to_numpy(float), units


@app.command("fit")
def fit(
    data: Path = typer.Argument(..., help="CSV: time column plus release (%) column(s); units are averaged"),
    time_col: str = typer.Option("time", help="time column"),
    models: str | None = typer.Option(None, help="comma-separated models (default: all)"),
    out: Path | None = typer.Option(None, "-o", "--out", help="write the selection table as CSV"),
) -> None:
    """Fit dissolution models and rank them by AIC (with R2 and adjusted R2), as DDSolver."""
    from theralab.development.dissolution import fit_all

    t, units = _load(data, time_col)
    table = fit_all(t, units.mean(axis=1).to_numpy(float), models.split(",") if models else None)
    view = Table(title="dissolution models (lowest AIC first)")
    for c in ("model", "n", "R2", "R2 adj", "AIC", "parameters / error"):
        view.add_column(c, justify="right")
    for _, r in table.iterrows():
        par = ", ".join(f"{k}={v:.4g}" for k, v in r.params.items()) or r.error
        view.add_row(r.model, str(r.n), f"{r.r2:.4f}", f"{r.r2_adj:.4f}", f"{r.aic:.2f}", par)
    console.print(view)
    if out:
        table.assign(params=table.params.map(json.dumps)).to_csv(out, index=False)


@app.command("compare")
def compare(
    reference: Path = typer.Argument(..., help="reference CSV: time + one column per unit"),
    test: Path = typer.Argument(..., help="test CSV: same times, one column per unit"),
    time_col: str = typer.Option("time", help="time column"),
    bootstrap: str = typer.Option("auto", help="'auto' (only when FDA conditions fail), 'always', 'never'"),
    n_boot: int = typer.Option(5000, help="bootstrap resamples"),
    seed: int = typer.Option(0, help="bootstrap seed"),
    points: str = typer.Option("all", help="'all' time points, or 'fda': up to the first with both > 85%"),
    json_out: Path | None = typer.Option(None, "--json", help="write the full result as JSON"),
) -> None:
    """f1 and f2 of TEST against REFERENCE, with the FDA conditions and a bootstrap f2 interval."""
    from theralab.development.dissolution import compare_profiles
    from theralab.errors import InputError

    t_ref, ref = _load(reference, time_col)
    t_test, tst = _load(test, time_col)
    if len(t_ref) != len(t_test) or (t_ref != t_test).any():
        raise InputError(
            "reference and test have different sampling times",
            where=str(test),
            hint="f2 compares the same time points",
        )
    res = compare_profiles(
        t_ref,
        ref.to_numpy(float).T,
        tst.to_numpy(float).T,
        bootstrap,  # type: ignore[arg-type]
        n_boot,
        seed=seed,
        points=points,  # type: ignore[arg-type]
    )
    console.print(f"f1 = [bold]{res.f1:.2f}[/]  f2 = [bold]{res.f2:.2f}[/]  (similar when f1 <= 15 and f2 >= 50)")
    cond = Table(title="FDA 1997 conditions for f2")
    cond.add_column("condition")
    cond.add_column("met")
    cond.add_column("detail")
    for c in res.conditions:
        cond.add_row(c.name, "[green]yes[/]" if c.passed else "[red]no[/]", c.detail)
    console.print(cond)
    if res.bootstrap:
        b = res.bootstrap
        console.print(
            f"bootstrap f2 ({b['n_boot']} resamples, seed {b['seed']}): "
            f"{100 * b['confidence']:.0f}% percentile CI {b['percentile'][0]:.2f}-{b['percentile'][1]:.2f}, "
            f"BCa CI {b['bca'][0]:.2f}-{b['bca'][1]:.2f}"
        )
    verdict = {True: "similar", False: "not similar", None: "undecided (conditions fail; run the bootstrap)"}
    console.print(f"verdict: [bold]{verdict[res.similar]}[/]")
    write_json(json_out, res.to_dict())


@app.command("formulation")
def formulation(
    table: Path = typer.Argument(..., help="CSV, one row per batch: formulation variables and release columns"),
    features: str = typer.Option(..., help="comma-separated formulation-variable columns"),
    targets: str = typer.Option(..., help="comma-separated release columns in time order (e.g. t15,t30,t60)"),
    predict: Path | None = typer.Option(None, help="CSV of new formulations to predict"),
    method: str = typer.Option("gp", help="'gp' (Gaussian process) or 'gbm' (gradient boosting)"),
    out: Path | None = typer.Option(None, "-o", "--out", help="write predictions as CSV"),
) -> None:
    """Learn release from formulation variables on your table; report cross-validated error; predict."""
    import pandas as pd

    from theralab.development.dissolution import FormulationModel

    df = pd.read_csv(table)
    model = FormulationModel(method).fit(df, features.split(","), targets.split(","))  # type: ignore[arg-type]
    view = Table(title=f"{method} formulation model, {len(df)} batches, K-fold CV")
    for c in ("time point", "CV RMSE", "SD of data (predict-the-mean RMSE)"):
        view.add_column(c, justify="right")
    for c in model.targets:
        view.add_row(c, f"{model.cv_rmse[c]:.3g}", f"{model.baseline_rmse[c]:.3g}")
    console.print(view)
    if predict:
        pred = model.predict(pd.read_csv(predict))
        console.print(pred.round(2).to_string())
        if out:
            pred.to_csv(out, index=False)
