"""The consent hook: one function call the assistant makes before using a patient's data.

Why a hook and not an import: consent records (``theralab.privacy.consent``, issue 18) are being
built in parallel. Until they land, the default check allows every purpose (the site's existing
treatment relationship) and the assistant still calls it at each point of use, so wiring the real
check later is one line: ``set_consent_check(theralab.privacy.consent.<check>)`` at start-up.

Purposes used: ``assistant.personalise`` (read the record to tailor an answer),
``assistant.store`` (keep a conversation or questionnaire), ``assistant.schedule``.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from theralab.errors import ForbiddenError


class ConsentCheck(Protocol):
    """``check(session, patient_id, purpose) -> bool``: may the assistant use this patient's data?"""

    def __call__(self, session: Session, patient_id: str, purpose: str) -> bool: ...


def allow_all(session: Session, patient_id: str, purpose: str) -> bool:
    """Default until consent records exist: allowed (documented in docs/assistant.md)."""
    return True


_check: ConsentCheck = allow_all


def set_consent_check(check: ConsentCheck | None) -> None:
    """Install the site's consent check (``None`` restores the default)."""
    global _check
    _check = check or allow_all


def has_consent(session: Session, patient_id: str, purpose: str) -> bool:
    """True when the installed check allows ``purpose`` for ``patient_id``."""
    return bool(_check(session, patient_id, purpose))


def require_consent(session: Session, patient_id: str, purpose: str) -> None:
    """Raise ``ForbiddenError`` when consent is missing for ``purpose``."""
    if not has_consent(session, patient_id, purpose):
        raise ForbiddenError(f"no consent recorded for {purpose}", hint="ask the patient to record consent first")
