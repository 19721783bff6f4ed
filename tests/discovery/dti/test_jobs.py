"""``dti.train`` as a runtime job: one chunk per epoch, early-stopped members skip, model saved."""

from __future__ import annotations

import json

import pandas as pd


def test_train_job_chunks_per_epoch(tl_env, tmp_path, tiny):
    from theralab.runtime import jobs
    from theralab.runtime.executors import LocalExecutor

    pd.DataFrame({"smiles": [tiny.drugs[i] for i in tiny.drug_idx],
                  "sequence": [tiny.targets[i] for i in tiny.target_idx], "affinity": tiny.y}).to_csv(
        tmp_path / "pairs.csv", index=False)
    params = {"data": str(tmp_path / "pairs.csv"), "split": "random", "seed": 0, "output": str(tmp_path / "model"),
              "name": "dti-job", "config": {"model": "cnn", "epochs": 3, "batch_size": 8, "patience": 1, "lr": 1e-12,
                                            "network": {"embed": 4, "filters": 2, "max_smiles": 30, "max_protein": 60,
                                                        "head": [8]}}}
    job = jobs.run_job(jobs.create_job("dti.train", params), LocalExecutor(1))
    assert job["status"] == "succeeded", job
    card = json.loads((tmp_path / "model" / "model.json").read_text())
    assert card["name"] == "dti-job" and card["metrics"]["split"] == "random"
    assert job["result_location"] == str(tmp_path / "model")
    # lr ~0 never improves after epoch 1; patience 1 stops at epoch 2, so chunk 3 skips
    stats = [json.loads(p.read_text()) for p in sorted((jobs.job_dir(job["id"]) / "chunks").glob("*.done.json"))]
    assert [s.get("epoch") for s in stats] == [1, 2, 3] and "valid_mse" in stats[0]
    assert "skipped" in stats[2] and "skipped" not in stats[1]
