"""Page modules; each exposes ``router`` (HTML routes) and is listed in ``theralab.web.app.PAGES``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from theralab.api.deps import Principal, get_current_user


def web_user(request: Request) -> Principal:
    """The logged-in user from the session cookie (redirects to /login when absent or expired)."""
    user = get_current_user(request, None)
    request.state.user = user
    return user


WebUser = Annotated[Principal, Depends(web_user)]
