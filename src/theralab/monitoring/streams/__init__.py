"""monitoring.streams."""
