"""Read 2D medical images (PNG/JPEG and DICOM) into the grey-scale arrays the CNN expects.

Clear errors rather than silent nonsense: a colour photograph, a 3D/multi-frame series, a DICOM
of another modality than the model was trained on, an image smaller than the model's input, or a
strongly non-square image (which resizing would distort) is refused with the reason.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from theralab.errors import InputError

DICOM_MAGIC_OFFSET = 128


def _is_dicom(data: bytes) -> bool:
    return len(data) > 132 and data[DICOM_MAGIC_OFFSET:DICOM_MAGIC_OFFSET + 4] == b"DICM"


def _from_dicom(data: bytes, where: str, modalities: Sequence[str] | None) -> np.ndarray:
    import pydicom

    try:
        ds = pydicom.dcmread(io.BytesIO(data))
        pixels = ds.pixel_array.astype(np.float32)
    except Exception as exc:  # noqa: BLE001 - any decoder failure is bad input
        raise InputError(f"cannot decode the DICOM pixels: {exc}", where=where,
                         hint="uncompressed or JPEG-lossless DICOM is supported") from exc
    modality = str(getattr(ds, "Modality", "") or "")
    if modalities and modality and modality not in modalities:
        raise InputError(f"DICOM modality {modality} is not one this model reads ({', '.join(modalities)})",
                         where=where, hint="the model was trained on chest radiographs (CR/DX)")
    if pixels.ndim == 3 and getattr(ds, "SamplesPerPixel", 1) == 1:
        raise InputError(f"the DICOM holds {pixels.shape[0]} frames (a 3D or multi-frame series)", where=where,
                         hint="export the single 2D frame to classify")
    if pixels.ndim != 2:
        raise InputError("only single-frame grey-scale DICOM images are supported", where=where)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    pixels = pixels * slope + intercept
    if str(getattr(ds, "PhotometricInterpretation", "")) == "MONOCHROME1":
        pixels = pixels.max() - pixels  # MONOCHROME1: high values are dark
    return pixels


def _from_picture(data: bytes, where: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError("not a readable image (PNG, JPEG or DICOM expected)", where=where) from exc
    if getattr(img, "n_frames", 1) > 1:
        raise InputError("the image has several frames", where=where, hint="give one 2D image")
    if img.mode in ("RGB", "RGBA", "P", "CMYK"):
        rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
        chroma = np.abs(rgb - rgb.mean(axis=2, keepdims=True)).mean()
        if chroma > 4.0:  # grey images saved as RGB have (near) equal channels
            raise InputError(f"the image is in colour (mean channel spread {chroma:.1f}), not a grey-scale radiograph",
                             where=where, hint="this model reads grey-scale chest X-rays only")
        return rgb.mean(axis=2)
    return np.asarray(img.convert("F") if img.mode.startswith("I") else img.convert("L"), dtype=np.float32)


def read_image(source: str | Path | bytes, *, size: int = 28, modalities: Sequence[str] | None = ("CR", "DX"),
               max_aspect: float = 1.5, where: str | None = None) -> np.ndarray:
    """Read one image and return it as a ``size x size`` float32 array scaled to [0, 1].

    Args:
        source: a path, or the file's bytes (API uploads).
        size: the model's input side; the image is resized (area-averaged) to it.
        modalities: DICOM modalities accepted (None: any).
        max_aspect: longest/shortest side above which the image is refused (resizing would distort).

    Raises:
        InputError: unreadable, colour, multi-frame, other modality, smaller than ``size`` or too elongated.
    """
    from PIL import Image

    if isinstance(source, bytes):
        data, where = source, where or "upload"
    else:
        path = Path(source)
        if not path.exists():
            raise InputError("image not found", where=str(path))
        data, where = path.read_bytes(), where or str(path)
    pixels = _from_dicom(data, where, modalities) if _is_dicom(data) else _from_picture(data, where)
    h, w = pixels.shape
    if min(h, w) < size:
        raise InputError(f"the image is {w}x{h} pixels, smaller than the model's {size}x{size} input", where=where,
                         hint="give the original-resolution image")
    if max(h, w) / min(h, w) > max_aspect:
        raise InputError(f"the image is {w}x{h}: aspect ratio {max(h, w) / min(h, w):.2f} > {max_aspect}",
                         where=where, hint="crop it to the chest field (roughly square) first")
    lo, hi = float(pixels.min()), float(pixels.max())
    if hi <= lo:
        raise InputError("the image is blank (all pixels equal)", where=where)
    scaled = ((pixels - lo) / (hi - lo) * 255.0).astype(np.float32)
    resized = Image.fromarray(scaled, mode="F").resize((size, size), Image.Resampling.BOX)
    return np.clip(np.asarray(resized, dtype=np.float32) / 255.0, 0.0, 1.0)
