"""HL7 FHIR R4 subset for clinic visits under /fhir/R4/ (application/fhir+json)."""
from __future__ import annotations

import json
import math
import secrets

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from . import db
from .catalog import ACCOUNT_SYSTEM, CLINIC_SERVICE_SYSTEM, CLINIC_SERVICES, PHONE_SYSTEM
from .clock import to_iso, utcnow
from .context import engine, require_client
from .responses import ApiError
from .fhir_search import (bundle, date_clauses, paging, query, reference_id, resource_response,
                          token)
from .text import fold, normalize_phone

PREFIX = "/fhir/R4"
MAX_TEXT = 1000


def setup(app: web.Application) -> None:
    get, add = app.router.add_get, app.router.add_route
    get(f"{PREFIX}/metadata", capability_statement)
    for kind, search, read in (
        ("Location", search_locations, read_location),
        ("HealthcareService", search_healthcare_services, read_healthcare_service),
        ("Schedule", search_schedules, read_schedule),
        ("Slot", search_slots, read_slot),
        ("Patient", search_patients, read_patient),
        ("Appointment", search_appointments, read_appointment),
    ):
        get(f"{PREFIX}/{kind}", search)
        get(f"{PREFIX}/{kind}/{{id}}", read)
    add("POST", f"{PREFIX}/Appointment", book_appointment)
    add("PUT", f"{PREFIX}/Appointment/{{id}}", put_appointment)
    add("PATCH", f"{PREFIX}/Appointment/{{id}}", patch_appointment)


def _not_found(kind: str, ident: str) -> ApiError:
    return ApiError(404, f"Không tìm thấy {kind}/{ident}.", "not-found")


def _service_type(code: str) -> list[dict]:
    display = CLINIC_SERVICES[code][0]
    return [{"coding": [{"system": CLINIC_SERVICE_SYSTEM, "code": code, "display": display}],
             "text": display}]


def _service_codes(values: list[str]) -> list[str]:
    """service-type tokens (comma = OR) -> our codes; unknown codes match nothing."""
    codes = []
    for value in values:
        for item in value.split(","):
            system, code = token(item)
            if system not in (None, "", CLINIC_SERVICE_SYSTEM):
                raise ApiError(400, f"Hệ mã dịch vụ không được hỗ trợ: {system}.")
            codes.append(code)
    return codes


async def _one(conn: AsyncConnection, statement, kind: str, ident: str) -> sa.Row:
    row = (await conn.execute(statement)).first()
    if row is None:
        raise _not_found(kind, ident)
    return row


# -- CapabilityStatement ----------------------------------------------------------

async def capability_statement(request: web.Request) -> web.Response:
    def resource(kind: str, params: list[str], interactions: list[str]) -> dict:
        return {"type": kind,
                "interaction": [{"code": code} for code in interactions],
                "searchParam": [{"name": name, "type": "string"} for name in params]}

    read = ["read", "search-type"]
    return resource_response(request, {
        "resourceType": "CapabilityStatement",
        "id": "tro-ly-hue-cityapi",
        "status": "active",
        "date": "2026-11-28",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{"mode": "server", "resource": [
            resource("Location", ["name", "address", "near"], read),
            resource("HealthcareService", ["location", "service-type"], read),
            resource("Schedule", ["actor", "service-type"], read),
            resource("Slot", ["schedule", "status", "start", "service-type"], read),
            resource("Patient", ["identifier"], read),
            resource("Appointment", ["patient", "status", "date"],
                     read + ["create", "update", "patch"]),
        ]}],
    })


# -- Location ----------------------------------------------------------------------

def _location_json(row: sa.Row) -> dict:
    return {
        "resourceType": "Location",
        "id": row.id,
        "status": "active",
        "name": row.name,
        "alias": row.aliases,
        "type": [{"text": "Bệnh viện" if row.kind == "hospital" else "Trạm y tế"}],
        "telecom": [{"system": "phone", "value": row.phone}] if row.phone else [],
        "address": {"use": "work", "text": _address_text(row),
                    "line": [row.street] if row.street else [], "district": row.ward,
                    "city": "Huế", "country": "VN"},
        "position": {"latitude": row.lat, "longitude": row.long},
    }


def _address_text(row: sa.Row) -> str:
    return ", ".join(filter(None, [row.street, row.ward, "thành phố Huế"]))


def _distance_km(lat1: float, long1: float, lat2: float, long2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(long2 - long1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _near(value: str) -> tuple[float, float, float]:
    """`lat|long|distance|unit` (R4); distance defaults to 5 km, units km or m."""
    parts = value.split("|")
    try:
        lat, long = float(parts[0]), float(parts[1])
        distance = float(parts[2]) if len(parts) > 2 and parts[2] else 5.0
    except (ValueError, IndexError):
        raise ApiError(400, "near phải có dạng vĩ_độ|kinh_độ|khoảng_cách|km.") from None
    unit = parts[3] if len(parts) > 3 else "km"
    if unit not in ("km", "m"):
        raise ApiError(400, "Đơn vị khoảng cách chỉ nhận km hoặc m.")
    return lat, long, distance / 1000 if unit == "m" else distance


def _string_match(modifier: str, wanted: str, texts: list[str]) -> bool:
    """FHIR string search: starts-with by default, accent- and case-insensitive."""
    wanted = fold(wanted)
    folded = [fold(t) for t in texts]
    if modifier == "contains":
        return any(wanted in t for t in folded)
    if modifier == "exact":
        return any(wanted == t for t in folded)
    return any(t.startswith(wanted) for t in folded)


async def search_locations(request: web.Request) -> web.Response:
    params = query(request, {"name", "name:contains", "name:exact", "address",
                             "address:contains", "near"})
    count, offset = paging(params)
    async with engine(request).connect() as conn:
        rows = list(await conn.execute(sa.select(db.locations).order_by(db.locations.c.name)))
    for key in ("name", "name:contains", "name:exact"):
        for value in params.getall(key, []):
            modifier = key.partition(":")[2]
            rows = [r for r in rows if _string_match(modifier, value, [r.name, *r.aliases])]
    for key in ("address", "address:contains"):
        for value in params.getall(key, []):
            rows = [r for r in rows if _string_match("contains", value, [_address_text(r)])]
    if "near" in params:
        lat, long, radius = _near(params["near"])
        with_distance = [(_distance_km(lat, long, r.lat, r.long), r) for r in rows]
        rows = [r for d, r in sorted(with_distance, key=lambda x: x[0]) if d <= radius]
    page = rows[offset:offset + count]
    return bundle(request, [_location_json(r) for r in page], len(rows), count, offset)


async def read_location(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    async with engine(request).connect() as conn:
        row = await _one(conn, sa.select(db.locations).where(db.locations.c.id == ident),
                         "Location", ident)
    return resource_response(request, _location_json(row))


# -- HealthcareService ---------------------------------------------------------------

async def _healthcare_services(conn: AsyncConnection, where) -> list[dict]:
    h, s, loc = db.healthcare_services, db.schedules, db.locations
    rows = await conn.execute(
        sa.select(h, loc.c.name.label("location_name"), loc.c.phone, s.c.service_type)
        .join(loc, loc.c.id == h.c.location_id)
        .join(s, s.c.healthcare_service_id == h.c.id)
        .where(*where).order_by(h.c.id, s.c.service_type)
    )
    resources: dict[str, dict] = {}
    for row in rows:
        resource = resources.setdefault(row.id, {
            "resourceType": "HealthcareService",
            "id": row.id,
            "active": True,
            "providedBy": {"display": row.location_name},
            "location": [{"reference": f"Location/{row.location_id}", "display": row.location_name}],
            "name": row.name,
            "telecom": [{"system": "phone", "value": row.phone}] if row.phone else [],
            "type": [],
            "appointmentRequired": True,
        })
        resource["type"].extend(_service_type(row.service_type))
    return list(resources.values())


async def search_healthcare_services(request: web.Request) -> web.Response:
    params = query(request, {"location", "service-type"})
    count, offset = paging(params)
    h = db.healthcare_services
    where = [h.c.location_id == reference_id(v, "Location") for v in params.getall("location", [])]
    codes = _service_codes(params.getall("service-type", []))
    if codes:
        where.append(h.c.id.in_(sa.select(db.schedules.c.healthcare_service_id)
                                .where(db.schedules.c.service_type.in_(codes))))
    async with engine(request).connect() as conn:
        resources = await _healthcare_services(conn, where)
    return bundle(request, resources[offset:offset + count], len(resources), count, offset)


async def read_healthcare_service(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    async with engine(request).connect() as conn:
        resources = await _healthcare_services(conn, [db.healthcare_services.c.id == ident])
    if not resources:
        raise _not_found("HealthcareService", ident)
    return resource_response(request, resources[0])


# -- Schedule ------------------------------------------------------------------------

def _schedule_query() -> sa.Select:
    s, loc = db.schedules, db.locations
    return (sa.select(s, loc.c.name.label("location_name"))
            .join(loc, loc.c.id == s.c.location_id))


def _schedule_json(row: sa.Row) -> dict:
    display = CLINIC_SERVICES[row.service_type][0]
    sessions = ", ".join(f"{a}–{b}" for a, b in row.sessions)
    return {
        "resourceType": "Schedule",
        "id": row.id,
        "active": True,
        "serviceType": _service_type(row.service_type),
        "actor": [
            {"reference": f"Location/{row.location_id}", "display": row.location_name},
            {"reference": f"HealthcareService/{row.healthcare_service_id}"},
        ],
        "comment": f"{display} tại {row.location_name}; thứ Hai đến thứ Sáu, {sessions}; "
                   f"mỗi lượt {row.slot_minutes} phút.",
    }


async def search_schedules(request: web.Request) -> web.Response:
    params = query(request, {"actor", "service-type", "active"})
    count, offset = paging(params)
    s = db.schedules
    stmt = _schedule_query().order_by(s.c.id)
    for value in params.getall("actor", []):
        kind = value.split("/")[-2] if "/" in value else "Location"
        if kind == "HealthcareService":
            stmt = stmt.where(s.c.healthcare_service_id == reference_id(value, kind))
        else:
            stmt = stmt.where(s.c.location_id == reference_id(value, "Location"))
    codes = _service_codes(params.getall("service-type", []))
    if codes:
        stmt = stmt.where(s.c.service_type.in_(codes))
    async with engine(request).connect() as conn:
        rows = list(await conn.execute(stmt))
    if params.get("active") == "false":
        rows = []
    return bundle(request, [_schedule_json(r) for r in rows[offset:offset + count]],
                  len(rows), count, offset)


async def read_schedule(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    async with engine(request).connect() as conn:
        row = await _one(conn, _schedule_query().where(db.schedules.c.id == ident),
                         "Schedule", ident)
    return resource_response(request, _schedule_json(row))


# -- Slot ------------------------------------------------------------------------------

def _slot_query() -> sa.Select:
    sl, s = db.slots, db.schedules
    return sa.select(sl, s.c.service_type).join(s, s.c.id == sl.c.schedule_id)


def _slot_json(row: sa.Row) -> dict:
    return {
        "resourceType": "Slot",
        "id": str(row.id),
        "serviceType": _service_type(row.service_type),
        "schedule": {"reference": f"Schedule/{row.schedule_id}"},
        "status": row.status,
        "start": to_iso(row.start),
        "end": to_iso(row.end),
    }


SLOT_STATUSES = {"free", "busy", "busy-unavailable", "busy-tentative", "entered-in-error"}


async def search_slots(request: web.Request) -> web.Response:
    params = query(request, {"schedule", "status", "start", "service-type"})
    count, offset = paging(params)
    sl = db.slots
    stmt = _slot_query()
    for value in params.getall("schedule", []):
        stmt = stmt.where(sl.c.schedule_id.in_(
            [reference_id(v, "Schedule") for v in value.split(",")]))
    for value in params.getall("status", []):
        statuses = value.split(",")
        if not set(statuses) <= SLOT_STATUSES:
            raise ApiError(400, f"Trạng thái khung giờ không hợp lệ: {value}.")
        stmt = stmt.where(sl.c.status.in_(statuses))
    stmt = stmt.where(*date_clauses(sl.c.start, params.getall("start", [])))
    codes = _service_codes(params.getall("service-type", []))
    if codes:
        stmt = stmt.where(db.schedules.c.service_type.in_(codes))
    async with engine(request).connect() as conn:
        total = await conn.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
        rows = await conn.execute(
            stmt.order_by(sl.c.start, sl.c.schedule_id).offset(offset).limit(count))
        resources = [_slot_json(r) for r in rows]
    return bundle(request, resources, total, count, offset)


async def read_slot(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    if not ident.isdigit():
        raise _not_found("Slot", ident)
    async with engine(request).connect() as conn:
        row = await _one(conn, _slot_query().where(db.slots.c.id == int(ident)), "Slot", ident)
    return resource_response(request, _slot_json(row))


# -- Patient ---------------------------------------------------------------------------

def _patient_json(row: sa.Row) -> dict:
    identifiers = [{"system": PHONE_SYSTEM, "value": row.phone}]
    if row.account_id:
        identifiers.append({"system": ACCOUNT_SYSTEM, "value": row.account_id})
    return {
        "resourceType": "Patient",
        "id": str(row.id),
        "identifier": identifiers,
        "name": [{"text": row.name}],
        "telecom": [{"system": "phone", "value": row.phone, "use": "mobile"}],
    }


def _patient_filter(value: str):
    """`system|value` on phone or chat account -> a condition on the patients table."""
    system, ident = token(value)
    p = db.patients
    if system == PHONE_SYSTEM or (system is None and normalize_phone(ident)):
        return p.c.phone == (normalize_phone(ident) or ident)
    if system == ACCOUNT_SYSTEM or system is None:
        return p.c.account_id == ident
    raise ApiError(400, f"Hệ định danh không được hỗ trợ: {system}.")


async def search_patients(request: web.Request) -> web.Response:
    require_client(request)
    params = query(request, {"identifier"})
    count, offset = paging(params)
    p = db.patients
    stmt = sa.select(p).where(*[_patient_filter(v) for v in params.getall("identifier", [])])
    async with engine(request).connect() as conn:
        rows = list(await conn.execute(stmt.order_by(p.c.id)))
    return bundle(request, [_patient_json(r) for r in rows[offset:offset + count]],
                  len(rows), count, offset)


async def read_patient(request: web.Request) -> web.Response:
    require_client(request)
    ident = request.match_info["id"]
    if not ident.isdigit():
        raise _not_found("Patient", ident)
    async with engine(request).connect() as conn:
        row = await _one(conn, sa.select(db.patients).where(db.patients.c.id == int(ident)),
                         "Patient", ident)
    return resource_response(request, _patient_json(row))


# -- Appointment -------------------------------------------------------------------------

def _appointment_query() -> sa.Select:
    a, sl, s, loc, p = db.appointments, db.slots, db.schedules, db.locations, db.patients
    return (
        sa.select(a, sl.c.start, sl.c.end, sl.c.schedule_id, s.c.service_type, s.c.location_id,
                  loc.c.name.label("location_name"), p.c.name.label("patient_name"))
        .join(sl, sl.c.id == a.c.slot_id)
        .join(s, s.c.id == sl.c.schedule_id)
        .join(loc, loc.c.id == s.c.location_id)
        .join(p, p.c.id == a.c.patient_id)
    )


def _appointment_json(row: sa.Row) -> dict:
    body = {
        "resourceType": "Appointment",
        "id": row.id,
        "meta": {"versionId": str(row.version), "lastUpdated": to_iso(row.updated_at)},
        "status": row.status,
        "serviceType": _service_type(row.service_type),
        "description": row.description or CLINIC_SERVICES[row.service_type][0],
        "start": to_iso(row.start),
        "end": to_iso(row.end),
        "minutesDuration": int((row.end - row.start).total_seconds() // 60),
        "slot": [{"reference": f"Slot/{row.slot_id}"}],
        "created": to_iso(row.created_at),
        "participant": [
            {"actor": {"reference": f"Patient/{row.patient_id}", "display": row.patient_name},
             "required": "required", "status": "accepted"},
            {"actor": {"reference": f"Location/{row.location_id}", "display": row.location_name},
             "required": "required", "status": "accepted"},
        ],
    }
    if row.comment:
        body["comment"] = row.comment
    if row.cancelation_reason:
        body["cancelationReason"] = {"text": row.cancelation_reason}
    return body


async def _appointment(conn: AsyncConnection, ident: str) -> dict:
    row = await _one(conn, _appointment_query().where(db.appointments.c.id == ident),
                     "Appointment", ident)
    return _appointment_json(row)


async def search_appointments(request: web.Request) -> web.Response:
    require_client(request)
    params = query(request, {"patient", "patient:identifier", "status", "date"})
    count, offset = paging(params)
    a, p, sl = db.appointments, db.patients, db.slots
    stmt = _appointment_query()
    for value in params.getall("patient", []):
        ident = reference_id(value, "Patient")
        stmt = stmt.where(a.c.patient_id == (int(ident) if ident.isdigit() else -1))
    for value in params.getall("patient:identifier", []):
        stmt = stmt.where(a.c.patient_id.in_(sa.select(p.c.id).where(_patient_filter(value))))
    for value in params.getall("status", []):
        stmt = stmt.where(a.c.status.in_(value.split(",")))
    stmt = stmt.where(*date_clauses(sl.c.start, params.getall("date", [])))
    async with engine(request).connect() as conn:
        rows = list(await conn.execute(stmt.order_by(sl.c.start, a.c.id)))
    return bundle(request, [_appointment_json(r) for r in rows[offset:offset + count]],
                  len(rows), count, offset)


async def read_appointment(request: web.Request) -> web.Response:
    require_client(request)
    async with engine(request).connect() as conn:
        return resource_response(request, await _appointment(conn, request.match_info["id"]))


async def _resource_body(request: web.Request) -> dict:
    try:
        body = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "Nội dung gửi lên phải là JSON hợp lệ.", "structure") from None
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise ApiError(400, "Nội dung phải là một tài nguyên Appointment.", "structure")
    return body


def _text(value, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise ApiError(400, f"{field} phải là văn bản không quá {MAX_TEXT} ký tự.")
    return value.strip() or None


def _slot_id(body: dict) -> int:
    slots = body.get("slot")
    if not isinstance(slots, list) or len(slots) != 1 or not isinstance(slots[0], dict):
        raise ApiError(400, "Lịch hẹn cần đúng một khung giờ: slot: [{reference: Slot/…}].", "required")
    ident = reference_id(str(slots[0].get("reference", "")), "Slot")
    if not ident.isdigit():
        raise ApiError(422, f"Không tìm thấy khung giờ {ident}.", "not-found")
    return int(ident)


def _patient_details(body: dict) -> dict:
    """The Patient participant: a contained Patient (`#id`), `Patient/n`, or an identifier."""
    for participant in body.get("participant") or []:
        actor = participant.get("actor") if isinstance(participant, dict) else None
        if not isinstance(actor, dict):
            continue
        reference = str(actor.get("reference", ""))
        if reference.startswith("Patient/"):
            return {"id": reference_id(reference, "Patient")}
        if reference.startswith("#"):
            contained = [r for r in body.get("contained") or []
                         if isinstance(r, dict) and r.get("id") == reference[1:]]
            if not contained or contained[0].get("resourceType") != "Patient":
                raise ApiError(400, f"Không thấy Patient {reference} trong contained.", "structure")
            return _contained_patient(contained[0])
        identifier = actor.get("identifier")
        if isinstance(identifier, dict) and identifier.get("system") == PHONE_SYSTEM:
            return {"name": actor.get("display"), "phone": identifier.get("value"),
                    "account_id": None}
    raise ApiError(400, "Lịch hẹn cần một người bệnh (participant.actor là Patient).", "required")


def _contained_patient(patient: dict) -> dict:
    names = patient.get("name") or [{}]
    name = names[0].get("text") or " ".join(
        [names[0].get("family", ""), *names[0].get("given", [])]).strip()
    phone = next((t.get("value") for t in patient.get("telecom") or []
                  if isinstance(t, dict) and t.get("system") == "phone"), None)
    account = None
    for identifier in patient.get("identifier") or []:
        if identifier.get("system") == PHONE_SYSTEM and not phone:
            phone = identifier.get("value")
        if identifier.get("system") == ACCOUNT_SYSTEM:
            account = identifier.get("value")
    return {"name": name, "phone": phone, "account_id": account}


async def _patient_id(conn: AsyncConnection, details: dict) -> int:
    p = db.patients
    if "id" in details:
        ident = details["id"]
        found = ident.isdigit() and await conn.scalar(sa.select(p.c.id).where(p.c.id == int(ident)))
        if not found:
            raise ApiError(422, f"Không tìm thấy Patient/{ident}.", "not-found")
        return int(ident)
    name = " ".join(str(details.get("name") or "").split())
    if not name or len(name) > 200:
        raise ApiError(400, "Cần họ tên người đi khám.", "required")
    phone = normalize_phone(str(details.get("phone") or ""))
    if phone is None:
        raise ApiError(400, "Số điện thoại không hợp lệ.", "value")
    key = fold(name)
    await db.insert_missing(conn, p, [{"name": name, "name_key": key, "phone": phone,
                                       "account_id": details.get("account_id")}])
    if details.get("account_id"):
        await conn.execute(sa.update(p).where(p.c.phone == phone, p.c.name_key == key)
                           .values(account_id=details["account_id"]))
    return await conn.scalar(sa.select(p.c.id).where(p.c.phone == phone, p.c.name_key == key))


async def _refuse_slot(conn: AsyncConnection, slot_id: int) -> ApiError:
    """Why a slot could not be taken, as the error to return."""
    row = (await conn.execute(sa.select(db.slots).where(db.slots.c.id == slot_id))).first()
    if row is None:
        return ApiError(422, f"Không tìm thấy khung giờ {slot_id}.", "not-found")
    if row.start <= utcnow():
        return ApiError(422, "Khung giờ này đã qua, xin chọn giờ khác.", "business-rule")
    return ApiError(409, "Khung giờ này vừa có người đặt, xin chọn giờ khác.", "conflict")


async def book_appointment(request: web.Request) -> web.Response:
    client = require_client(request)
    body = await _resource_body(request)
    if body.get("status") != "booked":
        raise ApiError(400, "Lịch hẹn mới phải có status là booked.", "value")
    slot_id = _slot_id(body)
    details = _patient_details(body)
    description, comment = _text(body.get("description"), "description"), _text(body.get("comment"), "comment")
    sl, a = db.slots, db.appointments
    now = utcnow()
    async with engine(request).begin() as conn:
        # The conditional UPDATE is the lock: of many concurrent bookings only one sees 'free'.
        taken = await conn.execute(
            sa.update(sl).where(sl.c.id == slot_id, sl.c.status == "free", sl.c.start > now)
            .values(status="busy").returning(sl.c.id)
        )
        if taken.first() is None:
            error = await _refuse_slot(conn, slot_id)
            await conn.rollback()
            raise error
        patient_id = await _patient_id(conn, details)
        while True:
            code = f"LK-{secrets.randbelow(10**6):06d}"
            inserted = await conn.execute(
                db.insert_for(conn, a).values(
                    id=code, slot_id=slot_id, patient_id=patient_id, status="booked",
                    description=description, comment=comment, version=1,
                    created_at=now, updated_at=now,
                ).on_conflict_do_nothing(index_elements=["id"]).returning(a.c.id)
            )
            if inserted.first() is not None:
                break
        await db.emit_event(conn, "appointment.booked", code, {
            "appointment_id": code, "slot_id": slot_id, "patient_id": patient_id,
            "client": client,
        })
        resource = await _appointment(conn, code)
    return resource_response(request, resource, status=201)


async def _cancel(request: web.Request, ident: str, reason: str | None) -> web.Response:
    client = require_client(request)
    a, sl = db.appointments, db.slots
    now = utcnow()
    async with engine(request).begin() as conn:
        cancelled = await conn.execute(
            sa.update(a).where(a.c.id == ident, a.c.status == "booked")
            .values(status="cancelled", cancelation_reason=reason, updated_at=now,
                    version=a.c.version + 1)
            .returning(a.c.slot_id)
        )
        row = cancelled.first()
        if row is None:
            current = await _appointment(conn, ident)  # 404 when unknown
            await conn.rollback()
            if current["status"] == "cancelled":
                return resource_response(request, current)
            raise ApiError(422, f"Không thể hủy lịch hẹn đang ở trạng thái {current['status']}.",
                           "business-rule")
        await conn.execute(sa.update(sl).where(sl.c.id == row.slot_id, sl.c.status == "busy")
                           .values(status="free"))
        await db.emit_event(conn, "appointment.cancelled", ident, {
            "appointment_id": ident, "slot_id": row.slot_id, "client": client})
        resource = await _appointment(conn, ident)
    return resource_response(request, resource)


def _only_cancel(status, ident: str) -> None:
    if status != "cancelled":
        raise ApiError(422, "Chỉ hỗ trợ hủy lịch hẹn (status: cancelled); muốn đổi giờ "
                            "xin hủy rồi đặt lịch mới.", "business-rule")


async def put_appointment(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    require_client(request)
    body = await _resource_body(request)
    if body.get("id") not in (None, ident):
        raise ApiError(400, "id trong nội dung không khớp với địa chỉ.", "value")
    _only_cancel(body.get("status"), ident)
    reason = body.get("cancelationReason") or {}
    return await _cancel(request, ident, _text(reason.get("text") if isinstance(reason, dict)
                                               else None, "cancelationReason"))


async def patch_appointment(request: web.Request) -> web.Response:
    """JSON Patch (application/json-patch+json) replacing /status and /cancelationReason."""
    ident = request.match_info["id"]
    require_client(request)
    if request.content_type != "application/json-patch+json":
        raise ApiError(415, "PATCH cần Content-Type application/json-patch+json.", "not-supported")
    try:
        operations = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "Nội dung gửi lên phải là JSON hợp lệ.", "structure") from None
    if not isinstance(operations, list) or not operations:
        raise ApiError(400, "JSON Patch phải là một danh sách thao tác.", "structure")
    status, reason = None, None
    for op in operations:
        if not isinstance(op, dict) or op.get("op") not in ("replace", "add"):
            raise ApiError(422, "Chỉ hỗ trợ thao tác replace/add.", "not-supported")
        if op.get("path") == "/status":
            status = op.get("value")
        elif op.get("path") == "/cancelationReason":
            value = op.get("value")
            reason = _text(value.get("text") if isinstance(value, dict) else None,
                           "cancelationReason")
        else:
            raise ApiError(422, f"Không thể sửa {op.get('path')}.", "business-rule")
    _only_cancel(status, ident)
    return await _cancel(request, ident, reason)
