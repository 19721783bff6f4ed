"""trials.matching."""
