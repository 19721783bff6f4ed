"""What an import did and what went wrong: :class:`ImportReport` and its :class:`ImportIssue` rows."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from theralab.ehr.fhir.read import Origin


class ImportIssue(BaseModel):
    """One problem with one resource: which, where, and what."""

    resource_type: str | None = None
    resource_id: str | None = None
    file: str | None = None
    line: int | None = None
    path: str | None = None
    message: str

    def where(self) -> str:
        """``file:line entry path`` as one string, for messages."""
        loc = self.file or "<input>"
        if self.line is not None:
            loc += f":{self.line}"
        res = f"{self.resource_type or '?'}/{self.resource_id or '?'}"
        return f"{loc} {res}" + (f" at {self.path}" if self.path else "")


class ImportReport(BaseModel):
    """What an import did: resources loaded per type, unsupported types skipped, errors, warnings."""

    files: list[str] = Field(default_factory=list)
    loaded: dict[str, int] = Field(default_factory=dict)
    skipped: dict[str, int] = Field(default_factory=dict)
    errors: list[ImportIssue] = Field(default_factory=list)
    warnings: list[ImportIssue] = Field(default_factory=list)
    patients: int = 0
    new: dict[str, int] = Field(default_factory=dict)
    updated: dict[str, int] = Field(default_factory=dict)
    unchanged: dict[str, int] = Field(default_factory=dict)
    rejected_lines: int = 0
    reject_file: str | None = None

    def patient_summary(self) -> str:
        """``13 patients: 0 new, 2 updated, 11 unchanged``: what a re-import really did."""
        return (
            f"{self.patients} patients: {self.new.get('Patient', 0)} new, {self.updated.get('Patient', 0)} updated, "
            f"{self.unchanged.get('Patient', 0)} unchanged"
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when no resource was rejected."""
        return not self.errors

    @property
    def total_loaded(self) -> int:
        return sum(self.loaded.values())


def issue_at(origin: Origin, rtype: str | None, rid: str | None, path: str | None, msg: str) -> ImportIssue:
    """An :class:`ImportIssue` for one resource, its path prefixed with where the resource sits."""
    full_path = (origin.prefix + path) if path else (origin.prefix.rstrip(".") or None)
    # a malformed resource may carry a non-string type or id (``"id": 1``): report it as text
    return ImportIssue(
        resource_type=None if rtype is None else str(rtype)[:80], resource_id=None if rid is None else str(rid)[:200],
        file=origin.file, line=origin.line, path=full_path, message=msg,
    )


__all__ = ["ImportIssue", "ImportReport", "issue_at"]
