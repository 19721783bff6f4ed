"""``theralab response``: drug-response (ln IC50) models on a drug x cell-line matrix."""

from __future__ import annotations

import json

import typer

from theralab.cli._common import App, console, progress_bar

app = App(help="Drug response: predict ln(IC50) of drugs on cell lines from drug structure and cell "
                       "omics; evaluate on random-pair, unseen-cell and unseen-drug splits.", no_args_is_help=True)


@app.command()
def evaluate(
    data_dir: str = typer.Argument(..., help="folder with the GDSC/DeepCDR files (precision/drug_response)"),
    split: list[str] = typer.Option(["random", "cell", "drug"], help="random | cell | drug (repeat)"),
    seed: int = typer.Option(0),
    rounds: int = typer.Option(400, help="boosting rounds"),
    out: str = typer.Option(None, help="write the results as JSON here"),
) -> None:
    """The additive drug+cell baseline beside NeighbourGBM on the same held-out pairs."""
    from rich.table import Table

    from theralab.precision.response import evaluate_split, load_gdsc, side_similarities

    data = load_gdsc(data_dir)
    sims = side_similarities(data)
    results = []
    with progress_bar() as bar:
        task = bar.add_task("splits", total=len(split))
        for s in split:
            results.append(evaluate_split(data, s, seed=seed, sims=sims, rounds=rounds))
            bar.advance(task)
    table = Table("split", "test pairs", "baseline r", "model r", "gain", "model RMSE")
    for r in results:
        table.add_row(r["split"], str(r["test_pairs"]), f"{r['baseline_pearson']:.3f}", f"{r['model_pearson']:.3f}",
                      f"{r['model_pearson'] - r['baseline_pearson']:+.3f}", f"{r['model_rmse']:.3f}")
    console.print(table)
    if out:
        with open(out, "w") as handle:
            json.dump(results, handle, indent=2)
