"""ECG viewer: a simulated recording is analysed and plotted with its detected beats."""

from __future__ import annotations


def test_simulated_ecg_is_analysed_and_plotted(api):
    api.post("/login", data={"username": "doc", "password": "password-doc", "next": "/"}, follow_redirects=False)
    assert "Analyse" in api.get("/monitoring/ecg").text
    page = api.post("/monitoring/ecg", data={"simulate_bpm": "72"})
    assert page.status_code == 200
    html = page.text
    assert "detected R peaks" in html and "RMSSD" in html
    beats = int(html.split("<dt>Beats</dt><dd>")[1].split(" in")[0])
    assert 66 <= beats <= 78  # 60 s at 72 bpm
    bad = api.post("/monitoring/ecg", data={"simulate_bpm": "500"})
    assert bad.status_code == 422 and "30-200" in bad.text


def test_rhythm_classes_are_spelled_out(api):
    """Issue 22: the ECG page labelled a rhythm 'O'; CinC classes read as words a clinician uses."""
    import re

    from theralab.web.pages.ecg import RHYTHM_LABELS, rhythm_label

    assert [rhythm_label(c) for c in ("N", "A", "O", "~")] == [
        "Normal sinus rhythm", "Atrial fibrillation", "Other rhythm", "Too noisy to classify"]
    api.post("/login", data={"username": "doc", "password": "password-doc", "next": "/"}, follow_redirects=False)
    html = api.post("/monitoring/ecg", data={"simulate_bpm": "72"}).text
    cells = re.findall(r'<td class="num">[^<]+</td><td>([^<]+)</td>', html)
    assert cells and set(cells) <= set(RHYTHM_LABELS.values())
    assert re.search(r"<dt>Rhythm</dt><dd><strong>[A-Z][a-z]+ ", html)  # words, not a class code
    assert "<script>" not in html
