"""``theralab models``: the registry of shipped and user-trained models."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from theralab.cli._common import console, friendly_errors

app = typer.Typer(help="Model registry: every model is a directory with its card (model.json) and weights.",
                  no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_cmd() -> None:
    """List registered models (shipped with theralab and trained by you)."""
    from theralab.models.registry import list_models

    table = Table("name", "version", "task", "origin", "metrics", "path")
    for row in list_models():
        metrics = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in list(row.get("metrics", {}).items())[:4])
        table.add_row(row["name"], row.get("version", "?"), row.get("task", "?"), row["origin"], metrics, row["path"])
    console.print(table)


@app.command()
@friendly_errors
def show(name: str, version: str = typer.Option(None, help="version (default: latest)")) -> None:
    """Show a model's card after verifying its weights' checksums."""
    from theralab.models.registry import find_model, load_card

    card = load_card(find_model(name, version))
    console.print_json(json.dumps(card.model_dump()))
