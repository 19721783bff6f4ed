"""``dti.train`` job kind: DTI training as resumable chunks, one chunk per epoch per member.

Why epochs as chunks: the job runner marks a chunk done only after it finishes, and resumes an
interrupted job by running only the unmarked chunks. Each chunk loads the member's checkpoint,
trains exactly one more epoch and saves it, so progress is reported per epoch and a restarted
server loses at most the epoch in flight. Once a member stops early, its remaining chunks return
at once. ``finalize`` assembles the members and saves the model directory with its card.

Params: ``data`` (a pairs CSV path written by the API/CLI from an upload, or ``davis``/``kiba``
with ``data_root``), ``split``, ``seed``, ``output`` (model directory), ``name`` and ``config``
(a :class:`TrainConfig` as a dict).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from theralab.discovery.dti.data import DTIData, load_benchmark, read_pairs_csv, split_pairs
from theralab.discovery.dti.train import TrainConfig, train_member


def _data(params: dict[str, Any]) -> tuple[DTIData, Path | None]:
    if str(params["data"]).lower() in ("davis", "kiba"):
        root = Path(params["data_root"])
        return load_benchmark(params["data"], root), root / f"dti_{str(params['data']).lower()}"
    return read_pairs_csv(params["data"])[0], None


class DTITrainJob:
    """Plan = members x epochs chunks; each advances one member's checkpoint by one epoch."""

    def plan(self, params: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
        cfg = TrainConfig(**params.get("config", {}))
        return [{"member": m, "epoch": e + 1} for m in range(cfg.members) for e in range(cfg.epochs)]

    def run_chunk(self, params: dict[str, Any], index: int, spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
        import torch

        torch.set_num_threads(1)
        data, root = _data(params)
        tr, va, _ = split_pairs(data, params.get("split", "random"), seed=int(params.get("seed", 0)),
                                setting1_root=root)
        cfg = TrainConfig(**params.get("config", {}))
        ckpt = Path(workdir) / f"member{spec['member']}.ckpt.pt"
        if cfg.model == "baseline":
            return {"member": spec["member"], "epoch": spec["epoch"], "skipped": "baseline trains in finalize"}
        if ckpt.exists():
            state = torch.load(ckpt, map_location="cpu", weights_only=True)["state"]
            if state["stopped"] or state["epoch"] >= spec["epoch"]:
                return {"member": spec["member"], "epoch": spec["epoch"], "skipped": state["stopped"] or "done"}
        log = train_member(data, tr, va, cfg.model_copy(update={"epochs": spec["epoch"]}), member=spec["member"],
                           checkpoint=ckpt, resume=True)
        last = log["history"][-1] if log["history"] else {}
        return {"member": spec["member"], "epoch": spec["epoch"], **last}

    def finalize(self, params: dict[str, Any], workdir: Path, stats: list[dict[str, Any]]) -> str:
        from theralab.discovery.dti.benchmark import predict_rows
        from theralab.discovery.dti.metrics import regression_report
        from theralab.discovery.dti.predictor import DTIModel

        data, root = _data(params)
        split = params.get("split", "random")
        tr, va, te = split_pairs(data, split, seed=int(params.get("seed", 0)), setting1_root=root)
        cfg = TrainConfig(**params.get("config", {}))
        # every member's checkpoint is complete, so fit() resumes each to its end without training
        model, _ = DTIModel.fit(data, tr, va, cfg, checkpoint_dir=Path(workdir), resume=True)
        metrics: dict[str, Any] = {"split": split}
        if len(te) > 1:
            report = regression_report(data.y[te], predict_rows(model, data, te))
            metrics.update({f"test_{k}": v for k, v in report.items()})
        out = Path(params["output"])
        model.save(out, name=params.get("name"), metrics=metrics, retrain=f"job dti.train {params}")
        return str(out)
