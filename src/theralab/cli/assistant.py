"""``theralab assistant``: chat with the health assistant in the terminal, score questionnaires, triage.

The terminal chat uses the local database as the named user (``--user``), the same engine as the
web chat and ``/v1/assistant/messages``; every turn is stored.
"""

from __future__ import annotations

import json

import typer
from rich.markup import escape

from theralab.cli._common import App, console

app = App(help="Health assistant: terminal chat, questionnaires (PHQ-9, GAD-7, ...), symptom triage, "
                       "appointment reminders.", no_args_is_help=True)


def _show(reply: dict) -> None:
    if reply["crisis"]:
        console.print("[bold red]" + escape(reply["messages"][0]) + "[/bold red]")
        for r in reply["crisis_resources"]:
            console.print(f"  [red]*[/red] {escape(r['name'])}: [bold]{escape(r['contact'])}[/bold]")
        rest = reply["messages"][1:]
    else:
        rest = reply["messages"]
    for m in rest:
        console.print(f"[cyan]assistant:[/cyan] {escape(m)}")
    if reply["options"]:
        console.print("[dim]you can say: " + escape(" | ".join(reply["options"])) + "[/dim]")


@app.command()
def chat(
    user: str = typer.Option(..., "--user", "-u", help="the patient account to chat as (its linked record is used)"),
    message: list[str] = typer.Option(None, "--message", "-m",
                                      help="send these messages and exit (repeatable); without it: interactive"),
    conversation: str = typer.Option(None, help="continue this conversation id"),
) -> None:
    """Talk to the assistant. Type 'quit' to leave. Example: theralab assistant chat -u ann"""
    from theralab.monitoring.assistant import Assistant
    from theralab.runtime.db import session_scope

    cid = conversation

    def send(text: str) -> None:
        nonlocal cid
        with session_scope() as s:
            reply = Assistant(s).handle(user, text, cid)
        cid = reply.conversation_id
        _show(reply.to_dict())

    if message:
        for text in message:
            console.print(f"[green]{escape(user)}:[/green] {escape(text)}")
            send(text)
    else:
        console.print("[dim]Health assistant - not a doctor. In an emergency call 112 / 911 / 999. "
                      "Type 'quit' to leave.[/dim]")
        while True:
            text = typer.prompt(user, default="", show_default=False)
            if text.strip().lower() in ("quit", "exit"):
                break
            send(text)
    console.print(f"[dim]conversation {cid}[/dim]")


@app.command()
def score(
    instrument: str = typer.Argument(..., help="phq9, phq2, gad7 or gad2"),
    answers: list[str] = typer.Argument(..., help="one answer per item, 0-3"),
    patient: str = typer.Option(None, help="store the result for this patient id (FHIR QuestionnaireResponse)"),
    fhir: bool = typer.Option(False, help="print the FHIR QuestionnaireResponse"),
) -> None:
    """Score a questionnaire exactly, e.g. theralab assistant score phq9 1 2 0 1 3 0 1 0 0"""
    from theralab.monitoring.assistant.questionnaires import score as do_score
    from theralab.monitoring.assistant.questionnaires import to_fhir

    if patient:
        from theralab.monitoring.assistant.records import submit_questionnaire
        from theralab.runtime.db import session_scope

        with session_scope() as s:
            out = submit_questionnaire(s, patient, instrument, list(answers))
        result = out["score"]
        if out["alert_id"]:
            console.print(f"[bold red]clinician alert {out['alert_id']} raised[/bold red]")
    else:
        res = do_score(instrument, list(answers))
        result = res.to_dict()
        if fhir:
            console.print_json(json.dumps(to_fhir(res, "anonymous")))
            return
    console.print(f"[bold]{result['instrument']}[/bold] total {result['total']} ({result['band']})")
    for note in result["notes"]:
        console.print(f"[red]{escape(note)}[/red]" if result["protocol"] else escape(note))


@app.command(name="triage")
def triage_cmd(
    text: str = typer.Argument(..., help="the symptoms in plain words"),
    age: int = typer.Option(None, help="age in years"),
    yes: list[str] = typer.Option(None, help="red-flag questions answered yes (ids: see --list-questions)"),
    list_questions: bool = typer.Option(False, "--list-questions", help="print the red-flag question ids"),
) -> None:
    """Triage a symptom description: emergency / soon / self_care, with the reasons."""
    from theralab.monitoring.assistant.triage import RED_FLAG_QUESTIONS, intake_from_text, triage

    if list_questions:
        for k, q in RED_FLAG_QUESTIONS.items():
            console.print(f"{k}: {q}")
        return
    intake = intake_from_text(text, age=age).model_copy(update={"answers": {k: True for k in (yes or [])}})
    res = triage(intake.model_validate(intake.model_dump()))
    colour = {"emergency": "red", "soon": "yellow", "self_care": "green"}[res.level]
    console.print(f"[bold {colour}]{res.level}[/bold {colour}]: {escape(res.advice)}")
    for r in res.reasons:
        console.print(f"  - {escape(r)}")


@app.command()
def reminders() -> None:
    """Print (and mark sent) the appointment reminders that are due; run it from cron every few minutes."""
    from theralab.monitoring.assistant.scheduling import due_reminders
    from theralab.runtime.db import session_scope

    with session_scope() as s:
        due = due_reminders(s)
    for r in due:
        console.print(json.dumps(r))
    console.print(f"[dim]{len(due)} reminder(s) due[/dim]")
