"""ECG viewer: upload a single-lead ECG (CSV) or simulate one, see detected beats, heart rate, HRV,
signal quality and rhythm windows; plotted with plotly (first 60 s by default, range slider)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from theralab.errors import InputError
from theralab.web.pages import WebUser
from theralab.web.templating import render

router = APIRouter()
MAX_SECONDS_PLOTTED = 60
#: CinC 2017 rhythm classes as a clinician reads them (the model's labels are N, A, O and ~)
RHYTHM_LABELS = {"N": "Normal sinus rhythm", "A": "Atrial fibrillation", "O": "Other rhythm",
                 "~": "Too noisy to classify"}
#: HRV and heart-rate keys -> (label, unit)
HRV_LABELS = {"mean_nn_ms": ("Mean NN interval", "ms"), "sdnn_ms": ("SDNN", "ms"), "rmssd_ms": ("RMSSD", "ms"),
              "pnn50_pct": ("pNN50", "%"), "lf_ms2": ("LF power", "ms²"), "hf_ms2": ("HF power", "ms²"),
              "lf_hf": ("LF/HF ratio", None), "lf_nu": ("LF power, normalised", "n.u."),
              "mean_bpm": ("Mean heart rate", "/min"), "min_bpm": ("Lowest heart rate", "/min"),
              "max_bpm": ("Highest heart rate", "/min"), "median_bpm": ("Median heart rate", "/min"),
              "mean_hr_bpm": ("Mean heart rate from NN intervals", "/min")}
#: a key's unit from its suffix when it is not listed above
SUFFIX_UNITS = {"_bpm": "/min", "_ms": "ms", "_ms2": "ms²", "_pct": "%", "_s": "s"}


def hrv_label(key: str) -> tuple[str, str | None]:
    """The label and unit of an HRV or heart-rate key (``rmssd_ms`` -> ("RMSSD", "ms"))."""
    if key in HRV_LABELS:
        return HRV_LABELS[key]
    for suffix, unit in SUFFIX_UNITS.items():
        if key.endswith(suffix):
            return key[: -len(suffix)].replace("_", " ").capitalize(), unit
    return key.replace("_", " ").capitalize(), None


def rhythm_label(code: str | None) -> str:
    """The spelled-out rhythm of a CinC class code (``O`` -> "Other rhythm"); unknown codes as given."""
    if code is None:
        return "not classified (recording shorter than 9 s)"
    return RHYTHM_LABELS.get(code, code)


@router.get("/monitoring/ecg", response_class=HTMLResponse)
def ecg_page(request: Request, user: WebUser) -> HTMLResponse:
    return render(request, "ecg.html", {"result": None})


@router.post("/monitoring/ecg", response_class=HTMLResponse)
async def ecg_analyze(request: Request, user: WebUser, upload: UploadFile | None = File(None),
                      fs: float = Form(0.0), simulate_bpm: int = Form(0)) -> HTMLResponse:
    from theralab.monitoring.ecg.analysis import analyze, read_csv

    try:
        if upload is not None and upload.filename:
            import tempfile
            from pathlib import Path

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "ecg.csv"
                path.write_bytes(await upload.read())
                record = read_csv(path, fs=fs or None)
            signal, rate, name = record.signal, record.fs, upload.filename
        elif simulate_bpm:
            import neurokit2 as nk

            if not 30 <= simulate_bpm <= 200:
                raise InputError("simulated heart rate must be 30-200 bpm", where="simulate_bpm")
            rate = 250.0
            signal = np.asarray(nk.ecg_simulate(duration=60, sampling_rate=int(rate), heart_rate=simulate_bpm,
                                                random_state=1), dtype=float)
            name = f"simulated {simulate_bpm} bpm (NeuroKit2, seed 1)"
        else:
            raise InputError("upload a CSV ECG or choose a simulated heart rate", where="upload")
        result = analyze(signal, rate)
    except InputError as exc:
        return render(request, "ecg.html", {"result": None, "problem": str(exc)}, status_code=422)
    n = min(signal.size, int(MAX_SECONDS_PLOTTED * rate))
    t = (np.arange(n) / rate).round(4)
    peaks = result.r_peaks[result.r_peaks < n]
    figure = {
        "data": [{"x": t.tolist(), "y": signal[:n].round(4).tolist(), "mode": "lines", "name": "ECG",
                  "line": {"width": 1}},
                 {"x": (peaks / rate).round(4).tolist(), "y": signal[peaks].round(4).tolist(), "mode": "markers",
                  "name": "detected R peaks", "marker": {"color": "#b42318", "size": 7}}],
        "layout": {"xaxis": {"title": {"text": "time (s)"}, "rangeslider": {}, "range": [0, min(10, n / rate)]},
                   "yaxis": {"title": {"text": "ECG (mV)"}}, "margin": {"t": 20}},
    }
    out = result.to_dict(with_peaks=False)
    rhythm = out["rhythm"]
    rhythm["overall_text"] = rhythm_label(rhythm.get("overall_label")) if rhythm.get("overall_label") else None
    for w in rhythm["windows"]:
        w["text"] = rhythm_label(w.get("label"))
    hrv = [(hrv_label(k), v) for k, v in {**out["heart_rate"], **out["hrv"]}.items()]
    return render(request, "ecg.html", {"result": out, "name": name, "figure": figure, "hrv": hrv})
