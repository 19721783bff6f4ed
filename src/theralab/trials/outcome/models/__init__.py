"""Machine learning for trial outcomes: calibration, the LightGBM baseline, the three-modality network."""
