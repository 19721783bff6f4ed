"""Schemas shared by every API route: the error body and the error statuses every route documents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RequestModel(BaseModel):
    """A request body: a field the route does not know is refused (422), so a misspelt option is an
    error rather than silently left at its default."""

    model_config = ConfigDict(extra="forbid")


def exactly_one(first: str, second: str, message: str) -> Any:
    """A model validator (assign it in the class body) that accepts the request only when exactly one
    of the fields ``first`` and ``second`` is given; otherwise a 422 with ``message``."""

    def check(self: BaseModel) -> BaseModel:
        if (getattr(self, first) is None) == (getattr(self, second) is None):
            raise ValueError(message)
        return self

    return model_validator(mode="after")(check)


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


class OpenResult(BaseModel):
    """A domain result passed through as its ``to_dict()``: the named fields are always present; the
    domain may add more (documented in the route's description)."""

    model_config = ConfigDict(extra="allow")


class HealthOut(BaseModel):
    status: str
    version: str


class AlertOut(BaseModel):
    """One alert of the inbox."""

    id: int
    domain: str
    subject: str
    rule: str
    severity: str
    title: str
    dedup_key: str | None = None
    status: str
    count: int
    owner: str | None = None
    escalation_level: int
    evidence: dict[str, Any] | list[Any] | None = None
    first_at: str
    last_at: str
    acknowledged_by: str | None = None
    acknowledged_at: str | None = None
    resolved_at: str | None = None


class AlertEventOut(BaseModel):
    at: str
    actor: str
    action: str
    detail: str | None = None


class ReadingOut(BaseModel):
    code: str
    value: float | str | None
    unit: str | None = None
    at: str
    device_id: str | None = None


class DeviceOut(BaseModel):
    device_id: str
    patient_id: str
    token: str = Field(description="shown once; store it in the device")


class TrialSummary(BaseModel):
    id: str
    title: str
    version: int
    inclusion: int
    exclusion: int
    updated_at: str | None = None


class TrialRank(BaseModel):
    trial_id: str
    version: int
    eligibility: str
    score: float
    passed: int
    failed: int
    unknown: int


class MatchPage(OpenResult):
    trial_id: str
    version: int
    at: str
    patients: int
    offset: int
    withheld_without_consent: int
    items: list[dict[str, Any]]


class FhirBundle(OpenResult):
    resourceType: str  # noqa: N815 - FHIR's own field name
    type: str
    entry: list[dict[str, Any]] = Field(default_factory=list)


def _dataclass_fields(cls: type) -> dict[str, Any]:
    """``name -> (type, default)`` of a dataclass's init fields, for ``pydantic.create_model``."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        default = f.default if f.default is not dataclasses.MISSING else ...
        fields[f.name] = (hints[f.name], default)
    return fields


def response_model_of(cls: type, name: str, *, doc: str | None = None) -> type[BaseModel]:
    """A response model generated from a library dataclass (same fields and types), named ``name``.

    Why generated: the OpenAPI schema then says exactly what the library returns, and a field added to
    the dataclass reaches the API without a second, drifting copy.
    """
    from pydantic import create_model

    model = create_model(name, **_dataclass_fields(cls))
    model.__doc__ = doc or cls.__doc__
    return model


def request_model_of(cls: type, *, doc: str | None = None) -> type[BaseModel]:
    """A strict pydantic request model generated from a library dataclass (same fields, types, defaults).

    Why generated, not copied: a request model written field by field drifts from the library class
    it feeds (a new parameter added to one and not the other); generating it keeps one definition.
    Unknown fields are refused (``extra="forbid"``), so a typo is a 422, not a silent default.
    """
    from pydantic import ConfigDict, create_model

    model = create_model(f"{cls.__name__}In", __config__=ConfigDict(extra="forbid"), **_dataclass_fields(cls))
    model.__doc__ = doc or cls.__doc__
    return model
