"""A small CNN for 2D grey-scale images: training with augmentation, temperature scaling, Grad-CAM.

Architecture (fits 28x28 inputs such as MedMNIST; 72k parameters with the shipped 16/32/64 channels):
three blocks of (conv3x3-BN-ReLU) x2 (default 32/64/128 channels; ``channels`` sets them),
max-pooling after the first two, global average pooling, dropout and one logit. Training: AdamW,
one-cycle learning rate, class-weighted binary
cross-entropy, augmentation by random shifts (pad 2 + crop), small rotations, horizontal flips and
brightness/contrast jitter. Calibration: one temperature ``T`` fitted on a calibration split by
minimising the negative log-likelihood of ``sigmoid(logit / T)`` (Guo et al. 2017). Grad-CAM
(Selvaraju et al. 2017): the last conv block's activations weighted by the spatially averaged
gradient of the logit, ReLU, upsampled to the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theralab.errors import InputError


def build_net(channels: tuple[int, int, int] = (32, 64, 128), dropout: float = 0.3) -> Any:
    """The CNN (a torch ``nn.Module``); ``net.features`` ends with the block Grad-CAM reads."""
    import torch
    from torch import nn

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c1, c2, c3 = channels
            self.features = nn.Sequential(*block(1, c1), nn.MaxPool2d(2), *block(c1, c2), nn.MaxPool2d(2),
                                          *block(c2, c3))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(c3, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.features(x)).squeeze(-1)

    return Net()


def _augment(x: Any, gen: Any) -> Any:
    """Random shift (pad 2, crop), rotation up to 10 degrees, horizontal flip, brightness/contrast."""
    import torch
    import torch.nn.functional as F

    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * (10 * np.pi / 180)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2 / 14)  # +-2 px of 28, in [-1, 1] units
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos * flip, -sin, shift[:, 0]], 1),
                         torch.stack([sin * flip, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 0.15
    bright = (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 0.08
    mean = out.mean(dim=(2, 3), keepdim=True)
    return ((out - mean) * contrast + mean + bright).clamp(0, 1)


@dataclass
class TrainResult:
    """A trained network, its temperature and the training history."""

    net: Any
    temperature: float
    history: list[dict[str, float]]
    mean: float
    std: float
    offset: float = 0.0  # added to the raw logit: undoes the class weighting's prior shift (see train_cnn)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the NLL of ``sigmoid(logits / T)`` (grid then golden refinement)."""
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, dtype=float)
    y = np.asarray(labels, dtype=float)

    def nll(log_t: float) -> float:
        s = z / np.exp(log_t)
        return float(np.mean(np.logaddexp(0, s) - y * s))

    res = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20)), method="bounded")
    return float(np.exp(res.x))


def train_cnn(images: np.ndarray, labels: np.ndarray, *, calib_images: np.ndarray | None = None,
              calib_labels: np.ndarray | None = None, epochs: int = 30, batch_size: int = 128, lr: float = 3e-3,
              weight_decay: float = 1e-4, seed: int = 0, augment: bool = True,
              channels: tuple[int, int, int] = (32, 64, 128), progress: Any = None) -> TrainResult:
    """Train the CNN on ``images`` (N x H x W in [0, 1]) and binary ``labels``.

    The temperature is fitted on ``calib_images``/``calib_labels`` when given (a split the network
    was not trained on), else left at 1. ``progress(epoch, loss)`` is called after each epoch.
    """
    import torch

    x = np.asarray(images, dtype=np.float32)
    y = np.asarray(labels, dtype=np.float32).ravel()
    if x.ndim != 3 or x.shape[0] != y.shape[0]:
        raise InputError(f"images must be N x H x W with one label each, got {x.shape} and {y.shape}")
    if not np.isin(y, (0, 1)).all() or y.min() == y.max():
        raise InputError("labels must be 0/1 with both classes present")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    mean, std = float(x.mean()), float(x.std()) or 1.0
    net = build_net(channels)
    xt, yt = torch.from_numpy(x[:, None]), torch.from_numpy(y)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    pos_weight = torch.tensor((1 - y.mean()) / y.mean())  # balance the classes
    # weighting positives by w moves the loss's optimum logit to logit(p) + ln(w); predictions subtract it
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    history = []
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            xb = _augment(xt[idx], gen) if augment else xt[idx]
            loss = loss_fn(net((xb - mean) / std), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        history.append({"epoch": epoch + 1, "loss": total / len(x)})
        if progress:
            progress(epoch + 1, total / len(x))
    net.eval()
    result = TrainResult(net=net, temperature=1.0, history=history, mean=mean, std=std,
                         offset=-float(np.log(float(pos_weight))))
    if calib_images is not None and calib_labels is not None:
        result.temperature = fit_temperature(predict_logits(result, calib_images), np.asarray(calib_labels).ravel())
    return result


def predict_logits(model: TrainResult, images: np.ndarray, tta: bool = True) -> np.ndarray:
    """Logits before temperature (prior offset included); with ``tta`` the mean over the image and its mirror."""
    import torch

    x = torch.from_numpy(np.asarray(images, dtype=np.float32)[:, None])
    x = (x - model.mean) / model.std
    out = []
    with torch.no_grad():
        for i in range(0, len(x), 512):
            xb = x[i:i + 512]
            z = model.net(xb)
            if tta:
                z = (z + model.net(torch.flip(xb, dims=[3]))) / 2
            out.append(z.numpy())
    return np.concatenate(out).astype(float) + model.offset


def predict_proba(model: TrainResult, images: np.ndarray) -> np.ndarray:
    """Calibrated probabilities ``sigmoid(logit / T)``."""
    return 1.0 / (1.0 + np.exp(-predict_logits(model, images) / model.temperature))


def grad_cam(model: TrainResult, image: np.ndarray) -> np.ndarray:
    """Grad-CAM heatmap (H x W, in [0, 1]) of the positive-class logit for one image."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(((np.asarray(image, dtype=np.float32) - model.mean) / model.std)[None, None])
    net = model.net
    net.eval()
    acts = net.features(x)
    acts.retain_grad()
    logit = net.head(acts).squeeze()
    net.zero_grad()
    logit.backward()
    weights = acts.grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * acts).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=image.shape, mode="bilinear", align_corners=False)[0, 0].detach().numpy()
    return cam / cam.max() if cam.max() > 0 else cam
