"""A small 1-D convolutional network for single-lead ECG rhythm (N / A / O / ~).

Why a network next to the feature model (:mod:`theralab.monitoring.ecg.rhythm`): the hand-made
features saturate around CinC F1 0.78 however many are added, because they all look at the
ECG through our QRS detector and a fixed set of measurements. The network reads the raw wave
(downsampled to 100 Hz), so it learns morphology and rhythm patterns that no feature names
(aberrant beats, flutter waves, subtle ST/T shapes) and it fails on different records than the
feature model; averaging the two probabilities is what gains (see ``docs/benchmarks/monitoring.md``).

Why this size: about 0.15 M parameters (0.6 MB of float32 weights) and ~20 M multiply-adds per
15 s crop, so a fold trains in a few minutes on two CPU cores and the shipped weights stay far
below a few MB. The architecture is a plain residual CNN (stem + 5 strided residual blocks,
receptive field ~8 s, i.e. several beats) with global average and max pooling, so any record
length of at least a few seconds can be classified whole.

Training uses random 15 s crops (the label holds for any long stretch of a 9-60 s CinC excerpt),
random gain and small Gaussian noise, class-weighted cross-entropy and a one-cycle learning rate
for a fixed number of epochs (no early stopping, so no test data is ever looked at).

This module imports torch at the top; it is imported lazily by :mod:`ecg_rhythm` so that the
CLI starts fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import signal as sps
from torch import nn

from theralab.errors import InputError

FS = 100.0  # Hz the network works at: keeps P and f-waves (< 15 Hz) and QRS shape, a third of the cost
CROP_S = 15.0  # training crop length
MIN_S = 3.0  # shortest excerpt the network will classify
N_CLASSES = 4

CNN_PARAMS: dict[str, Any] = {
    "widths": [16, 32, 48, 64, 64, 64],
    "kernel": 7,
    "dropout": 0.3,
    "epochs": 30,
    "batch_size": 32,
    "lr": 3e-3,
    "weight_decay": 1e-3,
    "crop_s": CROP_S,
    "gain_range": [0.7, 1.4],
    "noise_sd": 0.03,
    "label_smoothing": 0.05,
}


def preprocess(ecg: np.ndarray, fs: float) -> np.ndarray:
    """Resample to 100 Hz, remove baseline wander and scale to a unit typical R amplitude.

    Why scale by the median of per-second peak amplitudes: recordings come from devices with
    different gains; the median over seconds ignores a few artefact spikes that would dominate
    a max or a standard deviation. Values are clipped to +-20 for the same reason.

    Raises:
        InputError: non-finite samples, bad ``fs`` or an excerpt shorter than 3 s.
    """
    x = np.asarray(ecg, dtype=float).ravel()
    if not np.isfinite(fs) or fs <= 0:
        raise InputError(f"bad sampling rate {fs}", where="fs", hint="give the rate in Hz, e.g. 300")
    if x.size < MIN_S * fs:
        raise InputError(
            f"ECG excerpt of {x.size / fs:.1f} s is too short for the rhythm network",
            where="ecg",
            hint=f"give at least {MIN_S:.0f} s (ideally 9-60 s)",
        )
    if not np.all(np.isfinite(x)):
        raise InputError("ECG contains NaN or infinite samples", where="ecg", hint="interpolate or cut gaps first")
    frac = Fraction(FS / fs).limit_denominator(1000)
    if frac != 1:
        x = sps.resample_poly(x, frac.numerator, frac.denominator)
    sos = sps.butter(2, [0.5, 40.0], btype="bandpass", fs=FS, output="sos")
    x = sps.sosfiltfilt(sos, x)
    n = int(FS)
    secs = x[: x.size // n * n].reshape(-1, n)
    amp = float(np.median(np.max(np.abs(secs), axis=1))) if secs.size else float(np.max(np.abs(x)))
    x = x / (amp if amp > 1e-9 else 1.0)
    return np.clip(x, -20, 20).astype(np.float32)


class _Block(nn.Module):
    """Pre-activation residual block that halves the length (stride 2)."""

    def __init__(self, c_in: int, c_out: int, k: int, dropout: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm1d(c_in),
            nn.ReLU(),
            nn.Conv1d(c_in, c_out, k, stride=2, padding=k // 2, bias=False),
            nn.BatchNorm1d(c_out),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Conv1d(c_out, c_out, k, padding=k // 2, bias=False),
        )
        self.skip = nn.Sequential(nn.MaxPool1d(2, ceil_mode=True), nn.Conv1d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        s = self.skip(x)
        n = min(y.shape[-1], s.shape[-1])
        return y[..., :n] + s[..., :n]


class RhythmCNN(nn.Module):
    """Stem convolution, strided residual blocks, global average + max pooling, linear head."""

    def __init__(self, widths: Sequence[int] = (16, 32, 48, 64, 64, 64), kernel: int = 7, dropout: float = 0.3) -> None:
        super().__init__()
        self.stem = nn.Conv1d(1, widths[0], kernel, stride=2, padding=kernel // 2, bias=False)
        self.blocks = nn.Sequential(
            *[_Block(a, b, kernel, dropout) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        )
        self.norm = nn.Sequential(nn.BatchNorm1d(widths[-1]), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * widths[-1], N_CLASSES))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, samples) -> (batch, 2 x last width) pooled representation."""
        h = self.norm(self.blocks(self.stem(x.unsqueeze(1))))
        return torch.cat([h.mean(-1), h.amax(-1)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def build(params: dict[str, Any] | None = None) -> RhythmCNN:
    """A fresh network with the given (default :data:`CNN_PARAMS`) architecture."""
    p = CNN_PARAMS | (params or {})
    return RhythmCNN(p["widths"], p["kernel"], p["dropout"])


def _batch_crops(
    signals: Sequence[np.ndarray], idx: np.ndarray, crop: int, rng: np.random.Generator, p: dict[str, Any]
) -> torch.Tensor:
    out = np.zeros((idx.size, crop), dtype=np.float32)
    for row, i in enumerate(idx):
        x = signals[i]
        if x.size > crop:
            s0 = int(rng.integers(0, x.size - crop + 1))
            out[row] = x[s0 : s0 + crop]
        else:  # short record: place it at a random offset in a flat line
            s0 = int(rng.integers(0, crop - x.size + 1))
            out[row, s0 : s0 + x.size] = x
    out *= rng.uniform(*p["gain_range"], size=(idx.size, 1)).astype(np.float32)
    out += rng.normal(0, p["noise_sd"], size=out.shape).astype(np.float32)
    return torch.from_numpy(out)


def train(
    signals: Sequence[np.ndarray],
    labels: np.ndarray,
    class_weight: Sequence[float] | None = None,
    params: dict[str, Any] | None = None,
    seed: int = 7,
    progress: Callable[[int, int, float], None] | None = None,
) -> RhythmCNN:
    """Fit a network on preprocessed signals (:func:`preprocess`) and integer labels 0..3.

    Why a fixed epoch count and no validation split: with ~1,700 training records per fold a
    held-out split would cost data and the schedule (one-cycle) ends at a small learning rate
    anyway; the count was set once, before any test-fold result was seen.

    Args:
        signals: 100 Hz preprocessed excerpts, any lengths.
        labels: class index per excerpt (order of ``ecg_rhythm.CLASSES``).
        class_weight: loss weight per class index (counters imbalance).
        params: overrides of :data:`CNN_PARAMS` (tests use 1-2 epochs).
        seed: seeds torch and the crop sampler, so a fit is repeatable on one machine.
        progress: called with (epoch, epochs, mean training loss).
    """
    p = CNN_PARAMS | (params or {})
    y = np.asarray(labels, dtype=np.int64)
    if len(signals) != y.size or y.size == 0:
        raise InputError("signals and labels differ in length or are empty", where="train")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build(p)
    w = torch.tensor(class_weight if class_weight is not None else [1.0] * N_CLASSES, dtype=torch.float32)
    loss_fn = nn.CrossEntropyLoss(weight=w, label_smoothing=p["label_smoothing"])
    opt = torch.optim.AdamW(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
    bs = int(p["batch_size"])
    steps = int(np.ceil(y.size / bs))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=p["lr"], total_steps=p["epochs"] * steps, pct_start=0.25)
    crop = int(p["crop_s"] * FS)
    yt = torch.from_numpy(y)
    for epoch in range(p["epochs"]):
        net.train()
        order = rng.permutation(y.size)
        total = 0.0
        for b in range(steps):
            idx = order[b * bs : (b + 1) * bs]
            if idx.size < 2:  # batch norm needs two examples
                continue
            xb = _batch_crops(signals, idx, crop, rng, p)
            loss = loss_fn(net(xb), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * idx.size
        if progress:
            progress(epoch + 1, p["epochs"], total / y.size)
    net.eval()
    return net


@torch.no_grad()
def predict_proba(net: RhythmCNN, signals: Sequence[np.ndarray]) -> np.ndarray:
    """Class probabilities (n, 4) of whole preprocessed excerpts; equal lengths are batched."""
    net.eval()
    out = np.zeros((len(signals), N_CLASSES))
    by_len: dict[int, list[int]] = {}
    for i, x in enumerate(signals):
        by_len.setdefault(int(x.size), []).append(i)
    for idx in by_len.values():
        for k in range(0, len(idx), 64):
            part = idx[k : k + 64]
            xb = torch.from_numpy(np.stack([signals[i] for i in part]))
            out[part] = torch.softmax(net(xb), dim=1).numpy()
    return out


def save(net: RhythmCNN, path: Path, params: dict[str, Any] | None = None) -> None:
    """Write the weights as a plain tensor dict (loadable with ``weights_only=True``)."""
    p = CNN_PARAMS | (params or {})
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    torch.save({"state_dict": state, "arch": {k: p[k] for k in ("widths", "kernel", "dropout")}}, str(path))


def load(path: Path) -> RhythmCNN:
    """Load weights written by :func:`save`; never executes pickled code (``weights_only``)."""
    blob = torch.load(str(path), map_location="cpu", weights_only=True)
    net = build(blob["arch"])
    net.load_state_dict(blob["state_dict"])
    net.eval()
    return net


def cinc_signals(directory: Path, cache: Path | None = None) -> list[np.ndarray]:
    """Preprocessed 100 Hz signals of every record of a CinC folder, in REFERENCE.csv order.

    Cached (one concatenated float32 array + offsets, ~25 MB) keyed by the data fingerprint and
    a hash of this module's :func:`preprocess`, so changed data or preprocessing is recomputed.
    """
    import hashlib
    import inspect

    import wfdb

    from theralab.monitoring.ecg.cinc import data_fingerprint, load_cinc

    labels = load_cinc(directory)
    key = hashlib.sha256((data_fingerprint(directory) + inspect.getsource(preprocess)).encode()).hexdigest()[:12]
    cfile = Path(cache) / f"cinc_signals_{key}.npz" if cache is not None else None
    if cfile is not None and cfile.is_file():
        z = np.load(cfile)
        return np.split(z["data"], z["offsets"][1:-1])
    out = []
    for rec in labels.record:
        r = wfdb.rdrecord(str(Path(directory) / rec))
        out.append(preprocess(r.p_signal[:, 0], float(r.fs)))
    if cfile is not None:
        cfile.parent.mkdir(parents=True, exist_ok=True)
        offsets = np.concatenate([[0], np.cumsum([x.size for x in out])])
        np.savez(cfile, data=np.concatenate(out), offsets=offsets)
    return out
