"""Trial pages: design calculator, meta-analysis, safety dashboard."""

from __future__ import annotations

import re


def _login(api, name="doc"):
    api.post("/login", data={"username": name, "password": f"password-{name}", "next": "/"}, follow_redirects=False)


def test_design_calculator_matches_rpact(api):
    _login(api)
    assert "Compute" in api.get("/trials").text
    page = api.post("/trials", data={"k": "3", "kind": "of", "alpha": "0.05", "sided": "2", "beta": "0.2"}).text
    # rpact O'Brien-Fleming K=3: 3.471091, 2.454432, 2.004036
    for z in ("3.471091", "2.454432", "2.004036"):
        assert z in page
    bad = api.post("/trials", data={"k": "3", "kind": "of", "alpha": "1.5"})
    assert bad.status_code == 422


def test_meta_page_matches_metafor_on_bcg(api):
    _login(api)
    page = api.get("/trials/meta").text
    text = re.search(r'<textarea name="text" rows="8">(.*?)</textarea>', page, re.S).group(1)
    result = api.post("/trials/meta", data={"text": text, "measure": "RR", "method": "DL"}).text
    assert "-0.714117" in result  # DerSimonian-Laird log RR (metafor)
    assert 'id="forest"' in result and 'id="funnel"' in result
    broken = api.post("/trials/meta", data={"text": "a,b\n1,2\n", "measure": "RR", "method": "DL"})
    assert broken.status_code == 422 and "columns must be" in broken.text


def test_safety_dashboard_raises_alerts(api):
    _login(api)
    rows = ["id,drug,event"] + [f"{i},X,{'rash' if i < 15 else 'nausea'}" for i in range(60)]
    rows += [f"{i},Y,{'rash' if i < 65 else 'nausea'}" for i in range(60, 660)]
    files = {"upload": ("ae.csv", "\n".join(rows).encode(), "text/csv")}
    page = api.post("/trials/safety", data={"trial": "NCT-9"}, files=files).text
    assert "signal" in page and "X × rash" in page
    assert api.get("/trials/safety?trial=NCT-9").text.count("Acknowledge") == 1
