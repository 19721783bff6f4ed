"""SMART-on-FHIR-style scopes: what a token may do with patient data, on top of the user's roles.

A scope is ``context/Resource.permission``:

* ``context`` — ``patient`` (only the token's own patient), ``user`` (whatever the user may see:
  their care teams' patients), ``system`` (a back-end service; treated like ``user``);
* ``Resource`` — a FHIR resource type (``Observation``, ``Patient``...) or ``*``;
* ``permission`` — SMART v1 ``read``, ``write`` or ``*``, or SMART v2 letters ``c r u d s``
  (``r``/``s`` read, ``c``/``u``/``d`` write).

Roles stay the first gate; scopes can only narrow them. A role implies default scopes
(:data:`ROLE_SCOPES`); at login a client may ask for fewer (``scope`` form field) and gets the
requested scopes that its roles' defaults cover. Routes that touch patient data declare the scope
they need (``require_roles(..., scope="Observation.read")``); an under-scoped token gets 403,
audited like every refusal. Scopes that name no resource (``openid``, ``offline_access``,
``launch/patient``) are accepted and grant nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from theralab.errors import InputError

#: Default scopes per role: staff may read and write every resource type within their care
#: teams; a patient may read and write their own record; admin also acts as a system.
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "admin": ("user/*.*", "system/*.*"),
    "clinician": ("user/*.*",),
    "researcher": ("user/*.*",),
    "patient": ("patient/*.*",),
}
_SCOPE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]{1,63})\.(read|write|\*|[cruds]{1,5})$")
_OTHER = re.compile(r"^[A-Za-z][A-Za-z0-9_:/.\-]{0,99}$")
MAX_SCOPES = 50


@dataclass(frozen=True)
class Scope:
    """One parsed resource scope."""

    context: str
    resource: str
    read: bool
    write: bool

    @classmethod
    def parse(cls, text: str) -> Scope | None:
        """The scope, or None for a valid non-resource scope (``openid``); InputError when malformed."""
        m = _SCOPE.match(text)
        if m is None:
            if text.split("/")[0] not in ("patient", "user", "system") and _OTHER.match(text):
                return None
            raise InputError(f"malformed scope {text[:60]!r}", where="scope",
                             hint="context/Resource.permission, e.g. user/Observation.read or patient/*.rs")
        context, resource, perm = m.groups()
        if perm in ("read", "write", "*"):
            read, write = perm in ("read", "*"), perm in ("write", "*")
        else:
            read, write = bool(set(perm) & set("rs")), bool(set(perm) & set("cud"))
        return cls(context, resource, read, write)

    def covers(self, other: Scope) -> bool:
        """True when this scope grants everything ``other`` asks for (``patient/`` is narrower than ``user/``)."""
        context_ok = self.context == other.context or (self.context != "patient" and other.context == "patient")
        return (context_ok and self.resource in ("*", other.resource)
                and (self.read or not other.read) and (self.write or not other.write))

    def grants(self, resource: str, permission: str) -> bool:
        return self.resource in ("*", resource) and (self.read if permission == "read" else self.write)


def parse_all(text: str | Iterable[str]) -> list[str]:
    """Split and validate a space-separated scope string (InputError on a malformed one)."""
    items = text.split() if isinstance(text, str) else list(text)
    if len(items) > MAX_SCOPES:
        raise InputError(f"too many scopes ({len(items)})", where="scope", hint=f"at most {MAX_SCOPES}")
    for item in items:
        Scope.parse(item)
    return list(dict.fromkeys(items))


def defaults(roles: Iterable[str]) -> list[str]:
    """The scopes a user's roles imply."""
    out: list[str] = []
    for role in sorted(roles):
        out += [s for s in ROLE_SCOPES.get(role, ()) if s not in out]
    return out


def grant(roles: Iterable[str], requested: str | None) -> list[str]:
    """The scopes a login gets: the role defaults, or those requested that the defaults cover.

    Raises:
        InputError: a requested scope is malformed, or none of the requested resource scopes is
            allowed to these roles (OAuth ``invalid_scope``).
    """
    allowed = defaults(roles)
    if not requested or not requested.strip():
        return allowed
    items = parse_all(requested)
    parsed_allowed = [p for s in allowed if (p := Scope.parse(s))]
    granted = [s for s in items if (p := Scope.parse(s)) is None
               or any(a.covers(p) for a in parsed_allowed)]
    if not any(Scope.parse(s) for s in granted):
        raise InputError("none of the requested scopes is allowed to this user", where="scope",
                         hint=f"this user's roles allow {' '.join(allowed)}")
    return granted


def permits(scopes: Iterable[str], needed: str) -> bool:
    """True when one of ``scopes`` grants ``needed`` (``Resource.read`` or ``Resource.write``)."""
    resource, _, permission = needed.partition(".")
    for text in scopes:
        try:
            parsed = Scope.parse(text)
        except InputError:
            continue
        if parsed is not None and parsed.grants(resource, permission):
            return True
    return False


def patient_context_only(scopes: Iterable[str]) -> bool:
    """True when every resource scope is ``patient/``: the token sees its own patient at most."""
    parsed = []
    for text in scopes:
        try:
            p = Scope.parse(text)
        except InputError:
            continue
        if p is not None:
            parsed.append(p)
    return all(p.context == "patient" for p in parsed)
