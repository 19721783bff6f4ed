"""trials.criteria."""
