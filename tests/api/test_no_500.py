"""Finding 2 of issue 18: seven inputs that gave a 500 now give a 4xx with the error body.

Each case failed on the code before the fix (an OverflowError from the SQLite driver, a consumed
request stream, an unbracketed root, a timedelta overflow); the client below raises on any server
exception, so a 500 fails the test loudly with the traceback.
"""

from __future__ import annotations

import io

import pytest


def _pdf() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    plt.plot([1, 2, 3])
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    plt.close(fig)
    return buf.getvalue()


@pytest.fixture
def with_alert(api):
    from theralab.runtime import alerts
    from theralab.runtime.db import session_scope

    with session_scope() as session:
        alerts.raise_alert(session, domain="monitoring", subject="p1", rule="news2", severity="high",
                           title="NEWS2 7", evidence={"score": 7})
    return api


CASES = [
    ("get", "/v1/ehr/patients?offset=9371780462082512896", {}),
    ("post", "/v1/alerts/escalate?after_minutes=-1e16", {}),
    ("post", "/v1/ehr/import", {"files": {"file": ("", b"")}}),
    ("post", "/v1/trials/design/group-sequential", {"json": {"alpha": 5e-324}}),
    ("post", "/v1/trials/design/sample-size", {"json": {"endpoint": "equivalence", "sd": 1e-300, "margin": 1e-300}}),
    ("post", "/v1/alerts/-123456789012345678901234567890123/assign", {"json": {"owner": "doc"}}),
    ("post", "/v1/monitoring/ecg/analyze", {"files": {"file": ("ecg.pdf", "PDF", "application/pdf")},
                                            "data": {"fs": "250"}}),
]


@pytest.mark.parametrize(("method", "url", "kwargs"), CASES, ids=[c[1].split("?")[0] for c in CASES])
def test_the_seven_inputs_answer_4xx_with_the_error_body(with_alert, method, url, kwargs):
    api = with_alert
    if "files" in kwargs and kwargs["files"]["file"][1] == "PDF":
        kwargs = {**kwargs, "files": {"file": ("ecg.pdf", _pdf(), "application/pdf")}}
    resp = getattr(api, method)(url, headers=api.login("root"), **kwargs)
    assert 400 <= resp.status_code < 500, resp.text
    body = resp.json()
    assert body["error"] and body["message"] and "hint" in body


def test_numeric_failures_in_domain_code_are_422_not_500(api):
    resp = api.post("/v1/trials/design/sample-size", headers=api.login("res"),
                    json={"endpoint": "equivalence", "sd": 1e-10, "margin": 1e-300})
    assert resp.status_code == 422 and resp.json()["error"] == "InputError"
