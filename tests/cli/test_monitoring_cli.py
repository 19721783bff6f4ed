"""``theralab ews`` and ``theralab ecg`` through the real CLI app."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


def test_ews_news2_table_json_and_fhir():
    args = ["ews", "news2", "--rr", "21", "--spo2", "93", "--sbp", "120", "--pulse", "95", "--temp", "37.5"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "NEWS2 = 5 (medium)" in r.stdout
    r = runner.invoke(app, [*args, "--json"])
    d = json.loads(r.stdout)
    assert d["total"] == 5 and d["parameters"]["respiration_rate"] == 2 and d["parameters"]["spo2"] == 2
    r = runner.invoke(app, [*args, "--oxygen", "--scale", "2", "--fhir"])
    obs = json.loads(r.stdout)
    # rr 21 (2), SpO2 93 on oxygen on scale 2 (1), oxygen (2), pulse 95 (1)
    assert obs["resourceType"] == "Observation" and obs["valueInteger"] == 2 + 1 + 2 + 1


def test_ews_news2_impossible_value_is_a_clear_error():
    r = runner.invoke(
        app, ["ews", "news2", "--rr", "16", "--spo2", "120", "--sbp", "120", "--pulse", "70", "--temp", "37"]
    )
    assert r.exit_code == 2
    assert "spo2" in r.output and "40..100" in r.output


def test_ews_qsofa_and_mews():
    r = runner.invoke(app, ["ews", "qsofa", "--rr", "24", "--sbp", "95", "--json"])
    assert json.loads(r.stdout)["total"] == 2
    r = runner.invoke(
        app, ["ews", "mews", "--rr", "31", "--sbp", "75", "--pulse", "135", "--temp", "38.5", "--acvpu", "V", "--json"]
    )
    assert json.loads(r.stdout)["total"] == 11


def test_ews_csv_mode_keeps_bad_rows_aside(tmp_path: Path):
    src = tmp_path / "obs.csv"
    src.write_text(
        "patient,rr,spo2,on_oxygen,sbp,hr,acvpu,temp_c\n"
        "a,16,98,False,120,70,A,37.0\n"
        "b,26,91,True,88,125,V,39.4\n"
        "c,16,98,False,120,400,A,37.0\n"
    )
    out = tmp_path / "scored.csv"
    r = runner.invoke(app, ["ews", "csv", str(src), "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open()))
    assert [x["news2"] for x in rows] == ["0", "18", ""]
    assert rows[1]["band"] == "high" and "pulse" in rows[2]["error"] and "row 4" in rows[2]["error"]


def test_ecg_analyze_wfdb_record(shared_data, tmp_path: Path):
    import wfdb

    # a 60 s excerpt of MIT-BIH 103 (sinus rhythm, 70 beats) as a new WFDB record (keeps the test to seconds)
    src = wfdb.rdrecord(str(shared_data / "monitoring" / "mitdb" / "103"), channels=[0], sampto=60 * 360)
    wfdb.wrsamp(
        "ex100", fs=360, units=["mV"], sig_name=["MLII"], p_signal=src.p_signal, fmt=["212"], write_dir=str(tmp_path)
    )
    out = tmp_path / "out.json"
    r = runner.invoke(app, ["ecg", "analyze", str(tmp_path / "ex100"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(out.read_text())
    assert d["n_beats"] == 70 and d["rhythm"]["majority"] == "N" and d["rhythm"]["af_burden"] == 0
    assert d["quality"]["usable_fraction"] == 1.0 and len(d["r_peaks"]) == d["n_beats"]
    r = runner.invoke(app, ["ecg", "analyze", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "no WFDB header" in r.output
