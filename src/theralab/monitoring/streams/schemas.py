"""Schemas of the messages a device may send: every payload is validated as a whole before use.

Why: the ingest path used to read fields as it went, so ``"readings": 5``, a FHIR ``code`` given
as a string or ``"token": 123`` raised a ``TypeError`` deep inside parsing, which killed the MQTT
worker thread and gave HTTP 500. Validating the whole document against the schema of its format
first turns every such message into one :class:`~theralab.errors.InputError` with the first
offending field (``where``) and why; the caller quarantines it (MQTT) or answers 422 (HTTP).

Formats (one JSON document):

* compact: ``{"device_id": "w-1", "readings": [{"code", "value", "unit", "at"}, ...]}``;
* FHIR R4 ``Observation`` (``valueQuantity`` or ``component`` panel);
* FHIR R4 ``Bundle`` whose entries are Observations;
* a JSON array of the above;
* over MQTT, an envelope ``{"token": "...", "payload": <one of the above>}`` or the compact form
  with ``token`` beside ``readings``.

Values must be JSON numbers (``true`` is not 1, ``"72"`` is not 72); units, codes and timestamps
must be strings. Per-reading *clinical* checks (unit known, value plausible, clock sane) stay in
:mod:`theralab.monitoring.streams`, which quarantines one reading and keeps its neighbours.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, StrictStr, ValidationError

from theralab.errors import InputError


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a JSON number")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError("number is too large") from None
    if not math.isfinite(number):
        raise ValueError("number must be finite (NaN and Infinity are not readings)")
    return value


# a finite JSON number; booleans, strings, NaN and 1e400 are refused
Number = Annotated[int | float, PlainValidator(_number)]
MAX_READINGS = 10_000  # per message; larger batches belong in several messages
MAX_DEPTH = 64  # JSON nesting accepted before parsing is refused (stack safety)


class _Model(BaseModel):
    # FHIR resources carry many fields we do not use (id, meta, status, category...): ignored,
    # but every field we *do* use is typed strictly.
    model_config = ConfigDict(extra="ignore")


class CompactReading(_Model):
    """One reading of the compact format."""

    code: StrictStr = Field(max_length=64)
    value: Number | None = None
    unit: StrictStr | None = Field(default=None, max_length=32)
    at: StrictStr | None = Field(default=None, max_length=64)
    time: StrictStr | None = Field(default=None, max_length=64)


class CompactMessage(_Model):
    """``{"device_id": ..., "readings": [...]}``."""

    device_id: StrictStr | None = Field(default=None, max_length=120)
    readings: list[CompactReading] = Field(max_length=MAX_READINGS)


class Coding(_Model):
    system: StrictStr | None = None
    code: StrictStr | None = Field(default=None, max_length=64)


class CodeableConcept(_Model):
    coding: list[Coding] = Field(default_factory=list, max_length=50)
    text: StrictStr | None = None


class Quantity(_Model):
    value: Number | None = None
    unit: StrictStr | None = Field(default=None, max_length=64)
    code: StrictStr | None = Field(default=None, max_length=32)
    system: StrictStr | None = None


class Reference(_Model):
    reference: StrictStr | None = Field(default=None, max_length=200)


class Component(_Model):
    code: CodeableConcept
    valueQuantity: Quantity | None = None  # noqa: N815 - FHIR field name


class Observation(_Model):
    """A FHIR R4 Observation with the fields ingestion reads."""

    resourceType: Literal["Observation"]  # noqa: N815
    code: CodeableConcept
    valueQuantity: Quantity | None = None  # noqa: N815
    component: list[Component] | None = Field(default=None, max_length=50)
    effectiveDateTime: StrictStr | None = Field(default=None, max_length=64)  # noqa: N815
    effectiveInstant: StrictStr | None = Field(default=None, max_length=64)  # noqa: N815
    device: Reference | None = None


class BundleEntry(_Model):
    resource: Observation


class Bundle(_Model):
    """A FHIR R4 Bundle of Observations."""

    resourceType: Literal["Bundle"]  # noqa: N815
    entry: list[BundleEntry] = Field(default_factory=list, max_length=MAX_READINGS)


Message = CompactMessage | Observation | Bundle


def describe_error(exc: ValidationError, prefix: str = "") -> tuple[str, str]:
    """``(where, message)`` for the first error of a pydantic validation, e.g. ``readings.0.value``."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
    extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    value = repr(err.get("input"))[:60]
    return where or "body", f"{where or 'body'}: {err['msg']} (got {value}){extra}"


def _validate_one(document: Any, where: str) -> Message:
    if not isinstance(document, dict):
        raise InputError(f"{where}: a message must be a JSON object, got {type(document).__name__}", where=where)
    kind = document.get("resourceType")
    model: type[BaseModel]
    if kind == "Observation":
        model = Observation
    elif kind == "Bundle":
        model = Bundle
    elif kind is not None:
        raise InputError(f"{where}: resourceType {str(kind)[:40]!r} is not accepted (Observation or Bundle)",
                         where=f"{where}.resourceType")
    elif "readings" in document:
        model = CompactMessage
    else:
        raise InputError("payload is neither a FHIR Observation/Bundle nor {'device_id', 'readings': [...]}",
                         where=where, hint="see docs/monitoring-streams.md for both formats")
    try:
        return model.model_validate(document)  # type: ignore[return-value]
    except ValidationError as exc:
        at, message = describe_error(exc, "" if where == "body" else where)
        raise InputError(f"invalid {model.__name__}: {message}", where=at,
                         hint="see docs/monitoring-streams.md for the message schemas") from None


def load_json(raw: bytes | str) -> Any:
    """Parse JSON text, refusing what is not JSON or nested deeper than :data:`MAX_DEPTH`."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise InputError(f"payload is not JSON: not UTF-8 ({exc.reason})", where="body") from None
    depth = max_depth = 0
    in_string = escaped = False
    for char in text:  # cheap bracket scan: json.loads would recurse until RecursionError
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            max_depth = max(max_depth, depth)
            if max_depth > MAX_DEPTH:
                raise InputError(f"payload is nested deeper than {MAX_DEPTH} levels", where="body")
        elif char in "]}":
            depth -= 1
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"payload is not JSON: {exc}", where="body") from None


def validate_payload(document: Any) -> list[Message]:
    """Validate one document (or a JSON array of them) whole; InputError names the first bad field."""
    if isinstance(document, list):
        if len(document) > MAX_READINGS:
            raise InputError(f"more than {MAX_READINGS} messages in one array", where="body")
        return [_validate_one(item, f"[{i}]") for i, item in enumerate(document)]
    if not isinstance(document, dict):
        raise InputError("payload must be a JSON object or array", where="body")
    return [_validate_one(document, "body")]


def split_envelope(body: Any) -> tuple[str, Any]:
    """``(token, content)`` of an MQTT message; InputError when the envelope itself is malformed."""
    if not isinstance(body, dict):
        raise InputError(f"an MQTT message must be a JSON object, got {type(body).__name__}", where="body")
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise InputError(f"'token' must be a non-empty string, got {type(token).__name__}", where="body.token",
                         hint="send the device token issued at registration")
    if "payload" in body:
        return token, body["payload"]
    return token, {k: v for k, v in body.items() if k != "token"}


__all__ = ["Bundle", "CompactMessage", "CompactReading", "Message", "Observation", "describe_error",
           "Quantity", "load_json", "split_envelope", "validate_payload"]
