"""Readers: TOP CSV cells (Python list literals), ClinicalTrials.gov v2 records, strict draft protocols."""

from __future__ import annotations

import json

import pytest

from theralab.errors import InputError
from theralab.trials.outcome import ctgov_record, parse_protocol, read_ctgov_json, read_top_csv
from theralab.trials.outcome.readers import top_row

ROW = {"nctid": "NCT01187615", "status": "terminated", "why_stop": "slow accrual", "label": "0", "phase": "phase 1",
       "diseases": "['small cell lung carcinoma', 'nsclc']",
       "icdcodes": "[\"['D02.20', 'D02.21']\", \"['C34.90']\"]",
       "drugs": "['regorafenib', 'cisplatin']", "smiless": "['CCO']", "criteria": "Inclusion Criteria:\n- Age >= 18"}


def test_top_row_unpacks_nested_code_lists_and_aligns_drugs():
    rec = top_row(ROW)
    assert rec.icd_codes == ["D02.20", "D02.21", "C34.90"]
    assert [d.name for d in rec.drugs] == ["regorafenib", "cisplatin"]
    assert rec.drugs[0].smiles == "CCO" and rec.drugs[1].smiles is None  # fewer SMILES than drugs: no structure
    assert rec.label == 0 and rec.phase == "phase 1" and rec.why_stop == "slow accrual"


def test_top_csv_keeps_good_rows_and_lists_bad_ones(tmp_path):
    import pandas as pd

    bad = {**ROW, "nctid": "NCT2", "drugs": "['unclosed"}
    weird_phase = {**ROW, "nctid": "NCT3", "phase": "phase 9"}
    pd.DataFrame([ROW, bad, weird_phase]).to_csv(tmp_path / "t.csv", index=False)
    res = read_top_csv(tmp_path / "t.csv")
    assert [r.nct_id for r in res.records] == ["NCT01187615"]
    assert len(res.bad) == 2
    assert "row 3" in res.bad[0]["where"] and "list" in res.bad[0]["why"]
    assert "phase" in res.bad[1]["why"]


def test_top_csv_without_its_columns_is_refused(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="lacks the TOP column"):
        read_top_csv(tmp_path / "x.csv")


def test_ctgov_v2_record(test_data):
    data = json.loads((test_data / "trials" / "outcome_ctgov_v2.json").read_text())
    rec = ctgov_record(data, smiles={"glucophage": "CN(C)C(=N)N=C(N)N"}, icd_codes=["E11.9"])
    assert rec.nct_id == "NCT99000001" and rec.phase == "phase 1/phase 2"
    assert rec.enrollment == 120 and rec.arms == 2
    assert rec.duration_months == pytest.approx(547 / 30.4375, abs=0.01)  # 2019-01-01 .. 2020-07-01
    assert [d.name for d in rec.drugs] == ["Metformin", "Placebo"]  # the behavioural arm is not a drug
    assert rec.drugs[0].smiles == "CN(C)C(=N)N=C(N)N" and rec.drugs[1].smiles is None
    assert rec.status == "terminated" and rec.why_stop == "Slow accrual" and rec.label is None
    assert "HbA1c" in rec.criteria


def test_ctgov_unknown_top_level_field_and_missing_phase(test_data):
    data = json.loads((test_data / "trials" / "outcome_ctgov_v2.json").read_text())
    with pytest.raises(InputError, match="unknown top-level") as exc:
        ctgov_record({**data, "protocolSectoin": {}})
    assert exc.value.where == "record.protocolSectoin"
    no_phase = json.loads(json.dumps(data))
    no_phase["protocolSection"]["designModule"]["phases"] = ["NA"]
    with pytest.raises(InputError, match="no drug-trial phase"):
        ctgov_record(no_phase)


def test_ctgov_file_of_studies_keeps_good_ones(tmp_path, test_data):
    data = json.loads((test_data / "trials" / "outcome_ctgov_v2.json").read_text())
    (tmp_path / "page.json").write_text(json.dumps({"studies": [data, {"protocolSection": {}}]}))
    res = read_ctgov_json(tmp_path / "page.json")
    assert len(res.records) == 1 and len(res.bad) == 1 and "nctId" in res.bad[0]["why"]


def test_protocol_unknown_fields_are_refused_not_ignored():
    with pytest.raises(InputError, match="unknown field") as exc:
        parse_protocol({"nct_id": "draft", "phase": "phase 2", "enrolment": 100})
    assert exc.value.where == "protocol.enrolment"
    with pytest.raises(InputError, match="unknown field"):
        parse_protocol({"nct_id": "draft", "phase": "phase 2", "drugs": [{"name": "x", "smile": "C"}]})
    with pytest.raises(InputError) as exc:
        parse_protocol({"nct_id": "draft", "phase": "phase 2", "enrollment": -3})
    assert exc.value.where == "protocol.enrollment"
    assert parse_protocol({"nct_id": "d", "phase": "PHASE2"}).phase == "phase 2"


def test_reads_every_top_phase_i_training_row(shared_data):
    path = shared_data / "trials" / "top" / "phase_I_train.csv"
    if not path.exists():
        pytest.skip(f"{path} absent")
    res = read_top_csv(path)
    assert len(res.records) == 1044 and res.bad == []
    assert sum(r.label for r in res.records) == 592  # 56.7 % successes, as counted with pandas
