"""``theralab models``: the registry of shipped and user-trained models."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich import box
from rich.table import Table

from theralab.cli._common import App, console

app = App(help="Model registry: every model is a directory with its card (model.json) and weights.",
                  no_args_is_help=True)


QUALITY = ("f1", "auroc", "auprc", "rmse", "mae", "r2", "accuracy", "spearman", "c_index", "ef1")
NOT_QUALITY = ("seconds", "_sd", "gold", "pred", "precision", "recall", "n_", "count", "folds")


def _flatten(value: Any, path: str = "", depth: int = 0) -> list[tuple[str, float, int]]:
    if isinstance(value, dict) and depth < 4:
        return [item for k, v in value.items() for item in _flatten(v, f"{path}.{k}" if path else str(k), depth + 1)]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [(path, float(value), depth)]
    return []


def key_metric(metrics: dict[str, Any]) -> str:
    """One quality metric per model for the list: the card's ``key`` text, else the shallowest
    F1/AUROC/RMSE-like number (a mean or overall figure first); the whole dict is in
    ``theralab models show``."""
    if isinstance(metrics.get("key"), str):
        return metrics["key"]
    found = [(p, v, d) for p, v, d in _flatten(metrics)
             if any(q in p.rsplit(".", 1)[-1].lower() for q in QUALITY)
             and not any(n in p.lower() for n in NOT_QUALITY)]
    if not found:
        return ""
    path, value, _ = min(found, key=lambda t: (t[2], not ("mean" in t[0] or "overall" in t[0])))
    return f"{'.'.join(path.split('.')[-2:])}={value:.3g}"


@app.command("list")
def list_cmd() -> None:
    """List registered models (shipped with theralab and trained by you), one line each with its key
    metric; 'theralab models show NAME' prints a whole card."""
    from theralab.models.registry import list_models

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column, width in (("name", 18), ("version", 8), ("task", 14), ("origin", 7), ("key metric", 26)):
        table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=width)
    for row in list_models():
        error = str(row.get("error") or "").split("\n")[0]
        metric = f"card error: {error}" if error else key_metric(row.get("metrics") or {})
        table.add_row(row["name"], str(row.get("version", "?")), str(row.get("task", "?")), row["origin"], metric)
    console.print(table)


@app.command()
def show(name: str, version: str = typer.Option(None, help="version (default: latest)")) -> None:
    """Show a model's card after verifying its weights' checksums."""
    from theralab.models.registry import find_model, load_card

    card = load_card(find_model(name, version))
    console.print_json(json.dumps(card.model_dump()))


@app.command()
def retrain(
    name: str,
    version: str = typer.Option(None, help="version (default: latest)"),
    run: bool = typer.Option(False, "--run", help="run the recipe now (from the project checkout, needs its data)"),
) -> None:
    """Show (or, with --run, execute) the one documented way to rebuild a model: its card's recipe.

    Every model's card names the command that made it (``retrain``). Shipped models are rebuilt from
    the project checkout with the public data in ../shared/data; user models from their own table.
    """
    import shlex
    import subprocess
    import sys

    from theralab.errors import InputError
    from theralab.models.registry import find_model, load_card

    card = load_card(find_model(name, version), verify=False)
    recipe = card.retrain.strip()
    if not recipe:
        raise InputError(f"model {name!r} has no retrain recipe on its card", where="model.json: retrain")
    command = recipe.split("  (")[0].strip()
    console.print(f"[bold]{card.name}[/bold] {card.version}: {recipe}")
    if not run:
        return
    args = shlex.split(command)
    placeholders = [a for a in args if a.isupper() and not a.startswith("-")]  # FOLD0, DATA, ...
    if placeholders or not args or args[0] not in ("python", "theralab"):
        raise InputError(f"the recipe needs your values filled in ({', '.join(placeholders) or args[:1]})",
                         where="model.json: retrain", hint="run the command yourself with those values")
    if args[0] == "python":
        args[0] = sys.executable
    console.print(f"running: {' '.join(args)}")
    raise typer.Exit(subprocess.call(args))


def _read_table(path: str):  # noqa: ANN202 - pandas frame
    """The project's one table reader (CSV/TSV/Parquet, UTF-8 checked): :func:`theralab.chem.io.read_table`."""
    from theralab.chem.io import read_table

    return read_table(path)


@app.command()
def audit(
    model: str = typer.Argument(..., help="registered model name or model directory; '-' to audit the --score "
                                          "column already in the data"),
    data: str = typer.Option(..., "--data", help="CSV/TSV/Parquet with the label, the group columns and the "
                                                 "model's inputs (a 'smiles' column for molecule models)"),
    group: list[str] = typer.Option(..., "--group", help="group column (repeat: --group sex --group age_band); "
                                                         "'age' columns are banded 0-17/18-39/40-64/65-79/80+"),
    label: str = typer.Option("label", help="column with the true outcome (0/1, or values for regression)"),
    score: str = typer.Option(None, help="column with predictions when MODEL is '-'"),
    output: str = typer.Option(None, help="which model output column to audit (default: the first numeric one)"),
    task: str = typer.Option("binary", help="binary (probabilities) or regression"),
    threshold: float = typer.Option(0.5, help="decision threshold for sensitivity, FPR and accuracy"),
    min_group_size: int = typer.Option(30, help="smaller groups are reported but not used for gaps"),
    out: str = typer.Option(None, help="write the full report as JSON here"),
) -> None:
    """Fairness report: performance and calibration of MODEL within each group, with gaps flagged.

    Example: theralab models audit my-risk-model --data cohort.csv --group sex --group age --label event
    """
    from theralab.errors import InputError
    from theralab.models.fairness import age_bands, fairness_report

    frame = _read_table(data)
    missing = [c for c in [label, *group] if c not in frame.columns]
    if missing:
        raise InputError(f"columns {missing} are not in {data}", hint=f"columns: {', '.join(map(str, frame.columns))}")
    if model == "-":
        if not score or score not in frame.columns:
            raise InputError("with MODEL '-' give --score, the column holding the predictions")
        pred = frame[score].to_numpy(dtype=float)
    else:
        from theralab.models.base import load_predictor

        predictor = load_predictor(model)
        extra = predictor.card.model_extra or {}
        if extra.get("input") == "table":
            table = predictor.predict(frame)
        else:
            if "smiles" not in frame.columns:
                raise InputError(f"model {predictor.card.name} reads molecules: {data} needs a 'smiles' column")
            table = predictor.predict(frame["smiles"].astype(str).tolist())
        numeric = [c for c in table.columns if table[c].dtype.kind in "fi"]
        col = output or (numeric[0] if numeric else None)
        if col is None or col not in table.columns:
            raise InputError(f"model output {output!r} not found", hint=f"outputs: {', '.join(table.columns)}")
        pred = table[col].to_numpy(dtype=float)
    groups = {g: (age_bands(frame[g]) if g.lower() in {"age", "age_years"} else frame[g]) for g in group}
    report = fairness_report(frame[label].to_numpy(dtype=float), pred, groups, task=task, threshold=threshold,
                             min_group_size=min_group_size)
    metrics = ["n", "auc", "brier", "sensitivity", "fpr", "calibration_in_large", "ece"] if task == "binary" \
        else ["n", "rmse", "mae", "bias", "pearson"]
    table_out = Table("column", "group", *metrics)
    for col_name, per in report.groups.items():
        for g, m in per.items():
            table_out.add_row(col_name, g, *(f"{m[k]:.3f}" if isinstance(m[k], float) else str(m[k]) for k in metrics))
    console.print(table_out)
    for flag in report.flags:
        console.print(f"[yellow]flag:[/yellow] {flag}")
    if not report.flags:
        console.print("[green]no gap above tolerance[/green]")
    if out:
        from pathlib import Path

        Path(out).write_text(json.dumps(report.to_dict(), indent=2))
        console.print(f"report written to {out}")
