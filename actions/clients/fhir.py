"""Clinic scheduling through the city's HL7 FHIR R4 server."""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from .http import CityRefused, JsonHttp

PREFIX = "/fhir/R4"
PHONE_SYSTEM = "https://hue.gov.vn/fhir/sid/phone"
ACCOUNT_SYSTEM = "https://hue.gov.vn/fhir/sid/chat-account"


# The ids the city gives (bv-trung-uong-hue, 421, LK-482913): anything else, typed by a citizen, names nothing.
_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


class SlotTaken(Exception):
    """Somebody booked the slot first."""


def _valid(ident) -> str | None:
    ident = str(ident or "")
    return ident if _ID.fullmatch(ident) else None


def _path(resource: str, ident: str) -> str:
    return f"{PREFIX}/{resource}/{quote(ident, safe='')}"


def _resources(bundle: dict) -> list[dict]:
    return [entry["resource"] for entry in bundle.get("entry", [])]


class FhirClient:
    def __init__(self, http: JsonHttp, api_key: str):
        self.http = http
        self.auth = {"Authorization": f"Bearer {api_key}"}

    async def _search(self, resource: str, params, auth: bool = False) -> list[dict]:
        bundle = await self.http.request("GET", f"{PREFIX}/{resource}", params=params,
                                         headers=self.auth if auth else None)
        return _resources(bundle)

    async def locations(self, **params) -> list[dict]:
        """Location search: name, name:contains, address, near."""
        return await self._search("Location", params)

    async def location(self, location_id: str) -> dict | None:
        if _valid(location_id) is None:
            return None
        return await self.http.request("GET", _path("Location", location_id), missing_is_none=True)

    async def schedules(self, location_id: str) -> list[dict]:
        if _valid(location_id) is None:
            return []
        return await self._search("Schedule", {"actor": f"Location/{location_id}"})

    async def free_slots(self, schedule_id: str, start: datetime, end: datetime,
                         count: int = 100) -> list[dict]:
        params = [("schedule", f"Schedule/{schedule_id}"), ("status", "free"),
                  ("start", f"ge{start.isoformat()}"), ("start", f"lt{end.isoformat()}"),
                  ("_count", str(count))]
        return await self._search("Slot", params)

    async def slot(self, slot_id: str) -> dict | None:
        if _valid(slot_id) is None:
            return None
        return await self.http.request("GET", _path("Slot", slot_id), missing_is_none=True)

    async def book(self, slot_id: str, name: str, phone: str, account_id: str) -> dict:
        if _valid(slot_id) is None:
            raise SlotTaken(f"no such slot: {slot_id!r}")
        patient = {
            "resourceType": "Patient", "id": "p", "name": [{"text": name}],
            "telecom": [{"system": "phone", "value": phone}],
            "identifier": [{"system": ACCOUNT_SYSTEM, "value": account_id}],
        }
        appointment = {
            "resourceType": "Appointment", "status": "booked", "contained": [patient],
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": [{"actor": {"reference": "#p"}, "status": "accepted"}],
        }
        try:
            return await self.http.request(
                "POST", f"{PREFIX}/Appointment", json=appointment,
                headers={**self.auth, "Content-Type": "application/fhir+json"})
        except CityRefused as error:
            if error.status in (409, 422):
                raise SlotTaken(error.message) from None
            raise

    async def appointments_of(self, account_id: str, since: datetime) -> list[dict]:
        """The account's booked appointments from `since` on, soonest first."""
        return await self._search("Appointment", {
            "patient:identifier": f"{ACCOUNT_SYSTEM}|{account_id}", "status": "booked",
            "date": f"ge{since.isoformat()}"}, auth=True)

    async def cancel(self, appointment_id: str) -> dict:
        if _valid(appointment_id) is None:
            raise CityRefused(404, f"no such appointment: {appointment_id!r}")
        return await self.http.request(
            "PATCH", _path("Appointment", appointment_id),
            json=[{"op": "replace", "path": "/status", "value": "cancelled"}],
            headers={**self.auth, "Content-Type": "application/json-patch+json"})

    async def patient_of(self, account_id: str) -> dict | None:
        """The most recent patient booked from this account, to prefill name and phone."""
        patients = await self._search("Patient", {"identifier": f"{ACCOUNT_SYSTEM}|{account_id}"},
                                      auth=True)
        return patients[-1] if patients else None
