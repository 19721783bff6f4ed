"""An optional LLM judge for criteria the rules leave unknown (TrialGPT-style), off by default.

Why optional and last: rules and SQL are exact and auditable for structured criteria; an LLM is
neither, and sending a patient summary to a model is a data-governance decision for the site. So
the judge is used only when the caller asks for it, only on criteria still "not enough information"
after the coded record and the notes, only against the endpoint named in settings (``llm_base_url``,
e.g. a vLLM or llama.cpp server inside the site's walls), and its answer is labelled as the model's.

Protocol: OpenAI-compatible ``POST {llm_base_url}/chat/completions`` with ``temperature: 0`` and a
JSON-object answer ``{"status": "met"|"not_met"|"unknown", "explanation": "...", "evidence": [...]}``.
An unreachable server or an unreadable answer leaves the criterion unknown with the reason.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from theralab.errors import InputError
from theralab.trials.matching.schemas import CriterionResult, Evidence

SYSTEM_PROMPT = (
    "You are a clinical research coordinator screening a patient for a clinical trial. You are given one "
    "eligibility criterion and the patient's record. Judge only from the record. Answer with a JSON object: "
    '{"status": "met" | "not_met" | "unknown", "explanation": "<one or two sentences>", '
    '"evidence": ["<quoted facts from the record>"]}. '
    '"met" means the criterion statement is true for the patient (for an exclusion criterion, that the patient '
    'has the excluding feature). Use "unknown" when the record does not say.'
)
MAX_RECORD_CHARS = 6000


def patient_summary(session: Session, patient_id: str, at: datetime) -> str:
    """A compact text view of the record at ``at``: demographics, conditions, drugs, latest labs, notes."""
    from theralab.ehr.patients import load_patient

    p = load_patient(session, patient_id)
    lines = [f"Sex: {p.gender or 'unknown'}; age: {p.age_at(at) if p.birth_date else 'unknown'} years "
             f"(on {at.date().isoformat()})"]
    conds = [f"{c.display} (since {c.onset.date() if c.onset else '?'})" for c in p.active_conditions(at)]
    past = [c.display for c in p.conditions if not c.active_at(at) and (c.onset is None or c.onset <= at)]
    lines.append("Active conditions: " + ("; ".join(conds) or "none recorded"))
    if past:
        lines.append("Past conditions: " + "; ".join(dict.fromkeys(str(x) for x in past)))
    lines.append("Current medications: " + ("; ".join(str(m.display) for m in p.active_medications(at)) or "none"))
    labs = sorted(p.latest_values(at).values(), key=lambda o: o.display or "")
    lab_txt = [f"{o.display}: {o.value:g} {o.unit or ''} ({o.effective.date() if o.effective else '?'})"
               for o in labs if o.value is not None]
    lines.append("Latest results: " + ("; ".join(lab_txt) or "none"))
    fam = [f"{f.relationship_display or f.relationship}: {f.display}" for f in p.family_history]
    if fam:
        lines.append("Family history: " + "; ".join(fam))
    for n in p.notes:
        if n.text and (n.date is None or n.date <= at):
            lines.append(f"Note ({n.date.date() if n.date else '?'}): {n.text.strip()}")
    text = "\n".join(lines)
    return text[:MAX_RECORD_CHARS]


def parse_answer(content: str) -> dict[str, Any]:
    """The JSON object in a model's answer (tolerates code fences and text around it).

    Raises:
        InputError: when no JSON object with a valid ``status`` is found.
    """
    match = re.search(r"\{.*\}", content or "", re.S)
    if not match:
        raise InputError("the model's answer holds no JSON object", where="llm.answer")
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError as exc:
        raise InputError(f"the model's answer is not valid JSON: {exc}", where="llm.answer") from exc
    status = str(data.get("status", "")).strip().lower().replace(" ", "_")
    if status not in ("met", "not_met", "unknown"):
        raise InputError(f"the model's status {data.get('status')!r} is not met/not_met/unknown", where="llm.status")
    ev = data.get("evidence") or []
    return {"status": status, "explanation": str(data.get("explanation", ""))[:1000],
            "evidence": [str(x)[:500] for x in ev][:5] if isinstance(ev, list) else [str(ev)[:500]]}


class LLMJudge:
    """Client of an OpenAI-compatible chat-completions endpoint that judges one criterion at a time.

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``.
        model: the model name the server expects.
        api_key: sent as a bearer token when given (local servers usually need none).
        timeout: seconds per request.
    """

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 60.0) -> None:
        if not base_url:
            raise InputError("no LLM endpoint configured", where="llm_base_url",
                             hint="set THERALAB_LLM_BASE_URL (an OpenAI-compatible server) and THERALAB_LLM_MODEL")
        self.base_url = base_url.rstrip("/")
        self.model = model or "default"
        self.api_key = api_key
        self.timeout = timeout

    @classmethod
    def from_settings(cls) -> LLMJudge:
        """The judge configured by ``llm_base_url`` / ``llm_model`` (InputError when not configured)."""
        import os

        from theralab.settings import get_settings

        s = get_settings()
        return cls(s.llm_base_url, s.llm_model, api_key=os.environ.get("THERALAB_LLM_API_KEY"))

    def ask(self, criterion: str, kind: str, record: str) -> dict[str, Any]:
        """Send one criterion and the record; return the parsed answer.

        Raises:
            InputError: unreadable answer. httpx.HTTPError: transport failure or an error status.
        """
        import httpx

        body = {
            "model": self.model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Criterion ({kind}): {criterion}\n\nPatient record:\n{record}"},
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        r = httpx.post(f"{self.base_url}/chat/completions", json=body, headers=headers, timeout=self.timeout)
        r.raise_for_status()
        content = r.json()["choices"][0]["message"]["content"]
        return parse_answer(content)

    def refine(self, session: Session, patient_id: str, result: CriterionResult, at: datetime) -> CriterionResult:
        """Ask about one unknown criterion; the answer replaces the status, labelled as the model's."""
        import httpx

        try:
            ans = self.ask(result.text, result.kind, patient_summary(session, patient_id, at))
        except (httpx.HTTPError, InputError, KeyError, IndexError, ValueError) as exc:
            return result.model_copy(update={"reason": f"{result.reason}; LLM judge failed: {exc}"})
        status = ans["status"]
        outcome = "unknown" if status == "unknown" else (
            "pass" if (status == "met") == (result.kind == "inclusion") else "fail")
        ev = [Evidence(resource="llm", text=ans["explanation"] or "(no explanation)", source="llm",
                       context=[self.model, *ans["evidence"]])]
        return result.model_copy(update={
            "status": status, "outcome": outcome, "reason": f"LLM ({self.model}): {ans['explanation']}",
            "checks": [*result.checks, _llm_check(ev, status)]})


def _llm_check(ev: list[Evidence], status: str) -> Any:
    from theralab.trials.matching.schemas import CheckResult

    return CheckResult(id="llm", kind="llm", question="LLM judgement of the whole criterion", status=status,
                       reason=ev[0].text, evidence=ev)
