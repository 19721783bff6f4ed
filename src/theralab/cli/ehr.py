"""``theralab ehr``: import FHIR / Synthea data, list and export patients, generate a synthetic cohort."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from theralab.cli._common import App, console, err_console, progress_bar

app = App(
    help="Patient records: FHIR R4 import and export, patient list, synthetic cohorts.", no_args_is_help=True
)


def _db_error(exc: Exception) -> None:
    from theralab.errors import InputError

    raise InputError(
        f"the EHR tables are not in the database ({type(exc).__name__})",
        hint="create them with 'theralab db upgrade'",
    ) from exc


@app.command("import")
def import_(
    path: Path = typer.Argument(
        ..., help="FHIR Bundle .json, bulk-export .ndjson, a folder of them, or a Synthea CSV folder"
    ),
    no_validate: bool = typer.Option(False, "--no-validate", help="skip fhir.resources validation (trusted data)"),
    lenient_codes: bool = typer.Option(
        False, "--lenient-codes", help="load resources whose codes fail their check digit or format, with a warning"
    ),
    workers: int = typer.Option(1, help="processes that validate and map resources (for large exports)"),
    show: int = typer.Option(20, help="how many errors and warnings to print"),
    rejects: Path = typer.Option(
        None,
        "--rejects",
        help="where rejected ndjson lines go (file, line number, errors, text); default PATH.rejects.jsonl "
        "beside the input (.jsonl, so a re-import of the folder never reads it)",
    ),
) -> None:
    """Import patients; bad resources are listed with file, line, id and path.

    A Bundle (.json) imports all or nothing: one bad entry rejects the bundle, and the error names it.
    In ndjson the good lines load and the bad ones go to the --rejects file with their line numbers.
    A re-import reports new, updated and unchanged resources. Exit code 1 when anything was rejected.
    """
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from theralab.ehr.fhir import fhir_files, import_path
    from theralab.runtime.db import session_scope

    files = fhir_files(path) if path.exists() and not (path / "patients.csv").exists() else [path]
    if rejects is None:
        rejects = path.parent / (path.name + ".rejects.jsonl")
    try:
        with progress_bar() as bar, session_scope() as session:
            task = bar.add_task("importing", total=len(files))
            report = import_path(
                path,
                session,
                validate=not no_validate,
                strict_codes=not lenient_codes,
                workers=workers,
                progress=lambda name, n: bar.update(task, advance=1, description=name),
                rejects=rejects,
            )
            bar.update(task, completed=len(files))
    except (OperationalError, ProgrammingError) as exc:
        _db_error(exc)
    from rich.table import Table

    table = Table(title=report.patient_summary())
    for col in ("resource", "loaded", "new", "updated", "unchanged"):
        table.add_column(col, justify="left" if col == "resource" else "right")
    for kind, n in sorted(report.loaded.items()):
        table.add_row(
            kind, str(n), str(report.new.get(kind, 0)), str(report.updated.get(kind, 0)),
            str(report.unchanged.get(kind, 0)),
        )
    for kind, n in sorted(report.skipped.items()):
        table.add_row(f"[dim]{kind} (not in the patient model)[/dim]", f"[dim]{n} skipped[/dim]")
    console.print(table)
    for issue in report.errors[:show]:
        err_console.print(f"[red]error[/red] {issue.where()}: {issue.message}")
    for issue in report.warnings[:show]:
        err_console.print(f"[yellow]warning[/yellow] {issue.where()}: {issue.message}")
    console.print(f"errors: {len(report.errors)}  warnings: {len(report.warnings)}")
    if report.reject_file:
        console.print(f"[red]{report.rejected_lines} ndjson line(s) rejected[/red], written to {report.reject_file}")
    if report.errors:
        console.print("[red]import incomplete[/red]: exit code 1")
        raise typer.Exit(1)


def _audited_read(action: str, patient_id: str, reader: Any) -> Any:
    """Read one patient with ``reader`` and audit it (outcome not-found when absent): CLI reads count too.

    The read's transaction ends before the audit event is written, so SQLite never sees a reader
    and a writer of the same process at once.
    """
    from theralab.errors import NotFoundError
    from theralab.privacy import audit
    from theralab.runtime.db import session_scope

    try:
        with session_scope() as session:
            result = reader(session, patient_id)
    except NotFoundError:
        audit.record_cli(action, resource_type="Patient", resource_id=patient_id, patient_id=patient_id,
                         outcome="not-found")
        raise
    audit.record_cli(action, resource_type="Patient", resource_id=patient_id, patient_id=patient_id)
    return result


@app.command()
def export(
    patient_id: str = typer.Argument(..., help="the patient's FHIR id"),
    output: Path = typer.Option(..., "-o", "--output", help="bundle JSON file to write"),
) -> None:
    """Export one patient as a FHIR R4 Bundle (validated)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from theralab.ehr.fhir import export_patient

    try:
        bundle = _audited_read("ehr.export", patient_id, export_patient)
    except (OperationalError, ProgrammingError) as exc:
        _db_error(exc)
    output.write_text(json.dumps(bundle, indent=1))
    console.print(f"wrote {len(bundle['entry'])} resources to {output}")


@app.command()
def patients(
    limit: int = typer.Option(50, help="rows to show"),
    offset: int = typer.Option(0, help="rows to skip"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (full ids, for scripts and 'trials match')"),
) -> None:
    """List patients with their counts of conditions, observations and medications (ids never cut)."""
    from rich.table import Table
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from theralab.ehr.patients import count_patients, list_patients
    from theralab.privacy import audit
    from theralab.runtime.db import session_scope

    try:
        with session_scope() as session:
            rows = list_patients(session, limit=limit, offset=offset)
            total = count_patients(session)
        audit.record_cli("ehr.list", resource_type="Patient", resource_id=f"offset={offset},n={len(rows)}")
    except (OperationalError, ProgrammingError) as exc:
        _db_error(exc)
    if as_json:
        typer.echo(json.dumps({"total": total, "offset": offset, "patients": [
            {"id": p.id, "given": p.given, "family": p.family, "gender": p.gender,
             "birth_date": str(p.birth_date) if p.birth_date else None, "conditions": p.conditions,
             "observations": p.observations, "medications": p.medications} for p in rows]}, indent=1))
        return
    table = Table(title=f"{total} patients")
    table.add_column("id", no_wrap=True, overflow="fold", min_width=max([len(p.id) for p in rows] or [2]))
    for col in ("name", "gender", "birth date", "conditions", "observations", "medications"):
        table.add_column(col, overflow="fold")
    for p in rows:
        name = " ".join(x for x in (p.given, p.family) if x)
        table.add_row(
            p.id,
            name,
            p.gender or "",
            str(p.birth_date or ""),
            str(p.conditions),
            str(p.observations),
            str(p.medications),
        )
    console.print(table)


@app.command()
def synth(
    n: int = typer.Option(100, "-n", help="number of patients"),
    seed: int = typer.Option(1, help="random seed (same seed, same patients)"),
    output: Path = typer.Option(..., "-o", "--output", help=".ndjson (one resource a line) or .json (one Bundle)"),
) -> None:
    """Generate a synthetic cohort as FHIR R4 (ndjson resources, or one Bundle for .json)."""
    from theralab.ehr.synthetic import generate_cohort
    from theralab.errors import InputError

    if n < 0:
        raise InputError(f"-n must be >= 0, got {n}", where="-n")
    count = 0
    with progress_bar() as bar:
        task = bar.add_task("generating", total=n)
        if output.suffix == ".json":
            entries = []
            for bundle in generate_cohort(n, seed):
                entries.extend(bundle["entry"])
                bar.advance(task)
            output.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
            count = len(entries)
        else:
            with output.open("w") as fh:
                for bundle in generate_cohort(n, seed):
                    for entry in bundle["entry"]:
                        fh.write(json.dumps(entry["resource"], separators=(",", ":")) + "\n")
                        count += 1
                    bar.advance(task)
    console.print(f"wrote {n} patients ({count} resources) to {output}")


@app.command()
def show(
    patient_id: str = typer.Argument(..., help="the patient's FHIR id"),
    at: str = typer.Option(None, help="date to judge 'active' and 'latest' at (YYYY-MM-DD; default today)"),
) -> None:
    """Show one patient: demographics, active conditions, latest labs and vitals, medications, genotypes."""

    from rich.table import Table
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from theralab.ehr.patients import as_of, load_patient

    when = as_of(at, "--at")
    try:
        p = _audited_read("ehr.read", patient_id, load_patient)
    except (OperationalError, ProgrammingError) as exc:
        _db_error(exc)
    name = " ".join(x for x in (p.given, p.family) if x)
    console.print(
        f"[bold]{name or p.id}[/bold]  {p.gender or '?'}  born {p.birth_date}  age {p.age_at(when)} at {when}"
    )
    console.print("conditions: " + ("; ".join(c.display or c.code or "?" for c in p.active_conditions(when)) or "none"))
    console.print(
        "medications: " + ("; ".join(m.display or m.code or "?" for m in p.active_medications(when)) or "none")
    )
    table = Table(title="latest observations")
    for col in ("LOINC", "name", "value", "unit", "date"):
        table.add_column(col)
    for code, o in sorted(p.latest_values(when).items()):
        value = f"{o.value:g}" if o.value is not None else (o.value_text or "")
        if not o.unit_ok:
            value = f"{o.value_orig} {o.unit_orig} (unit not convertible)"
        if value:
            table.add_row(
                code, (o.display or "")[:50], value, o.unit or "", str(o.effective.date() if o.effective else "")
            )
    console.print(table)
    for g in p.genotypes:
        console.print(f"{g.gene}: {g.diplotype or '?'}  {g.phenotype or ''}")
