"""``theralab pgx call`` and ``theralab pgx drugs`` through the real CLI app."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from theralab.cli.main import app

DATA = Path(__file__).resolve().parents[1] / "data" / "pgx"
runner = CliRunner()


def test_call_writes_reports(tmp_path: Path) -> None:
    oc = tmp_path / "outside.tsv"
    oc.write_text("CYP2D6\t*1/*4\n")
    out = tmp_path / "rep"
    r = runner.invoke(
        app,
        [
            "pgx",
            "call",
            str(DATA / "two_samples.vcf"),
            "--sample",
            "S1",
            "--outside-calls",
            str(oc),
            "--medications",
            "clopidogrel",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["S1.html", "S1.json", "S1.pdf", "summary.tsv"]
    body = json.loads((out / "S1.json").read_text())
    assert body["genes"]["CYP2C19"]["phenotype"]["phenotype"] == "Intermediate Metabolizer"
    assert body["genes"]["CYP2D6"]["phenotype"]["activity_score"] == "1.0"
    rows = {row["gene"]: row for row in csv.DictReader((out / "summary.tsv").open(), delimiter="\t")}
    assert rows["TPMT"]["diplotype"] == "*3B/*3C" and rows["TPMT"]["phenotype"] == "Poor Metabolizer"
    assert rows["CYP2C9"]["status"] == "not called" and rows["CYP2C9"]["phenotype"] == "No Result"
    html = (out / "S1.html").read_text()
    assert "clopidogrel" in html and "http://" not in html.replace("https://www.pharmgkb.org", "")
    assert "<script" not in html
    assert html.count('<section class="act">') == sum(r["actionable"] for r in body["recommendations"]) > 0


def test_call_all_samples_summary(tmp_path: Path) -> None:
    r = runner.invoke(app, ["pgx", "call", str(DATA / "two_samples.vcf.gz"), "--all-samples", "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    rows = [
        (x["sample"], x["diplotype"])
        for x in csv.DictReader((tmp_path / "summary.tsv").open(), delimiter="\t")
        if x["gene"] == "CYP2C19"
    ]
    assert rows == [("S1", "*2/*17"), ("S2", "*2/*2")]


def test_multisample_without_sample_exits_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["pgx", "call", str(DATA / "two_samples.vcf"), "-o", str(tmp_path)])
    assert r.exit_code == 2
    assert "2 samples" in r.output and "--sample" in r.output


def test_drugs() -> None:
    r = runner.invoke(app, ["pgx", "drugs", "--gene", "CYP2C19"])
    assert r.exit_code == 0, r.output
    assert "clopidogrel" in r.output and "14 drugs" in r.output


def test_drug_view_from_saved_report(tmp_path: Path) -> None:
    r = runner.invoke(app, ["pgx", "call", str(DATA / "two_samples.vcf"), "--sample", "S2", "-o", str(tmp_path)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["pgx", "drug", "clopidogrel", "--report", str(tmp_path / "S2.json")])
    assert r.exit_code == 0, r.output
    assert "CYP2C19: *2/*2 (Poor Metabolizer)" in r.output
    assert "ACTION" in r.output and "Avoid clopidogrel if possible" in r.output
    r = runner.invoke(app, ["pgx", "drug", "clopidogrel", "--report", str(tmp_path / "summary.tsv")])
    assert r.exit_code == 2 and "not JSON" in r.output


def test_cli_says_gene_not_determined_and_doses_warfarin(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    r = runner.invoke(
        app,
        ["pgx", "call", str(DATA / "two_samples.vcf"), "--sample", "S1", "--medications", "codeine", "-o", str(out)],
    )
    assert r.exit_code == 0, r.output
    assert "codeine: gene not determined" in r.output and "no change" not in r.output
    d = runner.invoke(app, ["pgx", "drug", "codeine", "--report", str(out / "S1.json")])
    assert "gene not determined" in d.output and "no change" not in d.output
    w = runner.invoke(
        app, ["pgx", "warfarin", "--report", str(out / "S1.json"), "--age", "65", "--height", "170", "--weight", "80"]
    )
    # VKORC1 and CYP2C9 are not called in this fixture: IWPC's unknown terms, 5.8348^2 = 34.0 mg/week
    assert w.exit_code == 0, w.output
    assert "34.0 mg/week" in w.output and "not determined" in w.output
