"""Each model kind trains for real on the tiny set; checkpoints resume; early stopping stops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from theralab.discovery.dti import DTIModel, TrainConfig, concordance_index
from theralab.discovery.dti.train import resolve_device, train_member
from theralab.errors import InputError

SMALL = {"cnn": {"embed": 8, "filters": 4, "max_smiles": 40, "max_protein": 80, "head": [32, 16]},
         "graph": {"hidden": 16, "layers": 2, "out": 16, "protein": "both", "embed": 8, "filters": 4,
                   "max_protein": 80, "head": [32]},
         "baseline": {"n_estimators": 60, "num_leaves": 4, "learning_rate": 0.2, "subsample": 1.0,
                      "colsample_bytree": 1.0, "min_child_samples": 2}}


@pytest.mark.parametrize("kind", ["cnn", "graph", "baseline"])
def test_each_model_learns_the_tiny_set(tiny, kind):
    torch.set_num_threads(1)
    rows = np.arange(len(tiny))
    members = 2 if kind == "baseline" else 1  # the ensemble path is the same loop; keep the test fast
    cfg = TrainConfig(model=kind, epochs=30, batch_size=12, lr=5e-3, patience=30, members=members,
                      network=SMALL[kind])
    model, logs = DTIModel.fit(tiny, rows, rows, cfg)
    assert len(model.members) == members and len(logs) == members
    p = model.predict_pairs([tiny.drugs[i] for i in tiny.drug_idx], [tiny.targets[i] for i in tiny.target_idx])
    start_mse = float(np.mean((tiny.y - tiny.y.mean()) ** 2))  # predicting the mean
    assert float(np.mean((p["affinity"] - tiny.y) ** 2)) < 0.5 * start_mse
    assert concordance_index(tiny.y, p["affinity"]) > 0.7
    assert (p["affinity_std"] >= 0).all() and p["in_domain"].all()


def test_checkpoint_resume_equals_uninterrupted_run(tiny, tmp_path):
    torch.set_num_threads(1)
    rows = np.arange(len(tiny))
    cfg = TrainConfig(model="graph", epochs=4, batch_size=6, lr=1e-3, patience=10, network=SMALL["graph"])
    straight = train_member(tiny, rows, rows, cfg)
    ckpt = tmp_path / "m.ckpt.pt"
    first = train_member(tiny, rows, rows, cfg.model_copy(update={"epochs": 2}), checkpoint=ckpt)
    assert first["epochs_run"] == 2 and ckpt.exists()
    seen = []
    resumed = train_member(tiny, rows, rows, cfg, checkpoint=ckpt, progress=lambda f, m: seen.append(f))
    assert resumed["epochs_run"] == 4 and seen == [0.75, 1.0]  # only epochs 3 and 4 ran
    assert [h["train_mse"] for h in resumed["history"]] == pytest.approx(
        [h["train_mse"] for h in straight["history"]], rel=1e-4)


def test_early_stopping_keeps_best_epoch(tiny):
    torch.set_num_threads(1)
    rows = np.arange(len(tiny))
    # lr 0 never improves after the first epoch -> stops after exactly 1 + patience epochs
    cfg = TrainConfig(model="cnn", epochs=50, batch_size=8, lr=1e-12, patience=2, network=SMALL["cnn"])
    log = train_member(tiny, rows, rows, cfg)
    assert log["epochs_run"] <= 3 and log["stopped"].startswith("early stop") and log["best_epoch"] >= 1


def test_device_and_config_errors():
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no GPU"):
            resolve_device("cuda")
    with pytest.raises(InputError, match="unknown device"):
        resolve_device("tpu")
    with pytest.raises(ValueError):
        TrainConfig(model="graph", epocs=3)
