"""ECG viewer: a simulated recording is analysed and plotted with its detected beats."""

from __future__ import annotations


def test_simulated_ecg_is_analysed_and_plotted(api):
    api.post("/login", data={"username": "doc", "password": "password-doc", "next": "/"}, follow_redirects=False)
    assert "Analyse" in api.get("/monitoring/ecg").text
    page = api.post("/monitoring/ecg", data={"simulate_bpm": "72"})
    assert page.status_code == 200
    html = page.text
    assert "detected R peaks" in html and "rmssd" in html.lower()
    beats = int(html.split('id="ecg-summary">')[1].split(" beats")[0])
    assert 66 <= beats <= 78  # 60 s at 72 bpm
    bad = api.post("/monitoring/ecg", data={"simulate_bpm": "500"})
    assert bad.status_code == 422 and "30-200" in bad.text
