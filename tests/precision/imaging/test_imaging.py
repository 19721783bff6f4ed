"""Imaging: reading PNG/DICOM with clear errors, temperature scaling, a real tiny CNN, Grad-CAM, shipped model."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from theralab.errors import InputError
from theralab.precision.imaging import (
    fit_temperature,
    grad_cam,
    load_image_model,
    predict_proba,
    read_image,
    train_cnn,
)
from theralab.precision.imaging.model import DEFAULT_MODEL, WEIGHTS


def _png(array: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def _dicom(pixels: np.ndarray, modality: str = "CR", photometric: str = "MONOCHROME2") -> bytes:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.Modality = modality
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_read_png_and_dicom_to_the_same_array():
    ramp = np.tile(np.linspace(0, 255, 56).astype(np.uint8), (56, 1))
    png = read_image(_png(ramp), size=28)
    dcm = read_image(_dicom(ramp.astype(np.uint16) * 16), size=28)
    assert png.shape == dcm.shape == (28, 28)
    np.testing.assert_allclose(png, dcm, atol=0.01)
    assert png[:, 0].max() < 0.05 and png[:, -1].min() > 0.95  # the ramp survives resizing
    inverted = read_image(_dicom(ramp.astype(np.uint16) * 16, photometric="MONOCHROME1"), size=28)
    np.testing.assert_allclose(inverted, 1 - dcm, atol=0.01)


@pytest.mark.parametrize(("payload", "message"), [
    (lambda: _png(np.zeros((10, 10), np.uint8) + np.eye(10, dtype=np.uint8)), "smaller than"),
    (lambda: _png((np.random.default_rng(0).integers(0, 255, (60, 60, 3))).astype(np.uint8)), "colour"),
    (lambda: _png(np.tile(np.arange(200, dtype=np.uint8), (40, 1))), "aspect ratio"),
    (lambda: _dicom(np.tile(np.arange(64, dtype=np.uint16), (64, 1)), modality="CT"), "modality CT"),
    (lambda: _png(np.full((40, 40), 7, np.uint8)), "blank"),
    (lambda: b"plain text", "not a readable image"),
])
def test_bad_images_are_refused_with_the_reason(payload, message):
    with pytest.raises(InputError, match=message):
        read_image(payload(), size=28)


def test_temperature_recovers_the_scale():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20_000)
    y = (rng.uniform(size=z.size) < 1 / (1 + np.exp(-z))).astype(int)
    assert fit_temperature(3 * z, y) == pytest.approx(3.0, rel=0.05)  # over-confident logits -> T = 3


def _squares(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.3, (n, 28, 28)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for i in np.flatnonzero(y):
        r, c = rng.integers(4, 16, 2)
        x[i, r:r + 8, c:c + 8] += 0.6
    return np.clip(x, 0, 1), y


def test_tiny_cnn_learns_and_gradcam_points_at_the_lesion():
    import torch

    torch.set_num_threads(1)
    x, y = _squares(400, 0)
    xv, yv = _squares(100, 1)
    result = train_cnn(x, y, calib_images=xv, calib_labels=yv, epochs=4, batch_size=64, channels=(8, 16, 16), seed=0)
    p = predict_proba(result, xv)
    from theralab.models.fairness import auc_score

    assert auc_score(yv, p) > 0.95 and 0.05 < result.temperature < 20
    i = int(np.flatnonzero(yv)[0])
    cam = grad_cam(result, xv[i])
    lesion = xv[i] > 0.5
    assert cam.shape == (28, 28) and cam[lesion].mean() > cam[~lesion].mean()
    with pytest.raises(InputError, match="both classes"):
        train_cnn(x, np.zeros(len(x)), epochs=1)


def test_shipped_model_on_validation(shared_data):
    if not (WEIGHTS / DEFAULT_MODEL / "model.json").exists():
        pytest.skip("shipped weights not built")
    model = load_image_model()
    assert model.card.metrics["val_auc"] >= 0.95
    data = np.load(shared_data / "precision" / "imaging" / "pneumoniamnist_train_val.npz")
    xv, yv = data["val_images"][:200] / 255.0, data["val_labels"][:200].ravel()
    from theralab.models.fairness import auc_score

    assert auc_score(yv, model.predict(xv)["probability"].to_numpy()) > 0.93
    res = model.classify(_png(data["val_images"][0]))
    assert res["label"] in ("normal", "pneumonia") and np.asarray(res["heatmap"]).shape == (28, 28)
