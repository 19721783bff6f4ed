"""QRS detection on MIT-BIH: theralab vs wfdb XQRS vs NeuroKit2 (default and Pan-Tompkins), same run.

Scoring as is standard: channel 0, reference = beat annotations only (non-beat codes such as
rhythm changes, noise and comments are dropped), a detection matches a reference beat within
150 ms (``wfdb.processing.compare_annotations``), sensitivity = TP / (TP + FN) and
PPV = TP / (TP + FP) summed over records ("gross" statistics). Speed is seconds of ECG processed
per wall-clock second (single thread, including filtering).

    python benchmarks/monitoring_qrs.py --data ../shared/data/monitoring/mitdb
    python benchmarks/monitoring_qrs.py --records 100 105 108 --methods theralab xqrs
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "monitoring" / "mitdb"
METHODS = ("theralab", "xqrs", "neurokit", "pantompkins")


def detect(method: str, x: np.ndarray, fs: float) -> np.ndarray:
    if method == "theralab":
        from theralab.monitoring.ecg.qrs import detect_qrs

        return detect_qrs(x, fs)
    if method == "xqrs":
        from wfdb import processing

        return np.asarray(processing.xqrs_detect(x, fs, verbose=False))
    import neurokit2 as nk

    if method == "neurokit":
        return np.asarray(nk.ecg_findpeaks(nk.ecg_clean(x, sampling_rate=fs), sampling_rate=fs)["ECG_R_Peaks"])
    if method == "pantompkins":
        cl = nk.ecg_clean(x, sampling_rate=fs, method="pantompkins1985")
        return np.asarray(nk.ecg_findpeaks(cl, sampling_rate=fs, method="pantompkins1985")["ECG_R_Peaks"])
    raise ValueError(method)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with MIT-BIH .hea/.dat/.atr")
    ap.add_argument("--records", nargs="*", help="record names (default: all in the folder)")
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    ap.add_argument("--window-ms", type=float, default=150.0)
    ap.add_argument("--json", type=Path, help="write per-record results here")
    args = ap.parse_args()

    import wfdb
    from wfdb import processing

    from theralab.monitoring.ecg.analysis import BEAT_SYMBOLS

    records = args.records or sorted(p.stem for p in args.data.glob("*.hea"))
    totals = {m: {"tp": 0, "fp": 0, "fn": 0, "seconds": 0.0, "ecg_s": 0.0} for m in args.methods}
    rows = []
    print(f"{'record':>6} " + " ".join(f"{m + ' Se/PPV':>22}" for m in args.methods))
    for r in records:
        rec = wfdb.rdrecord(str(args.data / r), channels=[0])
        ann = wfdb.rdann(str(args.data / r), "atr")
        ref = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS])
        x, fs = rec.p_signal[:, 0], float(rec.fs)
        cells, row = [], {"record": r}
        for m in args.methods:
            t0 = time.perf_counter()
            pk = detect(m, x, fs)
            dt = time.perf_counter() - t0
            c = processing.compare_annotations(ref, pk, int(args.window_ms / 1000 * fs))
            t = totals[m]
            t["tp"] += c.tp
            t["fp"] += c.fp
            t["fn"] += c.fn
            t["seconds"] += dt
            t["ecg_s"] += x.size / fs
            se, ppv = 100 * c.tp / max(1, c.tp + c.fn), 100 * c.tp / max(1, c.tp + c.fp)
            row[m] = {"tp": c.tp, "fp": c.fp, "fn": c.fn, "se": se, "ppv": ppv}
            cells.append(f"{se:10.2f}/{ppv:6.2f} ({c.fp:>3},{c.fn:>3})")
        rows.append(row)
        print(f"{r:>6} " + " ".join(cells), flush=True)
    print("\noverall (gross): method, sensitivity %, PPV %, TP, FP, FN, seconds of ECG per second")
    summary = {}
    for m, t in totals.items():
        se = 100 * t["tp"] / max(1, t["tp"] + t["fn"])
        ppv = 100 * t["tp"] / max(1, t["tp"] + t["fp"])
        speed = t["ecg_s"] / max(t["seconds"], 1e-9)
        summary[m] = {"se": se, "ppv": ppv, **{k: t[k] for k in ("tp", "fp", "fn")}, "ecg_s_per_s": speed}
        print(f"{m:>12}  Se {se:6.2f}  PPV {ppv:6.2f}  TP {t['tp']}  FP {t['fp']}  FN {t['fn']}  {speed:,.0f} s/s")
    if args.json:
        args.json.write_text(json.dumps({"records": rows, "overall": summary}, indent=1))


if __name__ == "__main__":
    main()
