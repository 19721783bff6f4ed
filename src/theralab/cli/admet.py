"""``theralab admet``: the pretrained ADMET panel, and training/evaluating your own models.

Heavy libraries (torch, chemprop, lightgbm) are imported inside the commands so ``theralab --help``
stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console, err_console, progress_bar

app = App(help="ADMET: 41-endpoint pretrained panel; train, evaluate and explain your own models.",
                  no_args_is_help=True)


@app.command("predict")
def predict(
    input: Path = typer.Argument(..., help="SMILES (.smi/.txt), CSV/TSV, SDF or Parquet file"),
    output: Path = typer.Option(..., "-o", "--output", help="output .csv or .parquet"),
    model: str = typer.Option("panel", "--model", help="'panel' (ADMET-AI endpoints) or a trained model name/dir"),
    smiles_column: str | None = typer.Option(None, "--smiles-column", help="SMILES column (auto-detected)"),
    id_column: str | None = typer.Option(None, "--id-column", help="identifier column (auto-detected)"),
    chunk_size: int = typer.Option(2000, "--chunk-size", min=1, help="molecules per chunk"),
) -> None:
    """Predict every molecule of INPUT; rows that cannot be scored keep their place with an 'error'."""
    from theralab.chem.io import MoleculeReader, TableWriter
    from theralab.discovery.admet.jobs import score_records

    reader = MoleculeReader(input, smiles_column=smiles_column, id_column=id_column, chunk_size=chunk_size)
    total = errors = 0
    with progress_bar() as bar, TableWriter(output) as writer:
        task = bar.add_task("scoring", total=None)
        for chunk in reader.chunks():
            scored = score_records(chunk, model)
            writer.write(scored)
            total += len(scored)
            errors += int((scored["error"] != "").sum())
            bar.update(task, advance=len(scored))
    err_console.print(f"scored {total - errors} of {total} molecules -> {output}"
                      + (f" ({errors} rows with an 'error')" if errors else ""))
    if total == errors:
        raise typer.Exit(2)


@app.command("train")
def train(
    data: Path = typer.Argument(..., help="CSV/TSV/Parquet with a SMILES column and target column(s)"),
    target: list[str] = typer.Option(..., "--target", help="target column (repeat for multi-task)"),
    output: Path = typer.Option(..., "-o", "--output", help="model directory to write"),
    task: str = typer.Option("auto", "--task", help="regression, classification or auto (0/1 labels)"),
    split: str = typer.Option("scaffold", "--split", help="scaffold, random, cv or column:NAME (train/test labels)"),
    model: str = typer.Option("lgbm", "--model", help="lgbm (MapLight features), chemprop (D-MPNN) or ensemble"),
    seed: int = typer.Option(0, "--seed"),
    members: int = typer.Option(3, "--members", min=1, help="LightGBM bag size (its spread is the uncertainty)"),
    epochs: int = typer.Option(50, "--epochs", min=1, help="Chemprop epochs"),
    smiles_column: str | None = typer.Option(None, "--smiles-column"),
    name: str | None = typer.Option(None, "--name", help="registry name (default: the directory name)"),
    register: bool = typer.Option(True, "--register/--no-register", help="copy into the model registry"),
) -> None:
    """Train a model, report held-out metrics, and save it with its card."""
    from theralab.discovery.admet.train import read_table
    from theralab.discovery.admet.train import train as do_train
    from theralab.discovery.admet.user_models import TrainConfig

    cfg = TrainConfig(targets=list(target), task=task, kind=model, split=split, seed=seed, members=members,
                      epochs=epochs)
    with console.status(f"training {model} on {data.name}"):
        report = do_train(read_table(data), cfg, output, smiles_col=smiles_column, name=name, register=register,
                          source=str(data))
    _metrics_table(report["metrics"], f"held-out metrics ({split} split)")
    if report["rejected"]:
        err_console.print(f"{len(report['rejected'])} rows set aside, e.g. row {report['rejected'][0]['row']}: "
                          f"{report['rejected'][0]['reason']}")
    console.print(f"model written to {report['model_dir']}" + (f", registered at {report['registered']}"
                                                               if report["registered"] else ""))


@app.command("evaluate")
def evaluate(
    model: str = typer.Argument(..., help="model directory or registered name"),
    data: Path = typer.Argument(..., help="labelled CSV/TSV/Parquet with the model's target columns"),
    smiles_column: str | None = typer.Option(None, "--smiles-column"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Metrics of a trained model on a labelled file."""
    from theralab.discovery.admet.train import evaluate as do_eval
    from theralab.discovery.admet.train import read_table

    report = do_eval(model, read_table(data), smiles_col=smiles_column)
    if as_json:
        typer.echo(json.dumps(report["metrics"], indent=2))
    else:
        _metrics_table(report["metrics"], f"{report['rows']} molecules")


@app.command("explain")
def explain(
    model: str = typer.Argument(..., help="'panel' (ADMET-AI endpoints), or a model directory or registered name"),
    smiles: str = typer.Argument(..., help="one molecule"),
    output: Path = typer.Option(..., "-o", "--output", help="SVG file for the atom heatmap"),
    target: str | None = typer.Option(None, "--target", help="which target or panel endpoint (default: the "
                                      "model's first; hERG for the panel)"),
) -> None:
    """Draw per-atom contributions (red raises, blue lowers the prediction) as an SVG with the predicted
    value, a colour scale and the share of the prediction the colours account for.

    MODEL 'panel' explains an ADMET panel endpoint (--target, default hERG) by integrated gradients
    over the D-MPNN's atom and bond features: the atoms sum to the prediction minus the all-zero baseline.
    """
    from theralab.chem.io import parse_smiles
    from theralab.errors import InputError

    mol, err = parse_smiles(smiles)
    if mol is None:
        raise InputError(f"cannot read the molecule: {err}", where="SMILES")
    if model == "panel":
        from theralab.discovery.admet.panel import get_panel
        from theralab.discovery.admet.panel_explain import explain_endpoint

        result = explain_endpoint(get_panel(), mol, target or "hERG")
        output.write_text(result["svg"])
        err_console.print(f"{result['target']} = {result['value']:.3g} {result['units']}; the drawn atoms account for "
                          f"{result['accounted']:.0%} of value - baseline ({result['baseline']:.3g})")
    else:
        from theralab.discovery.admet.explain import explain as do_explain
        from theralab.discovery.admet.train import resolve_model
        from theralab.discovery.admet.user_models import AdmetModel

        result = do_explain(AdmetModel.load(resolve_model(model)), mol, target)
        output.write_text(result["svg"])
        err_console.print(f"{result['target']} = {result['value']:.3g}")
        if "mapped_fraction" in result:
            err_console.print(f"the ECFP bits drawn carry {result['mapped_fraction']:.0%} of the tree model's "
                              "contribution (the rest is in descriptors with no atoms to draw on)")
    console.print(f"heatmap written to {output}")


def _metrics_table(metrics: dict, title: str) -> None:
    table = Table(title=title)
    keys = sorted({k for row in metrics.values() for k in row})
    table.add_column("target")
    for k in keys:
        table.add_column(k, justify="right")
    for t, row in metrics.items():
        table.add_row(t, *[f"{row.get(k, float('nan')):.3f}" if isinstance(row.get(k), float) else str(row.get(k, ""))
                           for k in keys])
    console.print(table)
