"""``theralab chem``: profile molecule files and draw molecules.

RDKit and pandas are imported inside the commands so ``theralab --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from theralab.cli._common import App
from theralab.errors import TheralabError

app = App(
    help="Molecules: profile files (descriptors, rules, alerts) and draw structures.", no_args_is_help=True
)
console = Console(stderr=True)


def _fail(exc: TheralabError) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


@app.command("profile")
def profile(
    input: Path = typer.Argument(..., help="SMILES (.smi/.txt), CSV/TSV, SDF or Parquet file; text may be .gz"),
    output: Path = typer.Option(..., "-o", "--output", help="output .csv, .tsv, .parquet or .sdf"),
    smiles_column: str | None = typer.Option(None, "--smiles-column", help="SMILES column (auto-detected)"),
    id_column: str | None = typer.Option(None, "--id-column", help="identifier column (auto-detected)"),
    standardize: bool = typer.Option(
        True, "--standardize/--no-standardize", help="largest fragment, neutralise, cleanup before describing"
    ),
    tautomer: bool = typer.Option(False, "--tautomer", help="also canonicalise tautomers (slow)"),
    chunk_size: int = typer.Option(5000, "--chunk-size", min=1, help="molecules per chunk"),
    alerts: str = typer.Option(
        "all", "--alerts", help="alert catalogues: 'all', 'none' or a list such as PAINS_A,PAINS_B,BRENK"
    ),
) -> None:
    """Profile every molecule of INPUT: descriptors, rule sets, structural alerts.

    Invalid rows go to '<output stem>.invalid.csv' with their row number and the reason; the run
    exits 0 unless no row at all was valid (exit 2).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from theralab.chem.filters import ALERT_CATALOGS
    from theralab.chem.profile import ProfileProgress, profile_file

    key = alerts.strip().lower()
    catalogs = (
        ALERT_CATALOGS
        if key == "all"
        else ()
        if key == "none"
        else tuple(c.strip().upper() for c in alerts.split(",") if c.strip())
    )

    columns = (
        TextColumn("[bold]profiling[/]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[rows]} rows, {task.fields[invalid]} invalid"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("profile", total=1.0, rows=0, invalid=0)

            def _update(p: ProfileProgress) -> None:
                bar.update(
                    task,
                    completed=p.fraction if p.fraction is not None else 0.0,
                    rows=p.rows,
                    invalid=p.invalid,
                )

            summary = profile_file(
                input,
                output,
                smiles_column=smiles_column,
                id_column=id_column,
                standardize=standardize,
                tautomer=tautomer,
                progress=_update,
                chunk_size=chunk_size,
                catalogs=catalogs,
            )
            bar.update(task, completed=1.0)
    except TheralabError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"rows: {summary.rows}  valid: {summary.valid}  invalid: {summary.invalid}  "
        f"({summary.rows / max(summary.seconds, 1e-9):.0f} molecules/s)"
    )
    typer.echo(f"profile: {summary.output}")
    typer.echo(f"invalid rows: {summary.invalid_output}")
    if summary.valid == 0:
        typer.secho(
            f"error: no valid molecule in {input} ({summary.invalid} invalid rows); "
            f"see {summary.invalid_output} for the reasons",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=2)


@app.command("depict")
def depict(
    smiles: str = typer.Argument(..., help="the molecule as SMILES"),
    output: Path = typer.Option(..., "-o", "--output", help="SVG file to write"),
    width: int = typer.Option(300, help="width in pixels"),
    height: int = typer.Option(220, help="height in pixels"),
    legend: str = typer.Option("", help="text under the drawing"),
) -> None:
    """Draw SMILES as an SVG file."""
    from theralab.chem.depict import mol_to_svg

    try:
        svg = mol_to_svg(smiles, width=width, height=height, legend=legend)
    except TheralabError as exc:
        raise _fail(exc) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(svg, encoding="utf-8")
    typer.echo(f"wrote {output}")
