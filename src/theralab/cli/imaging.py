"""``theralab imaging``: train and apply the 2D image classifier (PNG/DICOM, calibrated, Grad-CAM)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from theralab.cli._common import App, console, progress_bar

app = App(help="Imaging diagnosis: a small CNN for 2D grey-scale images (PNG, JPEG, DICOM) with "
                       "temperature-calibrated probabilities and Grad-CAM heatmaps.", no_args_is_help=True)


@app.command()
def train(
    data: str = typer.Argument(..., help=".npz with train_images (N x H x W, uint8 or [0, 1]) and train_labels "
                                         "(0/1); val_images/val_labels are scored if present (MedMNIST layout)"),
    out: str = typer.Option(..., help="model directory to write"),
    epochs: int = typer.Option(20, help="training epochs"),
    channels: str = typer.Option("16,32,64", help="channels of the three conv blocks"),
    seed: int = typer.Option(0),
    labels: str = typer.Option("negative,positive", help="names of class 0 and class 1"),
) -> None:
    """Train the CNN (10% of the training images calibrate the temperature) and save it with its card."""
    import numpy as np
    import torch

    from theralab.errors import InputError
    from theralab.models.fairness import auc_score
    from theralab.precision.imaging import predict_proba, save_image_model, train_cnn

    torch.set_num_threads(1)
    if not Path(data).exists():
        raise InputError("file not found", where=data)
    arrays = np.load(data)
    if "train_images" not in arrays or "train_labels" not in arrays:
        raise InputError("the .npz needs train_images and train_labels arrays", where=data)
    x = arrays["train_images"].astype(np.float32)
    x = x / 255.0 if x.max() > 1 else x
    y = arrays["train_labels"].ravel()
    if x.ndim != 3 or x.shape[1] != x.shape[2]:
        raise InputError(f"train_images must be N x S x S grey-scale, got {x.shape}", where=data)
    chans = tuple(int(c) for c in channels.split(","))
    perm = np.random.default_rng(seed).permutation(len(x))
    cal, fit = perm[: len(x) // 10], perm[len(x) // 10:]
    with progress_bar() as bar:
        task = bar.add_task("training", total=epochs)
        result = train_cnn(x[fit], y[fit], calib_images=x[cal], calib_labels=y[cal], epochs=epochs, seed=seed,
                           channels=chans, progress=lambda e, loss: bar.update(task, completed=e))
    metrics = {"temperature": result.temperature, "final_loss": result.history[-1]["loss"]}
    if "val_images" in arrays:
        xv = arrays["val_images"].astype(np.float32)
        xv = xv / 255.0 if xv.max() > 1 else xv
        p = predict_proba(result, xv)
        metrics["val_auc"] = auc_score(arrays["val_labels"].ravel(), p)
        metrics["val_accuracy"] = float(np.mean((p >= 0.5) == arrays["val_labels"].ravel()))
    path = save_image_model(result, out, name=Path(out).name, metrics=metrics, size=int(x.shape[1]),
                            labels=tuple(labels.split(",")), channels=chans,
                            retrain=f"theralab imaging train {data} --out {out} --epochs {epochs} --seed {seed}",
                            training={"source": str(Path(data).name), "rows": int(len(fit))})
    console.print_json(json.dumps(metrics))
    console.print(f"model written to {path}")


@app.command()
def predict(
    images: list[str] = typer.Argument(..., help="PNG/JPEG/DICOM files"),
    model: str = typer.Option(None, help="model directory (default: the shipped pneumonia-cnn)"),
    heatmap: str = typer.Option(None, help="folder to write Grad-CAM overlays as PNG"),
    out: str = typer.Option(None, help="write predictions as CSV here"),
) -> None:
    """Classify images; bad images (colour, wrong size or modality) are listed with the reason."""
    import numpy as np
    import pandas as pd

    from theralab.errors import InputError
    from theralab.precision.imaging import load_image_model

    clf = load_image_model(model)
    rows = []
    table = Table("image", "probability", "label", "note")
    for path in images:
        try:
            res = clf.classify(path, heatmap=bool(heatmap))
        except InputError as exc:
            rows.append({"image": path, "probability": None, "label": None, "error": str(exc)})
            table.add_row(path, "-", "-", f"[red]{exc.message}[/red]")
            continue
        rows.append({"image": path, "probability": res["probability"], "label": res["label"], "error": ""})
        table.add_row(path, f"{res['probability']:.3f}", res["label"], "")
        if heatmap:
            from PIL import Image

            Path(heatmap).mkdir(parents=True, exist_ok=True)
            img, cam = np.asarray(res["image"]), np.asarray(res["heatmap"])
            rgb = np.stack([img * 0.6 + cam * 0.4, img * 0.6, img * 0.6 + (1 - cam) * 0.1], axis=-1)
            pic = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).resize((224, 224), Image.NEAREST)
            pic.save(Path(heatmap) / (Path(path).stem + "_gradcam.png"))
    console.print(table)
    console.print(f"[dim]model {clf.card.name}: research use only; temperature {clf.result.temperature:.2f}[/dim]")
    if out:
        pd.DataFrame(rows).to_csv(out, index=False)
