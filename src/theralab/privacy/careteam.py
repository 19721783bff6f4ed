"""Care teams: which patients a clinician or researcher may see (object-level access).

A user is a member of zero or more teams; a team has patients (``*``: every patient). With care
teams enforced (the default; environment ``THERALAB_CARE_TEAMS=enforce``), a staff user sees the
patients of their teams and nobody else: lists are filtered, and a read of any other patient is
refused with 403 (audited). A ``patient`` account sees only its own record; ``admin`` sees every
patient (and is the one who assigns teams). ``THERALAB_CARE_TEAMS=off`` gives every staff user
every patient (a single-practice site). A token whose scopes are all ``patient/`` scopes sees its
own patient at most, whatever the user's teams.

Importing a patient never grants access to it: a team is assigned by an admin
(``theralab careteam`` or ``/v1/privacy/care-teams``), so re-importing someone else's patient id
cannot open that record.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from theralab.errors import ForbiddenError, InputError
from theralab.privacy.scopes import defaults, patient_context_only
from theralab.privacy.tables import CareTeamMember, CareTeamPatient

ALL = "*"
STAFF = frozenset({"clinician", "researcher"})


class Caller(Protocol):
    """What the check needs to know about a caller (a :class:`theralab.privacy.deps.Principal`)."""

    username: str
    roles: frozenset[str]
    patient_id: str
    scopes: frozenset[str] | None
    care_scoped: bool


def mode() -> str:
    """``enforce`` (default) or ``off`` (environment ``THERALAB_CARE_TEAMS``)."""
    value = os.environ.get("THERALAB_CARE_TEAMS", "enforce").strip().lower()
    return "off" if value in ("off", "0", "false", "no") else "enforce"


def _team(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120 or any(ord(c) < 32 for c in name):
        raise InputError("invalid care team name", where="team", hint="1 to 120 printable characters")
    return name


def add_member(session: Session, team: str, username: str, *, by: str = "") -> bool:
    """Put ``username`` on ``team``; False when already there."""
    team = _team(team)
    if session.scalar(select(CareTeamMember).where(CareTeamMember.team == team,
                                                   CareTeamMember.username == username)):
        return False
    session.add(CareTeamMember(team=team, username=username, added_by=by))
    session.flush()
    return True


def _remove(session: Session, table: type[CareTeamMember | CareTeamPatient], team: str, which: Any) -> bool:
    """Delete the ``table`` row of ``team`` that ``which`` selects; False when there was none."""
    result = session.execute(delete(table).where(table.team == team, which))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def remove_member(session: Session, team: str, username: str) -> bool:
    """Take ``username`` off ``team`` (effective for the next request)."""
    return _remove(session, CareTeamMember, team, CareTeamMember.username == username)


def add_patients(session: Session, team: str, patient_ids: Iterable[str], *, by: str = "") -> int:
    """Put patients under ``team``'s care (``*`` for all); returns how many were new."""
    team = _team(team)
    have = set(session.scalars(select(CareTeamPatient.patient_id).where(CareTeamPatient.team == team)))
    new = 0
    for pid in dict.fromkeys(str(p) for p in patient_ids):
        if not pid or len(pid) > 120:
            raise InputError(f"invalid patient id {pid[:40]!r}", where="patient_ids")
        if pid not in have:
            session.add(CareTeamPatient(team=team, patient_id=pid, added_by=by))
            have.add(pid)
            new += 1
    session.flush()
    return new


def remove_patient(session: Session, team: str, patient_id: str) -> bool:
    """Take a patient off ``team``'s care."""
    return _remove(session, CareTeamPatient, team, CareTeamPatient.patient_id == patient_id)


def teams(session: Session) -> list[dict[str, object]]:
    """Every team with its members and patient count (for administration)."""
    out: dict[str, dict[str, object]] = {}
    for m in session.scalars(select(CareTeamMember).order_by(CareTeamMember.team, CareTeamMember.username)):
        out.setdefault(m.team, {"team": m.team, "members": [], "patients": 0})["members"].append(m.username)  # type: ignore[union-attr]
    for team, pid in session.execute(select(CareTeamPatient.team, CareTeamPatient.patient_id)):
        entry = out.setdefault(team, {"team": team, "members": [], "patients": 0})
        entry["patients"] = ALL if pid == ALL or entry["patients"] == ALL else int(entry["patients"]) + 1  # type: ignore[call-overload]
    return sorted(out.values(), key=lambda t: str(t["team"]))


def team_patients(session: Session, username: str) -> set[str]:
    """Patient ids under the care of ``username``'s teams (may contain ``*``)."""
    member_of = select(CareTeamMember.team).where(CareTeamMember.username == username)
    return set(session.scalars(select(CareTeamPatient.patient_id).where(CareTeamPatient.team.in_(member_of))))


def visible_ids(session: Session, user: Caller) -> set[str] | None:
    """The patient ids ``user`` may see, or None for every patient."""
    scopes = user.scopes if user.scopes is not None else frozenset(defaults(user.roles))
    own = {user.patient_id} if user.patient_id else set()
    if patient_context_only(scopes):
        return own
    if "admin" in user.roles:
        return None
    if user.roles & STAFF:
        if not user.care_scoped or mode() == "off":
            return None
        ids = team_patients(session, user.username)
        return None if ALL in ids else ids | own
    return own


def may_see(session: Session, user: Caller, patient_id: str) -> bool:
    """Object-level check for one patient."""
    ids = visible_ids(session, user)
    return ids is None or patient_id in ids


def require(session: Session, user: Caller, patient_id: str) -> None:
    """Raise ForbiddenError unless ``user`` may see ``patient_id`` (the app audits the refusal)."""
    if not may_see(session, user, patient_id):
        raise ForbiddenError("this patient is not under your care", where="patient_id",
                             hint="ask an administrator to add you or the patient to a care team")


def filter_ids(session: Session, user: Caller, patient_ids: Iterable[str]) -> list[str]:
    """The ids of ``patient_ids`` that ``user`` may see, in order."""
    ids = visible_ids(session, user)
    return [p for p in patient_ids if ids is None or p in ids]


def keep_visible(session: Session, user: Caller, rows: list[dict[str, object]],
                 key: str = "patient_id") -> list[dict[str, object]]:
    """The rows of ``rows`` about patients ``user`` may see (rows without a patient id are kept)."""
    ids = visible_ids(session, user)
    return rows if ids is None else [r for r in rows if not r.get(key) or r.get(key) in ids]
