"""``theralab assistant chat|score|triage|reminders`` through the real CLI app."""

from __future__ import annotations

from typer.testing import CliRunner

from theralab.cli.main import app

runner = CliRunner()


def test_score_and_triage(tmp_path):
    r = runner.invoke(app, ["assistant", "score", "gad7", "3", "3", "3", "3", "3", "0", "0"])
    assert r.exit_code == 0 and "total 15 (severe)" in r.output
    r = runner.invoke(app, ["assistant", "score", "phq9", "0", "0", "0", "0", "0", "0", "0", "0", "1"])
    assert r.exit_code == 0 and "suicide-risk protocol" in r.output
    r = runner.invoke(app, ["assistant", "score", "phq9", "0", "0", "banana", "0", "0", "0", "0", "0", "0"])
    assert r.exit_code == 2 and "item 3" in r.output
    r = runner.invoke(app, ["assistant", "triage", "runny nose and sneezing since yesterday", "--age", "30"])
    assert r.exit_code == 0 and "self_care" in r.output
    r = runner.invoke(app, ["assistant", "triage", "headache", "--yes", "thunderclap"])
    assert r.exit_code == 0 and "emergency" in r.output
    r = runner.invoke(app, ["assistant", "triage", "headache", "--yes", "nonsense"])
    assert r.exit_code != 0


def test_terminal_chat_stores_turns(tl_env):
    r = runner.invoke(app, ["assistant", "chat", "-u", "ann", "-m", "hello", "-m", "how much paracetamol can I take?"])
    assert r.exit_code == 0, r.output
    assert "4 g in 24 hours" in r.output and "conversation " in r.output
    from theralab.monitoring.assistant.conversations import list_conversations, transcript
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        convs = list_conversations(s, "ann")
        assert len(convs) == 1 and len(transcript(s, convs[0]["id"], "ann")) == 4
    r = runner.invoke(app, ["assistant", "reminders"])
    assert r.exit_code == 0 and "0 reminder(s) due" in r.output
