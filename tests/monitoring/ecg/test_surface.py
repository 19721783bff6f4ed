"""ECG surface (issue 19): clean errors for damaged records, whole-record rhythm from 9 s with windows
and a burden past 61 s, spelled labels, batch classification and a strip picture."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from theralab.errors import InputError
from theralab.monitoring.ecg import analyze, read_wfdb, rhythm_segments


def _copy_record(shared_data: Path, tmp: Path, name: str = "100") -> Path:
    src = shared_data / "monitoring" / "mitdb" / name
    for ext in (".hea", ".dat"):
        shutil.copy(str(src) + ext, tmp / f"{name}{ext}")
    return tmp / name


def _csv(path: Path, x: np.ndarray, fs: float) -> Path:
    t = np.arange(x.size) / fs
    path.write_text("time,ecg\n" + "\n".join(f"{a:.5f},{b:.4f}" for a, b in zip(t, x, strict=True)))
    return path


def test_truncated_missing_and_mismatched_signal_files(shared_data, tmp_path):
    rec = _copy_record(shared_data, tmp_path)
    dat = rec.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:100_000])
    with pytest.raises(InputError, match="truncated") as e:
        read_wfdb(rec)
    # two signals in format 212: 3 bytes per sample frame, so 100,000 bytes hold 33,333 frames
    assert "100.dat" in e.value.where and "33,333 of the 650,000 samples" in e.value.message
    dat.unlink()
    with pytest.raises(InputError, match="missing"):
        read_wfdb(rec)
    dat.write_bytes(b"\0" * 3_000_000)  # another record's signal file
    with pytest.raises(InputError, match="does not match its header"):
        read_wfdb(rec)


def test_rhythm_segments_cover_the_record():
    assert rhythm_segments(int(5 * 300), 300) == []
    assert rhythm_segments(int(54 * 300), 300) == [(0, 54 * 300)]  # whole record, tail kept
    segs = rhythm_segments(int(75 * 300), 300)
    assert segs == [(0, 11250), (11250, 22500)]  # two 37.5 s windows, nothing lost
    long = rhythm_segments(int(3600 * 250), 250)
    assert len(long) == 120 and long[-1][1] == 3600 * 250 and min(b - a for a, b in long) >= 9 * 250


def test_whole_record_rhythm_spelled_and_short_note(shared_data):
    import wfdb

    x = wfdb.rdrecord(str(shared_data / "monitoring" / "mitdb" / "100"), channels=[0], sampto=54 * 360).p_signal[:, 0]
    d = analyze(x, 360).to_dict(with_peaks=False)
    rh = d["rhythm"]
    assert len(rh["windows"]) == 1 and rh["windows"][0]["end_s"] == pytest.approx(54.0)
    assert rh["overall"] == "Normal" and rh["windows"][0]["name"] == "Normal" and rh["af_burden"] == 0.0
    short = analyze(x[: 5 * 360], 360).to_dict(with_peaks=False)
    assert short["rhythm"]["windows"] == [] and short["rhythm"]["overall"] is None
    assert any("too short for rhythm" in n and "9 s" in n for n in short["notes"])


def test_batch_classify_cli_and_strip(shared_data, tmp_path):
    import wfdb

    from theralab.cli.main import app

    folder = tmp_path / "records"
    folder.mkdir()
    # MIT-BIH 103, first 30 s: sinus rhythm without ectopy (as in test_ecg.py)
    x = wfdb.rdrecord(str(shared_data / "monitoring" / "mitdb" / "103"), channels=[0], sampto=30 * 360).p_signal[:, 0]
    _csv(folder / "a_sinus.csv", x, 360)
    bad = _copy_record(shared_data, folder, "101")
    bad.with_suffix(".dat").write_bytes(b"\0" * 1000)
    out = tmp_path / "results.csv"
    r = CliRunner().invoke(app, ["ecg", "classify", str(folder), "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = {row["record"]: row for row in csv.DictReader(out.open())}
    assert rows["a_sinus.csv"]["rhythm"] == "Normal" and rows["a_sinus.csv"]["error"] == ""
    assert rows["101"]["rhythm"] == "" and "truncated" in rows["101"]["error"]
    png = tmp_path / "strip.png"
    r = CliRunner().invoke(app, ["ecg", "strip", str(folder / "a_sinus.csv"), "-o", str(png)])
    assert r.exit_code == 0, r.output
    from matplotlib.image import imread

    img = imread(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and img.shape[1] == 12 * 90 and img.shape[0] > 3 * 90
    # a truncated record through the analyse command: a red message and exit 2, not a traceback
    r = CliRunner().invoke(app, ["ecg", "analyze", str(bad)])
    assert r.exit_code == 2 and "truncated" in r.output and "Traceback" not in r.output
