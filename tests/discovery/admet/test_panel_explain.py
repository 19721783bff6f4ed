"""Panel endpoints are explainable: integrated gradients whose atoms account for the prediction,
drawn with the predicted value and a colour scale, from the library, the CLI and the API."""

from __future__ import annotations

import re

import numpy as np
import pytest
from rdkit import Chem
from typer.testing import CliRunner

pytest.importorskip("admet_ai")

SMILES = "CN1CCC(CC1)Oc1ccc(cc1)C(=O)Nc1ccccc1Cl"


@pytest.fixture(scope="module")
def panel():
    from theralab.discovery.admet.panel import get_panel

    return get_panel()


def test_atoms_account_for_the_prediction(panel):
    from theralab.discovery.admet.panel_explain import explain_endpoint

    mol = Chem.MolFromSmiles(SMILES)
    predicted = panel.predict_smiles([SMILES])
    for target in ("hERG", "Solubility_AqSolDB"):
        result = explain_endpoint(panel, mol, target)
        assert result["value"] == pytest.approx(float(predicted[target].iloc[0]), abs=1e-5)
        weights = np.array(result["atom_weights"])
        assert weights.shape == (mol.GetNumAtoms(),)
        # completeness: sum of atom contributions = value - baseline, up to the path-integral error
        assert weights.sum() == pytest.approx(result["value"] - result["baseline"], rel=0.05)
        assert 0.95 <= result["accounted"] <= 1.05
        svg = result["svg"]
        assert f"{target} = {result['value']:.3g}" in svg and "linearGradient" in svg
        assert re.search(r"[+-]\d", svg) and "blue lowers, red raises" in svg


def test_unknown_endpoint_is_refused(panel):
    from theralab.discovery.admet.panel_explain import explain_endpoint
    from theralab.errors import InputError

    with pytest.raises(InputError, match="no endpoint 'herg'"):
        explain_endpoint(panel, Chem.MolFromSmiles("CCO"), "herg")


def test_cli_explains_a_panel_endpoint(tmp_path, panel):
    from theralab.cli.main import app

    out = tmp_path / "h.svg"
    result = CliRunner().invoke(app, ["admet", "explain", "panel", SMILES, "--target", "AMES", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "AMES = " in out.read_text() and "account for" in result.output


def test_api_explains_a_panel_endpoint(api, panel):
    h = api.login("res")
    r = api.post("/v1/admet/explain", json={"smiles": SMILES, "model": "panel", "target": "hERG"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["target"] == "hERG" and 0.95 <= body["accounted"] <= 1.05 and "<svg" in body["svg"]
    bad = api.post("/v1/admet/explain", json={"smiles": SMILES, "model": "panel", "target": "nope"}, headers=h)
    assert bad.status_code == 422
    names = [m["name"] for m in api.get("/v1/admet/models", headers=h).json()]
    assert names.count("panel") == 1
