"""The ADMET page (issue 22): every value with its unit, the traffic-light thresholds explained,
a readable atom heatmap, the percentile chart as a ``[data-chart]`` spec, no inline script."""

from __future__ import annotations

import re

import pytest

from .helpers import assert_clean, charts, login


def test_admet_values_carry_units_and_the_traffic_lights_are_explained(api):
    pytest.importorskip("admet_ai")
    import torch

    torch.set_num_threads(1)
    login(api, "res")
    page = api.post("/admet", data={"text": "CC(=O)Nc1ccc(O)cc1 paracetamol", "model": "panel"}).text
    assert_clean(page)
    header = re.search(r'<table class="data" id="admet-table"[^>]*>\s*<thead>(.*?)</thead>', page, re.S).group(1)
    assert "log S<br><small class=\"muted\">log(mol/L)</small>" in header
    assert "Caco-2 log Papp<br><small class=\"muted\">log(cm/s)</small>" in header
    assert "hERG block<br><small class=\"muted\">probability</small>" in header
    assert "MW<br><small class=\"muted\">Da</small>" in header
    legend = re.search(r'<section class="card" id="legend">(.*?)</section>', page, re.S).group(1)
    assert "green" in legend and "amber" in legend and "red" in legend and "QT-prolongation" in legend
    assert '<script src="/static/pages/admet.js"></script>' in page
    detail = re.search(r'<figure class="heatmap"><svg[^>]*width="(\d+)" height="(\d+)"', page)
    assert int(detail.group(1)) >= 520 and int(detail.group(2)) >= 400  # readable, not squeezed into a table cell
    assert "Clearance" in page and "µL/min/10⁶ cells" in page  # every endpoint's unit in the detail table
    spec = charts(page)["admet-percentiles"]
    assert spec["y"]["unit"] == "%" and spec["bands"][0]["y0"] == 25


def test_a_molecule_rdkit_warns_about_shows_the_warning_in_its_row(api, capfd):
    """Pasted molecules are read as a file's rows are: RDKit's warning on a salt written with a bare
    proton is shown beside the molecule, and nothing is printed on the server's console."""
    pytest.importorskip("admet_ai")
    login(api, "res")
    capfd.readouterr()
    page = api.post("/admet", data={"text": "CC[NH3+].[H+] salt\nCCO ethanol", "model": "panel"}).text
    assert_clean(page)
    body = re.search(r'<table class="data" id="admet-table".*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    first, second = re.findall(r"<tr data-index.*?</tr>", body, re.S)
    assert "salt" in first and "not removing hydrogen atom without neighbors" in first
    assert "ethanol" in second and "WARNING" not in second
    assert "RDKit warned while reading this molecule" in page
    assert "WARNING" not in capfd.readouterr().err
