"""``admet.predict`` as a chunked job: every input row keeps its place, its error and RDKit's warnings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from theralab.discovery.admet.jobs import AdmetPredictJob


def test_job_rows_keep_rdkit_warnings_and_reader_errors(shared_data: Path, tmp_path: Path,
                                                        capfd: pytest.CaptureFixture[str]) -> None:
    from theralab.discovery.admet.train import train
    from theralab.discovery.admet.user_models import TrainConfig

    frame = pd.read_csv(shared_data / "discovery" / "moleculenet" / "delaney.csv").sample(120, random_state=0)
    train(frame, TrainConfig(targets=["logp"], kind="lgbm", split="random", members=1), tmp_path / "sol",
          name="sol-job")
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["proton", "bad", "ethanol"], "smiles": ["CC[NH3+].[H+]", "C1CC", "CCO"]}).to_csv(
        src, index=False)
    workdir = tmp_path / "job"
    (workdir / "chunks").mkdir(parents=True)
    job = AdmetPredictJob()
    params = {"input": str(src), "model": str(tmp_path / "sol"), "chunk_size": 2, "output": str(tmp_path / "o.csv")}
    plan = job.plan(params, workdir)
    stats = [job.run_chunk(params, i, spec, workdir) for i, spec in enumerate(plan)]
    out = pd.read_csv(job.finalize(params, workdir, stats), keep_default_na=False)
    assert out["id"].tolist() == ["proton", "bad", "ethanol"]
    assert out["warnings"].tolist() == ["WARNING: not removing hydrogen atom without neighbors", "", ""]
    assert out["error"].iloc[1].startswith("malformed SMILES") and out["error"].iloc[0] == ""
    assert "WARNING" not in capfd.readouterr().err
