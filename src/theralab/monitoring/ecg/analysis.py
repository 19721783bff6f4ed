"""ECG analysis: read WFDB or CSV, detect beats, heart rate, HRV, signal quality and rhythm.

Why this shape: a remote-monitoring ECG (patch, watch, Holter) arrives as a file or a block of
samples at a known rate; a clinician wants beats, rate, variability, a rhythm label and, above
all, to know which stretches are too noisy to trust. So every analysis carries a per-window
signal-quality index (SQI), and rhythm alerts are raised only from windows of good quality
(:attr:`ECGAnalysis.alertable`): a motion artefact must never page a doctor for "AF".

Methods:
    * beats: :func:`theralab.monitoring.ecg.qrs.detect_qrs` (measured on MIT-BIH in
      ``docs/benchmarks/monitoring.md``);
    * HRV time domain (Task Force of the ESC/NASPE, 1996) on NN intervals: RR intervals outside
      0.3-2.0 s or more than 20 % from the median of their 5 neighbours are removed as
      ectopic/artefactual before SDNN, RMSSD and pNN50;
    * HRV frequency domain: Lomb-Scargle periodogram of the NN series (no resampling, robust to
      gaps), LF 0.04-0.15 Hz, HF 0.15-0.40 Hz, in ms^2;
    * SQI per 10 s window: agreement of two unlike detectors (bSQI, Li et al. 2008), kurtosis
      (clean ECG is peaky, > 5), plausible beat rate and no flat line;
    * rhythm: :class:`theralab.monitoring.ecg.rhythm.RhythmClassifier` (feature model averaged with a
      small CNN, :mod:`theralab.monitoring.ecg.cnn`) on 30 s windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal as sps
from scipy import stats

from theralab.errors import InputError, NotFoundError
from theralab.monitoring.ecg.features import RHYTHM_QRS
from theralab.monitoring.ecg.qrs import detect_qrs

BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")  # MIT-BIH beat annotation codes (non-beat codes excluded)


@dataclass(frozen=True)
class ECGRecord:
    """One lead of ECG with its sampling rate; ``name`` for reports."""

    signal: np.ndarray
    fs: float
    name: str = ""
    lead: str = ""


def read_wfdb(path: str | Path, channel: int = 0) -> ECGRecord:
    """Read one channel of a WFDB record (``path`` without extension, or the .hea file)."""
    import wfdb

    p = Path(path)
    base = p.with_suffix("") if p.suffix in (".hea", ".dat", ".mat", ".atr") else p
    if not base.with_suffix(".hea").is_file():
        raise NotFoundError(
            f"no WFDB header {base.with_suffix('.hea')}",
            where=str(path),
            hint="give the record path without extension, e.g. data/mitdb/100",
        )
    check_signal_files(base)
    try:
        rec = wfdb.rdrecord(str(base))
    except Exception as exc:  # wfdb raises bare ValueError/IndexError/struct errors on damaged files
        raise InputError(
            f"cannot read the WFDB record: {type(exc).__name__}: {exc}",
            where=str(base),
            hint="check that the .hea and its signal file belong together and are complete",
        ) from exc
    if channel >= rec.n_sig:
        raise InputError(f"record has {rec.n_sig} channel(s); channel {channel} requested", where="channel")
    x = rec.p_signal[:, channel]
    if np.isnan(x).any():  # WFDB marks invalid samples as NaN: bridge short gaps linearly
        idx = np.arange(x.size)
        ok = ~np.isnan(x)
        x = np.interp(idx, idx[ok], x[ok])
    return ECGRecord(x, float(rec.fs), base.name, rec.sig_name[channel])


#: bytes per sample (x 2 for a sample pair in format 212/310/311) of the WFDB formats read here
_FMT_BYTES = {"8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0, "212": 1.5, "24": 3.0, "32": 4.0}


def check_signal_files(base: Path) -> None:
    """Refuse a record whose signal file is missing, truncated or does not match its header.

    Why: wfdb reads a short .dat into a reshape error 60 lines deep; the user needs to know which file
    is wrong and by how much. Byte sizes follow the WFDB formats (212: 3 bytes per 2 samples).
    """
    import wfdb

    try:
        hdr = wfdb.rdheader(str(base))
    except Exception as exc:  # malformed header lines
        raise InputError(f"cannot read the WFDB header: {exc}", where=str(base.with_suffix(".hea"))) from exc
    files: dict[str, list[str]] = {}
    for name, fmt in zip(hdr.file_name or [], hdr.fmt or [], strict=False):
        files.setdefault(name, []).append(str(fmt))
    for name, fmts in files.items():
        f = base.parent / name
        if not f.is_file():
            raise InputError(
                f"signal file {name} named by the header is missing",
                where=str(f),
                hint=f"copy {name} next to {base.with_suffix('.hea').name}",
            )
        if hdr.sig_len is None or any(x not in _FMT_BYTES for x in fmts) or f.suffix == ".mat":
            continue  # .mat (CinC) and unusual formats: left to wfdb
        need = int(round(hdr.sig_len * sum(_FMT_BYTES[x] for x in fmts)))
        have = f.stat().st_size
        if have < need:
            raise InputError(
                f"signal file {name} is truncated: {have:,} bytes hold "
                f"{int(have / sum(_FMT_BYTES[x] for x in fmts)):,} of the {hdr.sig_len:,} samples the header declares",
                where=str(f),
                hint="copy or download the record again",
            )
        if have > need + 1024 and len(files) == 1:
            raise InputError(
                f"signal file {name} does not match its header: {have:,} bytes where {need:,} are expected "
                f"({len(fmts)} signal(s) of format {'/'.join(sorted(set(fmts)))}, {hdr.sig_len:,} samples)",
                where=str(f),
                hint="the .hea and .dat come from different records, or the header is wrong",
            )


def read_csv(path: str | Path, fs: float | None = None, column: str | None = None) -> ECGRecord:
    """Read an ECG from CSV: one signal column, optionally a ``time`` column in seconds.

    ``fs`` is taken from the time column when not given (median sample spacing).
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"no such file {p}", where=str(p))
    df = pd.read_csv(p)
    return record_from_frame(df, fs, column, str(p))


def record_from_frame(df: Any, fs: float | None, column: str | None, where: str) -> ECGRecord:
    cols = [c for c in df.columns if str(c).lower() not in ("time", "t", "seconds", "sample", "index")]
    if column is None:
        if not cols:
            raise InputError("no ECG column found", where=where, hint="add a column such as 'ecg' or 'MLII'")
        column = cols[0]
    if column not in df.columns:
        raise InputError(f"column {column!r} not found; have {list(df.columns)}", where=where)
    x = np.asarray(df[column], dtype=float)
    if fs is None:
        tcol = next((c for c in df.columns if str(c).lower() in ("time", "t", "seconds")), None)
        if tcol is None:
            raise InputError("sampling rate unknown", where=where, hint="pass fs or add a 'time' column in seconds")
        dt = float(np.median(np.diff(np.asarray(df[tcol], dtype=float))))
        if not dt > 0:
            raise InputError("time column is not increasing", where=f"{where}:{tcol}")
        fs = 1.0 / dt
    if np.isnan(x).any():
        row = int(np.flatnonzero(np.isnan(x))[0])
        raise InputError(
            "ECG column has empty or non-numeric values", where=f"{where}: row {row + 2}", hint="fill or cut the gap"
        )
    return ECGRecord(x, float(fs), Path(where).stem, str(column))


def read_ecg(path: str | Path, fs: float | None = None, channel: int = 0) -> ECGRecord:
    """Read a CSV (``.csv``) or WFDB record (anything else), so surfaces accept either."""
    p = Path(path)
    return read_csv(p, fs) if p.suffix.lower() == ".csv" else read_wfdb(p, channel)


def nn_intervals(peaks: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """NN intervals (s) and their times (s): RR with ectopic and artefactual intervals removed."""
    rr = np.diff(np.asarray(peaks)) / fs
    t = np.asarray(peaks[1:]) / fs
    if rr.size == 0:
        return rr, t
    med = sps.medfilt(rr, 5) if rr.size >= 5 else np.full_like(rr, np.median(rr))
    ok = (rr >= 0.3) & (rr <= 2.0) & (np.abs(rr - med) <= 0.2 * med)
    return rr[ok], t[ok]


def hrv_time(nn: np.ndarray) -> dict[str, float]:
    """SDNN, RMSSD (ms), pNN50 (%) and mean heart rate from NN intervals in seconds.

    RMSSD and pNN50 use successive differences of the cleaned series (an approximation where an
    interval was removed between them; with < 5 % removed the effect is negligible).
    """
    if nn.size < 3:
        raise InputError(
            f"only {nn.size} clean NN intervals; HRV needs at least 3",
            where="ecg",
            hint="use a longer or cleaner recording (>= 1 min for time domain, 5 min ideally)",
        )
    d = np.diff(nn) * 1000
    return {
        "mean_nn_ms": float(np.mean(nn) * 1000),
        "sdnn_ms": float(np.std(nn, ddof=1) * 1000),
        "rmssd_ms": float(np.sqrt(np.mean(d * d))),
        "pnn50_pct": float(100 * np.mean(np.abs(d) > 50)),
        "mean_hr_bpm": float(60 / np.mean(nn)),
    }


def hrv_frequency(nn: np.ndarray, t: np.ndarray) -> dict[str, float]:
    """LF and HF power (ms^2) and LF/HF from a Lomb-Scargle periodogram of the NN series.

    Why Lomb-Scargle: NN series are unevenly sampled (and have holes where ectopics were
    removed); Lomb-Scargle needs no interpolation. LF needs >= 2 min of data (25 s per cycle at
    0.04 Hz, several cycles), so shorter series raise InputError.
    """
    if nn.size < 3 or t[-1] - t[0] < 120:
        raise InputError(
            "frequency-domain HRV needs at least 2 minutes of clean beats",
            where="ecg",
            hint="5-minute recordings are the standard",
        )
    x = (nn - nn.mean()) * 1000
    nyquist = 0.5 * x.size / (t[-1] - t[0])
    f = np.linspace(1.0 / (t[-1] - t[0]), max(nyquist, 0.41), 1200)
    pgram = sps.lombscargle(t, x, 2 * np.pi * f)
    # scale to a one-sided PSD in ms^2/Hz whose integral up to the mean Nyquist frequency is the
    # variance (Parseval); independent of the periodogram normalisation of the scipy version
    psd = pgram * x.var() / max(float(np.trapezoid(pgram, f)), 1e-12)
    lf_m = (f >= 0.04) & (f < 0.15)
    hf_m = (f >= 0.15) & (f <= 0.40)
    lf = float(np.trapezoid(psd[lf_m], f[lf_m]))
    hf = float(np.trapezoid(psd[hf_m], f[hf_m]))
    return {
        "lf_ms2": lf,
        "hf_ms2": hf,
        "lf_hf": lf / hf if hf > 0 else float("nan"),
        "lf_nu": 100 * lf / (lf + hf) if lf + hf > 0 else float("nan"),
    }


@dataclass(frozen=True)
class WindowQuality:
    """Signal quality of one window: ``good`` windows may raise alerts."""

    start_s: float
    end_s: float
    bsqi: float
    kurtosis: float
    hr_bpm: float
    level: str  # good | acceptable | unacceptable

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "bsqi": round(self.bsqi, 3),
            "kurtosis": round(self.kurtosis, 2),
            "hr_bpm": round(self.hr_bpm, 1),
            "level": self.level,
        }


def signal_quality(x: np.ndarray, fs: float, peaks: np.ndarray, window_s: float = 10.0) -> list[WindowQuality]:
    """Per-window SQI. good: bSQI >= 0.9, kurtosis >= 5, HR 25-250 bpm, not flat; acceptable:
    bSQI >= 0.7, kurtosis >= 2 and plausible HR; otherwise unacceptable.

    Why kurtosis as well as bSQI: on white noise two peak detectors still agree on many of the
    largest peaks (bSQI 0.6-0.9), but noise is not peaky (excess kurtosis ~0) while ECG is (> 5).
    """
    from theralab.monitoring.ecg.features import bsqi

    out: list[WindowQuality] = []
    n = int(window_s * fs)
    for s in range(0, max(1, x.size - n // 2), n):
        seg = x[s : s + n]
        if seg.size < int(2 * fs):
            break
        pk = peaks[(peaks >= s) & (peaks < s + seg.size)] - s
        hr = 60.0 * pk.size / (seg.size / fs)
        flat = np.ptp(seg) < 1e-6 or np.mean(np.abs(np.diff(seg)) < 1e-9) > 0.5
        b = bsqi(seg, pk, fs) if not flat else 0.0
        k = float(stats.kurtosis(seg)) if not flat else 0.0
        plausible = 25 <= hr <= 250
        if not flat and b >= 0.9 and k >= 5 and plausible:
            level = "good"
        elif not flat and b >= 0.7 and k >= 2 and plausible:  # Gaussian noise: kurtosis ~0
            level = "acceptable"
        else:
            level = "unacceptable"
        out.append(WindowQuality(s / fs, (s + seg.size) / fs, b, k, hr, level))
    return out


@dataclass
class ECGAnalysis:
    """Everything :func:`analyze` finds in one ECG."""

    name: str
    fs: float
    duration_s: float
    r_peaks: np.ndarray
    heart_rate: dict[str, float]
    hrv: dict[str, float]
    quality: list[WindowQuality]
    rhythm: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def quality_fraction(self) -> float:
        """Share of windows of good or acceptable quality."""
        return float(np.mean([w.level != "unacceptable" for w in self.quality])) if self.quality else 0.0

    @property
    def alertable(self) -> list[dict[str, Any]]:
        """Rhythm windows that may raise an alert: AF or other rhythm in good-quality signal only."""
        return [r for r in self.rhythm if r["quality"] == "good" and r["label"] in ("A", "O")]

    def to_dict(self, with_peaks: bool = True) -> dict[str, Any]:
        """JSON-ready form; ``rhythm.overall`` is spelled out (Normal, AF, Other rhythm, Noisy)."""
        return {
            "name": self.name,
            "fs": self.fs,
            "duration_s": round(self.duration_s, 2),
            "n_beats": int(self.r_peaks.size),
            "r_peaks": self.r_peaks.tolist() if with_peaks else None,
            "heart_rate": {k: round(v, 1) for k, v in self.heart_rate.items()},
            "hrv": {k: round(v, 3) for k, v in self.hrv.items()},
            "quality": {
                "usable_fraction": round(self.quality_fraction, 3),
                "windows": [w.to_dict() for w in self.quality],
            },
            "rhythm": {"windows": self.rhythm, **rhythm_summary(self.rhythm), "alerts": self.alertable},
            "notes": self.notes,
        }


def analyze(
    ecg: np.ndarray | ECGRecord, fs: float | None = None, *, rhythm: bool = True, rhythm_window_s: float = 30.0
) -> ECGAnalysis:
    """Beats, heart rate, HRV, per-window quality and (optionally) rhythm of one ECG lead.

    Raises:
        InputError: bad signal or sampling rate (see :func:`detect_qrs`).
    """
    if isinstance(ecg, ECGRecord):
        rec = ecg
    else:
        if fs is None:
            raise InputError("sampling rate fs is required for raw samples", where="fs")
        rec = ECGRecord(np.asarray(ecg, dtype=float), float(fs))
    x, fs = rec.signal, rec.fs
    peaks = detect_qrs(x, fs)
    notes: list[str] = []
    rr = np.diff(peaks) / fs
    hr = 60 / rr if rr.size else np.array([])
    heart_rate = (
        {
            "mean_bpm": float(60 * peaks.size / (x.size / fs)),
            "median_bpm": float(np.median(hr)),
            "min_bpm": float(np.percentile(hr, 2)),
            "max_bpm": float(np.percentile(hr, 98)),
        }
        if hr.size
        else {}
    )
    nn, t = nn_intervals(peaks, fs)
    hrv: dict[str, float] = {}
    try:
        hrv.update(hrv_time(nn))
        hrv.update(hrv_frequency(nn, t))
    except InputError as exc:
        notes.append(f"HRV partly skipped: {exc.message}")
    quality = signal_quality(x, fs, peaks)
    windows: list[dict[str, Any]] = []
    if rhythm:
        # the rhythm model sees the beats of the detector settings it was trained with
        rpeaks = detect_qrs(x, fs, **RHYTHM_QRS)
        windows = _rhythm_windows(x, fs, rpeaks, quality, rhythm_window_s, notes)
    return ECGAnalysis(rec.name, fs, x.size / fs, peaks, heart_rate, hrv, quality, windows, notes)


#: rhythm needs this much signal (the shortest CinC 2017 training record is 9 s)
MIN_RHYTHM_S = 9.0
#: up to this length the whole record is classified at once (CinC records are 9-61 s)
WHOLE_RECORD_MAX_S = 61.0


def rhythm_segments(n: int, fs: float, win_s: float = 30.0) -> list[tuple[int, int]]:
    """Sample ranges to classify: the whole record up to 61 s, else equal windows of about ``win_s``.

    Equal windows cover the record to its last sample (a 75 s record gives two 37.5 s windows), so no
    tail is lost and every window is at least 9 s long.
    """
    dur = n / fs
    if dur < MIN_RHYTHM_S:
        return []
    if dur <= WHOLE_RECORD_MAX_S:
        return [(0, n)]
    k = max(2, int(round(dur / win_s)))
    bounds = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _rhythm_windows(
    x: np.ndarray, fs: float, peaks: np.ndarray, quality: list[WindowQuality], win_s: float, notes: list[str]
) -> list[dict[str, Any]]:
    from theralab.monitoring.ecg.rhythm import RhythmClassifier

    segments = rhythm_segments(x.size, fs, win_s)
    if not segments:
        notes.append(
            f"record too short for rhythm: {x.size / fs:.1f} s, at least {MIN_RHYTHM_S:g} s needed "
            "(the model was trained on 9-61 s records); beats and heart rate are still reported"
        )
        return []
    try:
        model = RhythmClassifier.shipped()
    except NotFoundError as exc:
        notes.append(f"rhythm skipped: {exc.message}")
        return []
    out = []
    for s, e in segments:
        seg = x[s:e]
        pk = peaks[(peaks >= s) & (peaks < e)] - s
        pred = model.predict(seg, fs, pk)
        qs = [w.level for w in quality if w.start_s < e / fs and w.end_s > s / fs]
        level = "unacceptable" if "unacceptable" in qs else "acceptable" if "acceptable" in qs else "good"
        out.append(
            {
                "start_s": s / fs,
                "end_s": e / fs,
                "label": pred.label,
                "name": pred.name,
                "probabilities": pred.probabilities,
                "quality": level,
            }
        )
    return out


def rhythm_summary(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Overall rhythm (duration-weighted mean probability), AF burden (share of time), spelled labels."""
    from theralab.monitoring.ecg.rhythm import CLASS_NAMES, CLASSES

    if not windows:
        return {"overall": None, "overall_label": None, "majority": None, "af_burden": None, "burden": {}}
    dur = np.array([w["end_s"] - w["start_s"] for w in windows])
    prob = np.array([[w["probabilities"][c] for c in CLASSES] for w in windows])
    label = CLASSES[int(np.argmax((prob * dur[:, None]).sum(axis=0)))]
    burden = {CLASS_NAMES[c]: round(float(dur[[w["label"] == c for w in windows]].sum() / dur.sum()), 3)
              for c in CLASSES}
    return {"overall": CLASS_NAMES[label], "overall_label": label, "majority": label,
            "af_burden": burden["AF"], "burden": burden}
