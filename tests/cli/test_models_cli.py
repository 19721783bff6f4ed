"""``theralab models``: every shipped model has a valid card and one documented retrain recipe."""

from __future__ import annotations

from typer.testing import CliRunner

from theralab.cli.main import app
from theralab.models.registry import list_models, load_card

runner = CliRunner()


def test_every_shipped_model_has_a_valid_card():
    shipped = [row for row in list_models() if row["origin"] == "package"]
    names = {row["name"] for row in shipped}
    assert {"af_classifier", "chia-bilstm", "chia-crf"} <= names
    for row in shipped:
        assert "error" not in row, row
        card = load_card(row["path"])  # verifies every weight file's sha256
        assert card.weights and card.retrain, card.name


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
