"""``theralab trials criteria``: parse eligibility criteria into structured, coded JSON.

Mounted by the trials CLI as ``theralab trials criteria``; kept in its own module so the criteria
engine's surface can evolve without touching the rest of ``theralab trials``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from theralab.cli._common import App, console, err_console

app = App(help="Eligibility criteria: parse free text into structured, coded, editable JSON.",
                  no_args_is_help=True)


@app.callback()
def main() -> None:
    """Eligibility criteria: parse free text into structured, coded, editable JSON."""


@app.command("parse")
def parse(
    source: str = typer.Argument(..., help="a criteria text file, or an NCT id of a trial in the Chia corpus"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the Criteria JSON here (default: stdout)"),
    kind: str = typer.Option("inclusion", help="kind of criteria before any 'Inclusion/Exclusion Criteria:' header"),
    chia_dir: Path | None = typer.Option(None, help="Chia folder for NCT ids (default: THERALAB_CHIA_DIR or "
                                                    "../shared/data/trials/chia)"),
    correction: list[Path] = typer.Option([], "--correction", "-c",
                                           help="CriteriaCorrection JSON file(s) to apply after parsing, in order"),
    table: bool = typer.Option(False, "--table", help="print a readable table instead of JSON on stdout"),
) -> None:
    """Parse criteria; entities carry codes, comparators, values, units, time windows and context flags."""
    from theralab.errors import InputError
    from theralab.trials.criteria import apply_correction, chia_trial_text, parse_criteria

    path = Path(source)
    trial_id = None
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path} is not UTF-8 text", where=str(path)) from exc
    elif re.fullmatch(r"(?i)nct\d{8}", source.strip()):
        trial_id = source.strip().upper()
        text = chia_trial_text(trial_id, chia_dir)
    else:
        raise InputError(f"{source!r} is neither a file nor an NCT id", where="source",
                         hint="give a path to a criteria .txt file or an id such as NCT00050349")
    crit = parse_criteria(text, trial_id=trial_id, default_kind=kind)
    for cpath in correction:
        try:
            data = json.loads(Path(cpath).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read correction {cpath}: {exc}", where=str(cpath)) from exc
        crit = apply_correction(crit, data)
    payload = crit.model_dump_json(indent=2)
    if out:
        out.write_text(payload, encoding="utf-8")
        err_console.print(f"wrote {len(crit.criteria)} criteria to {out}")
    if table:
        _print_table(crit)
    elif not out:
        typer.echo(payload)
    for w in crit.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {w}")


def _print_table(crit) -> None:  # noqa: ANN001 - Criteria, imported lazily
    from rich.table import Table

    tab = Table(title=f"{crit.trial_id or 'criteria'}: {len(crit.inclusion())} inclusion, "
                      f"{len(crit.exclusion())} exclusion")
    for col in ("id", "entity", "type", "context", "constraint / time", "codes"):
        tab.add_column(col)
    for c in crit.criteria:
        tab.add_row(f"[bold]{c.id}[/bold]", c.text[:80], "", "", "", "")
        for e in c.entities:
            flags = ",".join(f for f in ("negated", "historical", "family", "hypothetical") if getattr(e, f))
            extra = e.constraint.text if e.constraint else (e.temporal.text if e.temporal else "")
            codes = " ".join(f"{k.system}:{k.code}" for k in e.codes)
            tab.add_row("", e.text, e.type, flags, extra, codes)
    console.print(tab)
