"""``/v1/dti`` through the full app: roles, inline and uploaded ranking, bad input as 4xx."""

from __future__ import annotations

import numpy as np
import pytest
import torch

DRUGS = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC"]
TARGETS = ["".join(np.random.default_rng(s).choice(list("ACDEFGHIKLMNPQRSTVWY"), 40)) for s in range(3)]


@pytest.fixture
def dti_api(api, tmp_path):
    from theralab.discovery.dti import DTIData, DTIModel, TrainConfig
    from theralab.models.registry import register_dir

    torch.set_num_threads(1)
    d, t = np.meshgrid(np.arange(4), np.arange(3), indexing="ij")
    data = DTIData(DRUGS, TARGETS, d.ravel(), t.ravel(), (5 + d + t).ravel().astype(np.float32),
                   ["D0", "D1", "D2", "D3"], ["T0", "T1", "T2"], "tiny", "pKd")
    cfg = TrainConfig(model="baseline", members=2, network={"n_estimators": 20, "num_leaves": 4,
                                                            "min_child_samples": 2})
    model, _ = DTIModel.fit(data, np.arange(12), np.arange(0), cfg)
    model.save(tmp_path / "m", name="dti-api-test")
    register_dir(tmp_path / "m")
    return api


def test_rank_inline_and_upload(dti_api):
    headers = dti_api.login("res")
    listed = dti_api.get("/v1/dti/models", headers=headers).json()
    by_name = {m["name"]: m for m in listed}
    assert by_name["dti-api-test"]["kind"] == "baseline" and by_name["dti-api-test"]["origin"] == "user"
    assert by_name["dti-graph-davis"]["origin"] == "package" and by_name["dti-graph-davis"]["unit"] == "pKd"
    body = {"model": "dti-api-test", "target_sequence": f">T1 kinase\n{TARGETS[1]}",
            "smiles": ["CCO", "C1CC", "CCN(CC)CC"], "ids": ["a", "b", "c"]}
    r = dti_api.post("/v1/dti/rank", json=body, headers=headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["target_name"] == "T1" and out["count"] == 3 and out["scored"] == 2 and out["unit"] == "pKd"
    assert out["rows"][-1]["id"] == "b" and out["rows"][-1]["affinity"] is None and "SMILES" in out["rows"][-1]["error"]
    assert out["rows"][0]["affinity"] >= out["rows"][1]["affinity"] and out["rows"][0]["nearest_target"] == "T1"
    files = {"molecules": ("lib.smi", b"CCO ethanol\nc1ccccc1O phenol\n"),
             "target_fasta": ("t.fasta", f">T2\n{TARGETS[2]}\n".encode())}
    r = dti_api.post("/v1/dti/rank/upload", files=files, data={"model": "dti-api-test"}, headers=headers)
    assert r.status_code == 200, r.text
    assert {row["id"] for row in r.json()["rows"]} == {"ethanol", "phenol"} and r.json()["target_name"] == "T2"


def test_bad_input_is_4xx_and_roles_enforced(dti_api):
    headers = dti_api.login("res")
    base = {"model": "dti-api-test", "smiles": ["CCO"]}
    for seq, reason in (("MKV*L", "non-amino-acid"), ("A" * 10_000, "10,000 residues"), ("  ", "empty")):
        r = dti_api.post("/v1/dti/rank", json={**base, "target_sequence": seq}, headers=headers)
        assert r.status_code == 422 and reason in r.json()["message"], r.text
    r = dti_api.post("/v1/dti/rank", json={**base, "target_sequence": "MKVL", "model": "/etc/passwd"}, headers=headers)
    assert r.status_code == 422 and "not a path" in r.json()["message"]
    r = dti_api.post("/v1/dti/rank", json={**base, "target_sequence": "MKVL", "model": "nope"}, headers=headers)
    assert r.status_code == 404
    r = dti_api.post("/v1/dti/rank", json={**base, "target_sequence": "MKVL", "ids": ["a", "b"]}, headers=headers)
    assert r.status_code == 422
    r = dti_api.post("/v1/dti/rank/upload", data={"model": "dti-api-test"},
                     files={"molecules": ("lib.smi", b"CCO\n")}, headers=headers)
    assert r.status_code == 422 and "target_sequence" in r.json()["message"]
    assert dti_api.post("/v1/dti/rank", json={**base, "target_sequence": "MKVL"}).status_code == 401
    r = dti_api.post("/v1/dti/rank", json={**base, "target_sequence": "MKVL"}, headers=dti_api.login("pat"))
    assert r.status_code == 403
