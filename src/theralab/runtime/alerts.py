"""Alerts shared by every domain (monitoring, trial safety): deduplicated, owned, acknowledged,
escalated, delivered, and every change kept in an audit trail.

Why a foundation module: the monitoring issue and the trial-safety issue both need the same alert
life cycle, and a clinician wants one inbox. Domain code raises an alert with a ``dedup_key``
(e.g. ``"news2-high:patient-7"``); while an alert with that key is open, new triggers only bump
its count and append their evidence, so a deteriorating patient gives one alert, not sixty.
A trigger inside the ``suppress_minutes`` window after an alert was resolved is counted but not
re-opened. Every alert keeps the data that triggered it (``evidence``).

A worse condition is always announced (the IEC 60601-1-8 principle that a higher-priority alarm
condition is never hidden by what happened to an earlier one); with ``S`` the new trigger's
severity and ``E`` the latest alert with the same key:

* ``E`` open or escalated, ``S`` higher: ``E`` takes severity ``S`` and a ``severity_raised``
  event is announced (escalation goes on);
* ``E`` acknowledged, ``S`` higher than what was acknowledged: ``E`` is re-opened (status
  ``open``, acknowledgement cleared, escalation clock restarted) with a ``reopened`` event;
* ``E`` resolved inside the suppression window, ``S`` higher than what was resolved: a new alert
  is raised (``raised``, detail naming ``E``) and ``E`` gets a ``superseded`` event;
* otherwise (``S`` not higher) triggers fold into ``E`` as before (``repeated``/``suppressed``).

Announcements (``raised``, ``reopened``, ``severity_raised``, ``escalated``) are events in the
history and are published to live subscribers when the transaction commits (see
:mod:`theralab.runtime.alert_bus`). The rules and their tests are in docs/monitoring.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from theralab.errors import ConflictError, InputError, NotFoundError
from theralab.runtime import alert_bus as _alert_bus  # noqa: F401 - registers the commit hooks
from theralab.runtime.db import Base, UTCDateTime, utcnow

SEVERITIES = ("info", "low", "medium", "high", "critical")
OPEN_STATES = ("open", "acknowledged", "escalated")
ANNOUNCEMENTS = ("raised", "reopened", "severity_raised", "escalated")
MAX_EVIDENCE = 50


class Alert(Base):
    """One alert and where it stands."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(40), nullable=False, index=True)  # monitoring, trials, ...
    subject: Mapped[str] = mapped_column(String(120), nullable=False, index=True)  # patient id, trial id
    rule: Mapped[str] = mapped_column(String(80), nullable=False)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    dedup_key: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open", index=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # when it was last announced (raised, re-opened, or its last escalation became due); the
    # escalation clock runs from here, so a re-opened alert gets a full period before escalating
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able view."""
        return {
            "id": self.id, "domain": self.domain, "subject": self.subject, "rule": self.rule,
            "severity": self.severity, "title": self.title, "dedup_key": self.dedup_key, "status": self.status,
            "count": self.count, "owner": self.owner, "escalation_level": self.escalation_level,
            "evidence": self.evidence, "first_at": self.first_at.isoformat(), "last_at": self.last_at.isoformat(),
            "acknowledged_by": self.acknowledged_by,
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "announced_at": self.announced_at.isoformat() if self.announced_at else None,
        }


class AlertEvent(Base):
    """Append-only history of an alert: raised, repeated, acknowledged, assigned, escalated, resolved."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")


def _event(session: Session, alert: Alert, actor: str, action: str, detail: str = "",
           at: datetime | None = None) -> None:
    event = AlertEvent(alert_id=alert.id, actor=actor, action=action, detail=detail, at=at or utcnow())
    session.add(event)
    if action in ANNOUNCEMENTS:
        # published to live subscribers after commit (never for a rolled-back transaction)
        session.flush()
        session.info.setdefault("alert_announcements", []).append(
            {"event_id": event.id, "action": action, "detail": detail, "alert": alert.to_dict()})


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def raise_alert(
    session: Session,
    *,
    domain: str,
    subject: str,
    rule: str,
    severity: str,
    title: str,
    evidence: dict[str, Any],
    dedup_key: str | None = None,
    suppress_minutes: float = 60.0,
    now: datetime | None = None,
) -> tuple[Alert, bool]:
    """Raise (or fold into an open duplicate) an alert; returns ``(alert, is_new)``."""
    if severity not in SEVERITIES:
        raise InputError(f"unknown severity {severity!r}", where="severity", hint=f"one of {', '.join(SEVERITIES)}")
    now = now or utcnow()
    key = dedup_key or f"{domain}:{rule}:{subject}"
    existing = session.scalar(
        select(Alert).where(Alert.dedup_key == key).order_by(Alert.id.desc()).limit(1)
    )
    suppressed = (
        existing is not None
        and existing.status == "resolved"
        and existing.resolved_at is not None
        and now - existing.resolved_at < timedelta(minutes=suppress_minutes)
    )
    worse = existing is not None and _rank(severity) > _rank(existing.severity)
    if existing is not None and existing.status in OPEN_STATES:
        existing.count += 1
        existing.last_at = now
        existing.evidence = (list(existing.evidence) + [evidence])[-MAX_EVIDENCE:]
        if not worse:
            _event(session, existing, "system", "repeated", at=now)
            return existing, False
        before, existing.severity, existing.title = existing.severity, severity, title
        if existing.status == "acknowledged":
            # the clinician acknowledged a milder condition: this one must be announced again
            detail = (f"{before} -> {severity}: worse than acknowledged by {existing.acknowledged_by}; "
                      f"re-opened. {title}")
            existing.status, existing.acknowledged_by, existing.acknowledged_at = "open", None, None
            existing.announced_at = now
            _event(session, existing, "system", "reopened", detail, at=now)
        else:
            _event(session, existing, "system", "severity_raised", f"{before} -> {severity}. {title}", at=now)
        return existing, False
    if existing is not None and suppressed and not worse:
        existing.count += 1
        existing.last_at = now
        existing.evidence = (list(existing.evidence) + [evidence])[-MAX_EVIDENCE:]
        _event(session, existing, "system", "suppressed", at=now)
        return existing, False
    alert = Alert(domain=domain, subject=subject, rule=rule, severity=severity, title=title, dedup_key=key,
                  evidence=[evidence], first_at=now, last_at=now, announced_at=now)
    session.add(alert)
    session.flush()
    detail = title
    if existing is not None and suppressed:  # resolved a milder condition moments ago: announce anew
        detail = f"{title} (worse than alert {existing.id}, resolved at {existing.severity})"
        _event(session, existing, "system", "superseded", f"by alert {alert.id} ({severity})", at=now)
    _event(session, alert, "system", "raised", detail, at=now)
    return alert, True


def _get(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"no alert {alert_id}")
    return alert


def acknowledge(session: Session, alert_id: int, user: str, note: str = "") -> Alert:
    """A clinician takes responsibility: stops escalation, makes them the owner."""
    alert = _get(session, alert_id)
    if alert.status == "resolved":
        raise ConflictError(f"alert {alert_id} is already resolved")
    alert.status, alert.acknowledged_by, alert.acknowledged_at = "acknowledged", user, utcnow()
    alert.owner = alert.owner or user
    _event(session, alert, user, "acknowledged", note)
    return alert


def assign(session: Session, alert_id: int, owner: str, by: str) -> Alert:
    """Give an alert an owner."""
    alert = _get(session, alert_id)
    alert.owner = owner
    _event(session, alert, by, "assigned", owner)
    return alert


def resolve(session: Session, alert_id: int, user: str, note: str = "") -> Alert:
    """Close an alert; repeats within the suppression window are counted, not re-opened."""
    alert = _get(session, alert_id)
    alert.status, alert.resolved_at = "resolved", utcnow()
    _event(session, alert, user, "resolved", note)
    return alert


def escalate_due(session: Session, after_minutes: float = 15.0, now: datetime | None = None) -> list[Alert]:
    """Escalate open alerts nobody acknowledged within ``after_minutes`` (one level per period)."""
    now = now or utcnow()
    escalated = []
    for alert in session.scalars(select(Alert).where(Alert.status.in_(("open", "escalated")))):
        due = (alert.announced_at or alert.first_at) + timedelta(minutes=after_minutes)
        if now >= due:
            alert.escalation_level += 1
            alert.status = "escalated"
            alert.announced_at = due  # the next level is due one period later, however late this ran
            _event(session, alert, "system", "escalated", f"level {alert.escalation_level}", at=now)
            escalated.append(alert)
    return escalated


def _filtered(domain: str | None, subject: str | None, open_only: bool) -> Any:
    """Alerts of a domain and subject (either may be None: any), open ones only if asked."""
    query = select(Alert)
    if domain:
        query = query.where(Alert.domain == domain)
    if subject:
        query = query.where(Alert.subject == subject)
    if open_only:
        query = query.where(Alert.status.in_(OPEN_STATES))
    return query


def list_alerts(session: Session, *, domain: str | None = None, subject: str | None = None,
                open_only: bool = False, after_id: int = 0, limit: int = 200) -> list[Alert]:
    """Alerts newest first (or, with ``after_id``, those created after it, oldest first)."""
    query = _filtered(domain, subject, open_only)
    if after_id:
        query = query.where(Alert.id > after_id).order_by(Alert.id)
    else:
        query = query.order_by(Alert.id.desc())
    return list(session.scalars(query.limit(limit)))


def announcements_after(session: Session, after_event_id: int = 0, *, domain: str | None = None,
                        limit: int = 500) -> list[dict[str, Any]]:
    """Announcing events (raised, re-opened, severity raised, escalated) after a cursor, oldest first.

    Each item is the alert as it stands now plus ``event``, ``event_id``, ``event_at`` and
    ``detail`` (what changed); the live stream sends these, with ``event_id`` as its cursor.
    """
    query = (select(AlertEvent, Alert).join(Alert, Alert.id == AlertEvent.alert_id)
             .where(AlertEvent.id > after_event_id, AlertEvent.action.in_(ANNOUNCEMENTS)))
    if domain:
        query = query.where(Alert.domain == domain)
    rows = session.execute(query.order_by(AlertEvent.id).limit(limit)).all()
    return [{**alert.to_dict(), "event": ev.action, "event_id": ev.id, "event_at": ev.at.isoformat(),
             "detail": ev.detail} for ev, alert in rows]


def page_alerts(session: Session, *, domain: str | None = None, subject: str | None = None,
                severity: str | None = None, status: str | None = None, open_only: bool = False,
                cursor: int | None = None, limit: int = 50, hidden_subjects: Any = None) -> dict[str, Any]:
    """One page of alerts, newest first, with the total that match and the cursor of the next page.

    ``hidden_subjects`` (a collection or a select of ids) leaves out alerts about those subjects:
    the patients a caller may not see.

    ``status`` is one of the states or ``open`` for all open states (as ``open_only``); ``severity``
    one of :data:`SEVERITIES`, or ``>=high`` for that severity and above. The cursor is the id of
    the last alert of the previous page (keyset paging: stable while new alerts arrive).
    """
    from sqlalchemy import func

    query = _filtered(domain, subject, open_only)
    if hidden_subjects is not None:
        query = query.where(Alert.subject.not_in(hidden_subjects))
    if severity:
        at_least = severity.startswith(">=")
        name = severity[2:] if at_least else severity
        if name not in SEVERITIES:
            raise InputError(f"unknown severity {severity!r}", where="severity",
                             hint=f"one of {', '.join(SEVERITIES)}, optionally prefixed with '>='")
        names = SEVERITIES[SEVERITIES.index(name):] if at_least else (name,)
        query = query.where(Alert.severity.in_(names))
    if status:
        states = OPEN_STATES if status == "open" else (status,)
        if status != "open" and status not in (*OPEN_STATES, "resolved"):
            raise InputError(f"unknown status {status!r}", where="status",
                             hint="open (all open states), acknowledged, escalated or resolved")
        query = query.where(Alert.status.in_(states))
    if not 1 <= limit <= 500:
        raise InputError("limit must be between 1 and 500", where="limit")
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if cursor:
        query = query.where(Alert.id < cursor)
    items = list(session.scalars(query.order_by(Alert.id.desc()).limit(limit + 1)))
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "total": total, "next_cursor": items[-1].id if more and items else None}


def history(session: Session, alert_id: int) -> list[dict[str, Any]]:
    """The audit trail of one alert."""
    _get(session, alert_id)
    events = session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id))
    return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "detail": e.detail} for e in events]


def deliver_webhook(alert: Alert, url: str, *, timeout: float = 5.0, retries: int = 2) -> bool:
    """POST the alert as JSON to a webhook; True when it answered 2xx (retried on failure)."""
    import httpx

    payload = alert.to_dict()
    for _attempt in range(retries + 1):
        try:
            response = httpx.post(url, json=payload, timeout=timeout)
            if response.status_code < 300:
                return True
        except httpx.HTTPError:
            continue
    return False
