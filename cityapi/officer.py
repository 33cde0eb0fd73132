"""Officer updates of a report (not Open311) and the events feed that publishes changes."""
from __future__ import annotations

import sqlalchemy as sa
from aiohttp import web

from common.clock import to_iso, utcnow

from . import db
from .catalog import DETAILED_STATUSES
from .context import engine, require_officer, require_officer_or_client
from .open311 import request_json, request_notes, request_query
from .responses import ApiError, json_response, read_json

MAX_NOTES = 2000
MAX_EVENTS = 500


def setup(app: web.Application) -> None:
    app.router.add_route("PATCH", "/officer/requests/{id}", update_request)
    app.router.add_route("GET", "/officer/requests/{id}/history", request_history)
    app.router.add_route("GET", "/events", list_events)


async def _json_body(request: web.Request) -> dict:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Nội dung gửi lên phải là một đối tượng JSON.")
    return body


async def update_request(request: web.Request) -> web.Response:
    officer = require_officer(request)
    case_id = request.match_info["id"].strip().upper()
    body = await _json_body(request)
    status = body.get("status")
    notes = body.get("status_notes")
    if status not in DETAILED_STATUSES:
        raise ApiError(400, f"status phải là một trong: {', '.join(DETAILED_STATUSES)}.")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES):
        raise ApiError(400, f"status_notes phải là văn bản không quá {MAX_NOTES} ký tự.")
    t = db.service_requests
    now = utcnow()
    async with engine(request).begin() as conn:
        changed = await conn.execute(
            sa.update(t).where(t.c.id == case_id)
            .values(status=status, status_notes=notes, updated_at=now)
            .returning(t.c.account_id, t.c.service_code)
        )
        row = changed.first()
        if row is None:
            raise ApiError(404, f"Không tìm thấy phản ánh mã {case_id}.")
        await conn.execute(sa.insert(db.request_history).values(
            request_id=case_id, status=status, status_notes=notes,
            changed_by=officer, changed_at=now,
        ))
        await db.emit_event(conn, "service_request.updated", case_id, {
            "service_request_id": case_id, "service_code": row.service_code,
            "status": status, "status_notes": notes, "account_id": row.account_id,
            "changed_by": officer,
        })
    return await _request_with_notes(request, case_id)


async def _request_with_notes(request: web.Request, case_id: str) -> web.Response:
    async with engine(request).connect() as conn:
        row = (await conn.execute(request_query().where(db.service_requests.c.id == case_id))).first()
        if row is None:
            raise ApiError(404, f"Không tìm thấy phản ánh mã {case_id}.")
        notes = (await request_notes(conn, [case_id]))[case_id]
    return json_response(request_json(row, notes))


async def request_history(request: web.Request) -> web.Response:
    require_officer(request)
    case_id = request.match_info["id"].strip().upper()
    h = db.request_history
    async with engine(request).connect() as conn:
        exists = await conn.scalar(sa.select(db.service_requests.c.id).where(
            db.service_requests.c.id == case_id))
        if exists is None:
            raise ApiError(404, f"Không tìm thấy phản ánh mã {case_id}.")
        rows = await conn.execute(
            sa.select(h).where(h.c.request_id == case_id).order_by(h.c.changed_at, h.c.id))
        history = [{"status": r.status, "status_notes": r.status_notes,
                    "changed_by": r.changed_by, "changed_at": to_iso(r.changed_at)} for r in rows]
    return json_response({"service_request_id": case_id, "history": history})


async def list_events(request: web.Request) -> web.Response:
    """`GET /events?since=<last id seen>&limit=…`: changes in commit order."""
    require_officer_or_client(request)
    try:
        since = int(request.query.get("since", "0"))
        limit = min(int(request.query.get("limit", "100")), MAX_EVENTS)
    except ValueError:
        raise ApiError(400, "since và limit phải là số nguyên.") from None
    if since < 0 or limit < 1:
        raise ApiError(400, "since phải ≥ 0 và limit phải ≥ 1.")
    e = db.events
    async with engine(request).connect() as conn:
        rows = list(await conn.execute(
            sa.select(e).where(e.c.id > since).order_by(e.c.id).limit(limit)))
    return json_response({
        "events": [{"id": r.id, "type": r.type, "subject": r.subject,
                    "time": to_iso(r.created_at), "data": r.data} for r in rows],
        "next": rows[-1].id if rows else since,
    })
