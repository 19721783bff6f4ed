"""``theralab trials criteria parse`` and ``/v1/trials/criteria`` on real criteria text."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from theralab.api.routes.criteria import router
from theralab.cli.trials.criteria import app
from theralab.trials.criteria import Criteria

TEXT = "Inclusion Criteria:\n- Age >= 18 years\n- Type 2 diabetes mellitus\nExclusion Criteria:\n- Pregnancy\n"


def test_cli_parses_a_file_and_applies_a_correction(tmp_path):
    src = tmp_path / "crit.txt"
    src.write_text(TEXT)
    out = tmp_path / "parse.json"
    runner = CliRunner()
    res = runner.invoke(app, ["parse", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    crit = Criteria.model_validate_json(out.read_text())
    assert [c.kind for c in crit.criteria] == ["inclusion", "inclusion", "exclusion"]
    assert crit.age.min_years == 18.0
    fix = tmp_path / "fix.json"
    fix.write_text(json.dumps({"author": "me", "edits": [{"op": "delete_criterion", "criterion_id": "exc-1"}]}))
    res = runner.invoke(app, ["parse", str(src), "--correction", str(fix)])
    assert res.exit_code == 0, res.output
    fixed = Criteria.model_validate_json(res.stdout[res.stdout.index("{"):])
    assert [c.id for c in fixed.criteria] == ["inc-1", "inc-2"] and fixed.corrections[0].author == "me"


def test_cli_reads_a_chia_trial_and_reports_bad_input(shared_data, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["parse", "NCT00050349", "--chia-dir", str(shared_data / "trials" / "chia"), "--table"])
    assert res.exit_code == 0, res.output
    assert "NCT00050349: 6 inclusion, 13 exclusion" in res.stdout
    res = runner.invoke(app, ["parse", "nct00050349", "--chia-dir", str(shared_data / "trials" / "chia")])
    crit = Criteria.model_validate_json(res.stdout[res.stdout.index("{"):])
    assert crit.trial_id == "NCT00050349"
    assert any(k.code == "1975-2" for c in crit.criteria for e in c.entities for k in e.codes)
    res = runner.invoke(app, ["parse", "not-a-file-or-id"])
    assert res.exit_code == 2 and "neither a file nor an NCT id" in res.output
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    res = runner.invoke(app, ["parse", str(empty)])
    assert res.exit_code == 2 and "empty" in res.output


def _mount(api) -> None:
    if not any(getattr(r, "path", "") == "/v1/trials/criteria/parse" for r in api.app.routes):
        api.app.include_router(router, prefix="/v1")


def test_api_parse_and_correct(api):
    _mount(api)
    assert api.post("/v1/trials/criteria/parse", json={"text": TEXT}).status_code == 401
    headers = api.login("pat")  # any logged-in user: criteria are not patient data
    res = api.post("/v1/trials/criteria/parse", json={"text": TEXT, "trial_id": "T1"}, headers=headers)
    assert res.status_code == 200, res.text
    crit = Criteria.model_validate(res.json())
    assert crit.trial_id == "T1" and len(crit.exclusion()) == 1
    res = api.post("/v1/trials/criteria/correct", headers=headers, json={
        "criteria": res.json(), "correction": {"edits": [{"op": "update_criterion", "criterion_id": "exc-1",
                                                         "values": {"note": "checked"}}]}})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["criteria"][-1]["note"] == "checked" and body["corrections"][0]["author"] == "pat"


def test_api_bad_input_is_a_clear_422(api):
    _mount(api)
    headers = api.login("res")
    res = api.post("/v1/trials/criteria/parse", json={"text": "   "}, headers=headers)
    assert res.status_code == 422 and res.json()["error"] == "InputError" and res.json()["where"] == "text"
    res = api.post("/v1/trials/criteria/parse", json={"text": "x", "extra": 1}, headers=headers)
    assert res.status_code == 422
