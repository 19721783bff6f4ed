"""``theralab ecg``: analyse an ECG record (WFDB or CSV): beats, heart rate, HRV, quality, rhythm."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console

app = App(
    help="ECG analysis: QRS detection, heart rate, HRV, signal quality, rhythm (AF).", no_args_is_help=True
)


@app.command()
def analyze(
    record: Path = typer.Argument(..., help="WFDB record path without extension (e.g. mitdb/100), or a .csv"),
    output: Path = typer.Option(None, "-o", "--output", help="write the full analysis as JSON"),
    fs: float = typer.Option(None, "--fs", help="sampling rate in Hz (CSV without a time column)"),
    channel: int = typer.Option(0, "--channel", help="WFDB channel"),
    rhythm: bool = typer.Option(True, "--rhythm/--no-rhythm", help="rhythm: whole record 9-61 s, ~30 s windows past"),
    with_peaks: bool = typer.Option(True, "--peaks/--no-peaks", help="include R-peak sample indices in JSON"),
) -> None:
    """Analyse one ECG lead and print a summary (JSON with -o)."""
    from theralab.monitoring.ecg.analysis import analyze as run
    from theralab.monitoring.ecg.analysis import read_ecg

    rec = read_ecg(record, fs=fs, channel=channel)
    with console.status(f"analysing {rec.name} ({rec.signal.size / rec.fs:.0f} s at {rec.fs:g} Hz)"):
        res = run(rec, rhythm=rhythm)
    d = res.to_dict(with_peaks=with_peaks)
    table = Table(title=f"ECG {rec.name} {rec.lead}".strip())
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("duration (s)", f"{d['duration_s']:.1f}")
    table.add_row("beats", str(d["n_beats"]))
    for k, v in d["heart_rate"].items():
        table.add_row(f"heart rate {k}", f"{v:.1f}")
    for k, v in d["hrv"].items():
        table.add_row(f"HRV {k}", f"{v:.2f}")
    table.add_row("usable signal", f"{100 * d['quality']['usable_fraction']:.0f} %")
    rh = d["rhythm"]
    if rh["windows"]:
        how = "whole record" if len(rh["windows"]) == 1 else f"{len(rh['windows'])} windows of ~30 s"
        table.add_row(f"rhythm ({how})", str(rh["overall"]))
        table.add_row("AF burden (share of time)", f"{100 * rh['af_burden']:.0f} %")
        table.add_row("alertable windows", str(len(rh["alerts"])))
    console.print(table)
    for note in d["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")
    if output:
        output.write_text(json.dumps(d, indent=1) + "\n")
        console.print(f"wrote {output}")


@app.command()
def classify(
    folder: Path = typer.Argument(..., help="folder of WFDB records (.hea + .dat/.mat) and/or .csv files"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV to write: one row per record"),
    fs: float = typer.Option(None, "--fs", help="sampling rate for CSV files without a time column"),
) -> None:
    """Rhythm of every record in a folder, one CSV row each (unreadable records get an error cell).

    Example: theralab ecg classify cinc2017/ -o results.csv
    """
    from theralab.cli._common import progress_bar
    from theralab.monitoring.ecg.batch import classify_folder, records_in

    n = len(records_in(folder))
    with progress_bar() as bar:
        task = bar.add_task("classifying", total=n)
        rows = classify_folder(folder, output, fs=fs, progress=lambda name: bar.update(task, advance=1,
                                                                                      description=name))
    counts: dict[str, int] = {}
    for r in rows:
        key = r["rhythm"] or "error"
        counts[key] = counts.get(key, 0) + 1
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) + f"  -> {output}")


@app.command()
def strip(
    record: Path = typer.Argument(..., help="WFDB record path without extension, or a .csv"),
    output: Path = typer.Option(..., "-o", "--output", help="PNG to write"),
    fs: float = typer.Option(None, "--fs", help="sampling rate in Hz (CSV without a time column)"),
    seconds: float = typer.Option(60.0, "--seconds", help="how much of the record to draw (10 s a row)"),
) -> None:
    """Draw the strip: trace, R peaks, rhythm segments (coloured, labelled) and alerts, as a PNG."""
    from theralab.monitoring.ecg import analyze as run
    from theralab.monitoring.ecg import read_ecg
    from theralab.monitoring.ecg.batch import strip_png

    rec = read_ecg(record, fs=fs)
    res = run(rec)
    strip_png(res, rec.signal, output, max_s=seconds)
    console.print(f"wrote {output}")
