"""discovery.admet."""
