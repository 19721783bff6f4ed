"""ORM tables of trials for recruitment: the trial, every version of its parsed criteria, and who changed them.

Why versions instead of one mutable row: a parse is corrected by people over time, and a match
shown to a clinician must be reproducible ("eligible under criteria version 3"). Each correction
therefore appends a new :class:`CriteriaVersionRow` holding the complete :class:`Criteria` JSON
(with its correction history inside), and matching always names the version it used. Match
results are not cached: the SQL evaluation is fast enough to recompute, and a cache would go stale
whenever a patient record changes.

Tables are created by the project's Alembic migrations (``theralab db upgrade``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from theralab.errors import InputError, NotFoundError
from theralab.runtime.db import Base, UTCDateTime, utcnow
from theralab.trials.criteria.schemas import Criteria, CriteriaCorrection

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class TrialRow(Base):
    """A trial known to the recruitment module (an NCT id or a site's own identifier)."""

    __tablename__ = "trials_trials"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    source_text: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CriteriaVersionRow(Base):
    """One version of a trial's structured criteria: the parse (version 1) or a correction of it."""

    __tablename__ = "trials_criteria_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trial_id: Mapped[str] = mapped_column(String(128), ForeignKey("trials_trials.id", ondelete="CASCADE"),
                                          index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # parse | correction | replace
    author: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def trial_tables() -> list[Any]:
    """The ``Table`` objects of this module."""
    return [TrialRow.__table__, CriteriaVersionRow.__table__]


def check_trial_id(trial_id: str) -> str:
    """Validate a trial id (letters, digits, ``._:-``; at most 128 characters).

    Raises:
        InputError: for an empty or malformed id.
    """
    tid = (trial_id or "").strip()
    if not _ID_RE.match(tid):
        raise InputError(f"invalid trial id {trial_id!r}", where="trial_id",
                         hint="letters, digits and . _ : - only, e.g. NCT01234567")
    return tid


def get_trial(session: Session, trial_id: str) -> TrialRow:
    """The trial row.

    Raises:
        NotFoundError: when no trial has this id.
    """
    row = session.get(TrialRow, trial_id)
    if row is None:
        raise NotFoundError(f"no trial {trial_id!r}", where="trial_id",
                            hint="list trials with 'theralab trials list' or add one with 'theralab trials add'")
    return row


def latest_version(session: Session, trial_id: str) -> CriteriaVersionRow:
    """The newest criteria version of a trial (NotFoundError when the trial is unknown)."""
    get_trial(session, trial_id)
    row = session.scalars(select(CriteriaVersionRow).where(CriteriaVersionRow.trial_id == trial_id)
                          .order_by(CriteriaVersionRow.version.desc()).limit(1)).first()
    if row is None:  # pragma: no cover - add_trial always writes version 1
        raise NotFoundError(f"trial {trial_id!r} has no criteria", where="trial_id")
    return row


def current_criteria(session: Session, trial_id: str) -> tuple[Criteria, int]:
    """The trial's current :class:`Criteria` and its version number."""
    row = latest_version(session, trial_id)
    return Criteria.model_validate(row.criteria), row.version


def versions(session: Session, trial_id: str) -> list[CriteriaVersionRow]:
    """Every criteria version of a trial, oldest first."""
    get_trial(session, trial_id)
    return list(session.scalars(select(CriteriaVersionRow).where(CriteriaVersionRow.trial_id == trial_id)
                                .order_by(CriteriaVersionRow.version)))


def add_trial(session: Session, trial_id: str, criteria: Criteria, *, title: str = "", author: str = "",
              replace: bool = False) -> TrialRow:
    """Store a trial with its parsed criteria as version 1.

    Args:
        trial_id: the id (an NCT id or a site id).
        criteria: the parse (from :func:`theralab.trials.criteria.parse.parse_criteria`, or a stored JSON).
        title: a display title.
        author: who added it (the audit trail keeps the rest).
        replace: when the trial exists, add the criteria as a new version instead of failing.

    Raises:
        InputError: malformed id, or criteria with no criterion in them.
        ConflictError: the trial exists and ``replace`` is False.
    """
    from theralab.errors import ConflictError

    tid = check_trial_id(trial_id)
    if not criteria.criteria:
        raise InputError("the criteria contain no criterion", where="criteria",
                         hint="give eligibility text with at least one inclusion or exclusion line")
    criteria = criteria.model_copy(update={"trial_id": tid})
    row = session.get(TrialRow, tid)
    if row is not None and not replace:
        raise ConflictError(f"trial {tid!r} already exists", where="trial_id",
                            hint="use replace (CLI --replace) to store new criteria as a new version, or "
                                 "PUT /v1/trials/{id}/criteria to correct them")
    if row is None:
        row = TrialRow(id=tid, title=title[:500], source_text=criteria.source_text, created_by=author)
        session.add(row)
        session.flush()
        version, kind = 1, "parse"
    else:
        row.title = title[:500] or row.title
        row.source_text = criteria.source_text or row.source_text
        version, kind = _next_version(session, tid), "replace"
    session.add(CriteriaVersionRow(trial_id=tid, version=version, kind=kind, author=author,
                                   criteria=criteria.model_dump(mode="json")))
    session.flush()
    return row


def _next_version(session: Session, trial_id: str) -> int:
    top = session.scalar(select(func.max(CriteriaVersionRow.version)).where(CriteriaVersionRow.trial_id == trial_id))
    return int(top or 0) + 1


def save_correction(session: Session, trial_id: str, correction: CriteriaCorrection | dict[str, Any], *,
                    author: str = "") -> tuple[Criteria, int]:
    """Apply a user's correction to the current criteria and store the result as a new version.

    The correction is validated completely before anything is written (see
    :func:`theralab.trials.criteria.schemas.apply_correction`), so a bad edit leaves the trial as it was.

    Returns:
        the corrected criteria and the new version number.

    Raises:
        NotFoundError: unknown trial. InputError: an edit naming an unknown criterion/entity or a bad field.
    """
    from theralab.trials.criteria.schemas import apply_correction

    if isinstance(correction, dict):
        correction = CriteriaCorrection.model_validate(correction)
    if author and not correction.author:
        correction = correction.model_copy(update={"author": author})
    current, _ = current_criteria(session, trial_id)
    corrected = apply_correction(current, correction)
    version = _next_version(session, trial_id)
    session.add(CriteriaVersionRow(trial_id=trial_id, version=version, kind="correction",
                                   author=correction.author, note=correction.note,
                                   criteria=corrected.model_dump(mode="json")))
    get_trial(session, trial_id).updated_at = utcnow()
    session.flush()
    return corrected, version


def list_trials(session: Session) -> list[dict[str, Any]]:
    """One line per trial: id, title, current version, criteria counts, last change."""
    out = []
    for row in session.scalars(select(TrialRow).order_by(TrialRow.id)):
        crit, version = current_criteria(session, row.id)
        out.append({"id": row.id, "title": row.title, "version": version,
                    "inclusion": len(crit.inclusion()), "exclusion": len(crit.exclusion()),
                    "updated_at": row.updated_at.isoformat() if row.updated_at else None})
    return out
