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


@app.command()
@friendly_errors
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
