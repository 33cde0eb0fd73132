"""Reference city services: Open311 GeoReport v2 (reports) and an HL7 FHIR R4 subset (clinic visits)."""
