"""Virtual health assistant (issue 28)."""
