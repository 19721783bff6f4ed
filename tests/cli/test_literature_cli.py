"""``theralab literature extract|load|query|export|stats`` through the real CLI app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


def test_extract_load_query_export(tl_env, tmp_path, test_data):
    src = test_data / "literature"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cdr.pubtator").write_text((src / "cdr_dev_mini.PubTator.txt").read_text())
    (tmp_path / "in" / "genes.json").write_text((src / "genes_mini.bioc.json").read_text())
    (tmp_path / "in" / "broken.xml").write_text("<PubmedArticleSet><oops")
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["literature", "extract", str(tmp_path / "in"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "7 documents" in r.output and "1 skipped" in r.output and "malformed XML" in r.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 7
    rel = next(r for d in lines for r in d["relations"] if r["type"] == "CID")
    assert rel["sentence"] and rel["evidence"]
    bioc = tmp_path / "out.json"
    r = runner.invoke(app, ["literature", "extract", str(src / "genes_mini.bioc.json"), "-o", str(bioc)])
    assert r.exit_code == 0, r.output
    coll = json.loads(bioc.read_text())
    assert coll["documents"][0]["passages"][1]["annotations"][0]["locations"][0]["offset"] > 0

    r = runner.invoke(app, ["literature", "load", str(tmp_path / "in")])
    assert r.exit_code == 0 and "7 documents" in r.output
    r = runner.invoke(app, ["literature", "query", "targets", "lung cancer", "--json"])
    assert r.exit_code == 0, r.output
    assert {row["id"] for row in json.loads(r.output)} == {"HGNC:EGFR", "HGNC:KRAS"}
    r = runner.invoke(app, ["literature", "query", "drugs", "EGFR", "--json"])
    assert r.exit_code == 0 and "Gefitinib" in {row["name"] for row in json.loads(r.output)}
    r = runner.invoke(app, ["literature", "query", "drugs", "EGFR"])
    assert r.exit_code == 0 and "Chemicals linked to EGFR" in r.output
    r = runner.invoke(app, ["literature", "query", "connect", "olanzapine", "hypomania", "--evidence"])
    assert r.exit_code == 0 and "induced by olanzapine" in r.output
    r = runner.invoke(app, ["literature", "query", "targets", "no-such-disease"])
    assert r.exit_code == 2 and "no Gene named" not in r.output and "no entity named" in r.output
    gml = tmp_path / "g.graphml"
    assert runner.invoke(app, ["literature", "export", "-o", str(gml)]).exit_code == 0
    assert "<graphml" in gml.read_text()
    assert runner.invoke(app, ["literature", "export", "-o", str(tmp_path / "g.pdf")]).exit_code == 2
    r = runner.invoke(app, ["literature", "stats"])
    assert r.exit_code == 0 and '"documents": 7' in r.output


def test_help_teaches():
    r = runner.invoke(app, ["literature", "--help"])
    assert r.exit_code == 0 and "query targets" in r.output and "extract" in r.output
    r = runner.invoke(app, ["literature", "extract", "--help"])
    assert "PubMed XML" in r.output and "BioC" in r.output


def test_load_sample(tl_env):
    r = runner.invoke(app, ["literature", "load", "--sample"])
    assert r.exit_code == 0 and "8 documents" in r.output
    r = runner.invoke(app, ["literature", "query", "targets", "lung cancer", "--json"])
    assert [row["name"] for row in json.loads(r.output)] == ["EGFR", "KRAS"]
    assert runner.invoke(app, ["literature", "load"]).exit_code == 2
