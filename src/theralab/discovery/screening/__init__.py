"""discovery.screening."""
