"""One error hierarchy for the whole platform.

Every error carries what was wrong (``message``), where it happened (``where``: a file, row,
field or resource id) and what the user can do about it (``hint``). The CLI prints all three,
and the API maps each class to a 4xx status with the same three fields in its JSON body, so a
user never sees a bare traceback or a 500 for bad input.
"""

from __future__ import annotations


class TheralabError(Exception):
    """Base of every error raised on purpose by theralab.

    Args:
        message: what was wrong, in one sentence.
        where: where it happened (file and row, JSON path, resource id), if known.
        hint: what the user can do to fix it.
    """

    status_code: int = 400

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def to_dict(self) -> dict[str, str | None]:
        """Return the JSON body the API sends for this error."""
        return {"error": type(self).__name__, "message": self.message, "where": self.where, "hint": self.hint}

    def __str__(self) -> str:
        parts = [self.message]
        if self.where:
            parts.append(f"(at {self.where})")
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        return " ".join(parts)


class InputError(TheralabError):
    """The user's input (file, row, request field, parameter) is malformed or out of range."""

    status_code = 422


class NotFoundError(TheralabError):
    """A named thing (job, model, patient, library) does not exist."""

    status_code = 404


class ConflictError(TheralabError):
    """The request conflicts with the current state (duplicate name, job already finished)."""

    status_code = 409


class AuthError(TheralabError):
    """Missing or invalid credentials."""

    status_code = 401


class ForbiddenError(TheralabError):
    """The user is authenticated but their role does not allow this action."""

    status_code = 403


class ConvergenceError(TheralabError):
    """A numerical fit or iteration did not converge; ``last_estimate`` holds where it stopped."""

    status_code = 422

    def __init__(self, message: str, *, last_estimate: object = None, **kwargs: str | None) -> None:
        super().__init__(message, **kwargs)
        self.last_estimate = last_estimate


class ModelError(TheralabError):
    """A model directory is missing, corrupt, or its weights fail their checksum."""

    status_code = 422
