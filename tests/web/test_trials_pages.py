"""Trial pages: design calculator, meta-analysis, safety dashboard (issue 22: scientist-grade pages).

Each finding of the issue on these pages has a test here: Egger's test and heterogeneity as tables
(never a raw dict), forest-plot labels in full, charts as ``[data-chart]`` specs with axis titles,
no inline scripts, the safety signals as a sortable paged table with a disproportionality plot.
"""

from __future__ import annotations

import html as htmllib
import re

from .helpers import assert_clean, charts, login


def test_design_calculator_matches_rpact(api):
    login(api, "doc")
    first = api.get("/trials").text
    assert "Compute" in first
    assert_clean(first)
    page = api.post("/trials", data={"k": "3", "kind": "of", "alpha": "0.05", "sided": "2", "beta": "0.2"}).text
    z = [float(v) for v in re.findall(r'class="num efficacy-z" data-value="([^"]+)"', page)]
    # rpact O'Brien-Fleming K=3: 3.471091, 2.454432, 2.004036
    assert [round(v, 6) for v in z] == [3.471091, 2.454432, 2.004036]
    assert ">3.471<" in page  # shown to four significant figures
    spec = charts(page)["design-chart"]
    assert spec["x"]["title"] == "Information fraction" and spec["y"]["unit"] == "z"
    assert_clean(page)
    bad = api.post("/trials", data={"k": "3", "kind": "of", "alpha": "1.5"})
    assert bad.status_code == 422


def test_meta_page_matches_metafor_on_bcg(api):
    login(api, "doc")
    page = api.get("/trials/meta").text
    text = re.search(r'<textarea id="meta-text" name="text" rows="8">(.*?)</textarea>', page, re.S).group(1)
    result = api.post("/trials/meta", data={"text": htmllib.unescape(text), "measure": "RR", "method": "DL"}).text
    assert "-0.7141 (95% CI -1.064–-0.3638)" in result  # DerSimonian-Laird log RR (metafor: -0.7141 [-1.0644, -0.3638])
    assert "0.4896 (95% CI 0.3449–0.695)" in result  # the risk ratio (metafor: 0.4896 [0.3449, 0.6950])
    broken = api.post("/trials/meta", data={"text": "a,b\n1,2\n", "measure": "RR", "method": "DL"})
    assert broken.status_code == 422 and "columns must be" in broken.text


def test_meta_statistics_are_tables_and_plots_keep_full_labels(api):
    """Finding: Egger's test printed as a raw dict, forest-plot labels cut."""
    from theralab.web.pages.trials import BCG_EXAMPLE

    login(api, "doc")
    page = api.post("/trials/meta", data={"text": BCG_EXAMPLE, "measure": "RR", "method": "REML"}).text
    assert_clean(page)
    het = re.search(r'<table class="data" id="heterogeneity">(.*?)</table>', page, re.S).group(1)
    for name in ("Cochran&#39;s Q", "Degrees of freedom", "p (Q test)", "I² (%)", "τ²"):
        assert name in het, name
    assert ">12<" in het  # df = k - 1 for the 13 BCG trials
    egger = re.search(r'<table class="data" id="egger">(.*?)</table>', page, re.S).group(1)
    assert "Test statistic (z)" in egger and "p" in egger and "Limit estimate" in egger
    specs = charts(page)
    forest, funnel = specs["forest-chart"], specs["funnel-chart"]
    labels = [y for t in forest["traces"] for y in t["y"]]
    for study in ("Aronson", "Ferguson & Simes", "Frimodt-Moller et al", "TPT Madras", "Coetzee & Berjak"):
        assert study in labels  # whole labels on a category axis with automargin: never cut
    assert "Rosenthal et al (row 3)" in labels and "Rosenthal et al (row 10)" in labels  # repeats kept apart
    assert forest["x"]["type"] == "log" and forest["y"]["type"] == "category"
    assert funnel["y"]["title"].startswith("Precision") and funnel["download"] == "funnel.csv"
    studies = re.search(r'<table class="data" id="studies"[^>]*>(.*?)</table>', page, re.S).group(1)
    assert studies.count("<tr>") == 14  # header + 13 studies, each with its full label
    assert "Frimodt-Moller et al" in studies


def _reports(n_other: int = 600) -> bytes:
    rows = ["id,drug,event"] + [f"{i},X,{'rash' if i < 15 else 'nausea'}" for i in range(60)]
    rows += [f"{i},Y,{'rash' if i < 60 + 65 else 'nausea'}" for i in range(60, 60 + n_other)]
    return "\n".join(rows).encode()


def test_safety_dashboard_raises_alerts(api):
    login(api, "doc")
    files = {"upload": ("ae.csv", _reports(), "text/csv")}
    page = api.post("/trials/safety", data={"trial": "NCT-9"}, files=files).text
    assert "signal" in page and "X × rash" in page
    assert api.get("/trials/safety?trial=NCT-9").text.count("Acknowledge") == 1
    login(api, "res")  # a researcher sees the inbox but acknowledging is a clinician's act
    assert api.get("/trials/safety?trial=NCT-9").text.count(">Acknowledge<") == 0


def test_safety_signals_are_a_sortable_paged_table_with_a_disproportionality_plot(api):
    """Finding: a 40,000 px page of 200 Acknowledge buttons; no disproportionality plot."""
    login(api, "doc")
    rows = ["id,drug,event"]
    rid = 0
    for d in range(30):  # 30 drugs x 8 events: 240 pairs, more than one table page
        for e in range(8):
            for _ in range(3 + (d * e) % 5):
                rid += 1
                rows.append(f"{rid},drug{d},event{e}")
    files = {"upload": ("ae.csv", "\n".join(rows).encode(), "text/csv")}
    page = api.post("/trials/safety", data={"trial": "NCT-P"}, files=files).text
    assert_clean(page)
    table = re.search(r'<table class="data" id="signals"([^>]*)>(.*?)</table>', page, re.S)
    assert "data-sortable" in table.group(1) and 'data-page-size="25"' in table.group(1)
    assert table.group(2).count("<tr>") == 241
    assert "(95% CI " in table.group(2)  # PRR and ROR as "x (95% CI a–b)"
    spec = charts(page)["ror-chart"]
    assert spec["x"]["type"] == "log" and spec["x"]["title"].startswith("Reporting odds ratio")
    assert sum(len(t["y"]) for t in spec["traces"]) == 20  # the strongest pairs (every label readable), not all 240
    # the screen is kept: the dashboard shows it again on a later visit
    again = api.get("/trials/safety?trial=NCT-P").text
    assert 'id="signals"' in again and 'data-chart="ror-chart"' in again
    empty = api.post("/trials/safety", data={"trial": "NCT-P"}, files={"upload": ("e.csv", b"", "text/csv")})
    assert empty.status_code == 422


def test_outcome_page_draws_no_inline_script(api):
    """The outcome page's charts go through the chart contract; without a model it says how to train one."""
    login(api, "doc")
    page = api.get("/trials/outcome").text
    assert_clean(page)
    assert "theralab trials outcome train" in page and 'aria-current="page"' in page  # the trial tabs mark the page
    bad = api.post("/trials/outcome", data={"model": "", "protocol": "{not json"})
    assert bad.status_code == 422 and "not JSON" in bad.text
