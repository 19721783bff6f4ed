"""Batch rhythm classification of a folder of ECG records, and a picture of one strip.

Why: a user with a folder of recordings wants one table (record, rhythm, AF burden, beats, notes)
without a script, and a clinician trusts a label more when the strip, its beats and the rhythm
segments are in front of them. Both reuse :func:`theralab.monitoring.ecg.analyze` so the numbers are
those of ``theralab ecg analyze``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from theralab.errors import InputError, TheralabError
from theralab.monitoring.ecg import ECGAnalysis, analyze, read_ecg

CSV_COLUMNS = (
    "record", "duration_s", "rhythm", "af_burden", "windows", "n_beats", "mean_bpm", "usable_fraction", "alerts",
    "error", "notes",
)
#: colours of the rhythm segments on a strip
COLOURS = {"N": "#2e7d32", "A": "#c62828", "O": "#ef6c00", "~": "#757575"}


def records_in(folder: str | Path) -> list[Path]:
    """WFDB records (by their .hea) and CSV files in ``folder``, sorted; record paths without extension."""
    d = Path(folder)
    if not d.is_dir():
        raise InputError(
            "not a folder", where=str(d), hint="give a folder of .hea/.dat (or .mat) records or .csv files"
        )
    out = [p.with_suffix("") for p in sorted(d.glob("*.hea"))] + sorted(d.glob("*.csv"))
    if not out:
        raise InputError("no ECG records in the folder", where=str(d), hint="expected .hea (WFDB) or .csv files")
    return out


def classify_one(path: Path, fs: float | None = None, channel: int = 0) -> dict[str, Any]:
    """One CSV row: the record's rhythm, or the reason it could not be read (the batch goes on)."""
    row: dict[str, Any] = dict.fromkeys(CSV_COLUMNS, "")
    row["record"] = path.name
    try:
        d = analyze(read_ecg(path, fs=fs, channel=channel)).to_dict(with_peaks=False)
    except TheralabError as exc:
        row["error"] = exc.message
        return row
    rh = d["rhythm"]
    row.update(
        duration_s=d["duration_s"], rhythm=rh["overall"] or "too short", windows=len(rh["windows"]),
        af_burden="" if rh["af_burden"] is None else rh["af_burden"], n_beats=d["n_beats"],
        mean_bpm=d["heart_rate"].get("mean_bpm", ""), usable_fraction=d["quality"]["usable_fraction"],
        alerts=len(rh["alerts"]), notes=" | ".join(d["notes"]),
    )
    return row


def classify_folder(
    folder: str | Path, out_csv: str | Path, fs: float | None = None, progress: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """Classify every record of ``folder`` into ``out_csv``; unreadable records get an ``error`` cell."""
    rows = []
    with Path(out_csv).open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for path in records_in(folder):
            row = classify_one(path, fs=fs)
            w.writerow(row)
            rows.append(row)
            if progress is not None:
                progress(path.name)
    return rows


def _spans(res: ECGAnalysis) -> Iterator[tuple[float, float, str, str, bool]]:
    alert_starts = {a["start_s"] for a in res.alertable}
    for w in res.rhythm:
        yield w["start_s"], w["end_s"], w["label"], w["name"], w["start_s"] in alert_starts


def strip_png(res: ECGAnalysis, signal: np.ndarray, out: str | Path, max_s: float = 60.0) -> Path:
    """A PNG of the first ``max_s`` seconds: the trace, R peaks, rhythm segments and alerts, 10 s a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fs = res.fs
    end = min(signal.size / fs, max_s)
    rows = max(1, int(np.ceil(end / 10)))
    fig, axes = plt.subplots(rows, 1, figsize=(12, 1.9 * rows + 0.6), squeeze=False)
    t = np.arange(signal.size) / fs
    for k, ax in enumerate(axes[:, 0]):
        a, b = 10 * k, min(10 * (k + 1), end)
        sl = slice(int(a * fs), int(b * fs))
        for s, e, lab, name, alert in _spans(res):
            if e > a and s < b:
                ax.axvspan(max(s, a), min(e, b), color=COLOURS[lab], alpha=0.12)
                if min(e, b) - max(s, a) < 1.5:
                    continue  # a sliver at a row edge: its label sits on the neighbouring row
                ax.text(max(s, a) + 0.05, 0.97, name + ("  ALERT" if alert else ""), transform=ax.get_xaxis_transform(),
                        va="top", fontsize=8, color=COLOURS[lab], fontweight="bold" if alert else "normal")
        ax.plot(t[sl], signal[sl], lw=0.7, color="black")
        pk = res.r_peaks[(res.r_peaks >= sl.start) & (res.r_peaks < sl.stop)]
        ax.plot(pk / fs, signal[pk], "v", ms=4, color="#1565c0", label="R peak" if k == 0 else None)
        ax.set_xlim(a, a + 10)
        ax.set_ylabel("mV")
    axes[-1, 0].set_xlabel("time (s)")
    summary = res.to_dict(with_peaks=False)["rhythm"]
    title = f"{res.name or 'ECG'}: {res.r_peaks.size} beats"
    if summary["overall"]:
        title += f", rhythm {summary['overall']}, AF burden {100 * summary['af_burden']:.0f} %"
    axes[0, 0].set_title(title, fontsize=10, loc="left")
    axes[0, 0].legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
