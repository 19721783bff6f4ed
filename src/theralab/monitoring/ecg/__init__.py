"""ECG analysis: reading, QRS detection, HRV and quality, rhythm classification (features + CNN).

Modules: :mod:`.analysis` (the one call), :mod:`.qrs`, :mod:`.features`, :mod:`.rhythm`, :mod:`.cnn`.
"""

from __future__ import annotations

from theralab.monitoring.ecg.analysis import (
    BEAT_SYMBOLS,
    ECGAnalysis,
    ECGRecord,
    WindowQuality,
    analyze,
    hrv_frequency,
    hrv_time,
    nn_intervals,
    read_csv,
    read_ecg,
    read_wfdb,
    record_from_frame,
    signal_quality,
)

__all__ = [
    "BEAT_SYMBOLS",
    "ECGAnalysis",
    "ECGRecord",
    "WindowQuality",
    "analyze",
    "hrv_frequency",
    "hrv_time",
    "nn_intervals",
    "read_csv",
    "read_ecg",
    "read_wfdb",
    "record_from_frame",
    "signal_quality",
]
