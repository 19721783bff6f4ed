"""``/v1/models``: the model registry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from theralab.api.schemas import OpenResult
from theralab.models.registry import find_model, list_models, load_card
from theralab.privacy.deps import CurrentUser

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", response_model=list[OpenResult])
def all_models(user: CurrentUser) -> list[dict[str, Any]]:
    """Every registered model with its card summary."""
    return list_models()


@router.get("/{name}", response_model=OpenResult)
def one_model(name: str, user: CurrentUser, version: str | None = None) -> dict[str, Any]:
    """A model's full card (weights verified)."""
    return load_card(find_model(name, version)).model_dump()
