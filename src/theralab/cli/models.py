"""``theralab models``: the registry of shipped and user-trained models."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich import box
from rich.table import Table

from theralab.cli._common import console, friendly_errors

app = typer.Typer(help="Model registry: every model is a directory with its card (model.json) and weights.",
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
@friendly_errors
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
@friendly_errors
def show(name: str, version: str = typer.Option(None, help="version (default: latest)")) -> None:
    """Show a model's card after verifying its weights' checksums."""
    from theralab.models.registry import find_model, load_card

    card = load_card(find_model(name, version))
    console.print_json(json.dumps(card.model_dump()))
