"""The ADMET panel inside screening: registered with its card, every endpoint a filter or objective,
run-file mistakes reported before a job exists (and never with a '--resume' suggestion)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from theralab.discovery.screening.config import load_config, parse_condition, parse_config
from theralab.errors import InputError

RUN = """
[run]
name = "panel screen"
library = "lib.csv"
output_dir = "out"
chunk_size = 40

[filters]
rules = ["lipinski"]
ranges = {{ mw = [100, 500], Solubility_AqSolDB = [-6, 1] }}
require = [{require}]

[[models]]
name = "panel"

[[objectives]]
column = "hERG"
goal = "minimize"
low = 0.0
high = 0.5

[[objectives]]
column = "qed"
goal = "maximize"
low = 0.2
high = 0.9

[diversity]
method = "none"
top_n = 10
"""


def test_conditions_parse_and_refuse_garbage():
    assert parse_condition("hERG <= 0.3") == ("hERG", "<=", 0.3)
    assert parse_condition(" NR-AR>1e-2") == ("NR-AR", ">", 0.01)
    with pytest.raises(InputError) as err:
        parse_config({"run": {"library": "x.csv"}, "filters": {"require": ["hERG is low"]}})
    assert err.value.where.endswith("filters.require") and "COLUMN OP NUMBER" in err.value.message
    with pytest.raises(InputError, match="below low"):
        parse_config({"run": {"library": "x.csv"}, "filters": {"ranges": {"mw": [500, 100]}}})


def test_registry_lists_the_panel_with_its_card():
    from theralab.models.registry import find_model, list_models, load_card

    row = next(m for m in list_models() if m["name"] == "panel")
    assert row["task"] == "admet.panel" and row["origin"] == "package"
    card = load_card(find_model("panel"))
    outputs = card.model_extra["outputs"]
    assert len(outputs) == 41 and {"hERG", "AMES", "Solubility_AqSolDB"} <= set(outputs)
    assert card.retrain and card.metrics["classification_endpoints"] == 31


def _setup(tmp_path, require: str = '"hERG <= 0.3", "AMES < 0.5"'):
    from theralab.demo import write_demo_library

    write_demo_library(tmp_path / "lib.csv")
    run = tmp_path / "run.toml"
    run.write_text(RUN.format(require=require))
    return run


def test_panel_endpoint_without_the_panel_is_a_config_error(tl_env, tmp_path):
    from theralab.discovery.screening import check_config

    config = load_config(_setup(tmp_path))
    config.models = []
    with pytest.raises(InputError) as err:
        check_config(config)
    assert "Solubility_AqSolDB" in err.value.message and 'name = "panel"' in err.value.hint
    config = load_config(_setup(tmp_path, '"hERG_typo <= 0.3"'))
    with pytest.raises(InputError, match="unknown column 'hERG_typo'"):
        check_config(config)


def test_cli_config_error_records_no_job_and_suggests_no_resume(tl_env, tmp_path):
    from theralab.cli.main import app
    from theralab.runtime.jobs import list_jobs

    run = _setup(tmp_path, '"hERG_typo <= 0.3"')
    result = CliRunner().invoke(app, ["screen", "run", str(run)])
    assert result.exit_code == 2, result.output
    assert "hERG_typo" in result.output and "--resume" not in result.output
    assert list_jobs() == []


def test_screen_with_panel_filters_and_objective(tl_env, tmp_path):
    """Run the job's three steps in this process (one panel load), check every hit meets the filters."""
    pytest.importorskip("admet_ai")
    from theralab.runtime import jobs

    config = load_config(_setup(tmp_path))
    params = config.model_dump()
    job_id = jobs.create_job("screen.run", params)
    kind, workdir = jobs.load_kind("screen.run"), jobs.job_dir(job_id)
    (workdir / "chunks").mkdir(parents=True)
    plan = kind.plan(params, workdir)
    stats = [jobs.load_kind("screen.run").run_chunk(params, i, spec, workdir) for i, spec in enumerate(plan)]
    hits = pd.read_csv(kind.finalize(params, workdir, stats))
    passed = pd.read_parquet(tmp_path / "out" / "passed.parquet")
    assert 0 < len(hits) <= 10 and len(passed) >= len(hits)
    assert (passed["hERG"] <= 0.3).all() and (passed["AMES"] < 0.5).all()
    assert passed["Solubility_AqSolDB"].between(-6, 1).all() and passed["mw"].between(100, 500).all()
    assert hits["reasons"].str.contains(r"hERG 0\.\d+ <= 0.3").all()
    assert hits["reasons"].str.contains("AMES").all() and hits["reasons"].str.contains("Solubility_AqSolDB").all()
    # desirability of hERG (minimise from 0 to 0.5) is computed from the panel's value
    assert hits["d_hERG"].to_numpy() == pytest.approx((0.5 - hits["hERG"].to_numpy()) / 0.5)
    funnel = pd.read_json(tmp_path / "out" / "funnel.json", typ="series")
    rejected = [k for k in funnel.index if k.startswith("not hERG") or k.startswith("not AMES")]
    assert rejected and sum(funnel[k] for k in rejected) > 0  # the panel filters removed molecules
