"""The public side of scheduling: where, what, when (Location, HealthcareService, Schedule, Slot)."""
from __future__ import annotations

import math

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from common.clock import to_iso, utcnow
from common.text import fold

from .. import db
from ..catalog import CLINIC_SERVICES
from ..context import engine
from ..responses import ApiError
from .common import (
    bundle,
    date_clauses,
    not_found,
    one_row,
    paging,
    query,
    reference_id,
    resource_response,
    service_codes,
    service_type,
)

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
        row = await one_row(conn, sa.select(db.locations).where(db.locations.c.id == ident),
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
        resource["type"].extend(service_type(row.service_type))
    return list(resources.values())


async def search_healthcare_services(request: web.Request) -> web.Response:
    params = query(request, {"location", "service-type"})
    count, offset = paging(params)
    h = db.healthcare_services
    where = [h.c.location_id == reference_id(v, "Location") for v in params.getall("location", [])]
    codes = service_codes(params.getall("service-type", []))
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
        raise not_found("HealthcareService", ident)
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
        "serviceType": service_type(row.service_type),
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
    codes = service_codes(params.getall("service-type", []))
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
        row = await one_row(conn, _schedule_query().where(db.schedules.c.id == ident),
                         "Schedule", ident)
    return resource_response(request, _schedule_json(row))


# -- Slot ------------------------------------------------------------------------------

def _slot_status() -> sa.ColumnElement:
    """A slot that has begun is no longer free to book, whatever its row says: search and booking agree."""
    sl = db.slots
    return sa.case((sa.and_(sl.c.status == "free", sl.c.start <= utcnow()), "busy-unavailable"),
                   else_=sl.c.status)


def _slot_query() -> sa.Select:
    sl, s = db.slots, db.schedules
    columns = [c for c in sl.c if c.name != "status"]
    return (sa.select(*columns, _slot_status().label("status"), s.c.service_type)
            .join(s, s.c.id == sl.c.schedule_id))


def _slot_json(row: sa.Row) -> dict:
    return {
        "resourceType": "Slot",
        "id": str(row.id),
        "serviceType": service_type(row.service_type),
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
        stmt = stmt.where(_slot_status().in_(statuses))
    stmt = stmt.where(*date_clauses(sl.c.start, params.getall("start", [])))
    codes = service_codes(params.getall("service-type", []))
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
        raise not_found("Slot", ident)
    async with engine(request).connect() as conn:
        row = await one_row(conn, _slot_query().where(db.slots.c.id == int(ident)), "Slot", ident)
    return resource_response(request, _slot_json(row))
