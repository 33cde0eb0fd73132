"""HL7 FHIR R4 subset for clinic visits under /fhir/R4/ (application/fhir+json)."""
from __future__ import annotations

from aiohttp import web

from . import appointments, directory, patients

PREFIX = "/fhir/R4"


def setup(app: web.Application) -> None:
    routes = [
        ("GET", "metadata", directory.capability_statement),
        ("GET", "Location", directory.search_locations),
        ("GET", "Location/{id}", directory.read_location),
        ("GET", "HealthcareService", directory.search_healthcare_services),
        ("GET", "HealthcareService/{id}", directory.read_healthcare_service),
        ("GET", "Schedule", directory.search_schedules),
        ("GET", "Schedule/{id}", directory.read_schedule),
        ("GET", "Slot", directory.search_slots),
        ("GET", "Slot/{id}", directory.read_slot),
        ("GET", "Patient", patients.search_patients),
        ("GET", "Patient/{id}", patients.read_patient),
        ("GET", "Appointment", appointments.search_appointments),
        ("POST", "Appointment", appointments.book_appointment),
        ("GET", "Appointment/{id}", appointments.read_appointment),
        ("PUT", "Appointment/{id}", appointments.put_appointment),
        ("PATCH", "Appointment/{id}", appointments.patch_appointment),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, f"{PREFIX}/{path}", handler)
