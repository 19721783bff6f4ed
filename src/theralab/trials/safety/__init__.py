"""trials.safety."""
