"""The consent check the assistant makes before using a patient's data.

The default check reads the patient's recorded decisions (:mod:`theralab.privacy.consent`, purpose
``assistant``) at every call, nothing cached, so a withdrawal takes effect on the very next message;
with no decision recorded the site's consent mode decides (opt-out by default). Every process gets
it (server, CLI, jobs), not only the one the composition root builds. A site with its own consent
service installs it with :func:`set_consent_check`.

Points of use: ``assistant.personalise`` (read the record to tailor an answer),
``assistant.store`` (keep a conversation or questionnaire), ``assistant.schedule``; all three are
the one recorded purpose ``assistant``.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from theralab.errors import ForbiddenError
from theralab.privacy import consent as privacy_consent

PURPOSE = "assistant"


class ConsentCheck(Protocol):
    """``check(session, patient_id, purpose) -> bool``: may the assistant use this patient's data?"""

    def __call__(self, session: Session, patient_id: str, purpose: str) -> bool: ...


def recorded_consent(session: Session, patient_id: str, purpose: str) -> bool:
    """The default check: the patient's current ``assistant`` decision in the consent records."""
    return privacy_consent.allowed(session, patient_id, PURPOSE)


_check: ConsentCheck = recorded_consent


def set_consent_check(check: ConsentCheck | None) -> None:
    """Install a site's own consent check (``None`` restores the recorded-consent default)."""
    global _check
    _check = check or recorded_consent


def has_consent(session: Session, patient_id: str, purpose: str) -> bool:
    """True when the installed check allows ``purpose`` for ``patient_id``."""
    return bool(_check(session, patient_id, purpose))


def require_consent(session: Session, patient_id: str, purpose: str) -> None:
    """Raise ``ForbiddenError`` when consent is missing for ``purpose``."""
    if not has_consent(session, patient_id, purpose):
        raise ForbiddenError(f"no consent recorded for {purpose}", hint="ask the patient to record consent first")
