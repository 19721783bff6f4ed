"""What every trials result dataclass shares: one way to become a plain JSON-able dict.

Why here: the design, meta-analysis and safety results each wrote the same ``to_dict`` returning
``dataclasses.asdict(self)``, which the CLI, the API and the reports then serialise.
"""

from __future__ import annotations

from dataclasses import asdict


class Record:
    """Mixin for a result dataclass: :meth:`to_dict` is every field, nested dataclasses as dicts."""

    def to_dict(self) -> dict:
        """Plain JSON-able dict of every field (``dataclasses.asdict``)."""
        return asdict(self)  # type: ignore[call-overload]


__all__ = ["Record"]
