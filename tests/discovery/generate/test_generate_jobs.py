"""``generate.run`` as a runtime job: budget chunks, live progress, resume without re-scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from rdkit import Chem
from rdkit.Chem import QED

START = ["CCO", "CCN(CC)CC", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "CCOC(=O)c1ccccc1", "CC(C)Cc1ccccc1",
         "OCCN", "c1ccncc1", "CCCCCCO", "CC(=O)N"]
SPEC = {
    "run": {"optimizer": "ga", "budget": 90, "seed": 0, "start_smiles": START, "top_k": 30},
    "scoring": {"components": [{"name": "qed", "type": "qed"},
                               {"name": "no_s", "type": "substructure", "smarts": "[#16]", "mode": "forbid"}]},
    "ga": {"population_size": 12, "offspring_size": 12, "patience": 50},
}


def _job(chunk_budget: int) -> tuple[str, Path, dict]:
    """A queued generate.run job whose results go to its own folder (as the API and the page build it)."""
    from theralab.discovery.generate.jobs import submit_run
    from theralab.runtime import jobs

    job_id = submit_run(SPEC, owner="res", chunk_budget=chunk_budget)
    return job_id, jobs.job_dir(job_id), jobs.get_job(job_id)["params"]


def test_ga_job_runs_in_chunks_and_reports_progress(tl_env):
    from theralab.discovery.generate.jobs import read_progress
    from theralab.runtime import jobs
    from theralab.runtime.executors import LocalExecutor

    job_id, workdir, _ = _job(30)
    job = jobs.run_job(job_id, LocalExecutor(2))  # two workers: the chunks must still extend one search in turn
    assert job["status"] == "succeeded", job
    assert job["total_chunks"] == 3
    table = pd.read_csv(job["result_location"])
    assert list(table["rank"][:3]) == [1, 2, 3] and {"qed", "no_s", "qed_raw"} <= set(table.columns)
    assert not any(Chem.MolFromSmiles(s).HasSubstructMatch(Chem.MolFromSmarts("[#16]"))
                   for s in table["smiles"].head(10))  # the forbid constraint holds at the top
    assert table["score"].iloc[0] > max(QED.qed(Chem.MolFromSmiles(s)) for s in START)  # it improved
    rows = read_progress(workdir)
    chunks = [r for r in rows if r["type"] == "chunk"]
    assert sorted(c["chunk"] for c in chunks) == [0, 1, 2]
    assert max(c["calls"] for c in chunks) == 90 and 0 < chunks[-1]["diversity_top100"] < 1
    calls = [r["calls"] for r in rows if r["type"] == "step"]
    assert calls == sorted(calls)  # one search growing, never two interleaved
    assert [c["best"] for c in chunks] == sorted(c["best"] for c in chunks)  # best never goes down
    assert any(r["type"] == "step" and "top10" in r for r in rows)
    history = pd.read_csv(workdir / "results.history.csv")
    assert len(history) == 90 and history["smiles"].is_unique  # nothing scored twice across chunks


def test_interrupted_job_resumes_without_rescoring(tl_env):
    from theralab.runtime import jobs
    from theralab.runtime.executors import LocalExecutor

    job_id, workdir, params = _job(45)
    (workdir / "chunks").mkdir(parents=True)
    kind = jobs.load_kind("generate.run")
    plan = kind.plan(params, workdir)
    (workdir / "plan.json").write_text(json.dumps(plan))
    # a worker finished chunk 0 and then the server died
    first = jobs.execute_chunk("generate.run", params, 0, plan[0], str(workdir))
    assert first["calls"] == 45
    job = jobs.run_job(job_id, LocalExecutor(1))  # resume: only chunk 1 runs
    assert job["status"] == "succeeded", job
    history = pd.read_csv(workdir / "results.history.csv")
    assert len(history) == 90 and history["smiles"].is_unique
    assert sorted(history["call"]) == list(range(1, 91))
