"""``theralab models``: every shipped model has a valid card and one documented retrain recipe, and
``models list`` fits 80 columns with one line and one key metric per model."""

from __future__ import annotations

from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.cli.models import key_metric
from theralab.models.registry import list_models, load_card

runner = CliRunner()


def test_every_shipped_model_has_a_valid_card():
    shipped = [row for row in list_models() if row["origin"] == "package"]
    names = {row["name"] for row in shipped}
    assert {"af_classifier", "chia-bilstm", "chia-crf"} <= names
    for row in shipped:
        assert "error" not in row, row
        card = load_card(row["path"])  # verifies every weight file's sha256
        # weights are checksummed here, or (the ADMET panel) installed with their pinned wheel
        assert card.retrain and (card.weights or "wheel" in card.retrain), card.name


def test_models_show_and_retrain_name_the_af_classifier():
    shown = runner.invoke(app, ["models", "show", "af_classifier"])
    assert shown.exit_code == 0, shown.output
    assert "cnn.pt" in shown.output and "model.txt" in shown.output
    recipe = runner.invoke(app, ["models", "retrain", "af_classifier"])
    assert recipe.exit_code == 0 and "benchmarks/monitoring_af.py" in recipe.output


def test_retrain_refuses_a_recipe_with_placeholders():
    result = runner.invoke(app, ["models", "retrain", "chia-bilstm", "--run"])
    assert result.exit_code == 2
    assert "FOLD0" in result.output


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
