"""Schemas shared by every API route: the error body and the error statuses every route documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Problem(BaseModel):
    where: str | None = None
    message: str = ""


class ErrorBody(BaseModel):
    """Every 4xx answer: what was wrong, where, and what to do (``problems`` lists each invalid field)."""

    error: str = Field(description="error class, e.g. InputError, AuthError, ForbiddenError")
    message: str
    where: str | None = None
    hint: str | None = None
    problems: list[Problem] | None = None


_DESCRIPTIONS = {
    400: "bad request",
    401: "not logged in, or the token is missing, expired or forged",
    403: "logged in but not allowed (role, scope, consent or ownership)",
    404: "no such resource",
    409: "conflicts with the resource's state",
    413: "request body too large",
    415: "unsupported media type",
    422: "invalid input: which field and why",
    429: "too many attempts; retry after the Retry-After seconds",
}

#: Error statuses documented on every route, so a client (and Schemathesis) knows each one.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in _DESCRIPTIONS.items()
}
