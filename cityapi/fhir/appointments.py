"""Appointments: booking takes the slot atomically; cancelling frees it."""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from common.clock import to_iso, utcnow
from common.database import insert_for

from .. import db
from ..catalog import CLINIC_SERVICES
from ..context import engine, require_client
from ..responses import ApiError, read_json
from .common import (
    bundle,
    date_clauses,
    one_row,
    paging,
    query,
    reference_id,
    resource_response,
    service_type,
)
from .patients import patient_details, patient_filter, patient_id_for

MAX_TEXT = 1000


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
        "serviceType": service_type(row.service_type),
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
    row = await one_row(conn, _appointment_query().where(db.appointments.c.id == ident),
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
        stmt = stmt.where(a.c.patient_id.in_(sa.select(p.c.id).where(patient_filter(value))))
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
    body = await read_json(request)
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
    details = patient_details(body)
    description = _text(body.get("description"), "description")
    comment = _text(body.get("comment"), "comment")
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
        patient_id = await patient_id_for(conn, details)
        while True:
            code = f"LK-{secrets.randbelow(10**6):06d}"
            inserted = await conn.execute(
                insert_for(conn, a).values(
                    id=code, slot_id=slot_id, patient_id=patient_id, status="booked",
                    description=description, comment=comment, version=1,
                    created_at=now, updated_at=now,
                ).on_conflict_do_nothing(index_elements=["id"]).returning(a.c.id)
            )
            if inserted.first() is not None:
                break
        await db.emit_event(conn, "appointment.booked", code, {
            "appointment_id": code, "slot_id": slot_id, "patient_id": patient_id,
            "client": client, "account_id": details["account_id"],  # the chat to remind
        })
        resource = await _appointment(conn, code)
    return resource_response(request, resource, status=201)


async def _cancel(request: web.Request, client: str, ident: str, reason: str | None) -> web.Response:
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


def _only_cancel(status) -> None:
    if status != "cancelled":
        raise ApiError(422, "Chỉ hỗ trợ hủy lịch hẹn (status: cancelled); muốn đổi giờ "
                            "xin hủy rồi đặt lịch mới.", "business-rule")


async def put_appointment(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    client = require_client(request)
    body = await _resource_body(request)
    if body.get("id") not in (None, ident):
        raise ApiError(400, "id trong nội dung không khớp với địa chỉ.", "value")
    _only_cancel(body.get("status"))
    reason = body.get("cancelationReason")
    reason = _text(reason.get("text") if isinstance(reason, dict) else None, "cancelationReason")
    return await _cancel(request, client, ident, reason)


async def patch_appointment(request: web.Request) -> web.Response:
    """JSON Patch (application/json-patch+json) replacing /status and /cancelationReason."""
    ident = request.match_info["id"]
    client = require_client(request)
    if request.content_type != "application/json-patch+json":
        raise ApiError(415, "PATCH cần Content-Type application/json-patch+json.", "not-supported")
    operations = await read_json(request)
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
    _only_cancel(status)
    return await _cancel(request, client, ident, reason)
