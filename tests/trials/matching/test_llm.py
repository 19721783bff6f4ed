"""The optional LLM judge, against a local fake OpenAI-compatible server started by the test."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from theralab.errors import InputError
from theralab.trials.criteria.schemas import Criteria, Criterion
from theralab.trials.matching.engine import explain_patient
from theralab.trials.matching.llm import LLMJudge, parse_answer


class _Fake(BaseHTTPRequestHandler):
    answers: list[tuple[int, str]] = []
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Fake.seen.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        code, content = _Fake.answers.pop(0)
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_llm():
    server = HTTPServer(("127.0.0.1", 0), _Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Fake.answers, _Fake.seen = [], []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_parse_answer_tolerates_fences_and_rejects_nonsense():
    assert parse_answer('```json\n{"status": "Not met", "explanation": "x"}\n```')["status"] == "not_met"
    with pytest.raises(InputError):
        parse_answer("I think so")
    with pytest.raises(InputError):
        parse_answer('{"status": "probably"}')


def test_judge_protocol_and_use_in_explanation(tl_env, fake_llm, monkeypatch):
    from theralab.ehr import tables as store
    from theralab.ehr.fhir.ingest import import_resources
    from theralab.ehr.synthetic.cohort import generate_cohort
    from theralab.runtime.db import Base, get_engine, session_scope
    from theralab.settings import reset_settings

    monkeypatch.setenv("THERALAB_LLM_BASE_URL", fake_llm)
    monkeypatch.setenv("THERALAB_LLM_MODEL", "local-8b")
    reset_settings()
    Base.metadata.create_all(get_engine(), tables=store.ehr_tables())
    crit = Criteria(criteria=[
        Criterion(id="exc-1", kind="exclusion", text="Pregnant or breastfeeding"),
        Criterion(id="inc-1", kind="inclusion", text="Able to give informed consent"),
        Criterion(id="inc-2", kind="inclusion", text="Willing to attend weekly visits"),
    ])
    _Fake.answers = [
        (200, '{"status": "not_met", "explanation": "No pregnancy is recorded; 67-year-old.", "evidence": ["age 67"]}'),
        (200, "no JSON here"),
        (500, "{}"),
    ]
    judge = LLMJudge.from_settings()
    with session_scope() as s:
        import_resources(list(generate_cohort(1, 9)), s, validate=False)
        pid = s.scalar(store.PatientRow.__table__.select().with_only_columns(store.PatientRow.id))
        m = explain_patient(s, crit, pid, at=date(2025, 1, 1), judge=judge)
    assert len(_Fake.seen) == 3
    req = _Fake.seen[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] is None
    assert req["body"]["model"] == "local-8b" and req["body"]["temperature"] == 0
    user_msg = req["body"]["messages"][1]["content"]
    assert "Criterion (exclusion): Pregnant or breastfeeding" in user_msg and "Latest results:" in user_msg
    by = {r.criterion_id: r for r in m.criteria}
    assert by["exc-1"].status == "not_met" and by["exc-1"].outcome == "pass"
    assert by["exc-1"].checks[-1].evidence[0].source == "llm" and "local-8b" in by["exc-1"].reason
    assert by["inc-1"].status == "unknown" and "LLM judge failed" in by["inc-1"].reason
    assert by["inc-2"].status == "unknown" and "500" in by["inc-2"].reason
    assert m.eligibility == "unknown"
    reset_settings()


def test_judge_is_off_without_configuration(tl_env):
    with pytest.raises(InputError, match="no LLM endpoint"):
        LLMJudge.from_settings()
