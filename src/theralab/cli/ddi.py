"""``theralab ddi``: screen a medication list for CYP interactions with the FDA static models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console, write_json

app = App(
    help="Drug-drug interactions (CYP): FDA 2020 basic static models (R1, R2, R3) and the mechanistic "
    "static model AUC ratio, checked pairwise over a medication list.\n\n"
    "Example: theralab ddi check ketoconazole midazolam rifampicin",
    no_args_is_help=True,
)


@app.command("check")
def check(
    drugs: list[str] = typer.Argument(None, help="drug names (or use --file)"),
    file: Path | None = typer.Option(None, "--file", help="text file, one drug per line"),
    all_pairs: bool = typer.Option(False, "--all", help="show every pair sharing an enzyme, not only flagged"),
    table: Path | None = typer.Option(
        None,
        "--table",
        help="your own interaction CSV (role, drug, enzyme, imax_u, ki_u, ..., fm, fg, source)",
    ),
    only_table: bool = typer.Option(False, "--only-table", help="use only --table, not the curated values"),
    json_out: Path | None = typer.Option(None, "--json", help="write the full result as JSON"),
) -> None:
    """Check every pair of DRUGS: predicted victim AUC ratio, FDA flags (AUCR >= 1.25 or <= 0.8)."""
    from theralab.development.ddi import check_medications
    from theralab.errors import InputError

    names = list(drugs or [])
    if file:
        if not file.exists():
            raise InputError(f"file not found: {file}", where=str(file))
        names += [line.strip() for line in file.read_text().splitlines() if line.strip()]
    perps, vics = None, None
    if table:
        from theralab.development.ddi import PERPETRATORS, VICTIMS, read_table

        user_p, user_v = read_table(table)
        perps, vics = (user_p, user_v) if only_table else (user_p + PERPETRATORS, user_v + VICTIMS)
    res = check_medications(names, perps, vics)
    rows = res["pairs"] if all_pairs else res["flagged"]
    t = Table(title=f"{len(res['flagged'])} flagged of {len(res['pairs'])} pairs sharing a CYP enzyme")
    for c in ("perpetrator", "victim", "enzyme", "AUC ratio", "flag", "basic model"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r["perpetrator"],
            r["victim"],
            r["enzyme"],
            f"{r['aucr']:.2f}",
            f"[red]{r['direction']}[/]" if r["flagged"] else "-",
            "; ".join(r["basic"]["flags"]) or "-",
        )
    console.print(t)
    if res["unknown"]:
        console.print(f"not in the interaction table (not checked): {', '.join(res['unknown'])}")
    console.print("[dim]Static-model screening with rounded literature values; not a clinical decision.[/]")
    write_json(json_out, res)


@app.command("basic")
def basic(
    imax_u: float = typer.Option(..., help="unbound Cmax of the perpetrator (uM)"),
    ki_u: float | None = typer.Option(None, help="unbound reversible Ki (uM)"),
    kinact: float | None = typer.Option(None, help="TDI kinact (1/h)"),
    KI_u: float | None = typer.Option(None, "--KI-u", help="TDI unbound KI (uM)"),  # noqa: N803
    emax: float | None = typer.Option(None, help="induction Emax (fold over control minus 1)"),
    ec50_u: float | None = typer.Option(None, help="induction unbound EC50 (uM)"),
    enzyme: str = typer.Option("CYP3A4", help="enzyme (sets kdeg)"),
    dose_mg: float | None = typer.Option(None, help="oral dose (mg), for R1,gut (CYP3A4)"),
    mw: float | None = typer.Option(None, help="molecular weight (g/mol), for R1,gut"),
) -> None:
    """Basic static model for an investigational drug from its in vitro parameters."""
    from theralab.development.ddi import Perpetrator, basic_model

    res = basic_model(Perpetrator("investigational", enzyme, imax_u, ki_u, kinact, KI_u, emax, ec50_u, dose_mg, mw))
    t = Table(title=f"basic static model on {enzyme}")
    t.add_column("value")
    t.add_column("result", justify="right")
    for k in ("r1", "r1_gut", "r2", "r3"):
        v = getattr(res, k)
        t.add_row(k.upper(), "-" if v is None else f"{v:.4g}")
    console.print(t)
    console.print("flags: " + ("; ".join(res.flags) if res.flags else "none (no clinical study indicated)"))
