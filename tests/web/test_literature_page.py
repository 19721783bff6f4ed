"""The literature page: empty state, upload and load, search with ranked table and network spec, evidence
with highlighted entities; patients are refused."""

from __future__ import annotations

import json
import re

from .helpers import login


def test_search_load_and_evidence(api, test_data):
    login(api, "res")
    page = api.get("/literature")
    assert page.status_code == 200 and "knowledge graph is empty" in page.text and 'id="sample-button"' in page.text
    up = api.post("/literature", files={"upload": ("g.json", (test_data / "literature" / "genes_mini.bioc.json")
                                                   .read_bytes(), "application/json")}, data={"format": "auto"})
    assert up.status_code == 200 and "Loaded 3 documents" in up.text
    bad = api.post("/literature", files={"upload": ("x.xml", b"<PubmedArticleSet><oops", "text/xml")})
    assert bad.status_code == 200 and "malformed XML" in bad.text  # listed, nothing loaded
    page = api.get("/literature", params={"q": "lung cancer", "type": "Gene"})
    assert page.status_code == 200 and 'id="literature-table"' in page.text and "KRAS" in page.text
    spec = json.loads(re.search(r'<script type="application/json" id="literature-network">(.*?)</script>',
                                page.text, re.S).group(1))
    assert spec["traces"] and spec["title"].startswith("Entities linked to lung cancer")
    assert "<script>" not in page.text  # no inline scripts
    link = re.search(r'href="(/literature/evidence\?[^"]+)"', page.text).group(1).replace("&amp;", "&")
    ev = api.get(link)
    assert ev.status_code == 200 and "<mark" in ev.text and "associated with" in ev.text
    missing = api.get("/literature", params={"q": "nothing here"})
    assert missing.status_code == 200 and "no entity named" in missing.text
    assert api.get("/literature/evidence", params={"a": "nothing", "b": "KRAS"}).status_code == 404


def test_clinician_reads_patient_refused(api):
    login(api, "doc")
    page = api.get("/literature")
    assert page.status_code == 200 and 'id="literature-load"' not in page.text
    assert api.post("/literature", files={"upload": ("a.txt", b"x", "text/plain")}).status_code == 403
    login(api, "pat")
    assert api.get("/literature").status_code == 403


def test_sample_button_fills_the_graph(api):
    login(api, "res")
    page = api.post("/literature/sample")
    assert page.status_code == 200 and "Loaded 8 documents" in page.text
    page = api.get("/literature", params={"q": "cisplatin"})
    assert "hearing loss" in page.text
    spec = json.loads(re.search(r'id="literature-network">(.*?)</script>', page.text, re.S).group(1))
    assert spec["x"]["title"] and spec["y"]["title"]
    login(api, "doc")
    assert api.post("/literature/sample").status_code == 403


def test_evidence_without_a_pair_shows_its_form(api):
    login(api, "doc")
    page = api.get("/literature/evidence")
    assert page.status_code == 200 and 'id="evidence-form"' in page.text
