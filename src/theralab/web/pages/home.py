"""The home page: one card per domain, saying plainly which are not built yet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from theralab.web.pages import WebUser
from theralab.web.templating import render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: WebUser) -> HTMLResponse:
    """The workspaces the user's roles may use, grouped as in the navigation, and their latest jobs."""
    from theralab.runtime.jobs import list_jobs
    from theralab.web.pages.jobs import KIND_TITLES, STATUS_BADGE
    from theralab.web.templating import STAFF, may_use, navigation

    recent = list_jobs(owner=user.username)[:5] if may_use(user.roles, STAFF) else []
    groups = navigation(user, "/")
    if "clinician" in user.roles and not user.roles & {"researcher", "admin"}:  # care first for a clinician
        groups.sort(key=lambda g: {"Clinical": 0, "Trials": 1}.get(g["title"], 2))
    return render(request, "home.html", {"recent_jobs": recent, "status_badge": STATUS_BADGE,
                                         "kind_titles": KIND_TITLES, "home_groups": groups})


@router.get("/ui", response_class=HTMLResponse)
def components(request: Request, user: WebUser) -> HTMLResponse:
    """The design system's living reference: every component of ``_ui.html`` with example values."""
    from theralab.privacy.auth import require_role
    from theralab.web.charts import axis, chart_spec
    from theralab.web.format import interval
    from theralab.web.templating import STAFF

    require_role(set(user.roles), *STAFF)
    hours = [h / 2 for h in range(0, 49)]
    conc = [round(12 * (2.718 ** (-0.18 * t) - 2.718 ** (-1.4 * t)), 3) for t in hours]
    chart = chart_spec("Plasma concentration after one 500 mg oral dose (example)", axis("Time after dose", "h"),
                       axis("Concentration", "mg/L"), [{"x": hours, "y": conc, "name": "simulated", "mode": "lines"}],
                       bands=[{"y0": 4, "y1": 8, "color": "#e5f4ea", "label": "therapeutic range"}],
                       download="example-concentration.csv")
    rows = [{"name": f"Patient {i + 1:02d}", "news2": (i * 7) % 10, "hr": 60 + (i * 13) % 55 + 0.37,
             "at": f"2026-12-06T{8 + i % 10:02d}:{(i * 7) % 60:02d}:00Z"} for i in range(12)]
    return render(request, "ui.html", {"chart": chart, "rows": rows,
                                       "interval_example": interval(5.21, 4.4, 6.13, "L/h")})
