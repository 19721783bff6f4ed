"""Monitoring pages: the ward board (sickest first, live), a patient's timeline, the alert inbox.

The board is one HTML fragment (``/monitoring/board``) that the page swaps in when the alert stream
announces something and every 30 s, so the page stays live without reloading (and without inline
script: ``static/pages/monitoring_ward.js``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from theralab.monitoring.ward import NEWS2_BAND_LIMITS, SEVERITY_RANK, raised_at, timeline, ward
from theralab.privacy import careteam
from theralab.privacy.auth import require_role
from theralab.runtime import alerts as alert_store
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("monitoring")
INBOX_PAGE = 25
#: NEWS2 input name (as stored in alert evidence) -> (label, unit, decimals)
VITAL_LABELS = {"respiration_rate": ("Resp. rate", "/min", 0), "spo2": ("SpO₂", "%", 0),
                "systolic_bp": ("Systolic BP", "mmHg", 0), "pulse": ("Pulse", "/min", 0),
                "temperature": ("Temp.", "°C", 1)}
#: timeline panels: series name -> (title, unit)
PANELS = {"news2": ("NEWS2", "points"), "heart_rate": ("Heart rate", "/min"),
          "respiratory_rate": ("Respiratory rate", "/min"), "spo2": ("SpO₂", "%"),
          "systolic_bp": ("Blood pressure", "mmHg"), "temperature": ("Temperature", "°C"),
          "glucose": ("Glucose", "mg/dL"), "cgm_glucose": ("CGM glucose", "mg/dL"), "weight": ("Weight", "kg"),
          "steps": ("Steps", "steps")}
BAND_LEVEL = {"zero": "ok", "low": "low", "low-medium": "medium", "medium": "medium", "high": "high"}


def sparkline(points: list[dict[str, Any]], width: int = 96, height: int = 24, top: float = 15.0) -> str:
    """An inline SVG polyline of NEWS2 over time (no script; the colour follows the row's band)."""
    if len(points) < 2:
        return ""
    times = [datetime.fromisoformat(p["t"]).timestamp() for p in points]
    t0, span = times[0], max(1.0, times[-1] - times[0])
    scale = max(top, max(p["v"] for p in points))
    xy = " ".join(f"{(t - t0) / span * (width - 2) + 1:.1f},{height - 1 - p['v'] / scale * (height - 2):.1f}"
                  for t, p in zip(times, points, strict=True))
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="NEWS2 trend from {points[0]["v"]:.0f} to {points[-1]["v"]:.0f}">'
            f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{xy}"/></svg>')


def _board_rows(session: Any, user: Any) -> list[dict[str, Any]]:
    """The ward rows of the patients ``user`` may see (care teams), with band level and sparkline."""
    import re

    from markupsafe import Markup

    rows = careteam.keep_visible(session, user, ward(session))
    for r in rows:
        # numbers zero-padded so that sorting by bed puts "bed 2" before "bed 10"
        r["bed_sort"] = re.sub(r"\d+", lambda m: m.group(0).zfill(6), r["location"]) if r["location"] else "~"
        r["level"] = BAND_LEVEL.get(r["band"] or "", "muted")
        r["spark"] = Markup(sparkline(r["trend"]))
    return rows


def inbox_groups(alerts: list[Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """The page's alerts grouped by patient, the group with the worst severity first, each alert with its
    score and the vitals that triggered it (from the alert's evidence)."""
    groups: dict[str, dict[str, Any]] = {}
    for a in alerts:
        evidence = [e for e in (a.evidence or []) if isinstance(e, dict)]
        last = evidence[-1] if evidence else {}
        first = raised_at(a) or {}
        vitals = [(VITAL_LABELS[k][0], v, VITAL_LABELS[k][1], VITAL_LABELS[k][2])
                  for k, v in (last.get("vitals") or {}).items() if k in VITAL_LABELS and v is not None]
        item = {"id": a.id, "severity": a.severity, "status": a.status, "count": a.count, "title": a.title,
                "first_at": a.first_at, "last_at": a.last_at, "escalation_level": a.escalation_level,
                "score": last.get("news2"), "score_at": last.get("at"), "raised_score": first.get("news2"),
                "vitals": vitals, "rule": a.rule}
        group = groups.setdefault(a.subject, {"patient_id": a.subject, "name": names.get(a.subject) or a.subject,
                                              "alerts": [], "worst": -1})
        group["alerts"].append(item)
        group["worst"] = max(group["worst"], SEVERITY_RANK.get(a.severity, 0))
    for g in groups.values():
        g["worst_severity"] = next((k for k, v in SEVERITY_RANK.items() if v == g["worst"]), "info")
    return sorted(groups.values(), key=lambda g: (-g["worst"], g["name"]))


@router.get("/monitoring", response_class=HTMLResponse)
def ward_page(request: Request, user: WebUser, severity: str = "", status: str = "open",
              patient: str = Query("", max_length=120), cursor: int | None = Query(None, ge=0, le=2**62)
              ) -> HTMLResponse:
    """The ward board and its alert inbox, one page of 25 alerts at a time with filters (severity, status, patient)."""
    from theralab.ehr.header import patient_headers

    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        rows = _board_rows(session, user)
        visible = user.visible_patients(session)
        page = alert_store.page_alerts(session, domain="monitoring", severity=severity or None,
                                       status=status or None, subject=patient or None, cursor=cursor,
                                       limit=INBOX_PAGE, hidden_subjects=None if visible is None else
                                       select(alert_store.Alert.subject)
                                       .where(alert_store.Alert.subject.not_in(list(visible))))
        names = {pid: h.name for pid, h in patient_headers(session, list({a.subject for a in page["items"]})).items()}
        groups = inbox_groups(page["items"], names)
        last_event = session.scalar(select(func.max(alert_store.AlertEvent.id))) or 0
    user.audit("monitoring.ward", "Ward", patient or "all")
    filters = {"severity": severity, "status": status, "patient": patient}
    next_url = None
    if page["next_cursor"]:
        next_url = "/monitoring?" + urlencode({**filters, "cursor": page["next_cursor"]})
    return render(request, "monitoring_ward.html", {
        "rows": rows, "groups": groups, "shown": len(page["items"]), "total": page["total"], "filters": filters,
        "next_url": next_url, "first_url": "/monitoring?" + urlencode(filters) if cursor else None,
        "severities": alert_store.SEVERITIES, "last_event": last_event,
        "can_act": bool({"clinician", "admin"} & set(user.roles)),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else "")})


@router.get("/monitoring/board", response_class=HTMLResponse)
def board_fragment(request: Request, user: WebUser) -> Response:
    """The ward board's table body alone (the live page fetches it with ``X-Fragment: board``); a browser
    opening the address is sent to the whole page."""
    require_role(set(user.roles), "clinician", "researcher")
    if request.headers.get("x-fragment") != "board":
        return RedirectResponse("/monitoring", status_code=303)
    with session_scope() as session:
        rows = _board_rows(session, user)
    user.audit("monitoring.ward", "Ward", "board")
    return render(request, "monitoring_board.html", {"rows": rows})


def timeline_figure(data: dict[str, Any]) -> dict[str, Any]:
    """The timeline as one plotly figure: a panel per vital sharing the time axis, NEWS2 band limits
    shaded on its panel, a dotted line at each alert; the page script draws it as given."""
    series = data["series"]
    names = [n for n in PANELS if n in series and n != "diastolic_bp"]
    names += [n for n in series if n not in PANELS and n != "diastolic_bp"]
    rows = max(1, len(names))
    gap = 0.04
    height = (1 - gap * (rows - 1)) / rows
    traces, layout = [], {"showlegend": False, "hovermode": "x unified", "height": 70 + 150 * rows,
                          "margin": {"l": 70, "r": 20, "t": 20, "b": 50}, "shapes": [], "annotations": []}
    for i, name in enumerate(names):
        axis = "" if i == 0 else str(i + 1)
        title, unit = PANELS.get(name, (name.replace("_", " "), ""))
        top = 1 - i * (height + gap)
        layout[f"yaxis{axis}"] = {"domain": [max(0.0, top - height), top], "title": {"text": f"{title} ({unit})"},
                                  "automargin": True}
        layout[f"xaxis{axis}"] = {"matches": "x" if i else None, "anchor": f"y{axis}", "type": "date",
                                  "range": [data["start"], data["end"]], "showticklabels": i == rows - 1,
                                  **({"title": {"text": "time (UTC)"}} if i == rows - 1 else {})}
        if i == 0:
            layout["xaxis"].pop("matches")
        s = series[name]
        traces.append({"x": s["t"], "y": s["v"], "name": title, "mode": "lines+markers", "xaxis": f"x{axis}",
                       "yaxis": f"y{axis}", "line": {"shape": "hv" if name == "news2" else "linear"},
                       "hovertemplate": f"{title} %{{y}} {unit}<extra></extra>"})
        if name == "systolic_bp" and "diastolic_bp" in series:
            d = series["diastolic_bp"]
            traces.append({"x": d["t"], "y": d["v"], "name": "Diastolic", "mode": "lines+markers",
                           "xaxis": f"x{axis}", "yaxis": f"y{axis}",
                           "hovertemplate": "Diastolic %{y} mmHg<extra></extra>"})
        if name == "news2":
            colours = {"zero": "rgba(46,125,50,0.08)", "low": "rgba(245,180,0,0.10)",
                       "medium": "rgba(230,110,0,0.14)", "high": "rgba(200,30,30,0.14)"}
            for lo, hi, band in NEWS2_BAND_LIMITS:
                layout["shapes"].append({"type": "rect", "xref": f"x{axis} domain", "yref": f"y{axis}", "x0": 0,
                                         "x1": 1, "y0": lo, "y1": hi, "fillcolor": colours[band], "line": {"width": 0},
                                         "layer": "below"})
            for limit, label in ((4.5, "5 medium"), (6.5, "7 high")):
                layout["annotations"].append({"xref": f"x{axis} domain", "yref": f"y{axis}", "x": 1, "y": limit,
                                              "text": label, "showarrow": False, "xanchor": "right",
                                              "yanchor": "bottom", "font": {"size": 10}})
            layout[f"yaxis{axis}"]["range"] = [0, max(12, max(s["v"] or [0]) + 1)]
    for a in data["alerts"]:
        layout["shapes"].append({"type": "line", "xref": "x", "yref": "paper", "x0": a["first_at"], "x1": a["first_at"],
                                 "y0": 0, "y1": 1, "line": {"color": "#b42318", "dash": "dot", "width": 1}})
        layout["annotations"].append({"xref": "x", "yref": "paper", "x": a["first_at"], "y": 1, "yanchor": "bottom",
                                      "text": f"alert {a['id']} ({a['severity']})", "showarrow": False,
                                      "font": {"size": 10, "color": "#b42318"}})
    return {"data": traces, "layout": layout}


@router.get("/monitoring/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(patient_id: str, request: Request, user: WebUser,
                 hours: float = Query(24.0, gt=0, le=24 * 90)) -> HTMLResponse:
    from theralab.errors import NotFoundError
    from theralab.web.pages.patient_view import header

    require_role(set(user.roles), "clinician", "researcher")
    with session_scope() as session:
        user.require_patient(session, patient_id)
        data = timeline(session, patient_id, hours)
        try:
            head = header(session, patient_id, user)
        except NotFoundError:
            head = None  # readings of a patient whose record was removed: the timeline still shows
    user.audit("monitoring.timeline", "Patient", patient_id)
    return render(request, "monitoring_patient.html", {"data": data, "patient": head, "hours": hours,
                                                       "figure": timeline_figure(data)})


@router.post("/monitoring/alerts/{alert_id}/{action}")
def alert_action(alert_id: int, action: str, user: WebUser, next: str = Form("/monitoring"),
                 note: str = Form("")) -> Response:
    require_role(set(user.roles), "clinician")
    with session_scope() as session:
        alert = session.get(alert_store.Alert, alert_id)
        if alert is not None and alert.domain == "monitoring":  # care teams: only alerts about own patients
            user.require_patient(session, alert.subject)
        if action == "acknowledge":
            alert_store.acknowledge(session, alert_id, user.username, note)
        elif action == "resolve":
            alert_store.resolve(session, alert_id, user.username, note)
    user.audit(f"alert.{action}", "Alert", str(alert_id))
    return RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/monitoring",
                            status_code=303)
