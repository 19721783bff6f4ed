"""ehr.fhir."""
