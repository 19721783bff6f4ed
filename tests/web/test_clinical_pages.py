"""Issue 22 findings on the clinical pages, checked on the demo ward (HTML level, TestClient).

One demo load (12 patients, the 8-bed ward with its streams and alerts) serves every test of the module.
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from fastapi.testclient import TestClient

    from theralab.app import create_app
    from theralab.demo import load_demo
    from theralab.privacy.auth import create_user
    from theralab.runtime import migrate
    from theralab.runtime.db import session_scope
    from theralab.settings import reset_settings

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("THERALAB_DATA_DIR", str(tmp_path_factory.mktemp("clinical") / "tl"))
        mp.delenv("THERALAB_DATABASE_URL", raising=False)
        reset_settings()
        migrate.upgrade()
        load_demo(patients=12)
        with session_scope() as s:
            create_user(s, "doc", "password-doc", ["clinician"])
            from theralab.privacy import careteam

            careteam.add_member(s, "demo-ward", "doc")  # staff created after the demo join its team
            from theralab.demo.ward import ward_patients

            beds = ward_patients(s)
        client = TestClient(create_app())
        client.post("/login", data={"username": "doc", "password": "password-doc", "next": "/"},
                    follow_redirects=False)
        client.beds = beds  # type: ignore[attr-defined]
        with client:
            yield client
        reset_settings()


def _text(html: str) -> str:
    """The visible text of a page (tags dropped, entities decoded, scripts and JSON blocks left out)."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, f"inline script: {tag}"


def test_ward_board_names_beds_bands_trend_and_explains_the_alert_score(demo):
    """Finding: the ward listed UUIDs with no name, bed, age or trend, and showed NEWS2 12 beside an alert of 10."""
    page = demo.get("/monitoring").text
    board = page.split('id="ward-body"')[1].split("</tbody>")[0]
    text = _text(board)
    assert "Ward 7A, bed 1" in text and " y · " in text and "MRN SYN-7-" in text
    assert not re.search(r">[0-9a-f]{8}-[0-9a-f]{4}-", board)  # no bare UUID as a patient's label
    first = board.split("</tr>")[0]
    assert "badge-high" in first and "<svg class=\"spark\"" in first and "min ago" in first
    score = int(re.search(r'title="NEWS2 (\d+)"', first).group(1))
    note = re.search(r"alert raised at NEWS2 (\d+) at \d\d:\d\d UTC; now (\d+)", _text(first))
    assert note and int(note.group(2)) == score and int(note.group(1)) != score
    assert "data-sortable" in page and 'data-live-sse="/v1/alerts/stream?domain=monitoring' in page
    _no_inline_script(page)
    fragment = demo.get("/monitoring/board", headers={"X-Fragment": "board"}).text  # what the live page swaps in
    assert "Ward 7A, bed 1" in fragment and "<html" not in fragment


def test_alert_inbox_is_grouped_by_patient_with_score_and_triggering_vitals(demo):
    page = demo.get("/monitoring").text
    inbox = page.split('id="inbox-title"')[1]
    groups = re.findall(r'<article class="card alert-group" aria-label="Alerts for ([^"]+)"', inbox)
    assert len(groups) == len(set(groups)) >= 3  # one group per patient
    first = inbox.split('<article class="card alert-group"')[1]
    assert "badge-high" in first.split("</h3>")[0]  # the worst group first
    text = _text(first)
    assert re.search(r"NEWS2 \d+", text) and "Resp. rate" in text and "SpO₂" in text and "Temp." in text
    assert re.search(r"\d+ of \d+ matching", _text(inbox))


def test_timeline_panels_share_the_time_axis_with_bands_and_alert_markers(demo):
    """Finding: the chart was taller than its 560 px box and the alerts table was drawn over it."""
    page = demo.get(f"/monitoring/patients/{demo.beds[0]}").text
    figure = json.loads(unescape(page.split('id="timeline-figure">')[1].split("</script>")[0]))
    layout = figure["layout"]
    axes = [k for k in layout if k.startswith("xaxis")]
    assert len(axes) >= 5 and all(layout[a].get("matches") == "x" for a in axes if a != "xaxis")
    assert layout["height"] >= 150 * len(axes)  # the page script sizes the box to this height
    rects = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert sorted((s["y0"], s["y1"]) for s in rects) == [(0, 0.5), (0.5, 4.5), (4.5, 6.5), (6.5, 20)]
    assert any(s["type"] == "line" and s["line"]["dash"] == "dot" for s in layout["shapes"])
    assert 'style="height:560px"' not in page and "patient-header" in page
    _no_inline_script(page)


def test_patient_list_searches_by_name_and_mrn(demo):
    """Finding: no search box in the patient list."""
    page = demo.get("/ehr").text
    assert 'name="q"' in page and 'role="search"' in page
    hit = demo.get("/ehr", params={"q": "SYN-7-000001"}).text
    assert "1 matching" in _text(hit) and demo.beds[1] in hit
    assert "No patient matches" in demo.get("/ehr", params={"q": "zzzz-nobody"}).text


def test_patient_page_formats_values_fills_bp_shows_streamed_vitals_and_renders_notes(demo):
    """Findings: 105.57141600000001 mg/dL, an empty blood-pressure row, raw markdown '#', no streamed vitals."""
    page = demo.get(f"/ehr/patients/{demo.beds[0]}").text
    text = _text(page)
    assert not re.search(r"\d\.\d{6,}", text)  # no float reprs
    assert re.search(r"Blood pressure\s+85354-9\s+\d{2,3}/\d{2,3} mmHg", text)
    assert "streamed (device)" in text and re.search(r"Heart rate\s+8867-4\s+\d+ /min", text)
    assert "<h3>History of Present Illness</h3>" in page and "# History" not in text
    assert "patient-header" in page and "Penicillin" in text
    _no_inline_script(page)


def test_notes_are_rendered_from_markdown_with_html_escaped(demo):
    import base64

    from theralab.ehr.fhir.ingest import import_resources
    from theralab.runtime.db import session_scope

    note = "# Plan\n<script>alert(1)</script> **stop** [link](javascript:alert(2))\n"
    with session_scope() as s:
        import_resources([{"resourceType": "DocumentReference", "id": "note-xss", "status": "current",
                           "subject": {"reference": f"Patient/{demo.beds[3]}"}, "date": "2026-01-02T10:00:00Z",
                           "content": [{"attachment": {"contentType": "text/plain",
                                                       "data": base64.b64encode(note.encode()).decode()}}]}], s)
    page = demo.get(f"/ehr/patients/{demo.beds[3]}").text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<strong>stop</strong>" in page and 'href="javascript:' not in page and "<h3>Plan</h3>" in page


def test_patient_header_everywhere_a_patient_is_in_view(demo):
    pid = demo.beds[0]
    for path in (f"/ehr/patients/{pid}", f"/monitoring/patients/{pid}", f"/pgx?patient={pid}",
                 f"/trials/matching/patients/{pid}"):
        page = demo.get(path)
        assert page.status_code == 200, path
        head = page.text.split('id="patient-header"')[1].split("</section>")[0]
        text = _text(head)
        assert re.search(r"\d+ years · (female|male) · MRN SYN-7-000000", text), path
        assert "Penicillin" in text and "Pharmacogenomics" in text and f"/pgx?patient={pid}" in head


def test_pgx_no_result_never_reads_as_no_change(demo):
    """Finding: codeine with 'CYP2D6: no result' showed as 'no change needed'."""
    page = demo.get(f"/pgx?patient={demo.beds[1]}").text  # bed 2 takes codeine and has no CYP2D6 result
    row = " ".join(_text(page.split("<strong>codeine</strong>")[1].split("</tr>")[0]).split())
    assert "CYP2D6: no result" in row and "No result — cannot advise; test or use clinical judgement" in row
    assert "No change needed" not in row
    clopidogrel = _text(demo.get(f"/pgx?patient={demo.beds[0]}").text.split("<strong>clopidogrel</strong>")[1]
                        .split("</tr>")[0])
    assert "Action needed" in clopidogrel  # CYP2C19 intermediate metabolizer from the demo VCF call


def test_header_links_only_to_pages_the_role_opens(demo):
    """A researcher sees the header but no link to the PGx page (clinicians only), so no link leads to a 403."""
    from fastapi.testclient import TestClient

    from theralab.app import create_app
    from theralab.privacy import careteam
    from theralab.privacy.auth import create_user
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        create_user(s, "res", "password-res", ["researcher"])
        careteam.add_member(s, "demo-ward", "res")
    with TestClient(create_app()) as res:
        res.post("/login", data={"username": "res", "password": "password-res", "next": "/"}, follow_redirects=False)
        page = res.get(f"/ehr/patients/{demo.beds[0]}").text
        assert 'id="patient-header"' in page and "/pgx?patient=" not in page
        assert res.get(f"/pgx?patient={demo.beds[0]}").status_code == 403
