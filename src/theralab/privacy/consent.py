"""Per-patient consent: research use, trial contact and data sharing; withdrawal takes effect at once.

Each decision is a new :class:`~theralab.privacy.tables.ConsentRecord` row (history kept); the
latest row per purpose is the patient's current decision. Nothing is cached: every check reads the
table, so a withdrawal committed now is honoured by the very next request (matching, research
exports, the assistant).

Where no decision is recorded the site's policy decides: ``THERALAB_CONSENT_MODE=opt-out`` (the
default: a patient is included until they withdraw; the usual model for trial pre-screening inside
a care organisation) or ``opt-in`` (nobody is included until they consent; what research exports
under GDPR-style rules need). The mode is read at each check.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from theralab.errors import ForbiddenError, InputError
from theralab.privacy.tables import ConsentRecord

Purpose = Literal["research", "trial_contact", "data_sharing", "assistant"]
#: ``assistant``: the health assistant may read the patient's record to tailor answers and keep
#: what they enter (questionnaires, conversations); checked by ``theralab.monitoring.assistant``.
PURPOSES: tuple[str, ...] = ("research", "trial_contact", "data_sharing", "assistant")


class ConsentState(BaseModel):
    """A patient's current decision per purpose (``None``: nothing recorded, the site mode applies)."""

    patient_id: str
    mode: str
    decisions: dict[str, bool | None]
    effective: dict[str, bool]


def mode() -> str:
    """``opt-out`` or ``opt-in`` (environment ``THERALAB_CONSENT_MODE``)."""
    value = os.environ.get("THERALAB_CONSENT_MODE", "opt-out").strip().lower()
    return value if value in ("opt-in", "opt-out") else "opt-out"


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise InputError(f"unknown consent purpose {purpose!r}", where="purpose", hint=f"one of {', '.join(PURPOSES)}")


def record(session: Session, patient_id: str, purpose: str, granted: bool, by: str, note: str = "") -> ConsentRecord:
    """Append a decision (grant or withdrawal) for ``patient_id`` and ``purpose``."""
    _check_purpose(purpose)
    if not patient_id or len(patient_id) > 120:
        raise InputError("invalid patient id", where="patient_id")
    row = ConsentRecord(patient_id=patient_id, purpose=purpose, granted=1 if granted else 0, recorded_by=by[:120],
                        note=note[:500])
    session.add(row)
    session.flush()
    return row


def decisions(session: Session, patient_ids: Iterable[str], purpose: str) -> dict[str, bool]:
    """The latest recorded decision per patient for ``purpose`` (patients without one are absent)."""
    _check_purpose(purpose)
    ids = list(dict.fromkeys(patient_ids))
    out: dict[str, bool] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(ConsentRecord.patient_id, ConsentRecord.granted)
            .where(ConsentRecord.purpose == purpose, ConsentRecord.patient_id.in_(ids[start:start + 500]))
            .order_by(ConsentRecord.id)
        )
        for pid, granted in rows:
            out[pid] = bool(granted)  # later rows overwrite earlier ones: the latest decision wins
    return out


def allowed(session: Session, patient_id: str, purpose: str) -> bool:
    """Whether ``patient_id`` may be used for ``purpose`` now."""
    decided = decisions(session, [patient_id], purpose)
    return decided.get(patient_id, mode() == "opt-out")


def filter_allowed(session: Session, patient_ids: Iterable[str], purpose: str) -> list[str]:
    """The patients of ``patient_ids`` (order kept) that may be used for ``purpose`` now."""
    ids = list(patient_ids)
    decided = decisions(session, ids, purpose)
    default = mode() == "opt-out"
    return [p for p in ids if decided.get(p, default)]


def require(session: Session, patient_id: str, purpose: str) -> None:
    """Raise ForbiddenError when ``patient_id`` has not consented (or has withdrawn) for ``purpose``."""
    if not allowed(session, patient_id, purpose):
        raise ForbiddenError(f"patient {patient_id} has no {purpose.replace('_', ' ')} consent",
                             where="consent", hint="the patient withdrew (or never gave) this consent")


def state(session: Session, patient_id: str) -> ConsentState:
    """Current decisions and their effect for one patient."""
    current = {p: decisions(session, [patient_id], p).get(patient_id) for p in PURPOSES}
    default = mode() == "opt-out"
    return ConsentState(patient_id=patient_id, mode=mode(), decisions=current,
                        effective={p: (v if v is not None else default) for p, v in current.items()})
