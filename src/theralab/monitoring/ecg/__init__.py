"""ECG analysis: reading, QRS detection, HRV and quality, rhythm classification (features + CNN).

Modules: :mod:`.analysis` (the one call), :mod:`.qrs`, :mod:`.features`, :mod:`.rhythm`, :mod:`.cnn`.
"""

from __future__ import annotations

from theralab.monitoring.ecg.analysis import (
    BEAT_SYMBOLS,
    MIN_RHYTHM_S,
    WHOLE_RECORD_MAX_S,
    ECGAnalysis,
    ECGRecord,
    WindowQuality,
    analyze,
    check_signal_files,
    hrv_frequency,
    hrv_time,
    nn_intervals,
    read_csv,
    read_ecg,
    read_wfdb,
    record_from_frame,
    rhythm_segments,
    rhythm_summary,
    signal_quality,
)

__all__ = [
    "BEAT_SYMBOLS",
    "ECGAnalysis",
    "ECGRecord",
    "MIN_RHYTHM_S",
    "WHOLE_RECORD_MAX_S",
    "WindowQuality",
    "analyze",
    "check_signal_files",
    "hrv_frequency",
    "hrv_time",
    "nn_intervals",
    "read_csv",
    "read_ecg",
    "read_wfdb",
    "record_from_frame",
    "rhythm_segments",
    "rhythm_summary",
    "signal_quality",
]
