"""The science demo: a registered screening library and a finished screening run, idempotent."""

from __future__ import annotations

import pandas as pd


def test_demo_science_loads_a_library_and_a_finished_run_once(tl_env):
    from theralab.demo import science as demo_science
    from theralab.discovery.screening import list_libraries
    from theralab.runtime.jobs import list_jobs

    report = demo_science.load(owner="res")
    manifest = {m["name"]: m for m in list_libraries()}[demo_science.LIBRARY]
    assert 300 <= manifest["unique"] <= 1000  # a few hundred molecules
    assert manifest["invalid"] == 2  # the demo's two broken rows, reported rather than dropped silently
    jobs = [j for j in list_jobs(owner="res") if j["kind"] == "screen.run"]
    assert len(jobs) == 1 and jobs[0]["status"] == "succeeded"
    assert jobs[0]["id"] in report["screening_run"]
    hits = pd.read_csv(jobs[0]["result_location"])
    assert len(hits) == 20
    assert hits["query_active"].fillna("").astype(bool).any()  # imatinib is a query active and in the library
    assert hits["score"].is_monotonic_decreasing or hits["score"].max() <= 1.0
    again = demo_science.load(owner="res")  # idempotent: the same run, no second job
    assert again == report
    assert len([j for j in list_jobs(owner="res") if j["kind"] == "screen.run"]) == 1
