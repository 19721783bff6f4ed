"""ehr.synthetic."""
