"""``theralab ews``: early-warning scores (NEWS2, qSOFA, MEWS) for one patient or a CSV of rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from theralab.cli._common import App, console
from theralab.errors import InputError

app = App(help="Early-warning scores: NEWS2 (RCP 2017), qSOFA, MEWS.", no_args_is_help=True)

# CSV header aliases -> VitalSigns field
ALIASES = {
    "rr": "respiration_rate",
    "resp_rate": "respiration_rate",
    "respiration_rate": "respiration_rate",
    "spo2": "spo2",
    "on_oxygen": "on_oxygen",
    "oxygen": "on_oxygen",
    "o2": "on_oxygen",
    "sbp": "systolic_bp",
    "systolic": "systolic_bp",
    "systolic_bp": "systolic_bp",
    "pulse": "pulse",
    "hr": "pulse",
    "heart_rate": "pulse",
    "acvpu": "consciousness",
    "consciousness": "consciousness",
    "avpu": "consciousness",
    "temp": "temperature",
    "temp_c": "temperature",
    "temperature": "temperature",
    "spo2_scale": "spo2_scale",
    "scale": "spo2_scale",
}
TRUE = {"1", "true", "yes", "y", "t", "o2", "oxygen"}


def _print(res, as_json: bool, fhir: bool) -> None:
    if fhir:
        console.print_json(json.dumps(res.to_fhir_observation()))
        return
    if as_json:
        console.print_json(json.dumps(res.to_dict()))
        return
    table = Table(title=f"{res.name} = {res.total} ({res.band})")
    table.add_column("parameter")
    table.add_column("score", justify="right")
    for k, v in res.parameters.items():
        table.add_row(k.replace("_", " "), str(v))
    console.print(table)
    for k, v in res.response.items():
        console.print(f"[bold]{k}:[/bold] {v}")


#: The vital signs the three scores share, one definition each.
RR = Annotated[float, typer.Option("--rr", help="respiration rate, /min")]
SBP = Annotated[float, typer.Option("--sbp", help="systolic blood pressure, mmHg")]
PULSE = Annotated[float, typer.Option("--pulse", "--hr", help="pulse, /min")]
TEMP = Annotated[float, typer.Option("--temp", help="temperature, degrees C")]
ACVPU = Annotated[str, typer.Option("--acvpu", help="A, C (new confusion), V, P or U")]
AS_JSON = Annotated[bool, typer.Option("--json", help="print JSON")]


def _vitals(rr: float, spo2: float, sbp: float, pulse: float, temp: float, acvpu: str, **more: object) -> dict:
    """The observations as the scores read them (VitalSigns field names)."""
    return {"respiration_rate": rr, "spo2": spo2, "systolic_bp": sbp, "pulse": pulse, "temperature": temp,
            "consciousness": acvpu, **more}


@app.command()
def news2(
    rr: RR,
    spo2: Annotated[float, typer.Option("--spo2", help="SpO2, %")],
    sbp: SBP,
    pulse: PULSE,
    temp: TEMP,
    acvpu: ACVPU = "A",
    oxygen: bool = typer.Option(False, "--oxygen/--air", help="on supplemental oxygen"),
    scale: int = typer.Option(1, "--scale", help="SpO2 scale 1, or 2 for prescribed 88-92 % target"),
    as_json: AS_JSON = False,
    fhir: bool = typer.Option(False, "--fhir", help="print a FHIR R4 Observation"),
) -> None:
    """NEWS2 for one set of observations."""
    from theralab.monitoring.ews import news2 as score

    _print(score(_vitals(rr, spo2, sbp, pulse, temp, acvpu, on_oxygen=oxygen, spo2_scale=scale)), as_json, fhir)


@app.command()
def mews(rr: RR, sbp: SBP, pulse: PULSE, temp: TEMP, acvpu: ACVPU = "A", as_json: AS_JSON = False) -> None:
    """Modified Early Warning Score (Subbe 2001)."""
    from theralab.monitoring.ews import mews as score

    _print(score(_vitals(rr, 98, sbp, pulse, temp, acvpu)), as_json, False)


@app.command()
def qsofa(
    rr: RR,
    sbp: SBP,
    altered: bool = typer.Option(False, "--altered-mentation/--alert", help="GCS < 15"),
    as_json: AS_JSON = False,
) -> None:
    """quick SOFA (Sepsis-3)."""
    from theralab.monitoring.ews import qsofa as score

    _print(score(rr, sbp, altered), as_json, False)


@app.command("csv")
def csv_mode(
    path: Path = typer.Argument(..., help="CSV with rr, spo2, sbp, pulse, temp (and acvpu, on_oxygen, spo2_scale)"),
    output: Path = typer.Option(None, "-o", "--output", help="write scored rows here (CSV)"),
) -> None:
    """Score every row of a CSV; rows with impossible values are kept aside with the reason."""
    from theralab.monitoring.ews import NEWS2_PARAMETERS
    from theralab.monitoring.ews import news2 as score

    if not path.is_file():
        raise InputError(f"no such file {path}", where=str(path))
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise InputError("CSV has no rows", where=str(path))
    out_rows, errors = [], 0
    for i, row in enumerate(rows, start=2):
        data: dict[str, object] = {}
        for k, v in row.items():
            field = ALIASES.get((k or "").strip().lower())
            if field is None or v is None or v.strip() == "":
                continue
            data[field] = v.strip().lower() in TRUE if field == "on_oxygen" else v.strip()
        rec = dict(row)
        try:
            res = score(_coerce(data, f"{path.name}: row {i}"))
            rec.update({"news2": res.total, "band": res.band, "error": ""})
            rec.update({f"{p}_score": res.parameters[p] for p in NEWS2_PARAMETERS})
        except InputError as exc:
            errors += 1
            rec.update({"news2": "", "band": "", "error": str(exc)})
        out_rows.append(rec)
    table = Table(title=f"NEWS2 for {len(rows)} rows ({errors} rejected)")
    for col in ("row", "news2", "band", "error"):
        table.add_column(col)
    for i, r in enumerate(out_rows[:50], start=2):
        table.add_row(str(i), str(r["news2"]), r["band"], r["error"][:80])
    console.print(table)
    if output:
        cols = list(dict.fromkeys(k for r in out_rows for k in r))
        with output.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(out_rows)
        console.print(f"wrote {output}")


def _coerce(data: dict[str, object], where: str) -> dict[str, object]:
    from theralab.monitoring.ews import VitalSigns

    out = dict(data)
    for k in ("respiration_rate", "spo2", "systolic_bp", "pulse", "temperature", "spo2_scale"):
        if k in out:
            try:
                out[k] = float(out[k])  # type: ignore[arg-type]
                if k == "spo2_scale":
                    out[k] = int(out[k])  # type: ignore[call-overload]
            except ValueError:
                raise InputError(f"{k}={out[k]!r} is not a number", where=f"{where}.{k}") from None
    return VitalSigns.parse(out, where=where).model_dump()
