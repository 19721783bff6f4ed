"""``theralab models list`` fits 80 columns with one line and one key metric per model."""

from __future__ import annotations

from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.cli.models import key_metric


def test_key_metric_picks_one_quality_figure():
    assert key_metric({"key": "TDC AUROC 0.85"}) == "TDC AUROC 0.85"
    assert key_metric({"train_seconds": 1696.3, "cv": {"overlap_f1_sd": 0.01, "overlap_f1_mean": 0.7656}}) == \
        "cv.overlap_f1_mean=0.766"
    assert key_metric({"rmse": 0.61, "r2": 0.7, "n_test": 113}) == "rmse=0.61"
    assert key_metric({"train_seconds": 3.0}) == ""


def test_models_list_fits_80_columns(tl_env):
    from theralab.models.registry import list_models

    result = CliRunner().invoke(app, ["models", "list"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "panel" in result.output and "TDC AUROC" in result.output
    assert len(lines) <= len(list_models()) + 5  # header, rule, one line per model, blank edges
