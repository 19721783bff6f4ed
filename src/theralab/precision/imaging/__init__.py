"""Imaging diagnosis: a small CNN for 2D grey-scale images with calibrated outputs and Grad-CAM.

    >>> from theralab.precision.imaging import load_image_model
    >>> model = load_image_model()            # shipped PneumoniaMNIST model (28x28 chest X-rays)
    >>> model.classify("xray.png")["probability"]
"""

from __future__ import annotations

from theralab.precision.imaging.cnn import (
    TrainResult,
    build_net,
    fit_temperature,
    grad_cam,
    predict_logits,
    predict_proba,
    train_cnn,
)
from theralab.precision.imaging.io import read_image
from theralab.precision.imaging.model import ImageClassifier, load_image_model, save_image_model

__all__ = ["ImageClassifier", "TrainResult", "build_net", "fit_temperature", "grad_cam", "load_image_model",
           "predict_logits", "predict_proba", "read_image", "save_image_model", "train_cnn"]
