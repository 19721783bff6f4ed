"""Stored questionnaires: submit (score, FHIR, escalate), list, trend.

Why submission escalates here and not in a surface: the item-9 rule must hold whichever surface
(chat, API, terminal) the answers came through.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from theralab.monitoring.assistant.consent import require_consent
from theralab.monitoring.assistant.questionnaires import CRISIS_PROTOCOL, QuestionnaireScore, from_fhir, score, to_fhir
from theralab.monitoring.assistant.risk import CRISIS_RESOURCES, escalate
from theralab.monitoring.assistant.tables import QuestionnaireRow


def submit_questionnaire(session: Session, patient_id: str, instrument: str, answers: list[object], *,
                         authored: datetime | None = None) -> dict[str, Any]:
    """Score, store as FHIR QuestionnaireResponse, and escalate when the suicide-risk protocol fires.

    Returns the score, the stored row id, the alert id (or None) and the crisis resources when the
    protocol fired (shown to the patient at once).
    """
    result = score(instrument, answers, authored=authored)
    require_consent(session, patient_id, "assistant.store")
    fhir = to_fhir(result, patient_id)
    row = QuestionnaireRow(patient_id=patient_id, instrument=result.instrument, total=result.total, band=result.band,
                           protocol=result.protocol, fhir=fhir, authored_at=result.authored)
    session.add(row)
    session.flush()
    alert_id = None
    if result.protocol == CRISIS_PROTOCOL:
        alert_id = escalate(session, patient_id=patient_id, reason="phq9-item9", severity="critical",
                            evidence={"questionnaire_id": row.id, "item9": result.answers[8], "total": result.total})
    elif result.instrument == "phq9" and result.total >= 20:
        alert_id = escalate(session, patient_id=patient_id, reason="phq9-severe", severity="high",
                            evidence={"questionnaire_id": row.id, "total": result.total})
    return {"id": row.id, "score": result.to_dict(), "alert_id": alert_id,
            "crisis_resources": list(CRISIS_RESOURCES) if result.protocol else [], "fhir": fhir}


def list_scores(session: Session, patient_id: str, instrument: str | None = None) -> list[QuestionnaireScore]:
    """A patient's scores, oldest first, re-scored from the stored FHIR."""
    query = select(QuestionnaireRow).where(QuestionnaireRow.patient_id == patient_id)
    if instrument:
        query = query.where(QuestionnaireRow.instrument == instrument)
    return [from_fhir(r.fhir) for r in session.scalars(query.order_by(QuestionnaireRow.authored_at))]
