"""Save / load with checksums, ranking with uncertainty and domain, binding a target, and the
screening pipeline scoring molecules with a bound DTI model (no change to the screening code)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from theralab.discovery.dti import DTIModel, TrainConfig, bind_model, load_dti
from theralab.errors import InputError, ModelError
from theralab.models.base import load_predictor

NET = {"hidden": 8, "layers": 2, "out": 8, "protein": "kmer", "head": [16]}


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory):
    torch.set_num_threads(1)
    rows = np.arange(len(tiny))
    cfg = TrainConfig(model="graph", epochs=8, batch_size=12, lr=5e-3, members=2, network=NET)
    model, _ = DTIModel.fit(tiny, rows[:18], rows[18:], cfg)
    out = tmp_path_factory.mktemp("dti") / "model"
    model.save(out, name="dti-tiny", metrics={"ci": 0.5}, retrain="pytest")
    return model, out


def test_save_load_roundtrip_and_checksums(tiny, trained):
    model, out = trained
    card = json.loads((out / "model.json").read_text())
    assert card["loader"] == "theralab.discovery.dti.predictor:load_dti" and set(card["weights"]) == {
        "weights.pt", "domain.json"}
    again = load_dti(out)
    smiles, seqs = tiny.drugs[:3], [tiny.targets[0]] * 3
    a, b = model.predict_pairs(smiles, seqs), again.predict_pairs(smiles, seqs)
    assert np.allclose(a["affinity"], b["affinity"], atol=1e-5) and (a["affinity_std"] > 0).all()
    (out / "domain.json").write_text((out / "domain.json").read_text() + " ")
    with pytest.raises(ModelError, match="sha256"):
        load_dti(out)
    (out / "domain.json").write_text((out / "domain.json").read_text()[:-1])


def test_rank_flags_domain_and_bad_rows(tiny, trained):
    model, _ = trained
    far_target = "W" * 30 + "P" * 30  # shares no 3-mer with the training targets
    table = model.rank(tiny.targets[1], ["CCO", "not-smiles", "C[Si](C)(C)C"], ids=["a", "b", "c"])
    assert table["id"].tolist()[-1] == "b" and "SMILES" in table.loc[2, "error"]
    good = table[table["error"] == ""]
    assert good["affinity"].is_monotonic_decreasing and good["rank"].tolist() == [1, 2]
    row_a = good.set_index("id").loc["a"]
    assert row_a["drug_similarity"] == 1.0 and row_a["in_domain"] and row_a["nearest_target"] == "T1"
    assert not good.set_index("id").loc["c", "in_domain"]  # tetramethylsilane is far from every training drug
    far = model.predict_pairs(["CCO"], [far_target])
    assert far.loc[0, "target_similarity"] < 0.1 and not far.loc[0, "in_domain"]
    with pytest.raises(InputError, match="non-amino-acid"):
        model.rank("MK7L", ["CCO"])


def test_bound_model_is_a_screening_predictor(tiny, trained, tmp_path):
    model, out = trained
    with pytest.raises(ModelError, match="bind"):
        model.predict(["CCO"])
    bound_dir = tmp_path / "bound"
    card = bind_model(out, f">T2 kinase\n{tiny.targets[2]}", bound_dir, target_name="T2", name="dti-tiny-T2")
    assert card.model_extra["target"]["name"] == "T2"
    predictor = load_predictor(str(bound_dir))
    scores = predictor.predict(["CCO", "bad(", tiny.drugs[3]])
    assert list(scores.columns) == ["affinity", "affinity_std", "drug_similarity", "target_similarity", "in_domain"]
    assert np.isnan(scores.loc[1, "affinity"]) and np.isfinite(scores.loc[[0, 2], "affinity"]).all()
    direct = model.predict_pairs(["CCO"], [tiny.targets[2]])
    assert scores.loc[0, "affinity"] == pytest.approx(direct.loc[0, "affinity"], abs=1e-5)


def test_screening_pipeline_scores_with_bound_dti_model(tiny, trained, tl_env, tmp_path):
    from theralab.discovery.screening.config import parse_config
    from theralab.runtime import jobs
    from theralab.runtime.executors import LocalExecutor

    _, out = trained
    bind_model(out, tiny.targets[0], tmp_path / "bound", target_name="T0", name="dti-tiny-T0")
    pd.DataFrame({"smiles": tiny.drugs + ["CCN", "CCCO"], "id": [f"m{i}" for i in range(8)]}).to_csv(
        tmp_path / "lib.csv", index=False)
    config = parse_config({
        "run": {"name": "dti", "library": str(tmp_path / "lib.csv"), "output_dir": str(tmp_path / "screen"),
                "chunk_size": 10},
        "models": [{"name": str(tmp_path / "bound"), "column": "affinity", "prefix": "dti_"}],
        "objectives": [{"column": "dti_affinity", "goal": "maximize", "low": 4.0, "high": 9.0}],
        "diversity": {"method": "none", "top_n": 8},
    })
    job = jobs.run_job(jobs.create_job("screen.run", config.model_dump()), LocalExecutor(1))
    hits = pd.read_csv(job["result_location"])
    assert "dti_affinity" in hits and hits["dti_affinity"].notna().all() and len(hits) >= 6
    assert hits["score"].is_monotonic_decreasing


def test_shipped_davis_model_matches_its_card(shared_data):
    from theralab.discovery.dti import concordance_index, load_benchmark, setting1_folds
    from theralab.models.base import load_predictor, resolve_model_dir

    model = load_dti(resolve_model_dir("dti-graph-davis"))
    assert model.card.model_extra["kind"] == "graph" and "REDUCED" in model.card.description
    assert model.card.retrain.startswith("nice -n 10 python benchmarks/dti.py davis")
    davis = load_benchmark("davis", shared_data / "discovery")
    _, test = setting1_folds(shared_data / "discovery" / "dti_davis")
    rows = test[:1000]
    pred = model.predict_pairs([davis.drugs[i] for i in davis.drug_idx[rows]],
                               [davis.targets[i] for i in davis.target_idx[rows]])
    ci = concordance_index(davis.y[rows], pred["affinity"])
    assert abs(ci - model.card.metrics["setting1_test_ci"]) < 0.03  # the card's full-fold CI, on 1,000 pairs
    assert pred["in_domain"].all()  # setting 1: every test drug and target is in training
    assert isinstance(load_predictor("dti-graph-davis"), DTIModel)
