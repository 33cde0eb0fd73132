"""Open311 GeoReport v2 (JSON) under /open311/v2/."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlparse

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from common.clock import local_now, parse_iso, to_iso, utcnow
from common.places import in_hue
from common.text import normalize_phone

from . import db
from .catalog import CHANGESET, DETAILED_STATUSES
from .context import client_for_api_key, engine, officer_or_client, settings
from .responses import ApiError, json_response

PREFIX = "/open311/v2"
CASE_ID = re.compile(r"PA-\d{4}-\d{6}")
MAX_DESCRIPTION = 4000
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
_ATTRIBUTE_KEY = re.compile(r"attribute\[([^\]]+)\](\[\])?")


def setup(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", f"{PREFIX}/discovery.json", discovery)
    add("GET", f"{PREFIX}/services.json", list_services)
    add("GET", f"{PREFIX}/services/{{code}}.json", service_definition)
    add("GET", f"{PREFIX}/requests.json", list_requests)
    add("POST", f"{PREFIX}/requests.json", create_request)
    add("GET", f"{PREFIX}/requests/{{id}}.json", get_request)


# -- services ---------------------------------------------------------------

async def _services(conn: AsyncConnection) -> list[sa.Row]:
    result = await conn.execute(sa.select(db.services).order_by(db.services.c.position))
    return list(result)


def _service_json(row: sa.Row) -> dict:
    return {
        "service_code": row.code,
        "service_name": row.name,
        "description": row.description,
        "metadata": bool(row.attributes),
        "type": "realtime",
        "keywords": row.keywords,
        "group": row.group_name,
    }


def _sla_text(hours: int) -> str:
    return f"{hours} giờ" if hours < 48 else f"{hours // 24} ngày"


def _service_notice(service: sa.Row) -> str:
    return (f"Phản ánh đã được chuyển đến {service.agency}. "
            f"Thời hạn xử lý dự kiến: {_sla_text(service.sla_hours)}.")


async def discovery(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}{PREFIX}"
    return json_response({
        "changeset": CHANGESET,
        "contact": "Trung tâm Giám sát, điều hành đô thị thông minh Huế — đường dây nóng 1022.",
        "key_service": "Khóa API do quản trị hệ thống cấp qua biến môi trường CITYAPI_API_KEYS.",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": CHANGESET,
            "type": "production",
            "formats": ["application/json"],
        }],
    })


async def list_services(request: web.Request) -> web.Response:
    async with engine(request).connect() as conn:
        rows = await _services(conn)
    return json_response([_service_json(row) for row in rows])


async def _service(conn: AsyncConnection, code: str | None) -> sa.Row:
    if not code:
        raise ApiError(400, "Thiếu mã loại phản ánh (service_code).")
    row = (await conn.execute(sa.select(db.services).where(db.services.c.code == code))).first()
    if row is None:
        raise ApiError(400, f"Mã loại phản ánh (service_code) không hợp lệ: {code}.")
    return row


async def service_definition(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    async with engine(request).connect() as conn:
        row = (await conn.execute(sa.select(db.services).where(db.services.c.code == code))).first()
    if row is None:
        raise ApiError(404, f"Không có loại phản ánh mã {code}.")
    return json_response({"service_code": row.code, "attributes": row.attributes})


# -- creating a request -----------------------------------------------------

def _optional(form, name: str) -> str | None:
    value = form.get(name)
    value = value.strip() if isinstance(value, str) else None
    return value or None


def _location(form) -> dict:
    raw_lat, raw_long = _optional(form, "lat"), _optional(form, "long")
    address, address_id = _optional(form, "address_string"), _optional(form, "address_id")
    if (raw_lat is None) != (raw_long is None):
        raise ApiError(400, "Cần gửi cả vĩ độ (lat) và kinh độ (long).")
    lat = long = None
    if raw_lat is not None:
        try:
            lat, long = float(raw_lat), float(raw_long)
        except ValueError:
            raise ApiError(400, "Vĩ độ/kinh độ (lat/long) phải là số.") from None
        if not in_hue(lat, long):
            raise ApiError(400, "Vị trí nằm ngoài địa bàn thành phố Huế.")
    elif address is None and address_id is None:
        raise ApiError(400, "Thiếu vị trí: cần lat và long, hoặc address_string, hoặc address_id.")
    return {"lat": lat, "long": long, "address": address, "address_id": address_id}


def _attributes(form, definitions: list[dict]) -> dict:
    given: dict[str, list[str]] = {}
    for key, value in form.items():
        match = _ATTRIBUTE_KEY.fullmatch(key)
        if match and isinstance(value, str) and value.strip():
            given.setdefault(match.group(1), []).append(value.strip())
    by_code = {item["code"]: item for item in definitions}
    unknown = sorted(set(given) - set(by_code))
    if unknown:
        raise ApiError(400, f"Thuộc tính không có trong loại phản ánh này: {', '.join(unknown)}.")
    values: dict = {}
    for code, item in by_code.items():
        raw = given.get(code)
        if not raw:
            if item["required"]:
                raise ApiError(400, f"Thiếu thông tin bắt buộc: {item['description']}")
            continue
        kind = item["datatype"]
        if kind in ("singlevaluelist", "multivaluelist"):
            allowed = {str(v["key"]) for v in item["values"]}
            if any(v not in allowed for v in raw) or (kind == "singlevaluelist" and len(raw) > 1):
                raise ApiError(400, f"Giá trị không hợp lệ cho {code}; chọn một trong: "
                                    f"{', '.join(sorted(allowed))}.")
            values[code] = raw if kind == "multivaluelist" else raw[0]
        elif kind == "number":
            try:
                values[code] = float(raw[0]) if "." in raw[0] else int(raw[0])
            except ValueError:
                raise ApiError(400, f"{code} phải là một số.") from None
        elif kind == "datetime":
            if parse_iso(raw[0], require_offset=False) is None:
                raise ApiError(400, f"{code} phải là ngày giờ ISO 8601.")
            values[code] = raw[0]
        else:
            if kind == "string" and "\n" in raw[0]:
                raise ApiError(400, f"{code} chỉ được viết trên một dòng.")
            values[code] = raw[0]
    return values


def _contact(form) -> dict:
    phone = _optional(form, "phone")
    if phone is not None:
        phone = normalize_phone(phone)
        if phone is None:
            raise ApiError(400, "Số điện thoại không hợp lệ.")
    email = _optional(form, "email")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise ApiError(400, "Địa chỉ email không hợp lệ.")
    media_url = _optional(form, "media_url")
    if media_url is not None and urlparse(media_url).scheme not in ("http", "https"):
        raise ApiError(400, "media_url phải là một địa chỉ http hoặc https.")
    return {"phone": phone, "email": email, "media_url": media_url,
            **{k: _optional(form, k) for k in ("first_name", "last_name", "device_id", "account_id")}}


async def _find_retry(conn: AsyncConnection, key: str | None, fields: dict,
                      window: timedelta) -> str | None:
    """The id of an earlier copy of this request, when this POST is a client's retry."""
    t = db.service_requests
    if key is not None:
        return await conn.scalar(sa.select(t.c.id).where(t.c.idempotency_key == key))
    if not (fields["device_id"] or fields["account_id"]) or not fields["description"]:
        return None
    return await conn.scalar(
        sa.select(t.c.id).where(
            t.c.device_id.is_not_distinct_from(fields["device_id"]),
            t.c.account_id.is_not_distinct_from(fields["account_id"]),
            t.c.service_code == fields["service_code"],
            t.c.description == fields["description"],
            t.c.requested_at >= utcnow() - window,
        ).order_by(t.c.requested_at).limit(1)
    )


async def create_request(request: web.Request) -> web.Response:
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ApiError(400, "Dữ liệu phải gửi dạng form (application/x-www-form-urlencoded).")
    form = await request.post()
    client = client_for_api_key(request, _optional(form, "api_key"))
    description = _optional(form, "description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ApiError(400, f"Mô tả dài quá {MAX_DESCRIPTION} ký tự.")
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 200:
        raise ApiError(400, "Idempotency-Key dài quá 200 ký tự.")

    async with engine(request).begin() as conn:
        service = await _service(conn, _optional(form, "service_code"))
        fields = {
            "service_code": service.code,
            "description": description,
            **_location(form),
            "attributes": _attributes(form, service.attributes),
            **_contact(form),
        }
        now, year = utcnow(), local_now().year  # the year of the code is Huế's
        # Taking the next number first serialises creations, so the retry check is race-free.
        number = await db.next_value(conn, f"case:{year}")
        existing = await _find_retry(conn, key, fields, settings(request).duplicate_window)
        if existing is not None:
            await conn.rollback()
            return json_response(
                [{"service_request_id": existing, "service_notice": _service_notice(service),
                  "account_id": fields["account_id"]}],
                headers={"Idempotent-Replayed": "true"},
            )
        case_id = f"PA-{year}-{number:06d}"
        await conn.execute(sa.insert(db.service_requests).values(
            id=case_id, status="received", client=client, idempotency_key=key,
            requested_at=now, updated_at=now,
            expected_at=now + timedelta(hours=service.sla_hours), **fields,
        ))
        await conn.execute(sa.insert(db.request_history).values(
            request_id=case_id, status="received", changed_by=client, changed_at=now,
            status_notes="Đã tiếp nhận phản ánh.",
        ))
        await db.emit_event(conn, "service_request.created", case_id, {
            "service_request_id": case_id, "service_code": service.code,
            "status": "received", "account_id": fields["account_id"],
        })
    return json_response(
        [{"service_request_id": case_id, "service_notice": _service_notice(service),
          "account_id": fields["account_id"]}],
        status=201,
    )


# -- reading requests ---------------------------------------------------------

def request_json(row: sa.Row, notes: list[dict] | None = None) -> dict:
    """One request in the GET shape; `notes` adds the extensions of the spec's Extensions page."""
    open_closed, status_text = DETAILED_STATUSES[row.status]
    body = {
        "service_request_id": row.id,
        "status": open_closed,
        "status_notes": row.status_notes,
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": row.description,
        "agency_responsible": row.agency,
        "service_notice": _service_notice(row),
        "requested_datetime": to_iso(row.requested_at),
        "updated_datetime": to_iso(row.updated_at),
        "expected_datetime": to_iso(row.expected_at),
        "address": row.address,
        "address_id": row.address_id,
        "zipcode": None,
        "lat": row.lat,
        "long": row.long,
        "media_url": row.media_url,
    }
    if notes is not None:
        body["extended_attributes"] = {"detailed_status": row.status,
                                       "detailed_status_text": status_text}
        body["notes"] = notes
    return body


def request_query() -> sa.Select:
    t, s = db.service_requests, db.services
    return sa.select(
        *t.c, s.c.name.label("service_name"), s.c.agency, s.c.sla_hours
    ).join(s, s.c.code == t.c.service_code)


async def request_notes(conn: AsyncConnection, ids: list[str]) -> dict[str, list[dict]]:
    h = db.request_history
    rows = await conn.execute(
        sa.select(h).where(h.c.request_id.in_(ids)).order_by(h.c.changed_at, h.c.id)
    )
    notes: dict[str, list[dict]] = {i: [] for i in ids}
    for row in rows:
        notes[row.request_id].append({
            "datetime": to_iso(row.changed_at),
            "description": row.status_notes or DETAILED_STATUSES[row.status][1],
            "type": row.status,
        })
    return notes


def _date_param(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    value = parse_iso(raw, require_offset=True)
    if value is None:
        raise ApiError(400, f"{name} phải theo định dạng W3C có múi giờ, ví dụ 2026-01-01T00:00:00+07:00.")
    return value


def _csv(request: web.Request, name: str) -> list[str]:
    return [p.strip() for p in request.query.get(name, "").split(",") if p.strip()]


async def list_requests(request: web.Request) -> web.Response:
    t = db.service_requests
    query = request_query().order_by(t.c.requested_at.desc(), t.c.id.desc()).limit(MAX_RESULTS)
    ids = _csv(request, "service_request_id")
    if ids:
        query = query.where(t.c.id.in_(ids))
    else:
        start, end = _date_param(request, "start_date"), _date_param(request, "end_date")
        if start and end and end - start > MAX_SPAN:
            raise ApiError(400, "Khoảng thời gian tìm kiếm không được quá 90 ngày.")
        if start and end and end < start:
            raise ApiError(400, "end_date phải sau start_date.")
        end = end or (start + MAX_SPAN if start else utcnow() + timedelta(minutes=1))
        start = start or end - MAX_SPAN
        query = query.where(t.c.requested_at >= start, t.c.requested_at <= end)
        codes = _csv(request, "service_code")
        if codes:
            query = query.where(t.c.service_code.in_(codes))
        statuses = _csv(request, "status")
        if any(s not in ("open", "closed") for s in statuses):
            raise ApiError(400, "status chỉ nhận open hoặc closed.")
        if statuses:
            query = query.where(t.c.status.in_(
                [d for d, (oc, _) in DETAILED_STATUSES.items() if oc in statuses]))
        account = request.query.get("account_id", "").strip()
        if account:
            # Extension: a citizen's own reports, which only a keyed client or an officer may list.
            officer_or_client(request, request.query.get("api_key"))
            query = query.where(t.c.account_id == account)
    extensions = request.query.get("extensions") == "true"
    async with engine(request).connect() as conn:
        rows = list(await conn.execute(query))
        notes = await request_notes(conn, [r.id for r in rows]) if extensions else {}
    return json_response([request_json(r, notes.get(r.id)) for r in rows])


async def get_request(request: web.Request) -> web.Response:
    case_id = request.match_info["id"].strip().upper()
    extensions = request.query.get("extensions") == "true"
    async with engine(request).connect() as conn:
        row = (await conn.execute(request_query().where(db.service_requests.c.id == case_id))).first()
        if row is None:
            raise ApiError(404, f"Không tìm thấy phản ánh mã {case_id}.")
        notes = (await request_notes(conn, [case_id]))[case_id] if extensions else None
    return json_response([request_json(row, notes)])

