"""``theralab trials add|list|match|funnel``: store trials and match patients against them.

Registered on the ``theralab trials`` group by :func:`register`. Every command that reads patient
data writes an audit record (actor ``cli:<os user>``, identifiers only).
"""

from __future__ import annotations

import getpass
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import typer

from theralab.cli._common import console, err_console, friendly_errors


def _audit(action: str, resource_type: str, resource_id: str, session: Any) -> None:
    from theralab.privacy import audit

    audit.record(f"cli:{getpass.getuser()}", action, resource_type=resource_type, resource_id=resource_id,
                 session=session)


def _at(value: str | None) -> date:
    from theralab.ehr.patients import as_of

    return as_of(value, "--at")


def _session():  # noqa: ANN202 - a SQLAlchemy session context manager
    from theralab.runtime.db import session_scope

    return session_scope()


def load_trial_file(path: Path) -> tuple[str | None, str, Any]:
    """Read a trial JSON: ``{"id", "title", "criteria_text"}`` or ``{"id", "criteria": <Criteria JSON>}``.

    Returns (trial id or None, title, criteria text or a Criteria).

    Raises:
        InputError: unreadable JSON, or neither criteria text nor structured criteria in it.
    """
    from theralab.errors import InputError
    from theralab.trials.criteria.schemas import Criteria

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read trial JSON: {exc}", where=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("a trial JSON must be an object", where=str(path))
    tid = data.get("id") or data.get("trial_id") or data.get("nct_id")
    title = str(data.get("title") or data.get("brief_title") or "")
    text = data.get("criteria_text") or data.get("eligibility") or data.get("text")
    structured = data.get("criteria")
    if isinstance(structured, dict) or (isinstance(structured, list) and "source_text" in data):
        payload = structured if isinstance(structured, dict) else data
        try:
            return tid or payload.get("trial_id"), title, Criteria.model_validate(payload)
        except Exception as exc:  # pydantic.ValidationError
            raise InputError(f"invalid structured criteria: {exc}".splitlines()[0], where=f"{path}:criteria") from exc
    if isinstance(structured, str) and not text:
        text = structured
    if not isinstance(text, str) or not text.strip():
        raise InputError("the trial JSON has no criteria", where=str(path),
                         hint='give "criteria_text" (eligibility text) or "criteria" (a parsed Criteria object)')
    return tid, title, text


def add(
    trial_json: Path | None = typer.Argument(None, help="trial JSON: {id, title, criteria_text} or {id, criteria}"),
    criteria_file: Path | None = typer.Option(None, "--criteria-file", "-f", help="eligibility criteria text file"),
    trial_id: str | None = typer.Option(None, "--id", help="trial id (default: from the JSON or the file name)"),
    title: str = typer.Option("", "--title", help="display title"),
    replace: bool = typer.Option(False, "--replace", help="store as a new version if the trial exists"),
) -> None:
    """Add a trial: parse its eligibility criteria and store them (version 1)."""
    from theralab.errors import InputError
    from theralab.trials.criteria.parse import parse_criteria, summary
    from theralab.trials.criteria.schemas import Criteria
    from theralab.trials.tables import add_trial

    if (trial_json is None) == (criteria_file is None):
        raise InputError("give either TRIAL.json or --criteria-file", where="arguments",
                         hint="theralab trials add trial.json  |  theralab trials add -f criteria.txt --id NCT01234567")
    if trial_json is not None:
        tid, json_title, content = load_trial_file(trial_json)
        title = title or json_title
    else:
        assert criteria_file is not None
        try:
            content = criteria_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read {criteria_file}: {exc}", where=str(criteria_file)) from exc
        stem = re.match(r"(NCT\d{8})", criteria_file.stem.upper())
        tid = stem.group(1) if stem else None
    tid = trial_id or tid
    if not tid:
        raise InputError("no trial id", where="--id", hint="pass --id, or put \"id\" in the JSON")
    crit = content if isinstance(content, Criteria) else parse_criteria(content, trial_id=tid)
    with _session() as s:
        add_trial(s, tid, crit, title=title, author=f"cli:{getpass.getuser()}", replace=replace)
    counts = summary(crit)
    console.print(f"added [bold]{tid}[/bold]: {counts['inclusion']} inclusion, {counts['exclusion']} exclusion "
                  f"criteria; {counts['mapped']}/{counts['core_entities']} entities coded")
    for w in crit.warnings[:10]:
        err_console.print(f"[yellow]warning:[/yellow] {w}")


def list_() -> None:
    """List stored trials with their current criteria version."""
    from rich.table import Table

    from theralab.trials.tables import list_trials

    with _session() as s:
        rows = list_trials(s)
    table = Table("trial", "title", "version", "inclusion", "exclusion", "updated")
    for r in rows:
        table.add_row(r["id"], r["title"][:60], str(r["version"]), str(r["inclusion"]), str(r["exclusion"]),
                      (r["updated_at"] or "")[:19])
    console.print(table if rows else "no trials yet: theralab trials add TRIAL.json")


def _print_explanation(m: Any) -> None:
    from rich.table import Table

    colour = {"eligible": "green", "ineligible": "red", "unknown": "yellow"}[m.eligibility]
    label = "not enough information" if m.eligibility == "unknown" else m.eligibility
    console.print(f"patient [bold]{m.patient_id}[/bold] on {m.at}: [{colour}]{label}[/{colour}] "
                  f"({m.passed} passed, {m.failed} failed, {m.unknown} unknown)")
    table = Table("criterion", "kind", "status", "outcome", "evidence", show_lines=True)
    for r in m.criteria:
        lines = []
        for c in r.checks:
            lines.append(f"{c.question}: {c.status} - {c.reason}")
            lines += [f"  {e.resource or e.source}: {e.text}" for e in c.evidence[:3] if e.text != c.reason]
        table.add_row(f"{r.criterion_id}\n{r.text[:80]}", r.kind, r.status, r.outcome,
                      "\n".join(lines) or r.reason)
    console.print(table)


def match(
    trial_id: str = typer.Argument(..., help="a stored trial id"),
    patient: str | None = typer.Option(None, "--patient", "-p", help="explain one patient criterion by criterion"),
    at: str | None = typer.Option(None, "--at", help="evaluation date YYYY-MM-DD (default: today)"),
    limit: int = typer.Option(20, "--limit", "-n", help="patients to list"),
    notes: bool = typer.Option(True, "--notes/--no-notes", help="read notes for what coded data leave unknown"),
    llm: bool = typer.Option(False, "--llm", help="--patient: ask the configured LLM (THERALAB_LLM_BASE_URL) "
                                                 "about criteria still unknown"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    out: Path | None = typer.Option(None, "--out", "-o", help="write the JSON result here"),
) -> None:
    """Rank patients for a trial, or explain one patient (--patient) with the evidence."""
    from rich.table import Table

    from theralab.trials.matching.engine import evaluate_cohort, explain_patient, refine_ranked
    from theralab.trials.tables import current_criteria

    when = _at(at)
    with _session() as s:
        crit, version = current_criteria(s, trial_id)
        if patient:
            judge = None
            if llm:
                from theralab.trials.matching.llm import LLMJudge

                judge = LLMJudge.from_settings()
            m = explain_patient(s, crit, patient, at=when, notes=notes, judge=judge, trial_id=trial_id,
                                version=version)
            _audit("trials.match.patient", "Patient", patient, s)
            payload: Any = m.model_dump(mode="json")
        else:
            cohort = evaluate_cohort(s, crit, at=when, trial_id=trial_id, version=version)
            rows = cohort.ranked(limit=limit)
            if notes:
                rows = refine_ranked(s, crit, rows, at=when)
            _audit("trials.match.cohort", "Trial", trial_id, s)
            payload = {"trial_id": trial_id, "version": version, "at": when.isoformat(),
                       "patients": len(cohort.universe), "ranked": rows}
    if out:
        out.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    if as_json:
        console.print_json(json.dumps(payload, default=str))
        return
    if patient:
        _print_explanation(m)
        return
    console.print(f"trial [bold]{trial_id}[/bold] v{version} on {when}: {payload['patients']} patients")
    table = Table("#", "patient", "eligibility", "score", "passed", "failed", "unknown")
    for k, r in enumerate(payload["ranked"], 1):
        table.add_row(str(k), r["patient_id"], r["eligibility"].replace("unknown", "not enough info"),
                      f"{r['score']:.2f}", str(r["passed"]), str(r["failed"]), str(r["unknown"]))
    console.print(table)


def funnel(
    trial_id: str = typer.Argument(..., help="a stored trial id"),
    at: str | None = typer.Option(None, "--at", help="evaluation date YYYY-MM-DD (default: today)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Feasibility funnel: how many patients each criterion removes, in order."""
    from rich.table import Table

    from theralab.trials.matching.engine import evaluate_cohort
    from theralab.trials.tables import current_criteria

    when = _at(at)
    with _session() as s:
        crit, version = current_criteria(s, trial_id)
        f = evaluate_cohort(s, crit, at=when, trial_id=trial_id, version=version).funnel()
        _audit("trials.funnel", "Trial", trial_id, s)
    if as_json:
        console.print_json(json.dumps(f))
        return
    console.print(f"trial [bold]{trial_id}[/bold] v{version} on {when}: {f['patients']} patients, "
                  f"{f['deceased']} deceased, {f['start']} at the start")
    table = Table("criterion", "kind", "text", "removed", "remaining", "unknown among remaining")
    for st in f["steps"]:
        table.add_row(st["criterion_id"], st["kind"], st["text"][:70], str(st["removed"]), str(st["remaining"]),
                      str(st["unknown_among_remaining"]))
    console.print(table)
    console.print(f"eligible: [green]{f['eligible']}[/green]; not enough information: "
                  f"[yellow]{f['not_enough_information']}[/yellow]; ineligible: {f['ineligible']}")


def register(app: typer.Typer) -> None:
    """Add the matching commands to the ``theralab trials`` group."""
    app.command("add")(add)
    app.command("list")(friendly_errors(list_))
    app.command("match")(friendly_errors(match))
    app.command("funnel")(friendly_errors(funnel))
