"""The model registry: a model is a directory with a card (``model.json``) and its weights.

The card records what a user needs to trust a model: name, task, version, the fingerprint of the
training data, metrics, seeds, when it was made, and the sha256 of every weight file. Loading
checks the checksums before anything is deserialised, and weights are read only with safe loaders
(``torch.load(weights_only=True)``, safetensors, LightGBM text, JSON), never pickle.

Models live in two places: models the user trains, under ``<data_dir>/models/<name>/<version>/``,
and models the project ships inside the package (any ``weights/*/model.json`` under
``theralab``). ``theralab models list|show`` reads both.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from theralab.errors import InputError, ModelError, NotFoundError

CARD = "model.json"
PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class ModelCard(BaseModel):
    """What ``model.json`` holds."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    name: str
    task: str
    version: str = "1"
    description: str = ""
    training_data: dict[str, Any] = Field(default_factory=dict)  # {"sha256", "rows", "columns", "source"}
    metrics: dict[str, Any] = Field(default_factory=dict)
    seeds: list[int] = Field(default_factory=list)
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    weights: dict[str, str] = Field(default_factory=dict)  # file name -> sha256
    retrain: str = ""  # the command that rebuilds this model


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_table(frame: Any) -> dict[str, Any]:
    """A training-data fingerprint for a pandas DataFrame: sha256 of its content, rows, columns."""
    import pandas as pd

    hashed = pd.util.hash_pandas_object(frame, index=False).values.tobytes()
    return {"sha256": hashlib.sha256(hashed).hexdigest(), "rows": int(len(frame)),
            "columns": list(map(str, frame.columns))}


def save_card(model_dir: Path, card: ModelCard) -> ModelCard:
    """Checksum every weight file named in ``card.weights`` (or every non-card file) and write the card."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise InputError(f"model directory {model_dir} does not exist")
    names = list(card.weights) or sorted(
        p.name for p in model_dir.iterdir() if p.is_file() and p.name != CARD
    )
    card.weights = {name: sha256_file(model_dir / name) for name in names}
    (model_dir / CARD).write_text(card.model_dump_json(indent=2))
    return card


def load_card(model_dir: Path, *, verify: bool = True) -> ModelCard:
    """Read a model's card and (by default) verify its weights' checksums."""
    model_dir = Path(model_dir)
    path = model_dir / CARD
    if not path.exists():
        raise ModelError(f"{model_dir} is not a model directory: {CARD} is missing",
                         hint="train or copy a model with its card")
    try:
        card = ModelCard.model_validate(json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{path} is not a valid model card: {exc}") from exc
    if verify:
        for name, expected in card.weights.items():
            file = model_dir / name
            if not file.exists():
                raise ModelError(f"weight file {name} is missing", where=str(model_dir))
            if sha256_file(file) != expected:
                raise ModelError(f"weight file {name} does not match its sha256 in {CARD}", where=str(model_dir),
                                 hint="the file was changed or corrupted; retrain or restore it")
    return card


def verified_dir(folder: Path | str | None, shipped: Path) -> Path:
    """The model folder to read (``folder``, or the ``shipped`` one when none is given), once its card's
    weight checksums are verified (:func:`load_card`)."""
    folder = Path(folder) if folder else Path(shipped)
    load_card(folder)
    return folder


def card_and_file(model_dir: Path, name: str, *, verify: bool = True) -> tuple[ModelCard, Path]:
    """A model's card (weights verified unless ``verify`` is False) and the path of its file ``name``.

    Raises:
        ModelError: when the card is missing or invalid, a checksum fails, or ``name`` is absent.
    """
    card = load_card(model_dir, verify=verify)
    path = Path(model_dir) / name
    if not path.exists():
        raise ModelError(f"{name} is missing", where=str(model_dir))
    return card, path


def user_models_root() -> Path:
    """Where user-trained models live."""
    from theralab.settings import get_settings

    return Path(get_settings().data_dir) / "models"


def _all_dirs() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for card in sorted(PACKAGE_ROOT.glob("**/weights/*/" + CARD)):
        found.append(("package", card.parent))
    root = user_models_root()
    if root.exists():
        for card in sorted(root.glob("**/" + CARD)):
            found.append(("user", card.parent))
    return found


def list_models() -> list[dict[str, Any]]:
    """Every registered model (shipped and user-trained) with its card summary."""
    rows = []
    for origin, path in _all_dirs():
        try:
            card = load_card(path, verify=False)
        except ModelError as exc:
            rows.append({"name": path.name, "origin": origin, "path": str(path), "error": exc.message})
            continue
        rows.append({"name": card.name, "version": card.version, "task": card.task, "origin": origin,
                     "path": str(path), "metrics": card.metrics, "created": card.created})
    return rows


def find_model(name: str, version: str | None = None) -> Path:
    """The directory of model ``name`` (latest version unless given); NotFoundError otherwise."""
    matches = []
    for _origin, path in _all_dirs():
        try:
            card = load_card(path, verify=False)
        except ModelError:
            continue
        if card.name == name and (version is None or card.version == version):
            matches.append((card.created, path))
    if not matches:
        known = sorted({m["name"] for m in list_models()})
        raise NotFoundError(f"no registered model named {name!r}", hint=f"registered: {', '.join(known) or 'none'}")
    return sorted(matches)[-1][1]


def register_dir(src: Path, name: str | None = None) -> Path:
    """Copy a trained model directory into the user registry (verifying its card first)."""
    import shutil

    card = load_card(src)
    dest = user_models_root() / (name or card.name) / card.version
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    return dest
