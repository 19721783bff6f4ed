"""The screening pipeline: run-file validation, desirability maths, filters, models, diversity,
identical results on local processes and a 2-worker Dask LocalCluster, and resume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from theralab.discovery.screening.config import Objective, load_config, parse_config
from theralab.discovery.screening.pipeline import combined_score, desirability
from theralab.errors import InputError, NotFoundError
from theralab.runtime import jobs
from theralab.runtime.executors import DaskExecutor, LocalExecutor

RUN = """
[run]
name = "demo screen"
library = "lib.csv"
output_dir = "{out}"
chunk_size = 30

[filters]
rules = ["lipinski"]
max_alerts = 0
ranges = {{ mw = [120, 500] }}

[similarity]
actives = ["CC(=O)Oc1ccccc1C(=O)O", "actives.smi"]
fusion = "max"
min_similarity = 0.05

[[models]]
name = "toy-activity"

[[objectives]]
column = "similarity"
goal = "maximize"
low = 0.05
high = 0.6
weight = 2

[[objectives]]
column = "qed"
goal = "maximize"
low = 0.2
high = 0.9

[[objectives]]
column = "score_model"
goal = "maximize"
low = 0.0
high = 1.0

[diversity]
method = "{method}"
cutoff = 0.6
top_n = 8
"""


def test_desirability_and_geometric_mean_exact():
    up = Objective(column="x", goal="maximize", low=0, high=10)
    down = Objective(column="x", goal="minimize", low=0, high=10)
    target = Objective(column="x", goal="target", low=0, high=10, target=4)
    x = np.array([-1, 0, 2.5, 4, 7, 10, 12, np.nan])
    assert desirability(x, up).tolist() == [0, 0, 0.25, 0.4, 0.7, 1, 1, 0]
    assert desirability(x, down).tolist() == [1, 1, 0.75, 0.6, 0.3, 0, 0, 0]
    assert desirability(x, target).tolist() == [0, 0, 0.625, 1, 0.5, 0, 0, 0]
    score = combined_score([np.array([0.25, 1.0, 0.0]), np.array([1.0, 0.25, 1.0])], [2.0, 1.0])
    assert score[0] == pytest.approx(0.25 ** (2 / 3)) and score[1] == pytest.approx(0.25 ** (1 / 3))
    assert score[2] == 0.0


def test_run_file_errors_name_the_key(tmp_path):
    with pytest.raises(InputError) as err:
        parse_config({"run": {"library": "x.csv", "libary": "typo"}})
    assert "unknown key 'run.libary'" in err.value.message
    with pytest.raises(InputError, match="high"):
        parse_config({"run": {"library": "x"}, "objectives": [{"column": "qed", "low": 1, "high": 0}]})
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nlibrary=")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(bad)


@pytest.fixture
def screen_setup(tl_env, tmp_path):
    from theralab.demo import write_demo_library
    from theralab.models.fingerprint_gbm import train
    from theralab.models.registry import register_dir

    write_demo_library(tmp_path / "lib.csv")
    (tmp_path / "actives.smi").write_text("smiles id\nCC(=O)Nc1ccc(O)cc1 paracetamol\n")
    library = pd.read_csv(tmp_path / "lib.csv")
    train_set = library[library["source"] != "broken on purpose"].head(60)
    labels = [1.0 if ("c1ccccc1" in s or "C(=O)O" in s) else 0.0 for s in train_set["smiles"]]
    model = train(train_set["smiles"].tolist(), labels, tmp_path / "toy", name="toy-activity", target="score_model")
    register_dir(tmp_path / "toy")
    assert model.card.loader == "theralab.models.fingerprint_gbm:load"

    def make(method: str, out: str):
        run = tmp_path / f"{out}.toml"
        run.write_text(RUN.format(out=out, method=method))
        return load_config(run).model_dump()

    return make, tmp_path


def _hits(job):
    return pd.read_csv(job["result_location"])


def test_pipeline_local_vs_dask_identical_and_explained(screen_setup):
    distributed = pytest.importorskip("distributed")
    make, tmp = screen_setup
    params = make("butina", "out-local")
    local = jobs.run_job(jobs.create_job("screen.run", params), LocalExecutor(2))
    params_dask = make("butina", "out-dask")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            dask = jobs.run_job(jobs.create_job("screen.run", params_dask), DaskExecutor(client=client))
    a, b = _hits(local), _hits(dask)
    assert len(a) == 8
    pd.testing.assert_frame_equal(a, b)
    assert a["score"].is_monotonic_decreasing
    assert a["inchikey"].is_unique and a["cluster"].is_unique
    assert (a["lipinski_pass"]).all() and (a["n_alerts"] == 0).all() and a["mw"].between(120, 500).all()
    assert a["reasons"].str.contains("lipinski ok").all() and a["reasons"].str.contains("similarity").all()
    funnel = pd.read_json(tmp / "out-local" / "funnel.json", typ="series")
    assert funnel["invalid"] == 2 and funnel["selected"] == 8
    assert funnel["input rows"] == len(pd.read_csv(tmp / "lib.csv"))
    report = (tmp / "out-local" / "report.html").read_text()
    assert report.count("<svg") == 8 and "Funnel" in report
    sdf = (tmp / "out-local" / "hits.sdf").read_text()
    assert sdf.count("$$$$") == 8


def test_maxmin_and_resume_after_interruption(screen_setup):
    make, tmp = screen_setup
    params = make("maxmin", "out-resume")
    job_id = jobs.create_job("screen.run", params)
    workdir = jobs.job_dir(job_id)
    (workdir / "chunks").mkdir(parents=True)
    kind = jobs.load_kind("screen.run")
    plan = kind.plan(params, workdir)
    jobs._atomic_write_json(workdir / "plan.json", plan)
    jobs.execute_chunk("screen.run", params, 0, plan[0], str(workdir))
    resumed = jobs.run_job(job_id, LocalExecutor(1))
    fresh = jobs.run_job(jobs.create_job("screen.run", make("maxmin", "out-fresh")), LocalExecutor(1))
    pd.testing.assert_frame_equal(_hits(resumed), _hits(fresh))
    assert len(_hits(resumed)) == 8


def test_unregistered_model_fails_before_any_work(screen_setup):
    make, _tmp = screen_setup
    params = make("butina", "out-x")
    params["models"][0]["name"] = "no-such-model"
    job_id = jobs.create_job("screen.run", params)
    with pytest.raises(NotFoundError, match="no registered model"):
        jobs.run_job(job_id, LocalExecutor(1))
    assert jobs.get_job(job_id)["total_chunks"] == 0


def _run_inline(params, tmp, name):
    kind = jobs.load_kind("screen.run")
    workdir = tmp / f"wd-{name}"
    (workdir / "chunks").mkdir(parents=True)
    plan = kind.plan(params, workdir)
    stats = [kind.run_chunk(params, i, spec, workdir) for i, spec in enumerate(plan)]
    kind.finalize(params, workdir, stats)
    out = pd.read_parquet(params["run"]["output_dir"] + "/passed.parquet")
    funnel = pd.read_json(params["run"]["output_dir"] + "/funnel.json", typ="series")
    return out, funnel


def test_few_actives_fall_back_to_similarity_ranking(screen_setup):
    """Two actives < min_actives: the activity model is reported but the order is the similarity's."""
    from theralab.discovery.screening import ranking_plan
    from theralab.discovery.screening.config import parse_config

    make, tmp = screen_setup
    params = make("none", "out-auto")
    params["objectives"] = [o for o in params["objectives"] if o["column"] != "qed"]
    ranked, note = ranking_plan(parse_config(params))
    assert [o.column for o in ranked] == ["similarity"] and note.startswith("fall back to similarity")
    assert "2 actives < ranking.min_actives 50" in note
    passed, funnel = _run_inline(params, tmp, "auto")
    assert funnel["ranking"] == note
    assert "score_model" in passed.columns and "d_score_model" in passed.columns  # reported, not ranked
    sims = passed["similarity"].to_numpy()
    assert (np.diff(sims) <= 0).all()  # exactly max-fusion order (saturated desirability ties by similarity)
    learned = make("none", "out-learned")
    learned["objectives"] = params["objectives"]
    learned["ranking"] = {"method": "auto", "min_actives": 2}
    ranked, note = ranking_plan(parse_config(learned))
    assert [o.column for o in ranked] == ["similarity", "score_model"] and "learned: 2 actives >= 2" in note
    passed2, _ = _run_inline(learned, tmp, "learned")
    expected = combined_score([passed2["d_similarity"].to_numpy(), passed2["d_score_model"].to_numpy()], [2.0, 1.0])
    assert passed2["score"].to_numpy() == pytest.approx(expected)


def test_query_actives_are_flagged_or_excluded_and_the_report_fits(screen_setup):
    make, tmp = screen_setup
    params = make("none", "out-flag")
    params["filters"]["max_alerts"] = None  # both actives carry a structural alert
    passed, _ = _run_inline(params, tmp, "flag")
    flagged = passed[passed["query_active"] != ""]
    assert set(flagged["id"]) == {"aspirin", "paracetamol"}  # the two actives are in the demo library
    assert set(flagged["query_active"]) == {"CC(=O)Oc1ccccc1C(=O)O", "paracetamol"}  # named as in the run file
    report = (tmp / "out-flag" / "report.html").read_text()
    hits = pd.read_csv(tmp / "out-flag" / "hits.csv", keep_default_na=False)
    n_query = int((hits["query_active"] != "").sum())
    assert n_query >= 1 and report.count('<span class="badge">query active</span>') == n_query + 1
    assert "exclude_actives = true" in report and "Ranking: " in report
    # "why it passed" is a bounded, wrapping column of one line per reason
    assert "td.why{max-width:24em" in report and "overflow-wrap:anywhere" in report
    first = hits["reasons"].iloc[0].split("; ")
    assert all(f"<li>{r}</li>" in report for r in first)
    params = make("none", "out-excl")
    params["filters"]["max_alerts"] = None
    params["similarity"]["exclude_actives"] = True
    passed, funnel = _run_inline(params, tmp, "excl")
    assert not ({"aspirin", "paracetamol"} & set(passed["id"]))
    assert funnel["query actives excluded"] == 2


def test_rdkit_messages_are_not_printed(capfd):
    from theralab.discovery.screening.pipeline import _active_fps

    _active_fps.cache_clear()
    fps, names = _active_fps(("C1=CC=CC=C1.[H]",), 2, 2048)
    assert len(fps) == 1 and names == ["C1=CC=CC=C1.[H]"]
    assert "WARNING" not in capfd.readouterr().err
    with pytest.raises(InputError, match="does not parse: malformed SMILES"):
        _active_fps(("C1CC(",), 2, 2048)
    assert "SMILES Parse Error" not in capfd.readouterr().err


def test_rdkit_warnings_on_library_rows_reach_the_row_not_the_console(tl_env, tmp_path, capfd):
    pd.DataFrame({"id": ["proton", "ethanol", "phenol"],
                  "smiles": ["CCC[NH3+].[H+]", "CCO", "Oc1ccccc1"]}).to_csv(tmp_path / "lib.csv", index=False)
    run = tmp_path / "run.toml"
    run.write_text('[run]\nlibrary = "lib.csv"\noutput_dir = "out"\n[diversity]\ntop_n = 3\n')
    job = jobs.run_job(jobs.create_job("screen.run", load_config(run).model_dump()), LocalExecutor(1))
    hits = pd.read_csv(job["result_location"], keep_default_na=False).set_index("id")
    assert hits.loc["proton", "warnings"] == "WARNING: not removing hydrogen atom without neighbors"
    assert hits.loc["ethanol", "warnings"] == "" and hits.loc["phenol", "warnings"] == ""
    assert "WARNING" not in capfd.readouterr().err
