"""Health assistant pages: the patient's chat (role ``patient``) and the clinicians' handover inbox.

Server-rendered, no script needed: a message is a form POST answered with the whole page, so crisis
resources appear in the very response that detected the risk. Thin over
``theralab.monitoring.assistant`` (same engine as the API and the terminal chat).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from theralab.errors import NotFoundError, TheralabError
from theralab.privacy import careteam
from theralab.privacy.auth import require_role
from theralab.runtime.db import session_scope
from theralab.web.pages import WebUser
from theralab.web.templating import mark_built, render

router = APIRouter()
mark_built("assistant")


def _page(request: Request, username: str, cid: str | None, reply: dict | None = None, status: int = 200
          ) -> HTMLResponse:
    from theralab.monitoring.assistant import conversations, list_scores, trend

    with session_scope() as s:
        past = conversations.list_conversations(s, username)
        turns = conversations.transcript(s, cid, username) if cid else []
        pid = conversations.patient_for(s, username)
        trends = {key: trend(list_scores(s, pid, key)) for key in ("phq9", "gad7")} if pid else {}
    trends = {k: v for k, v in trends.items() if v}
    chart = _trend_chart(trends) if trends else None
    return render(request, "assistant.html", {"turns": turns, "cid": cid, "reply": reply, "past": past,
                                              "trends": trends, "trend_chart": chart}, status_code=status)


def _trend_chart(trends: dict[str, list[dict]]) -> dict:
    """PHQ-9 and GAD-7 totals over time as a house chart spec, the moderate threshold (10) drawn."""
    from theralab.web.charts import chart_spec

    names = {"phq9": "PHQ-9 (0–27)", "gad7": "GAD-7 (0–21)"}
    traces = [{"x": [r["authored"] for r in rows], "y": [r["total"] for r in rows], "name": names.get(k, k.upper()),
               "mode": "lines+markers"} for k, rows in trends.items()]
    return chart_spec("Your questionnaire scores", ("Date answered", None, "date"), ("Total score", "points"), traces,
                      bands=[{"y0": 10, "y1": 27, "color": "#ffe2c7", "label": "10 or more: moderate or worse"}])


@router.get("/assistant", response_class=HTMLResponse)
def chat_page(request: Request, user: WebUser, c: str | None = None) -> HTMLResponse:
    require_role(set(user.roles), "patient")
    try:
        return _page(request, user.username, c)
    except TheralabError:
        return _page(request, user.username, None)


@router.post("/assistant", response_class=HTMLResponse)
def chat_send(request: Request, user: WebUser, text: str = Form(""), cid: str = Form("")) -> HTMLResponse:
    from theralab.monitoring.assistant import Assistant

    require_role(set(user.roles), "patient")
    with session_scope() as s:
        reply = Assistant(s).handle(user.username, text[:20000], cid or None)
        user.audit("assistant.message", "AssistantConversation", reply.conversation_id, session=s)
    return _page(request, user.username, reply.conversation_id, reply.to_dict())


@router.post("/assistant/{cid}/delete")
def chat_delete(cid: str, user: WebUser) -> RedirectResponse:
    from theralab.monitoring.assistant import conversations

    require_role(set(user.roles), "patient")
    with session_scope() as s:
        conversations.delete_conversation(s, cid, user.username)
        user.audit("assistant.delete", "AssistantConversation", cid, session=s)
    return RedirectResponse("/assistant", status_code=303)


@router.get("/assistant/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, user: WebUser, h: int | None = None) -> HTMLResponse:
    from theralab.monitoring.assistant import conversations

    require_role(set(user.roles), "clinician")
    with session_scope() as s:
        items = careteam.keep_visible(s, user, conversations.inbox(s, status=None))
        if h and h not in {i["id"] for i in items}:
            raise NotFoundError(f"no handover {h} for you", where="h")
        turns = conversations.handover_transcript(s, h) if h else []
        head = None
        if h:
            user.audit("assistant.handover.read", "AssistantHandover", str(h), session=s)
            pid = next((i.get("patient_id") for i in items if i.get("id") == h), None)
            if pid:
                from theralab.errors import ForbiddenError
                from theralab.web.pages.patient_view import header

                try:
                    head = header(s, pid, user)
                except (NotFoundError, ForbiddenError):
                    head = None  # the handover stays readable; the header needs the care team
    return render(request, "assistant_inbox.html", {"items": items, "h": h, "turns": turns, "patient": head})


@router.post("/assistant/inbox/{h}/reply")
def inbox_reply(h: int, user: WebUser, text: str = Form(...), close: str = Form("")) -> RedirectResponse:
    from theralab.monitoring.assistant import conversations

    require_role(set(user.roles), "clinician")
    with session_scope() as s:
        mine = careteam.keep_visible(s, user, conversations.inbox(s, status=None, limit=10_000))
        if h not in {i["id"] for i in mine}:
            raise NotFoundError(f"no handover {h} for you", where="h")
        conversations.clinician_reply(s, h, user.username, text, close=bool(close))
        user.audit("assistant.handover.reply", "AssistantHandover", str(h), session=s)
    return RedirectResponse(f"/assistant/inbox?h={h}", status_code=303)
