"""Science pages (issue 22): molecules, and development read as a scientist expects.

Findings tested here: the molecules table wider than the page and structures of varying size; ADMET
values (see test_admet_page.py); PK and dissolution charts
without axis titles or units; a bootstrap interval printed as a raw Python list; inline scripts.
"""

from __future__ import annotations

import re

import pytest

from .helpers import assert_clean, charts, login, visible_text


def test_chem_table_stays_inside_the_page_with_equal_structures(api):
    login(api, "res")
    text = "\n".join(["CC(=O)Oc1ccccc1C(=O)O aspirin", "C1CC( broken",
                      "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1 imatinib"])
    page = api.post("/chem", data={"text": text}).text
    assert_clean(page)
    assert re.search(r'<div class="table-wrap">\s*<table class="data" id="profile"', page)
    sizes = set(re.findall(r'<div class="structure"><svg.*?width=.(\d+)px.\s+height=.(\d+)px', page, re.S))
    assert sizes == {("160", "120")}  # the size of the stylesheet's fixed .structure box
    assert '<code class="smiles">' in page  # long SMILES wrap instead of widening the table
    assert "180.16" in page and "<small class=\"muted\">Da</small>" in page  # MW with its unit


def test_development_charts_have_units_bands_and_downloads(api):
    login(api, "res")
    page = api.get("/development").text
    assert_clean(page)
    specs = charts(page)
    pk, diss = specs["pk-chart"], specs["diss-chart"]
    assert (pk["x"]["title"], pk["x"]["unit"]) == ("Time after first dose", "h")
    assert (pk["y"]["title"], pk["y"]["unit"]) == ("Plasma concentration", "mg/L")
    assert pk["download"] == "pk_simulation.csv" and diss["download"] == "dissolution_profiles.csv"
    band = [t for t in pk["traces"] if t.get("fill") == "tonexty"]
    assert band and "90% prediction band" in band[0]["name"]
    lower = [t for t in pk["traces"] if t["name"] == "5th percentile"][0]
    typical = [t for t in pk["traces"] if t["name"] == "typical patient"][0]
    peak = typical["y"].index(max(typical["y"]))
    assert lower["y"][peak] < typical["y"][peak] < band[0]["y"][peak]  # the band surrounds the typical curve
    assert (diss["x"]["unit"], diss["y"]["unit"]) == ("min", "%")
    text = visible_text(page)
    assert re.search(r"Cmax at steady state\s+[\d.]+ mg/L", text)
    # the bootstrap f2 interval reads "x (90% CI a–b)", never a Python list
    assert re.search(r"f2, bootstrap BCa\s+[\d.]+ \(90% CI [\d.]+–[\d.]+\)", text)
    # the analysis is in the address: a changed dose changes the curve; a bad number is a 422 on the page
    double = charts(api.get("/development?pk_amount=1000&pk_submitted=1&pk_band=1").text)["pk-chart"]
    typical2 = [t for t in double["traces"] if t["name"] == "typical patient"][0]
    assert max(typical2["y"]) == pytest.approx(2 * max(typical["y"]), rel=1e-6)
    bad = api.get("/development?pk_cl=abc")
    assert bad.status_code == 422 and "cl must be a number" in bad.text
    uneven = api.get("/development?diss_time=15,30&diss_reference=1,2,3%0A1,2,3&diss_test=1,2%0A1,2")
    assert uneven.status_code == 422 and "every unit needs 2 values" in uneven.text


def test_development_page_refuses_oversized_or_impossible_input_with_422(api):
    login(api, "res")
    for query, message in (("pk_n_doses=100000", "doses must be between 1 and 200"),
                           ("pk_v1=0", "v1 must be a positive number"), ("pk_f=2", "bioavailability"),
                           ("pk_route=im", "unknown route")):
        page = api.get(f"/development?{query}")
        assert page.status_code == 422 and message in page.text, query
        assert 'id="diss-chart-box"' in page.text  # the other analysis still shows
