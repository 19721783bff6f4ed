"""``api.schemas``: the request base that refuses unknown fields, and the exactly-one-of validator."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from theralab.api.schemas import RequestModel, exactly_one


class _Pick(RequestModel):
    smiles: list[str] | None = None
    library: str | None = None

    _one = exactly_one("smiles", "library", "send 'smiles' or 'library', not both or neither")


def test_a_misspelt_field_is_refused_not_ignored():
    with pytest.raises(ValidationError, match="libary"):
        _Pick(libary="x")


@pytest.mark.parametrize("fields", [{}, {"smiles": ["C"], "library": "lib"}])
def test_neither_or_both_fields_are_refused_with_the_message(fields):
    with pytest.raises(ValidationError, match="not both or neither"):
        _Pick(**fields)


def test_exactly_one_field_is_accepted():
    assert _Pick(library="lib").library == "lib"
    assert _Pick(smiles=["C"]).smiles == ["C"]
