"""trials.meta."""
