"""Health assistant pages: patient chat with crisis resources shown at once, deletion, clinician inbox."""

from __future__ import annotations

from .helpers import login


def test_chat_page_crisis_inbox_delete(api):
    login(api, "pat")
    page = api.get("/assistant")
    assert page.status_code == 200 and "Health assistant" in page.text and "112" in page.text
    r = api.post("/assistant", data={"text": "hello", "cid": ""})
    assert r.status_code == 200 and "You:" in r.text and "linked to a patient record" in r.text
    cid = r.text.split('name="cid" value="')[1].split('"')[0]
    r = api.post("/assistant", data={"text": "everything is hopeless, I want to die", "cid": cid})
    assert 'id="crisis"' in r.text and "988" in r.text and "Samaritans" in r.text
    r = api.post("/assistant", data={"text": "", "cid": cid})
    assert r.status_code == 200 and "empty" in r.text
    login(api, "res")
    assert api.get("/assistant").status_code == 403
    login(api, "doc")
    inbox = api.get("/assistant/inbox")
    assert inbox.status_code == 200 and "urgent" in inbox.text
    hid = inbox.text.split('/assistant/inbox?h=')[1].split('"')[0]
    item = api.get(f"/assistant/inbox?h={hid}")
    assert "I want to die" in item.text
    api.post(f"/assistant/inbox/{hid}/reply", data={"text": "Calling you now", "close": "1"}, follow_redirects=False)
    login(api, "pat")
    assert "Calling you now" in api.get(f"/assistant?c={cid}").text
    gone = api.post(f"/assistant/{cid}/delete", follow_redirects=False)
    assert gone.status_code == 303
    assert cid not in api.get("/assistant").text


def test_trend_chart_for_linked_patient(api):
    from theralab.monitoring.assistant import conversations, submit_questionnaire
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        conversations.link_patient(s, "pat", "p-7", by="doc")
        submit_questionnaire(s, "p-7", "phq9", [2] * 8 + [0])
        submit_questionnaire(s, "p-7", "phq9", [1] * 8 + [0])
    login(api, "pat")
    html = api.get("/assistant").text
    assert 'data-chart="trend"' in html and '"title": "Total score", "type": "linear", "unit": "points"' in html
    assert "<script>" not in html  # issue 22: charts are JSON specs, no inline script
    assert "16" in html and "8" in html and "-8 (better)" in html
