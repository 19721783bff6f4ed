"""monitoring.ecg."""
