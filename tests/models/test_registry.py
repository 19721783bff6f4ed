"""The model registry: cards, checksums, listing."""

from __future__ import annotations

import pandas as pd
import pytest

from theralab.errors import ModelError, NotFoundError
from theralab.models.registry import (
    ModelCard,
    find_model,
    fingerprint_table,
    list_models,
    load_card,
    register_dir,
    save_card,
    verified_dir,
)


def _make_model(tmp_path):
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "weights.txt").write_text("tree 1\n")
    data = pd.DataFrame({"smiles": ["CCO", "CCN"], "y": [1.0, 2.0]})
    card = ModelCard(name="solubility-gbm", task="regression", training_data=fingerprint_table(data),
                     metrics={"rmse": 0.61}, seeds=[0])
    save_card(model_dir, card)
    return model_dir


def test_card_round_trip_and_checksum(tmp_path):
    model_dir = _make_model(tmp_path)
    card = load_card(model_dir)
    assert card.name == "solubility-gbm" and card.training_data["rows"] == 2
    assert len(card.weights["weights.txt"]) == 64
    (model_dir / "weights.txt").write_text("tree 2\n")  # tampered
    with pytest.raises(ModelError, match="sha256"):
        load_card(model_dir)


def test_verified_dir_is_the_given_folder_or_the_shipped_one_once_checked(tmp_path):
    shipped = _make_model(tmp_path)
    assert verified_dir(None, shipped) == shipped
    assert verified_dir(str(shipped), tmp_path / "elsewhere") == shipped
    (shipped / "weights.txt").write_text("tree 2\n")  # tampered: refused before anything reads it
    with pytest.raises(ModelError, match="sha256"):
        verified_dir(None, shipped)


def test_data_fingerprint_changes_with_content():
    a = fingerprint_table(pd.DataFrame({"x": [1, 2]}))
    b = fingerprint_table(pd.DataFrame({"x": [1, 3]}))
    assert a["sha256"] != b["sha256"] and a["rows"] == 2


def test_register_list_and_find(tl_env, tmp_path):
    dest = register_dir(_make_model(tmp_path))
    assert find_model("solubility-gbm") == dest
    assert any(m["name"] == "solubility-gbm" and m["origin"] == "user" for m in list_models())
    with pytest.raises(NotFoundError, match="no registered model"):
        find_model("nope")
    with pytest.raises(ModelError, match="missing"):
        load_card(tmp_path)
