"""FHIR R4 scheduling against the real server on a real database."""
from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from cityapi import db
from cityapi.seed import working_days
from common import clock
from common.database import create_engine
from tests.cityapi.helpers import (
    ACCOUNT_SYSTEM,
    AUTH,
    FHIR,
    PHONE_SYSTEM,
    appointment,
    book,
    free_slots,
    search,
)

pytestmark = pytest.mark.clock  # also run at fixed instants (scripts/test)

LOCAL = timezone(timedelta(hours=7))


def check_outcome(body: dict, code: str) -> str:
    assert body["resourceType"] == "OperationOutcome"
    issue = body["issue"][0]
    assert issue["severity"] == "error" and issue["code"] == code
    return issue["diagnostics"]


async def test_capability_statement(client):
    response = await client.get(f"{FHIR}/metadata")
    body = await response.json()
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    kinds = {r["type"] for r in body["rest"][0]["resource"]}
    assert {"Location", "Schedule", "Slot", "Appointment"} <= kinds


async def test_location_search_ignores_accents_and_case(client):
    names = lambda b: [e["resource"]["name"] for e in b["entry"]]  # noqa: E731
    body = await search(client, "Location", {"name": "benh vien trung uong"})
    assert names(body) == ["Bệnh viện Trung ương Huế", "Bệnh viện Trung ương Huế - Cơ sở 2"]
    assert names(await search(client, "Location", {"name:contains": "VY DA"})) == ["Trạm Y tế phường Vỹ Dạ"]
    assert names(await search(client, "Location", {"name": "bv dai hoc"})) == [
        "Bệnh viện Trường Đại học Y - Dược Huế"]
    assert names(await search(client, "Location", {"name": "khong co"})) == []
    by_ward = names(await search(client, "Location", {"address": "thuan hoa"}))
    assert "Bệnh viện Trung ương Huế" in by_ward and "Trạm Y tế phường Vỹ Dạ" not in by_ward
    location = body["entry"][0]["resource"]
    assert location["address"]["text"] == "16 Lê Lợi, Phường Thuận Hóa, thành phố Huế"
    assert location["position"] == {"latitude": 16.4633, "longitude": 107.5866}


async def test_location_near_sorts_by_distance(client):
    # From the Citadel (Đại Nội), 3 km around.
    body = await search(client, "Location", {"near": "16.4698|107.5786|3|km"})
    ids = [e["resource"]["id"] for e in body["entry"]]
    assert ids[0] == "tyt-phu-xuan"
    assert "bv-trung-uong-hue" in ids and "bv-trung-uong-hue-co-so-2" not in ids


async def test_read_location_and_unknown_one(client):
    response = await client.get(f"{FHIR}/Location/tyt-an-cuu")
    assert (await response.json())["name"] == "Trạm Y tế phường An Cựu"
    response = await client.get(f"{FHIR}/Location/khong-co")
    assert response.status == 404 and response.content_type == "application/fhir+json"
    assert "Location/khong-co" in check_outcome(await response.json(), "not-found")


async def test_healthcare_services_and_schedules(client):
    body = await search(client, "HealthcareService", {"location": "Location/tyt-vy-da"})
    assert body["total"] == 1
    codes = {t["coding"][0]["code"] for t in body["entry"][0]["resource"]["type"]}
    assert codes == {"kham-tong-quat", "tim-mach", "noi-tiet", "tiem-chung"}
    body = await search(client, "HealthcareService", {"service-type": "rang-ham-mat"})
    assert {e["resource"]["location"][0]["reference"] for e in body["entry"]} == {
        "Location/bv-trung-uong-hue", "Location/bv-dai-hoc-y-duoc-hue"}

    body = await search(client, "Schedule", {"actor": "Location/bv-trung-uong-hue",
                                             "service-type": "tim-mach"})
    assert body["total"] == 1
    schedule = body["entry"][0]["resource"]
    assert schedule["id"] == "bv-trung-uong-hue-tim-mach"
    assert schedule["serviceType"][0]["coding"][0]["display"] == "Tim mạch, huyết áp"
    assert schedule["actor"][0] == {"reference": "Location/bv-trung-uong-hue",
                                    "display": "Bệnh viện Trung ương Huế"}
    body = await search(client, "Schedule", {"actor": "Location/tyt-kim-long"})
    assert body["total"] == 4


async def test_slots_cover_14_working_days_in_morning_and_afternoon(client):
    body = await search(client, "Slot", {"schedule": "Schedule/bv-trung-uong-hue-tim-mach",
                                         "_count": "500"})
    slots = [e["resource"] for e in body["entry"]]
    assert body["total"] == len(slots) == 14 * 22  # 07:00–11:30 and 13:30–16:30 in 20 minutes
    starts = [datetime.fromisoformat(s["start"]) for s in slots]
    assert starts == sorted(starts)
    assert all(s["start"].endswith("+07:00") for s in slots)
    days = sorted({s.date() for s in starts})
    assert len(days) == 14 and all(d.weekday() < 5 for d in days)
    assert days[0] >= clock.today()
    first_day = [s.time().isoformat("minutes") for s in starts if s.date() == days[0]]
    assert first_day[0] == "07:00" and first_day[12] == "11:00" and first_day[13] == "13:30"
    assert first_day[-1] == "16:10"
    end = datetime.fromisoformat(slots[0]["end"])
    assert end - starts[0] == timedelta(minutes=20)
    vaccine = await free_slots(client, "tyt-vy-da-tiem-chung", 1)
    assert (datetime.fromisoformat(vaccine[0]["end"])
            - datetime.fromisoformat(vaccine[0]["start"])) == timedelta(minutes=15)


async def test_slot_search_by_window_service_type_and_count(client):
    day = working_days(clock.today() + timedelta(days=1), 1)[0].isoformat()
    following = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    params = [("schedule", "Schedule/bv-trung-uong-hue-tim-mach"), ("status", "free"),
              ("start", f"ge{day}T13:00:00+07:00"), ("start", f"lt{following}"),
              ("service-type", "tim-mach"), ("_count", "4")]
    body = await search(client, "Slot", params)
    assert body["total"] == 9  # the afternoon: 13:30 to 16:10
    assert [e["resource"]["start"][11:16] for e in body["entry"]] == ["13:30", "13:50", "14:10", "14:30"]
    assert any(link["relation"] == "next" for link in body["link"])
    assert body["entry"][0]["fullUrl"].endswith(f"/fhir/R4/Slot/{body['entry'][0]['resource']['id']}")
    whole_day = await search(client, "Slot", {"schedule": "bv-trung-uong-hue-tim-mach", "start": day})
    assert whole_day["total"] == 22
    none = await search(client, "Slot", {"service-type": "mat", "schedule": "bv-trung-uong-hue-tim-mach"})
    assert none["total"] == 0


async def test_search_errors_are_operation_outcomes(client):
    for params, code in (({"start": "ge-ngay-mai"}, "invalid"), ({"khong_co": "1"}, "not-supported"),
                         ({"status": "trong"}, "invalid"), ({"start": "sa2026-12-01"}, "not-supported")):
        response = await client.get(f"{FHIR}/Slot", params=params)
        assert response.status == 400, params
        check_outcome(await response.json(), code)
    response = await client.get(f"{FHIR}/Khong")
    assert response.status == 404
    check_outcome(await response.json(), "not-found")


async def test_booking_makes_the_slot_busy_and_is_found_again(client):
    slot = (await free_slots(client))[0]
    response = await book(client, slot["id"])
    assert response.status == 201, await response.text()
    booked = await response.json()
    assert re.fullmatch(r"LK-\d{6}", booked["id"])
    assert response.headers["Location"].endswith(f"/fhir/R4/Appointment/{booked['id']}")
    assert booked["status"] == "booked"
    assert booked["start"] == slot["start"] and booked["end"] == slot["end"]
    assert booked["slot"] == [{"reference": f"Slot/{slot['id']}"}]
    patient_ref = booked["participant"][0]["actor"]
    assert patient_ref["display"] == "Nguyễn Thị Lan" and patient_ref["reference"].startswith("Patient/")
    assert booked["participant"][1]["actor"]["reference"] == "Location/bv-trung-uong-hue"

    slot_now = await (await client.get(f"{FHIR}/Slot/{slot['id']}")).json()
    assert slot_now["status"] == "busy"
    read = await (await client.get(f"{FHIR}/Appointment/{booked['id']}", headers=AUTH)).json()
    assert read == booked

    for params in ({"patient": patient_ref["reference"]},
                   {"patient:identifier": f"{PHONE_SYSTEM}|0905123456"},
                   {"patient:identifier": f"{ACCOUNT_SYSTEM}|telegram:42"},
                   {"patient:identifier": f"{PHONE_SYSTEM}|0905123456", "status": "booked",
                    "date": f"ge{slot['start'][:10]}"}):
        body = await search(client, "Appointment", params, headers=AUTH)
        assert [e["resource"]["id"] for e in body["entry"]] == [booked["id"]], params
    body = await search(client, "Appointment", {"patient:identifier": f"{PHONE_SYSTEM}|0912000000"}, AUTH)
    assert body["total"] == 0

    # The sender's name and phone are remembered for the next booking.
    body = await search(client, "Patient", {"identifier": f"{ACCOUNT_SYSTEM}|telegram:42"}, AUTH)
    patient = body["entry"][0]["resource"]
    assert patient["name"][0]["text"] == "Nguyễn Thị Lan"
    assert patient["telecom"][0]["value"] == "0905123456"


async def test_booking_a_busy_slot_is_409(client):
    slot = (await free_slots(client))[0]
    assert (await book(client, slot["id"])).status == 201
    response = await book(client, slot["id"], name="Trần Văn Ba", phone="0914000111")
    assert response.status == 409
    assert "vừa có người đặt" in check_outcome(await response.json(), "conflict")


async def test_concurrent_bookings_of_one_slot_exactly_one_wins(client, settings):
    slot = (await free_slots(client))[0]
    responses = await asyncio.gather(*(
        book(client, slot["id"], name=f"Người thứ {n}", phone=f"09050000{n:02d}")
        for n in range(16)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [409] * 15, statuses
    engine = create_engine(settings.database_url)
    async with engine.connect() as conn:
        booked = await conn.scalar(sa.select(sa.func.count()).select_from(db.appointments).where(
            db.appointments.c.slot_id == int(slot["id"]), db.appointments.c.status == "booked"))
    await engine.dispose()
    assert booked == 1


async def test_cancel_frees_the_slot(client):
    slot = (await free_slots(client))[0]
    booked = await (await book(client, slot["id"])).json()
    response = await client.patch(
        f"{FHIR}/Appointment/{booked['id']}",
        json=[{"op": "replace", "path": "/status", "value": "cancelled"},
              {"op": "add", "path": "/cancelationReason", "value": {"text": "Bác bận việc nhà"}}],
        headers={**AUTH, "Content-Type": "application/json-patch+json"})
    assert response.status == 200, await response.text()
    cancelled = await response.json()
    assert cancelled["status"] == "cancelled" and cancelled["meta"]["versionId"] == "2"
    assert cancelled["cancelationReason"] == {"text": "Bác bận việc nhà"}
    assert (await (await client.get(f"{FHIR}/Slot/{slot['id']}")).json())["status"] == "free"
    # Someone else can take it now; cancelling twice changes nothing.
    assert (await book(client, slot["id"], name="Lê Văn Tư", phone="0935111222")).status == 201
    again = await client.put(f"{FHIR}/Appointment/{booked['id']}",
                             json={**cancelled, "status": "cancelled"}, headers=AUTH)
    assert again.status == 200 and (await again.json())["meta"]["versionId"] == "2"
    assert (await (await client.get(f"{FHIR}/Slot/{slot['id']}")).json())["status"] == "busy"


async def test_cancel_with_put(client):
    slot = (await free_slots(client))[0]
    booked = await (await book(client, slot["id"])).json()
    response = await client.put(f"{FHIR}/Appointment/{booked['id']}",
                                json={**booked, "status": "cancelled"}, headers=AUTH)
    assert response.status == 200 and (await response.json())["status"] == "cancelled"
    assert (await (await client.get(f"{FHIR}/Slot/{slot['id']}")).json())["status"] == "free"
    moved = await client.put(f"{FHIR}/Appointment/{booked['id']}",
                             json={**booked, "status": "booked"}, headers=AUTH)
    assert moved.status == 422
    assert "hủy" in check_outcome(await moved.json(), "business-rule")
    unknown = await client.put(f"{FHIR}/Appointment/LK-000000",
                               json={"resourceType": "Appointment", "status": "cancelled"}, headers=AUTH)
    assert unknown.status == 404
    check_outcome(await unknown.json(), "not-found")


async def test_a_slot_that_has_begun_is_not_offered_as_free(client, clock_at):
    day = working_days(clock.today() + timedelta(days=1), 1)[0]
    clock_at(datetime.combine(day, datetime.min.time()).replace(hour=9, minute=5))
    free = await free_slots(client, count=1)
    assert free[0]["start"] == f"{day.isoformat()}T09:20:00+07:00"
    everything = await search(client, "Slot", {"schedule": "bv-trung-uong-hue-tim-mach", "start": day.isoformat()})
    begun = [e["resource"] for e in everything["entry"] if e["resource"]["start"] < free[0]["start"]]
    assert len(begun) == 7 and {s["status"] for s in begun} == {"busy-unavailable"}
    assert (await (await client.get(f"{FHIR}/Slot/{begun[-1]['id']}")).json())["status"] == "busy-unavailable"
    unavailable = await search(client, "Slot", {"schedule": "bv-trung-uong-hue-tim-mach",
                                                "status": "busy-unavailable", "start": day.isoformat()})
    assert unavailable["total"] == 7
    response = await book(client, begun[-1]["id"])
    assert response.status == 422
    assert "đã qua" in check_outcome(await response.json(), "business-rule")
    assert (await book(client, free[0]["id"])).status == 201


async def test_past_slot_cannot_be_booked(client, settings):
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        past = clock.utcnow() - timedelta(days=1)
        result = await conn.execute(sa.insert(db.slots).values(
            schedule_id="tyt-vy-da-kham-tong-quat", start=past, end=past + timedelta(minutes=15),
            status="free").returning(db.slots.c.id))
        slot_id = result.scalar_one()
    await engine.dispose()
    response = await book(client, str(slot_id))
    assert response.status == 422
    assert "đã qua" in check_outcome(await response.json(), "business-rule")


async def test_booking_errors(client):
    slot = (await free_slots(client))[0]
    cases = [
        (appointment(slot["id"], phone="123"), 400, "điện thoại"),
        (appointment(slot["id"], name=" "), 400, "họ tên"),
        ({**appointment(slot["id"]), "status": "proposed"}, 400, "booked"),
        ({**appointment(slot["id"]), "slot": []}, 400, "khung giờ"),
        ({**appointment(slot["id"]), "participant": []}, 400, "người bệnh"),
        ({**appointment(slot["id"]), "resourceType": "Patient"}, 400, "Appointment"),
        (appointment("999999"), 422, "khung giờ"),
        ({**appointment(slot["id"]), "contained": [{"resourceType": "Patient", "id": "p", "name": "Lan"}]},
         400, "cấu trúc"),
    ]
    for body, status, words in cases:
        response = await client.post(f"{FHIR}/Appointment", json=body, headers=AUTH)
        assert response.status == status, (body, await response.text())
        outcome = await response.json()
        assert words in outcome["issue"][0]["diagnostics"]
    response = await client.post(f"{FHIR}/Appointment", data="{không phải json",
                                 headers={**AUTH, "Content-Type": "application/fhir+json"})
    assert response.status == 400
    check_outcome(await response.json(), "structure")
    # Nothing above took the slot.
    assert (await (await client.get(f"{FHIR}/Slot/{slot['id']}")).json())["status"] == "free"


async def test_patient_data_needs_a_key(client):
    slot = (await free_slots(client))[0]
    for method, path in (("GET", "/Appointment"), ("GET", "/Patient"), ("GET", "/Appointment/LK-1"),
                         ("POST", "/Appointment")):
        response = await client.request(method, f"{FHIR}{path}", json=appointment(slot["id"]),
                                        headers={"Authorization": "Bearer sai"})
        assert response.status == 401, path
        check_outcome(await response.json(), "security")


async def test_read_each_resource_type(client):
    for path, key, value in (
        ("HealthcareService/tyt-vy-da-kham-benh", "name", "Khám bệnh theo hẹn - Trạm Y tế phường Vỹ Dạ"),
        ("Schedule/tyt-vy-da-tiem-chung", "id", "tyt-vy-da-tiem-chung"),
    ):
        response = await client.get(f"{FHIR}/{path}")
        assert response.status == 200 and (await response.json())[key] == value
    for path in ("HealthcareService/khong", "Schedule/khong", "Slot/khong", "Slot/0"):
        response = await client.get(f"{FHIR}/{path}")
        assert response.status == 404, path
        check_outcome(await response.json(), "not-found")
    slot = (await free_slots(client))[0]
    booked = await (await book(client, slot["id"])).json()
    patient_id = booked["participant"][0]["actor"]["reference"].split("/")[1]
    patient = await (await client.get(f"{FHIR}/Patient/{patient_id}", headers=AUTH)).json()
    assert patient["identifier"] == [{"system": PHONE_SYSTEM, "value": "0905123456"},
                                     {"system": ACCOUNT_SYSTEM, "value": "telegram:42"}]
    assert (await client.get(f"{FHIR}/Patient/999", headers=AUTH)).status == 404


async def test_an_internal_failure_is_an_operation_outcome_without_a_trace(client, monkeypatch):
    from cityapi.fhir import directory as fhir

    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fhir, "_slot_query", broken)
    response = await client.get(f"{FHIR}/Slot")
    assert response.status == 500
    text = await response.text()
    assert "secret internals" not in text and "Traceback" not in text
    assert "thử lại" in check_outcome(await response.json(), "exception")
