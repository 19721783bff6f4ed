"""ECG: QRS detection on MIT-BIH excerpts, HRV against analytic values, quality index, I/O, rhythm."""

from __future__ import annotations

import numpy as np
import pytest

from theralab.errors import InputError
from theralab.monitoring.ecg.analysis import (
    BEAT_SYMBOLS,
    analyze,
    hrv_frequency,
    hrv_time,
    nn_intervals,
    read_csv,
    read_wfdb,
    signal_quality,
)
from theralab.monitoring.ecg.features import extract_features, sample_entropy
from theralab.monitoring.ecg.qrs import detect_qrs
from theralab.monitoring.ecg.rhythm import CLASSES, RhythmClassifier, cinc_f1


def _mitdb(shared_data, name: str, seconds: float | None = None):
    import wfdb

    path = shared_data / "monitoring" / "mitdb" / name
    kw = {"sampto": int(seconds * 360)} if seconds else {}
    rec = wfdb.rdrecord(str(path), channels=[0], **kw)
    ann = wfdb.rdann(str(path), "atr", **kw)
    ref = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS])
    return rec.p_signal[:, 0], float(rec.fs), ref


def _score(ref, peaks, fs):
    from wfdb import processing

    c = processing.compare_annotations(ref, peaks, int(0.15 * fs))
    return c.tp, c.fp, c.fn


def test_qrs_record_100_is_perfect(shared_data):
    # full 30 min record 100 (2,273 annotated beats): measured TP 2273, FP 0, FN 0
    x, fs, ref = _mitdb(shared_data, "100")
    assert ref.size == 2273
    assert _score(ref, detect_qrs(x, fs), fs) == (2273, 0, 0)


def test_qrs_bigeminy_record_119(shared_data):
    # 119: ventricular bigeminy, PVCs of a different shape every other beat; no beat may be lost
    x, fs, ref = _mitdb(shared_data, "119", seconds=600)
    tp, fp, fn = _score(ref, detect_qrs(x, fs), fs)
    assert fn == 0 and fp <= 1 and tp == ref.size


def test_qrs_rejects_bad_input():
    with pytest.raises(InputError) as e:
        detect_qrs(np.zeros((10, 2)), 360)
    assert e.value.where == "ecg"
    with pytest.raises(InputError) as e:
        detect_qrs(np.zeros(5000), 10)
    assert e.value.where == "fs"
    x = np.zeros(3600)
    x[100] = np.nan
    with pytest.raises(InputError) as e:
        detect_qrs(x, 360)
    assert e.value.where == "sample 100"


def _modulated_rr(seconds: float = 300.0) -> tuple[np.ndarray, np.ndarray]:
    rr, t = [], 0.0
    while t < seconds:
        r = 0.8 + 0.03 * np.sin(2 * np.pi * 0.25 * t) + 0.02 * np.sin(2 * np.pi * 0.1 * t)
        rr.append(r)
        t += r
    rr_a = np.array(rr)
    return rr_a, np.cumsum(rr_a)


def test_hrv_frequency_recovers_analytic_band_powers():
    # RR modulated by 30 ms at 0.25 Hz (HF) and 20 ms at 0.10 Hz (LF): variances 450 and 200 ms^2
    rr, t = _modulated_rr()
    f = hrv_frequency(rr, t)
    assert f["hf_ms2"] == pytest.approx(450, rel=0.03)
    assert f["lf_ms2"] == pytest.approx(200, rel=0.03)
    assert f["lf_hf"] == pytest.approx(200 / 450, rel=0.03)
    with pytest.raises(InputError):
        hrv_frequency(rr[:60], t[:60])  # under 2 minutes


def test_hrv_time_exact():
    nn = np.array([0.8, 0.9, 0.8, 0.9, 0.8])
    h = hrv_time(nn)
    assert h["rmssd_ms"] == pytest.approx(100.0)
    assert h["sdnn_ms"] == pytest.approx(np.std(nn, ddof=1) * 1000)
    assert h["pnn50_pct"] == pytest.approx(100.0)
    assert h["mean_hr_bpm"] == pytest.approx(60 / 0.84)


def test_nn_intervals_drop_ectopic():
    fs = 100.0
    rr = np.array([0.8] * 10 + [0.45, 1.15] + [0.8] * 10)  # premature beat + compensatory pause
    peaks = np.concatenate([[0], np.cumsum(rr)]) * fs
    nn, _ = nn_intervals(peaks.round().astype(int), fs)
    assert nn.size == rr.size - 2 and np.allclose(nn, 0.8)


def test_sample_entropy_matches_neurokit2():
    import neurokit2 as nk

    x = np.random.default_rng(0).normal(size=200)
    ref, _ = nk.entropy_sample(x, dimension=2, tolerance=0.2 * np.std(x))
    assert sample_entropy(x, 2, 0.2) == pytest.approx(float(ref), abs=1e-9)


def test_signal_quality_separates_clean_noise_and_flat(shared_data):
    x, fs, _ = _mitdb(shared_data, "100", seconds=60)
    clean = signal_quality(x, fs, detect_qrs(x, fs))
    assert len(clean) == 6 and all(w.level == "good" for w in clean)
    noise = np.random.default_rng(1).normal(scale=0.5, size=x.size)
    assert all(w.level == "unacceptable" for w in signal_quality(noise, fs, detect_qrs(noise, fs)))
    flat = np.zeros_like(x)
    flat[: x.size // 2] = x[: x.size // 2]
    levels = [w.level for w in signal_quality(flat, fs, detect_qrs(flat, fs))]
    assert levels[:3] == ["good"] * 3 and levels[3:] == ["unacceptable"] * 3


def test_read_wfdb_and_csv(shared_data, tmp_path):
    rec = read_wfdb(shared_data / "monitoring" / "mitdb" / "100")
    assert rec.fs == 360 and rec.lead == "MLII" and rec.signal.size == 650000
    p = tmp_path / "ecg.csv"
    t = np.arange(3600) / 360
    p.write_text("time,ecg\n" + "\n".join(f"{a:.6f},{b:.4f}" for a, b in zip(t, rec.signal[:3600], strict=True)))
    csv_rec = read_csv(p)
    assert csv_rec.fs == pytest.approx(360, rel=1e-3) and csv_rec.signal.size == 3600
    p2 = tmp_path / "nofs.csv"
    p2.write_text("ecg\n1\n2\n")
    with pytest.raises(InputError) as e:
        read_csv(p2)
    assert "sampling rate" in e.value.message


def test_cinc_f1_definition():
    m = cinc_f1(["N", "N", "A", "O", "~"], ["N", "A", "A", "O", "N"])
    # N: TP 1, 2 true, 2 predicted -> 2/4; A: TP 1, 1 true, 2 predicted -> 2/3; O: 1; ~ is not scored
    assert m["N"] == pytest.approx(0.5) and m["A"] == pytest.approx(2 / 3) and m["O"] == 1.0
    assert m["~"] == 0.0 and m["cinc_f1"] == pytest.approx((0.5 + 2 / 3 + 1) / 3)


def test_shipped_rhythm_model_is_verified_and_reads_sinus_rhythm(shared_data):
    model = RhythmClassifier.load()  # checks the sha256 of the weights against the card
    assert model.card["classes"] == list(CLASSES) and model.card["metrics"]["cinc_f1"] > 0.7
    # MIT-BIH 103, first 30 s: sinus rhythm without ectopy, not used for training
    x, fs, _ = _mitdb(shared_data, "103", seconds=30)
    pred = model.predict(x, fs)
    assert pred.label == "N" and sum(pred.probabilities.values()) == pytest.approx(1, abs=1e-3)
    assert set(extract_features(x, fs)) == set(model.card["features"])


def test_analyze_end_to_end(shared_data):
    x, fs, ref = _mitdb(shared_data, "100", seconds=150)
    res = analyze(x, fs)
    d = res.to_dict()
    assert abs(d["n_beats"] - ref.size) <= 1
    assert 60 < d["heart_rate"]["mean_bpm"] < 90
    assert {"sdnn_ms", "rmssd_ms", "pnn50_pct", "lf_ms2", "hf_ms2", "lf_hf"} <= set(d["hrv"])
    assert d["quality"]["usable_fraction"] == 1.0
    # record 100 is sinus rhythm with occasional atrial premature beats: no AF anywhere
    assert d["rhythm"]["majority"] == "N" and d["rhythm"]["af_burden"] == 0.0
    assert all(a["quality"] == "good" and a["label"] in ("A", "O") for a in d["rhythm"]["alerts"])
    with pytest.raises(InputError):
        analyze(x)  # no fs


def test_noisy_segments_never_alert(shared_data):
    # pure noise may be classified as anything, but without good quality it must not alert
    noise = np.random.default_rng(3).normal(size=int(60 * 300))
    res = analyze(noise, 300)
    assert all(r["quality"] != "good" for r in res.rhythm) and res.alertable == []


@pytest.mark.parametrize(("fs", "up", "down"), [(128, 16, 45), (250, 25, 36), (500, 25, 18), (1000, 25, 9)])
def test_qrs_is_independent_of_sampling_rate(shared_data, fs, up, down):
    # MIT-BIH 119 (bigeminy), first 5 min resampled from 360 Hz: all 326 beats, no false ones (measured)
    from scipy.signal import resample_poly

    x, _, ref = _mitdb(shared_data, "119", seconds=300)
    peaks = detect_qrs(resample_poly(x, up, down), fs)
    assert _score(ref, np.round(peaks * 360 / fs).astype(int), 360) == (326, 0, 0)


def test_rhythm_features_use_the_detector_settings_the_model_was_trained_with(shared_data):
    # MIT-BIH 114, 1455-1485 s (V5, T waves as tall as the QRS): the round-1 settings take T waves for
    # beats and the shipped defaults do not, so the RR features differ; the rhythm model was fitted on
    # the round-1 beats, so its features must keep them until it is retrained
    import wfdb

    from theralab.monitoring.ecg.features import RHYTHM_QRS

    path = str(shared_data / "monitoring" / "mitdb" / "114")
    x = wfdb.rdrecord(path, channels=[0], sampfrom=1455 * 360, sampto=1485 * 360).p_signal[:, 0]
    x = x - np.median(x)
    trained, shipped = detect_qrs(x, 360, **RHYTHM_QRS), detect_qrs(x, 360)
    assert trained.size > shipped.size
    f = extract_features(x, 360)
    assert f == extract_features(x, 360, trained) and f["rr_mean"] != extract_features(x, 360, shipped)["rr_mean"]
