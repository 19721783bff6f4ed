"""``chem.profile`` as a job: same rows as the direct profile, resumable, bad rows in the side file."""

from __future__ import annotations

import pandas as pd

from theralab.chem.profile import profile_file
from theralab.runtime import jobs
from theralab.runtime.executors import LocalExecutor


def test_profile_job_matches_direct_profile_and_resumes(tl_env, tmp_path):
    from theralab.demo import write_demo_library

    library = write_demo_library(tmp_path / "lib.csv")
    direct = profile_file(library, tmp_path / "direct.csv")
    out = tmp_path / "job.csv"
    job_id = jobs.create_job("chem.profile", {"input": str(library), "output": str(out), "chunk_size": 25})
    workdir = jobs.job_dir(job_id)
    # run the first two chunks, as if the server then died
    kind = jobs.load_kind("chem.profile")
    (workdir / "chunks").mkdir(parents=True)
    plan = kind.plan(jobs.get_job(job_id)["params"], workdir)
    jobs._atomic_write_json(workdir / "plan.json", plan)
    for index in range(2):
        jobs.execute_chunk("chem.profile", jobs.get_job(job_id)["params"], index, plan[index], str(workdir))
    job = jobs.run_job(job_id, LocalExecutor(2))
    assert job["status"] == "succeeded" and job["total_chunks"] == len(plan) > 2
    ours, theirs = pd.read_csv(out), pd.read_csv(direct.output)
    pd.testing.assert_frame_equal(ours, theirs)
    invalid = pd.read_csv(tmp_path / "job.invalid.csv")
    assert list(invalid["id"]) == ["TL-BAD-1", "TL-BAD-2"] and direct.invalid == 2
