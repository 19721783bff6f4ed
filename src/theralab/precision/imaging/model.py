"""Save, load and use a trained image classifier as a registered model (card + safe weights)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from theralab.errors import InputError
from theralab.precision.imaging.cnn import TrainResult, build_net, grad_cam, predict_proba
from theralab.precision.imaging.io import read_image

WEIGHTS = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL = "pneumonia-cnn"


def save_image_model(result: TrainResult, out_dir: str | Path, *, name: str, metrics: dict[str, Any],
                     size: int, labels: tuple[str, str], channels: tuple[int, int, int], retrain: str,
                     training: dict[str, Any] | None = None, description: str = "") -> Path:
    """Write ``net.pt`` (state dict), ``config.json`` and the card."""
    import torch

    from theralab.models.registry import ModelCard, save_card

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(result.net.state_dict(), out / "net.pt")
    (out / "config.json").write_text(json.dumps({
        "size": size, "labels": list(labels), "channels": list(channels), "mean": result.mean, "std": result.std,
        "temperature": result.temperature, "offset": result.offset, "modalities": ["CR", "DX"]}, indent=2))
    card = ModelCard(name=name, task="image_binary_classification", description=description, metrics=metrics,
                     training_data=training or {}, weights={"net.pt": "", "config.json": ""}, retrain=retrain,
                     seeds=[0], loader="theralab.precision.imaging.model:load_image_model", input="image")
    save_card(out, card)
    return out


class ImageClassifier:
    """A loaded image model: ``classify(path or bytes)`` with a calibrated probability and a heatmap."""

    def __init__(self, card: Any, result: TrainResult, config: dict[str, Any]) -> None:
        self.card = card
        self.result = result
        self.config = config

    @property
    def size(self) -> int:
        return int(self.config["size"])

    def read(self, source: str | Path | bytes, where: str | None = None) -> np.ndarray:
        """The image as the model's input (clear errors for wrong size or modality)."""
        return read_image(source, size=self.size, modalities=self.config.get("modalities"), where=where)

    def classify(self, source: str | Path | bytes, *, heatmap: bool = True, where: str | None = None) -> dict[str, Any]:
        """``{probability, label, heatmap (list of rows), image (list of rows)}`` for one image."""
        img = self.read(source, where=where)
        prob = float(predict_proba(self.result, img[None])[0])
        out: dict[str, Any] = {"probability": prob, "label": self.config["labels"][int(prob >= 0.5)],
                               "temperature": self.result.temperature}
        if heatmap:
            out["heatmap"] = grad_cam(self.result, img).round(4).tolist()
            out["image"] = img.round(4).tolist()
        return out

    def predict(self, images: np.ndarray) -> pd.DataFrame:
        """Batch probabilities for arrays already at the model's size (N x H x W in [0, 1])."""
        arr = np.asarray(images, dtype=np.float32)
        if arr.ndim != 3 or arr.shape[1:] != (self.size, self.size):
            raise InputError(f"images must be N x {self.size} x {self.size}, got {arr.shape}")
        return pd.DataFrame({"probability": predict_proba(self.result, arr)})


def load_image_model(model_dir: str | Path | None = None) -> ImageClassifier:
    """Load an image model directory (default: the shipped ``pneumonia-cnn``), verifying checksums."""
    import torch

    from theralab.models.registry import load_card

    model_dir = Path(model_dir) if model_dir else WEIGHTS / DEFAULT_MODEL
    card = load_card(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    net = build_net(tuple(config["channels"]))
    net.load_state_dict(torch.load(model_dir / "net.pt", weights_only=True))
    net.eval()
    result = TrainResult(net=net, temperature=float(config["temperature"]), history=[], mean=float(config["mean"]),
                         std=float(config["std"]), offset=float(config.get("offset", 0.0)))
    return ImageClassifier(card, result, config)
